"""Booking and what follows it: book, cancel, reschedule, grade, list, mark interviews completed.

Each change and everything it causes — reminders, grade requests, every participant's notice
with its invitation, the answer to HR — is one transaction: all of it happens, once, or none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.usecases.context import Context, UnitOfWork
from bot.usecases.people import acting, person, refresh_profiles
from bot.usecases.search import SearchQuery, SlotsFound, clean_location, named, resolve, run, terms
from scheduling.errors import SchedulingError
from scheduling.intervals import Interval
from scheduling.invitation import build_invitation
from storage import booking as store
from storage.booking import SlotTaken
from storage.models import Interview, Person, Role
from storage.reminders import drop_reminders, plan_reminders

HR_ACTION = "book, move or cancel interviews"


@dataclass(frozen=True)
class InterviewNotice:
    """What a participant is told about their interview, with the calendar invitation."""

    kind: str  # booked, moved, updated (its place), cancelled
    interview_id: int
    when: Interval
    tz: str
    others: str
    by: str
    invitation: str
    watcher: str | None = None  # the Slack user told if this cannot be delivered
    location: str | None = None
    title: str | None = None  # a loop session's name


def others_of(interview: Interview, person_id: int) -> str:
    return ", ".join(p.person.name for p in interview.participants if p.person_id != person_id) or "—"


def invitation(interview: Interview, kind: str, organizer: Person | None, now: datetime) -> str:
    """The .ics: the candidate's plain name in the title (it is not mrkdwn), HR as organizer."""
    candidate = next(p.person for p in interview.participants if p.person_id == interview.candidate_id)
    return build_invitation(
        uid=interview.uid, sequence=interview.sequence, start=interview.start_at, end=interview.end_at,
        summary=f"{interview.title or 'Interview'}: {candidate.name}", description="Scheduled with the interview bot.",
        location=interview.location, organizer_email=organizer.email if organizer else None,
        attendees=[(p.person.name, p.person.email) for p in interview.participants],
        method="CANCEL" if kind == "cancelled" else "REQUEST", now=now,
    ).decode()


def tell_everyone(uow: UnitOfWork, interview: Interview, kind: str, by: Person | None, now: datetime) -> tuple[str, ...]:
    """A notice to each participant in their own zone; returns who cannot be reached (no Slack)."""
    ics = invitation(interview, kind, by, now)
    when = Interval(interview.start_at, interview.end_at)
    unreachable = []
    for part in interview.participants:
        someone = part.person
        notice = InterviewNotice(kind, interview.id, when, someone.tz, others_of(interview, someone.id),
                                 by.name if by else "HR", ics, by.slack_user_id if by else None, interview.location,
                                 interview.title)
        if not uow.notify(someone, notice):
            unreachable.append(f"{someone.name} (no Slack account; email {someone.email or 'unknown'})")
    return tuple(unreachable)


@dataclass(frozen=True)
class Booked:
    """HR's answer: booked (or already booked), and whom a notice cannot reach."""

    interview_id: int
    when: Interval
    tz: str
    others: str
    replayed: bool = False
    unreachable: tuple[str, ...] = ()
    moved: bool = False
    location: str | None = None


@dataclass(frozen=True)
class SlotGone:
    """The slot was taken meanwhile: why, and fresh slots to book instead."""

    reason: str
    fresh: SlotsFound


@dataclass(frozen=True)
class Book:
    workspace: str
    actor: str | None
    query: SearchQuery
    start: datetime


def book(ctx: Context, cmd: Book) -> Booked | SlotGone:
    """Book the slot at `start` for the searched people, re-checked by the very same search.

    The idempotency key is the search's nonce and the start: a double click or a retried click
    finds the first booking and says so, it never books twice.
    """
    now = ctx.now()
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, HR_ACTION)
        query = cmd.query
        candidate = resolve(ctx, uow.session, cmd.workspace, query.candidate)
        interviewers = [resolve(ctx, uow.session, cmd.workspace, pid) for pid in query.interviewers]
        rules, policy = terms(ctx, uow.session, cmd.workspace, query.template, query.duration)
        slot = Interval(cmd.start, cmd.start + rules.duration)
        viewer_tz = hr.tz if hr else candidate.tz
        try:
            booking = store.book(uow.session, candidate=candidate, interviewers=interviewers, slot=slot,
                                 rules=rules, now=now, booked_by=hr,
                                 idempotency_key=f"{query.nonce}:{slot.iso()['start']}",
                                 template_id=query.template, policy=policy)
        except SlotTaken as err:
            fresh = SlotsFound(query, viewer_tz, named(candidate), tuple(named(p) for p in interviewers),
                               tuple(err.alternatives))
            result: Booked | SlotGone = SlotGone(str(err), fresh)
        else:
            interview = booking.interview
            unreachable: tuple[str, ...] = ()
            if not booking.replayed:
                interview.location = query.location
                plan_reminders(uow.session, interview, ctx.settings.reminder_offsets_min, now)
                unreachable = tell_everyone(uow, interview, "booked", hr, now)
            result = Booked(interview.id, slot, viewer_tz, others_of(interview, hr.id if hr else -1),
                            replayed=booking.replayed, unreachable=unreachable, location=interview.location)
        return uow.done(result)


@dataclass(frozen=True)
class Cancelled:
    interview_id: int
    when: Interval
    tz: str
    unreachable: tuple[str, ...]


@dataclass(frozen=True)
class ChangeInterview:
    workspace: str
    actor: str | None
    interview_id: int


def cancel_interview(ctx: Context, cmd: ChangeInterview) -> Cancelled:
    """Cancel: free everyone's time, withdraw the reminders, tell everyone (with a CANCEL .ics)."""
    now = ctx.now()
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, HR_ACTION)
        interview = store.cancel(uow.session, cmd.workspace, cmd.interview_id, now=now)
        drop_reminders(uow.session, interview.id, now)
        unreachable = tell_everyone(uow, interview, "cancelled", hr, now)
        result = Cancelled(interview.id, Interval(interview.start_at, interview.end_at),
                           hr.tz if hr else "UTC", unreachable)
        return uow.done(result)


@dataclass(frozen=True)
class MoveChoices:
    interview_id: int
    tz: str
    slots: tuple[Interval, ...]


def _query_of(interview: Interview) -> SearchQuery:
    return SearchQuery(candidate=interview.candidate_id,
                       interviewers=[p.person_id for p in interview.participants
                                     if p.person_id != interview.candidate_id],
                       duration=int((interview.end_at - interview.start_at).total_seconds() // 60),
                       template=interview.template_id)


def reschedule_choices(ctx: Context, cmd: ChangeInterview) -> MoveChoices:
    """Where the interview can move: free slots for everyone in it, never its current time."""
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, HR_ACTION)
        interview = store.get_interview(uow.session, cmd.workspace, cmd.interview_id)
        outcome = run(ctx, uow.session, cmd.workspace, _query_of(interview), exclude_interview=interview.id)
        slots = outcome.slots or (outcome.diagnosis.alternatives if outcome.diagnosis else [])
        current = Interval(interview.start_at, interview.end_at)
        result = MoveChoices(interview.id, hr.tz if hr else "UTC", tuple(s for s in slots if s != current))
        return uow.done(result)


@dataclass(frozen=True)
class Move:
    workspace: str
    actor: str | None
    interview_id: int
    start: datetime


def move_interview(ctx: Context, cmd: Move) -> Booked:
    """Reschedule, judged like a new booking; reminders follow; everyone is told (new SEQUENCE)."""
    now = ctx.now()
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, HR_ACTION)
        current = store.get_interview(uow.session, cmd.workspace, cmd.interview_id)
        slot = Interval(cmd.start, cmd.start + (current.end_at - current.start_at))
        if slot == Interval(current.start_at, current.end_at):
            raise SchedulingError(f"Interview #{current.id} is already at that time; nothing was changed.")
        rules, policy = terms(ctx, uow.session, cmd.workspace, current.template_id,
                              int(slot.duration.total_seconds() // 60))
        interview = store.reschedule(uow.session, cmd.workspace, current.id, slot, rules=rules, now=now,
                                     policy=policy)
        plan_reminders(uow.session, interview, ctx.settings.reminder_offsets_min, now)
        unreachable = tell_everyone(uow, interview, "moved", hr, now)
        result = Booked(interview.id, slot, hr.tz if hr else "UTC", others_of(interview, hr.id if hr else -1),
                        unreachable=unreachable, moved=True, location=interview.location)
        return uow.done(result)


@dataclass(frozen=True)
class SetLocation:
    workspace: str
    actor: str | None
    interview_id: int
    location: str | None  # None clears it


@dataclass(frozen=True)
class LocationSet:
    interview_id: int
    location: str | None
    unreachable: tuple[str, ...]


def set_location(ctx: Context, cmd: SetLocation) -> LocationSet:
    """Where an interview is (a room, a video link): everyone gets the updated invitation."""
    now = ctx.now()
    location = clean_location(cmd.location)
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, HR_ACTION)
        interview = store.relocate(uow.session, cmd.workspace, cmd.interview_id, location, now=now)
        unreachable = tell_everyone(uow, interview, "updated", hr, now)
        return uow.done(LocationSet(interview.id, location, unreachable))


@dataclass(frozen=True)
class Graded:
    interview_id: int
    grade: int


@dataclass(frozen=True)
class Grade:
    workspace: str
    actor: str
    interview_id: int
    grade: int


def grade(ctx: Context, cmd: Grade) -> Graded:
    """An interviewer's grade 0–5 once the interview is over (it feeds the programme rules)."""
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        me = person(ctx, uow.session, cmd.workspace, cmd.actor)
        store.record_grade(uow.session, cmd.interview_id, interviewer=me, grade=cmd.grade, now=ctx.now())
        result = Graded(cmd.interview_id, cmd.grade)
        return uow.done(result)


@dataclass(frozen=True)
class InterviewRow:
    interview_id: int
    when: Interval
    others: str


@dataclass(frozen=True)
class InterviewList:
    everyone: bool  # HR's view, with controls
    tz: str
    rows: tuple[InterviewRow, ...]


@dataclass(frozen=True)
class ListInterviews:
    workspace: str
    actor: str


def list_interviews(ctx: Context, cmd: ListInterviews, limit: int = 100) -> InterviewList:
    """HR sees every upcoming interview of the workspace; anyone else their own."""
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        me = person(ctx, uow.session, cmd.workspace, cmd.actor)
        everyone = me.has_role(Role.hr)
        found_ = (store.upcoming_all(uow.session, cmd.workspace, ctx.now(), limit=limit) if everyone
                  else store.upcoming_for(uow.session, me, ctx.now(), limit=limit))
        result = InterviewList(everyone, me.tz, tuple(
            InterviewRow(i.id, Interval(i.start_at, i.end_at), others_of(i, me.id)) for i in found_))
        return uow.done(result)


def mark_interviews_completed(ctx: Context) -> int:
    """Periodic: interviews that have ended count as completed (the programme rules count them)."""
    with ctx.db.unit_of_work() as uow:
        count = store.complete_past(uow.session, ctx.now())
        uow.commit()
    return count
