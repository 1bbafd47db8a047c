"""Finding slots: who is in the interview, under which rules, and the common free times.

Search, booking, offers and moves take their rules and policy from `terms`: the template's,
or the settings' defaults. So a slot that was listed is judged by the same rules when booked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, joinedload

from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named, refresh_profiles
from scheduling.errors import SchedulingError
from scheduling.intervals import Interval, iso_z
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from scheduling.zones import zone_of
from storage.calendars import needs_refresh, refresh_calendars
from storage.matching import SearchOutcome, find_matches
from storage.models import InterviewTemplate, Person, Role
from storage.templates import get_template, policy_for, rules_for

PersonRef = int | str  # a person id of the workspace (forms, buttons) or a handle (text, CLI)

R = TypeVar("R")


class NoLongerThere(SchedulingError):
    """An id from a form or button that is not (or no longer) in this workspace."""


@dataclass
class SearchQuery:
    """A search as carried in buttons and private_metadata: ids, not names, so it stays small."""

    candidate: int
    interviewers: list[int]
    duration: int
    start: str | None = None  # an ISO instant (buttons drawn before 2026-12: a candidate's day)
    end: str | None = None  # likewise, exclusive
    template: int | None = None
    nonce: str = ""
    page: int = 0
    location: str | None = None  # where the booked interview will be (a room, a video link)

    def dumps(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, "", 0) or k == "duration"}
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def loads(cls, text: str) -> SearchQuery:
        """The query a button carries; ValueError (or KeyError) for anything we did not write."""
        data = json.loads(text)
        query = cls(candidate=_ident(data["candidate"]), interviewers=[_ident(i) for i in data.get("interviewers", [])],
                    duration=_ident(data["duration"]), start=data.get("start"), end=data.get("end"),
                    template=_ident(data["template"]) if data.get("template") is not None else None,
                    nonce=str(data.get("nonce", ""))[:40], page=_ident(data.get("page", 0), minimum=0),
                    location=clean_location(data.get("location")))
        for bound in (query.start, query.end):
            if bound is not None:
                (date if len(str(bound)) == 10 else datetime).fromisoformat(str(bound))
        return query


MAX_LOCATION = 300


def clean_location(text: object) -> str | None:
    """Where an interview is, as one line of plain text (a room, an address, a video link); None
    when empty. Refused when too long, rather than cut."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("a location is text")
    line = " ".join(text.split())
    if len(line) > MAX_LOCATION:
        raise SchedulingError(f"The location is {len(line)} characters long; at most {MAX_LOCATION} fit.",
                              example="https://meet.example.com/abc-defg-hij")
    return line or None


def _ident(value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value < 2**53:
        raise ValueError(f"not an id: {value!r}")
    return value


def resolve(ctx: Context, session: Session, workspace: str, ref: PersonRef) -> Person:
    """A person of this workspace by id or handle; someone else's id is simply unknown."""
    if isinstance(ref, int):
        found = session.get(Person, ref, options=[joinedload(Person.roles)])
        if found is None or found.workspace_id != workspace:
            raise NoLongerThere("Someone in this search is no longer registered.")
        return found
    return person(ctx, session, workspace, ref)


def template_of(session: Session, workspace: str, template_id: int | str | None) -> InterviewTemplate | None:
    """A template of this workspace by id (forms, buttons) or by name or #id (text, CLI)."""
    if template_id is None:
        return None
    if isinstance(template_id, str):
        return get_template(session, workspace, template_id)
    template = session.get(InterviewTemplate, template_id)
    if template is None or template.workspace_id != workspace:
        raise NoLongerThere("That interview template no longer exists.")
    return template


def terms(ctx: Context, session: Session, workspace: str, template_id: int | None,
          duration_min: int | None) -> tuple[SearchRules, Policy]:
    """The rules and policy an interview is searched and booked under. A loop's session (moved
    on its own) keeps the loop's rules at its own length."""
    template = template_of(session, workspace, template_id)
    if template is None:
        return ctx.settings.rules(duration_min), ctx.settings.policy()
    rules = rules_for(template, ctx.settings.rules().horizon)
    if template.sessions and duration_min is not None:
        rules = replace(rules, duration=timedelta(minutes=duration_min))
    return rules, policy_for(template, ctx.settings.policy())


@dataclass(frozen=True)
class Named:
    """A person as shown in results: name and zone (ids stay in the query)."""

    name: str
    tz: str
    slack_user_id: str | None = None


@dataclass(frozen=True)
class SlotsFound:
    """A page of common slots (or why there are none), for the viewer's zone."""

    query: SearchQuery
    viewer_tz: str
    candidate: Named
    interviewers: tuple[Named, ...]
    slots: tuple[Interval, ...]
    notes: tuple[str, ...] = ()
    calendar_errors: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    bottlenecks: tuple[str, ...] = ()
    alternatives: tuple[Interval, ...] = ()


@dataclass(frozen=True)
class SearchSlots:
    workspace: str
    actor: str | None
    candidate: PersonRef
    interviewers: tuple[PersonRef, ...]
    duration: int | None = None
    start: date | datetime | None = None  # a day is the asker's local day (HR's; the candidate's in the CLI)
    end: date | datetime | None = None  # a day is included
    template: int | str | None = None
    nonce: str = ""
    page: int = 0
    location: str | None = None


def instant_of(bound: date | datetime | None, zone: ZoneInfo, *, end: bool) -> datetime | None:
    """A range bound as an instant: an instant as it is, a day from its midnight in `zone` (to
    the next midnight for the end, which includes its day)."""
    if bound is None or isinstance(bound, datetime):
        return bound
    return datetime.combine(bound + timedelta(days=1 if end else 0), time(0), zone)


def _instant(bound: date | datetime | None, zone: ZoneInfo, *, end: bool) -> str | None:
    """A range bound as the query carries it (ISO)."""
    moment = instant_of(bound, zone, end=end)
    return None if moment is None else iso_z(moment)


def bound_of(text: str | None) -> date | datetime | None:
    """A bound read back from a query (a date in buttons drawn before days were the asker's)."""
    if not text:
        return None
    return (date if len(text) == 10 else datetime).fromisoformat(text)


def _bound(text: str | None, zone: ZoneInfo, *, end: bool) -> datetime | None:
    return instant_of(bound_of(text), zone, end=end)


def search_slots(ctx: Context, cmd: SearchSlots) -> SlotsFound:
    """HR's search: stale calendars of everyone are refreshed first (never blocking: a calendar
    that fails is named in the answer and its last known busy time used)."""
    refresh_named(ctx, cmd.workspace, cmd.actor, [r for r in (cmd.candidate, *cmd.interviewers) if isinstance(r, str)],
                Role.hr, "find and book interviews")
    settings = ctx.settings
    with ctx.reading() as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "find and book interviews")
        template = template_of(uow.session, cmd.workspace, cmd.template)
        if template is not None and template.sessions:
            raise SchedulingError(f"{template.name} is a loop of {len(template.sessions)} sessions; its options are "
                                  "listed by `interview-bot slots --template` (not in Slack yet).")
        refs = cmd.interviewers
        if template is not None and not refs:
            refs = tuple(member.person_id for member in template.panel)
        people = [resolve(ctx, uow.session, cmd.workspace, ref) for ref in (cmd.candidate, *refs)]
        template_id = template.id if template else None
        rules, _ = terms(ctx, uow.session, cmd.workspace, template_id, cmd.duration)
        viewer_tz = hr.tz if hr else people[0].tz  # whose days `from`/`to` are, and whose the listing's
        viewer = zone_of(viewer_tz)
        query = SearchQuery(candidate=people[0].id, interviewers=[p.id for p in people[1:]],
                            duration=int(rules.duration.total_seconds() // 60),
                            start=_instant(cmd.start, viewer, end=False), end=_instant(cmd.end, viewer, end=True),
                            template=template_id, nonce=cmd.nonce, page=cmd.page,
                            location=clean_location(cmd.location))
        if query.start and query.end and datetime.fromisoformat(query.end) <= datetime.fromisoformat(query.start):
            raise SchedulingError("The end of the range is not after its start.", example="from 2026-12-01 to 2026-12-10")
        stale = needs_refresh(uow.session, people, ctx.now(), mock=settings.busy_source == "mock",
                              refresh_after=timedelta(minutes=settings.calendar_refresh_min))
        # Nothing to re-read (the usual case): search here, holding no write lock.
        outcome = None if stale else search_among(ctx, uow.session, cmd.workspace, people, query)
    errors: list[str] = []
    if outcome is None:
        errors = refresh_calendars_of(ctx, people)
        with ctx.reading() as uow:
            outcome = run(ctx, uow.session, cmd.workspace, query)
    result = found(outcome, query, viewer_tz, errors)
    with ctx.unit_of_work(cmd.workspace) as uow:
        return uow.done(result)


def run(ctx: Context, session: Session, workspace: str, query: SearchQuery,
        exclude_interview: int | None = None) -> SearchOutcome:
    """The search itself; booking re-runs exactly this."""
    people = [resolve(ctx, session, workspace, pid) for pid in (query.candidate, *query.interviewers)]
    return search_among(ctx, session, workspace, people, query, exclude_interview)


def search_among(ctx: Context, session: Session, workspace: str, people: list[Person], query: SearchQuery,
                 exclude_interview: int | None = None) -> SearchOutcome:
    candidate, *interviewers = people
    zone = zone_of(candidate.tz)
    start, end = _bound(query.start, zone, end=False), _bound(query.end, zone, end=True)
    rules, policy = terms(ctx, session, workspace, query.template, query.duration)
    return find_matches(session, candidate, interviewers, rules, ctx.now(), start, end,
                        exclude_interview=exclude_interview, policy=policy)


def with_fresh_calendars(ctx: Context, gather: Callable[[Session], list[Person]],
                         search: Callable[[Session, tuple[str, ...]], R]) -> R:
    """Run `search` in a read after re-reading the stale calendars of the people `gather`
    names (never blocking: failures are handed to `search` as sentences); when none is stale,
    the usual case, in the very read that found that out."""
    settings = ctx.settings
    with ctx.reading() as uow:
        people = gather(uow.session)
        if not needs_refresh(uow.session, people, ctx.now(), mock=settings.busy_source == "mock",
                             refresh_after=timedelta(minutes=settings.calendar_refresh_min)):
            return search(uow.session, ())
    errors = tuple(refresh_calendars_of(ctx, people))
    with ctx.reading() as uow:
        return search(uow.session, errors)


def refresh_calendars_of(ctx: Context, people: list[Person]) -> list[str]:
    settings, now = ctx.settings, ctx.now()
    return refresh_calendars(
        ctx.db, people, Interval(now, now + settings.rules().horizon + timedelta(days=1)), now,
        refresh_after=timedelta(minutes=settings.calendar_refresh_min), timeout=settings.calendar_timeout_s,
        mock=settings.busy_source == "mock", box=settings.secrets, policy=settings.calendar_policy,
    )


def named(someone: Person) -> Named:
    return Named(someone.name, someone.tz, someone.slack_user_id)


def found(outcome: SearchOutcome, query: SearchQuery, viewer_tz: str, errors: list[str]) -> SlotsFound:
    diagnosis = outcome.diagnosis
    return SlotsFound(
        query=query, viewer_tz=viewer_tz, candidate=named(outcome.candidate),
        interviewers=tuple(named(p) for p in outcome.interviewers), slots=tuple(outcome.slots),
        notes=tuple(outcome.notes), calendar_errors=tuple(errors),
        reasons=tuple(diagnosis.reasons) if diagnosis else (),
        bottlenecks=tuple(diagnosis.bottlenecks) if diagnosis else (),
        alternatives=tuple(diagnosis.alternatives) if diagnosis else (),
    )


@dataclass(frozen=True)
class SearchForm:
    """What the find-slots form needs: the HR user's zone (whose days the range is) and local
    today, and the templates."""

    zone: str
    today: date
    templates: tuple[tuple[int, str], ...]


def search_form(ctx: Context, workspace: str, actor: str) -> SearchForm:
    from storage.templates import list_templates

    refresh_profiles(ctx, workspace, [actor])
    with ctx.reading() as uow:
        hr = acting(ctx, uow.session, workspace, actor, Role.hr, "find and book interviews")
        zone = zone_of(hr.tz if hr else "UTC")
        templates = tuple((t.id, f"{t.name} ({t.duration_min} min)") for t in list_templates(uow.session, workspace)
                          if not t.sessions)  # loops are not searched in Slack yet
        return SearchForm(zone.key, ctx.now().astimezone(zone).date() + timedelta(days=1), templates)
