"""A loop template's options for a candidate from stored data: kept free time of everyone the
loop can involve and the pool members' loads, fed to `scheduling.loops.find_loops`.

`find_loops` caps pool members; named people are capped here afterwards, as in
`storage.pool_matching`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from scheduling.intervals import Interval
from scheduling.loops import LoopOption, LoopSpec, SessionSpec, find_loops
from scheduling.policies import Policy, apply_caps
from scheduling.slots import SearchRules, search_bounds
from scheduling.zones import zone_of
from storage.freetime import CACHE
from storage.loads import as_members
from storage.matching import InvalidPanel, interviewer_loads, load_participants
from storage.models import InterviewTemplate, Person, Role
from storage.pools import members_of


@dataclass(frozen=True)
class LoopCast:
    """Who a loop can involve: per session (template order) its named people and the pool
    members it may choose from (interviewers, never the candidate or someone named)."""

    candidate: Person
    named: tuple[tuple[Person, ...], ...]
    members: tuple[tuple[Person, ...], ...]

    @property
    def everyone(self) -> list[Person]:
        """The candidate, then everyone else once."""
        people = {p.id: p for group in (*self.named, *self.members) for p in group}
        return [self.candidate, *people.values()]


def cast_of(session: Session, template: InterviewTemplate, candidate: Person) -> LoopCast:
    if not candidate.has_role(Role.candidate):
        raise InvalidPanel(f"{candidate.name} is not registered as a candidate.")
    named = tuple(tuple(p.person for p in s.people) for s in template.sessions)
    taken = {candidate.id, *(p.id for group in named for p in group)}
    members = tuple(
        tuple(p for p in members_of(session, s.pool) if p.id not in taken and p.has_role(Role.interviewer))
        if s.pool is not None else ()
        for s in template.sessions)
    return LoopCast(candidate, named, members)


@dataclass
class LoopOutcome:
    """Options in time order; `people` maps the keys they use (handles) to people."""

    options: list[LoopOption]
    people: dict[str, Person]
    notes: list[str] = field(default_factory=list)


def find_loop_matches(
    session: Session,
    template: InterviewTemplate,
    cast: LoopCast,
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    policy: Policy | None = None,
) -> LoopOutcome:
    """Every grid start in range where the whole loop fits (`scheduling.loops`), fairest
    members chosen; only the buffers, step, notice and horizon of `rules` are used."""
    outcome = LoopOutcome([], {p.handle: p for p in cast.everyone})
    for s, choice in zip(template.sessions, cast.members, strict=True):
        if s.pool is not None and len(choice) < s.pool_k:
            outcome.notes.append(f"Session {s.name}: the pool {s.pool.name} has {len(choice)} interviewer(s) "
                                 f"to choose from; {s.pool_k} asked.")
    if outcome.notes:
        return outcome
    full = search_bounds(replace(rules, duration=loop_length(template)), now)
    if full is None:
        return outcome
    everyone = cast.everyone
    free = dict(zip([p.id for p in everyone],
                    CACHE.free_times(session, everyone, rules, full, load_participants), strict=True))
    members = list({p.id: p for group in cast.members for p in group}.values())
    member = as_members(session, members, free, now, full.end)
    loop = LoopSpec(
        tuple(SessionSpec(s.name, timedelta(minutes=s.duration_min), tuple(p.handle for p in named),
                          tuple(member[p.id] for p in pool), s.pool_k)
              for s, named, pool in zip(template.sessions, cast.named, cast.members, strict=True)),
        template.session_order.value, timedelta(minutes=template.break_min))
    named_free = {p.handle: free[p.id] for group in cast.named for p in group}
    options = find_loops(free[cast.candidate.id], named_free, loop, rules, now, start, end, policy,
                         zone_of(cast.candidate.tz))
    outcome.options = _cap_named(session, options, template, cast, full, policy, outcome.notes)
    return outcome


def loop_length(template: InterviewTemplate) -> timedelta:
    """First start to last end, whatever the order."""
    sessions = template.sessions
    return timedelta(minutes=sum(s.duration_min for s in sessions) + template.break_min * (len(sessions) - 1))


def _cap_named(
    session: Session, options: list[LoopOption], template: InterviewTemplate, cast: LoopCast, span: Interval,
    policy: Policy | None, notes: list[str],
) -> list[LoopOption]:
    """Drop options that would put a named person over a cap in their session."""
    if not options or not any(cast.named) or policy is None or not policy.has_caps:
        return options
    for s, people in zip(template.sessions, cast.named, strict=True):
        if not people:
            continue
        slots = [_slot_of(option, s.name) for option in options]
        capped = apply_caps(slots, interviewer_loads(session, people, span, None), policy)
        kept = set(capped.slots)
        options = [o for o, slot in zip(options, slots, strict=True) if slot in kept]
        notes.extend(capped.notes)
    return options


def _slot_of(option: LoopOption, name: str) -> Interval:
    return next(pick.slot for pick in option.sessions if pick.name == name)


def nearest(options: Sequence[LoopOption], to: datetime, n: int = 3) -> list[LoopOption]:
    """Up to `n` options starting nearest to `to`, in time order."""
    ranked = sorted(options, key=lambda o: abs((o.start - to).total_seconds()))
    return sorted(ranked[:n], key=lambda o: o.start)
