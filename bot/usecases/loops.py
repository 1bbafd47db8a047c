"""HR's loops: the options a loop template has for a candidate, and booking one of them, every
session at once or none. The command line calls these now; Slack is to call the same."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.usecases.booking import HR_ACTION, tell_everyone
from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named, refresh_profiles
from bot.usecases.search import PersonRef, resolve, template_of, terms, with_fresh_calendars
from scheduling.errors import SchedulingError
from scheduling.intervals import Interval, iso_z
from storage.loop_booking import LoopTaken
from storage.loop_booking import book_loop as book_in_store
from storage.loop_matching import LoopOutcome, cast_of, find_loop_matches
from storage.models import InterviewTemplate, Person, Role
from storage.reminders import plan_reminders

SEARCH_ACTION = "find and book interviews"
NAMED = "named in the template"  # the `why` of a session without members chosen from a pool
MAX_KEY = 80  # + "/i" per session fits the interviews' idempotency key


def _loop(session: Session, workspace: str, ref: int | str) -> InterviewTemplate:
    template = template_of(session, workspace, ref)
    if template is None or not template.sessions:
        raise SchedulingError(f"The template {ref!r} is not a loop (it has no sessions).",
                              example="interview-bot template add NAME --session LABEL:MINUTES:SPEC …")
    return template


def is_loop(ctx: Context, workspace: str, actor: str | None, ref: str) -> bool:
    """Whether a template has sessions: its options are then loops, not single slots."""
    refresh_profiles(ctx, workspace, [actor])
    with ctx.reading() as uow:
        acting(ctx, uow.session, workspace, actor, Role.hr, SEARCH_ACTION)
        template = template_of(uow.session, workspace, ref)
        return bool(template and template.sessions)


@dataclass(frozen=True)
class SessionSlot:
    name: str
    slot: Interval
    interviewers: tuple[str, ...]  # handles: the named people, then the members chosen
    names: tuple[str, ...]
    others: tuple[str, ...]  # handles of the other free members, fairest first (for a swap)
    why: str


@dataclass(frozen=True)
class LoopSlot:
    span: Interval
    sessions: tuple[SessionSlot, ...]  # in time order


def _slots(outcome: LoopOutcome) -> tuple[LoopSlot, ...]:
    people = outcome.people
    return tuple(
        LoopSlot(Interval(option.start, option.end), tuple(
            SessionSlot(pick.name, pick.slot, pick.interviewers, tuple(people[h].name for h in pick.interviewers),
                        pick.others, "; ".join(pick.why) or NAMED)
            for pick in option.sessions))
        for option in outcome.options)


@dataclass(frozen=True)
class SearchLoop:
    workspace: str
    actor: str | None
    candidate: str
    template: int | str
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class LoopSlotsFound:
    candidate: str
    candidate_tz: str
    template: str
    options: tuple[LoopSlot, ...]
    notes: tuple[str, ...] = ()
    calendar_errors: tuple[str, ...] = ()


def search_loop(ctx: Context, cmd: SearchLoop) -> LoopSlotsFound:
    """As every search: stale calendars of everyone the loop may involve are re-read first."""
    refresh_named(ctx, cmd.workspace, cmd.actor, [cmd.candidate], Role.hr, SEARCH_ACTION)

    def gather(session: Session) -> list[Person]:
        acting(ctx, session, cmd.workspace, cmd.actor, Role.hr, SEARCH_ACTION)
        template = _loop(session, cmd.workspace, cmd.template)
        return cast_of(session, template, person(ctx, session, cmd.workspace, cmd.candidate)).everyone

    def search(session: Session, errors: tuple[str, ...]) -> LoopSlotsFound:
        template = _loop(session, cmd.workspace, cmd.template)
        candidate = person(ctx, session, cmd.workspace, cmd.candidate)
        rules, policy = terms(ctx, session, cmd.workspace, template.id, None)
        outcome = find_loop_matches(session, template, cast_of(session, template, candidate), rules, ctx.now(),
                                    cmd.start, cmd.end, policy=policy)
        return LoopSlotsFound(candidate.name, candidate.tz, template.name, _slots(outcome), tuple(outcome.notes),
                              errors)

    result = with_fresh_calendars(ctx, gather, search)
    with ctx.unit_of_work(cmd.workspace) as uow:
        return uow.done(result)


@dataclass(frozen=True)
class BookLoop:
    workspace: str
    actor: str | None
    candidate: PersonRef
    template: int | str
    start: datetime
    key: str | None = None  # the request's; None: one per template, candidate and start


@dataclass(frozen=True)
class LoopBooked:
    """The interviews, one per session in time order; `replayed`: they were booked already."""

    interview_ids: tuple[int, ...]
    sessions: tuple[Interval, ...]
    tz: str
    replayed: bool = False
    unreachable: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoopGone:
    """The loop cannot start then any more: why, and the nearest options now."""

    reason: str
    nearest: tuple[LoopSlot, ...]


def book_loop(ctx: Context, cmd: BookLoop) -> LoopBooked | LoopGone:
    """Book the option the search lists at `start` (`storage.loop_booking`), with each session's
    reminders and notices, in one transaction. Booking the same option again under the same key
    (by default, the same template, candidate and start) answers with the interviews booked."""
    if cmd.key is not None and not 0 < len(cmd.key) <= MAX_KEY:
        raise SchedulingError(f"A request key is 1 to {MAX_KEY} characters.", example="--key onsite-cara-1")
    now = ctx.now()
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        session = uow.session
        hr = acting(ctx, session, cmd.workspace, cmd.actor, Role.hr, HR_ACTION)
        template = _loop(session, cmd.workspace, cmd.template)
        candidate = resolve(ctx, session, cmd.workspace, cmd.candidate)
        rules, policy = terms(ctx, session, cmd.workspace, template.id, None)
        key = cmd.key or f"loop:{template.id}:{candidate.id}:{iso_z(cmd.start)}"
        try:
            booking = book_in_store(session, template=template, candidate=candidate, start=cmd.start, rules=rules,
                                    now=now, idempotency_key=key, booked_by=hr, policy=policy)
        except LoopTaken as err:
            return uow.done(LoopGone(str(err), _slots(err.outcome)))
        unreachable: list[str] = []
        if not booking.replayed:
            for interview in booking.interviews:
                plan_reminders(session, interview, ctx.settings.reminder_offsets_min, now)
                unreachable.extend(tell_everyone(uow, interview, "booked", hr, now))
        interviews = booking.interviews
        result = LoopBooked(tuple(i.id for i in interviews), tuple(Interval(i.start_at, i.end_at) for i in interviews),
                            hr.tz if hr else candidate.tz, booking.replayed, tuple(dict.fromkeys(unreachable)))
        return uow.done(result)
