"""Interview templates: a named duration, a panel who must all be free, and the search rules.

A template is looked up by id or by name (case-insensitive), so names may not be all digits.
Caps a template leaves unset fall back to the workspace default policy (settings).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.policies import Policy, ProgrammeRules
from scheduling.slots import DEFAULT_NOTICE_MIN, DEFAULT_STEP_MIN, SearchRules
from storage.matching import SearchOutcome, find_matches
from storage.models import InterviewTemplate, Person, Role, TemplateInterviewer

DEFAULT_HORIZON = SearchRules().horizon
EXAMPLE = "interview-bot template add 'Tech screen' --duration 60 --panel U01AAA,U01BBB"


class InvalidTemplate(SchedulingError):
    """Template settings that cannot describe an interview."""


class UnknownTemplate(SchedulingError):
    """A template id or name that matches nothing in the workspace."""


@dataclass(frozen=True)
class TemplateRules:
    """Everything but name, duration and panel; defaults are the product's defaults."""

    step_min: int = DEFAULT_STEP_MIN
    notice_min: int = DEFAULT_NOTICE_MIN
    buffer_before_min: int = 0
    buffer_after_min: int = 0
    cap_per_day: int | None = None
    cap_per_week: int | None = None
    programme: bool = False
    programme_max: int = ProgrammeRules.max_completed


def _check_name(session: Session, workspace_id: str, name: str, own_id: int | None) -> str:
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidTemplate("A template needs a name of 1 to 100 characters.", example=EXAMPLE)
    if name.isdigit():
        raise InvalidTemplate("A template name cannot be only digits (it would read as an id).")
    clash = session.scalars(
        select(InterviewTemplate).where(
            InterviewTemplate.workspace_id == workspace_id,
            func.lower(InterviewTemplate.name) == name.lower(),
        )
    ).first()
    if clash is not None and clash.id != own_id:
        raise InvalidTemplate(f"A template named {clash.name!r} already exists.")
    return name


def _check_duration(duration_min: int) -> None:
    if not 5 <= duration_min <= 480:
        raise InvalidTemplate("The duration must be 5 to 480 minutes.", example="--duration 60")


def _check_rules(rules: TemplateRules) -> None:
    if not 5 <= rules.step_min <= 24 * 60:
        raise InvalidTemplate("The step must be 5 minutes to 24 hours.", example="--step 30")
    if rules.notice_min < 0:
        raise InvalidTemplate("The minimum notice cannot be negative.", example="--notice-hours 24")
    if not (0 <= rules.buffer_before_min <= 240 and 0 <= rules.buffer_after_min <= 240):
        raise InvalidTemplate("Buffers must be 0 to 240 minutes.", example="--buffer-after 15")
    for cap in (rules.cap_per_day, rules.cap_per_week):
        if cap is not None and cap < 1:
            raise InvalidTemplate("A cap must be at least 1 interview.", example="--cap-day 2")
    if rules.programme_max < 1:
        raise InvalidTemplate("The programme maximum must be at least 1.", example="--programme-max 15")


def _check_panel(session: Session, workspace_id: str, panel_ids: Sequence[int]) -> list[Person]:
    if not panel_ids:
        raise InvalidTemplate("A template needs at least one interviewer.", example=EXAMPLE)
    if len(set(panel_ids)) != len(panel_ids):
        raise InvalidTemplate("An interviewer is on the panel twice.")
    people: list[Person] = []
    for pid in panel_ids:
        person = session.get(Person, pid)
        if person is None or person.workspace_id != workspace_id:
            raise InvalidTemplate(f"Person #{pid} does not exist in this workspace.")
        if not person.has_role(Role.interviewer):
            raise InvalidTemplate(f"{person.name} is not registered as an interviewer.")
        people.append(person)
    return people


def _set_panel(template: InterviewTemplate, panel_ids: Sequence[int]) -> None:
    template.panel = [
        TemplateInterviewer(person_id=pid, position=i) for i, pid in enumerate(panel_ids)
    ]


def _set_rules(template: InterviewTemplate, rules: TemplateRules) -> None:
    template.step_min = rules.step_min
    template.min_notice_min = rules.notice_min
    template.buffer_before_min = rules.buffer_before_min
    template.buffer_after_min = rules.buffer_after_min
    template.cap_per_day = rules.cap_per_day
    template.cap_per_week = rules.cap_per_week
    template.programme_rules = rules.programme
    template.programme_max_interviews = rules.programme_max


def create_template(
    session: Session,
    workspace_id: str,
    name: str,
    duration_min: int,
    panel_ids: Sequence[int],
    rules: TemplateRules | None = None,
) -> InterviewTemplate:
    """Validate everything first, so a refused template leaves nothing behind."""
    rules = rules or TemplateRules()
    name = _check_name(session, workspace_id, name, None)
    _check_duration(duration_min)
    _check_rules(rules)
    _check_panel(session, workspace_id, panel_ids)
    template = InterviewTemplate(workspace_id=workspace_id, name=name, duration_min=duration_min)
    _set_rules(template, rules)
    _set_panel(template, panel_ids)
    return _insert(session, template)


def _insert(session: Session, template: InterviewTemplate) -> InterviewTemplate:
    try:
        with session.begin_nested():
            session.add(template)
            session.flush()
    except IntegrityError:
        _check_name(session, template.workspace_id, template.name, None)  # a concurrent create of this name won
        raise
    return template


def update_template(
    session: Session,
    template: InterviewTemplate,
    *,
    name: str | None = None,
    duration_min: int | None = None,
    panel_ids: Sequence[int] | None = None,
    rules: TemplateRules | None = None,
) -> InterviewTemplate:
    """Change what is given; `rules`, when given, replaces all rules at once. A loop's sessions
    set its length and people, so neither can be changed here."""
    if template.sessions and (duration_min is not None or panel_ids is not None):
        raise InvalidTemplate(f"{template.name} is a loop: its sessions set its length and interviewers.")
    if name is not None:
        name = _check_name(session, template.workspace_id, name, template.id)
    if duration_min is not None:
        _check_duration(duration_min)
    if rules is not None:
        _check_rules(rules)
    if panel_ids is not None:
        _check_panel(session, template.workspace_id, panel_ids)
    if name is not None:
        template.name = name
    if duration_min is not None:
        template.duration_min = duration_min
    if rules is not None:
        _set_rules(template, rules)
    if panel_ids is not None:
        template.panel.clear()
        session.flush()  # the old rows go before new ones reuse the same primary keys
        _set_panel(template, panel_ids)
    session.flush()
    return template


def get_template(session: Session, workspace_id: str, ref: str | int) -> InterviewTemplate:
    """By id (digits) or by name, case-insensitively."""
    text = str(ref).strip()
    query = select(InterviewTemplate).where(InterviewTemplate.workspace_id == workspace_id)
    if text.isascii() and text.isdecimal() and len(text) <= 12:
        query = query.where(InterviewTemplate.id == int(text))
    else:
        query = query.where(func.lower(InterviewTemplate.name) == text.lower())
    template = session.scalars(query).first()
    if template is None:
        raise UnknownTemplate(
            f"No interview template {text!r}.", example="interview-bot template list"
        )
    return template


def list_templates(session: Session, workspace_id: str) -> list[InterviewTemplate]:
    return list(
        session.scalars(
            select(InterviewTemplate)
            .where(InterviewTemplate.workspace_id == workspace_id)
            .order_by(InterviewTemplate.name, InterviewTemplate.id)
        )
    )


def remove_template(session: Session, workspace_id: str, ref: str | int) -> str:
    """Delete a template; interviews booked from it keep existing. Returns its name."""
    template = get_template(session, workspace_id, ref)
    name = template.name
    session.delete(template)
    session.flush()
    return name


def panel_of(session: Session, template: InterviewTemplate) -> list[Person]:
    """The panel as people, in the template's order."""
    people = []
    for member in template.panel:
        person = session.get(Person, member.person_id)
        if person is not None:
            people.append(person)
    return people


def rules_for(template: InterviewTemplate, horizon: timedelta = DEFAULT_HORIZON) -> SearchRules:
    """The template's search rules; the horizon is a workspace setting, not the template's."""
    return SearchRules(
        duration=timedelta(minutes=template.duration_min),
        step=timedelta(minutes=template.step_min),
        min_notice=timedelta(minutes=template.min_notice_min),
        horizon=horizon,
        buffer_before=timedelta(minutes=template.buffer_before_min),
        buffer_after=timedelta(minutes=template.buffer_after_min),
    )


def policy_for(template: InterviewTemplate, default: Policy | None = None) -> Policy:
    """The template's caps and programme; unset caps fall back to `default` (settings)."""
    default = default or Policy()
    programme = (
        ProgrammeRules(max_completed=template.programme_max_interviews)
        if template.programme_rules
        else None
    )
    return Policy(
        cap_per_day=template.cap_per_day if template.cap_per_day is not None else default.cap_per_day,
        cap_per_week=(
            template.cap_per_week if template.cap_per_week is not None else default.cap_per_week
        ),
        programme=programme,
    )


def find_template_matches(
    session: Session,
    template: InterviewTemplate,
    candidate: Person,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    horizon: timedelta = DEFAULT_HORIZON,
    interviewers: Sequence[Person] | None = None,
    default_policy: Policy | None = None,
) -> SearchOutcome:
    """Search with the template's rules; the panel unless other `interviewers` are named."""
    people = list(interviewers) if interviewers else panel_of(session, template)
    return find_matches(
        session,
        candidate,
        people,
        rules_for(template, horizon),
        now,
        start,
        end,
        policy=policy_for(template, default_policy),
    )
