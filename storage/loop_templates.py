"""Loop templates: several sessions, each with its own length, named interviewers and "k of a
pool", back to back with a break between, on one local day of the candidate.

Everything is checked before anything is written, so a refused template leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from scheduling.loops import MAX_FREE_ORDER
from storage.models import InterviewTemplate, SessionOrder, TemplateSession, TemplateSessionPerson
from storage.pools import get_pool
from storage.templates import (
    InvalidTemplate,
    TemplateRules,
    _check_duration,
    _check_name,
    _check_panel,
    _check_rules,
    _insert,
    _set_rules,
)

EXAMPLE = 'template add Onsite --session "Coding:60:pool=backend" --session "Design:45:pool=design*2"'
MAX_SESSIONS = 8
MAX_BREAK_MIN = 240
MAX_K = 10
DAY_MIN = 24 * 60


@dataclass(frozen=True)
class SessionDef:
    """A session as asked: named interviewers (person ids) and/or `k` members of a pool (by name)."""

    name: str
    duration_min: int
    people: tuple[int, ...] = ()
    pool: str | None = None
    k: int = 0


def create_loop_template(
    session: Session,
    workspace_id: str,
    name: str,
    sessions: Sequence[SessionDef],
    rules: TemplateRules | None = None,
    *,
    break_min: int = 0,
    order: SessionOrder = SessionOrder.fixed,
) -> InterviewTemplate:
    """A template whose `duration_min` is the loop's length (first start to last end)."""
    rules = rules or TemplateRules()
    name = _check_name(session, workspace_id, name, None)
    _check_rules(rules)
    if rules.programme:
        raise InvalidTemplate("Programme rules are for single interviews, not for loops.")
    length = _check_shape(sessions, break_min, order)
    rows = [_session(session, workspace_id, i, d) for i, d in enumerate(sessions)]
    template = InterviewTemplate(workspace_id=workspace_id, name=name, duration_min=length,
                                 break_min=break_min, session_order=order)
    _set_rules(template, rules)
    template.sessions = rows
    return _insert(session, template)


def _check_shape(sessions: Sequence[SessionDef], break_min: int, order: SessionOrder) -> int:
    """What the loop as a whole must satisfy; returns its length in minutes."""
    if not 1 <= len(sessions) <= MAX_SESSIONS:
        raise InvalidTemplate(f"A loop has 1 to {MAX_SESSIONS} sessions.", example=EXAMPLE)
    if not 0 <= break_min <= MAX_BREAK_MIN:
        raise InvalidTemplate(f"The break must be 0 to {MAX_BREAK_MIN} minutes.", example="--break 15")
    if order is SessionOrder.free and len(sessions) > MAX_FREE_ORDER:
        raise InvalidTemplate(f"A loop in free order has at most {MAX_FREE_ORDER} sessions.")
    names = [d.name.strip().lower() for d in sessions]
    if len(set(names)) != len(names):
        raise InvalidTemplate("Two sessions have the same name.")
    for d in sessions:
        if len(set(d.people)) != len(d.people):
            raise InvalidTemplate(f"Session {d.name.strip()!r} names someone twice.")
    named = [p for d in sessions for p in d.people]
    if len(set(named)) != len(named):
        raise InvalidTemplate("Someone is named for two sessions; one person sits one session of a loop.")
    length = sum(d.duration_min for d in sessions) + break_min * (len(sessions) - 1)
    if length > DAY_MIN:
        raise InvalidTemplate(f"A loop happens on one day; these sessions and breaks last {length} minutes.")
    return length


def _session(session: Session, workspace_id: str, position: int, d: SessionDef) -> TemplateSession:
    name = d.name.strip()
    if not name or len(name) > 100:
        raise InvalidTemplate("A session needs a name of 1 to 100 characters.", example=EXAMPLE)
    try:
        _check_duration(d.duration_min)
    except InvalidTemplate:
        raise InvalidTemplate(f"Session {name!r} must last 5 to 480 minutes.", example=EXAMPLE) from None
    if d.pool is None and not d.people:
        raise InvalidTemplate(f"Session {name!r} needs interviewers: a pool, named people or both.",
                              example=EXAMPLE)
    row = TemplateSession(position=position, name=name, duration_min=d.duration_min, pool_k=0)
    if d.pool is not None:
        if not 1 <= d.k <= MAX_K:
            raise InvalidTemplate(f"Session {name!r} takes 1 to {MAX_K} interviewers from its pool.")
        pool = get_pool(session, workspace_id, d.pool)
        if len(pool.members) < d.k:
            raise InvalidTemplate(f"Session {name!r} asks for {d.k} of the pool {pool.name}, "
                                  f"which has {len(pool.members)} member(s).")
        row.pool, row.pool_k = pool, d.k
    if d.people:
        people = _check_panel(session, workspace_id, d.people)
        row.people = [TemplateSessionPerson(person=p, position=i) for i, p in enumerate(people)]
    return row
