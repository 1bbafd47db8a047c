"""Booking as one atomic step, plus cancel, reschedule, grades and the listings.

Listing and booking share one rule path: a booking re-runs `find_matches` over exactly the
requested slot, so it accepts precisely what the search would list (buffers, notice, horizon,
caps and programme rules included). Concurrency: the people rows are locked in id order before
the re-check (PostgreSQL row locks; SQLite's write transaction already holds the database
lock), and PostgreSQL's exclusion constraint forbids overlapping active bookings per person
even if the application check were bypassed. The functions flush and never commit: the caller's
unit of work commits the booking together with its reminders, or nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.intervals import Interval
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.db import affected_rows
from storage.matching import SearchOutcome, find_matches
from storage.models import Interview, InterviewParticipant, InterviewStatus, Person, Role
from storage.people import lock_people

EXCLUSION_VIOLATION = "23P01"
DEADLOCK_DETECTED = "40P01"


class SlotTaken(SchedulingError):
    """The slot is no longer bookable; `alternatives` are fresh slots near it."""

    def __init__(self, message: str, alternatives: Sequence[Interval] = ()) -> None:
        super().__init__(message)
        self.alternatives = list(alternatives)


class BookingError(SchedulingError):
    """A change to an interview that its state or the actor does not allow."""


@dataclass
class Booking:
    """The booked interview; `replayed` when an idempotent retry found it already booked."""

    interview: Interview
    replayed: bool = False


def _nearest(slots: Sequence[Interval], to: Interval, n: int = 3) -> list[Interval]:
    ranked = sorted(slots, key=lambda s: abs((s.start - to.start).total_seconds()))
    return sorted(ranked[:n])


def _why_not(outcome: SearchOutcome) -> str:
    reasons = outcome.diagnosis.reasons if outcome.diagnosis else []
    return reasons[0].rstrip(".") if reasons else "someone is no longer free then"


def check_bookable(
    session: Session,
    candidate: Person,
    interviewers: Sequence[Person],
    slot: Interval,
    rules: SearchRules,
    now: datetime,
    exclude_interview: int | None = None,
    policy: Policy | None = None,
) -> None:
    """Raise SlotTaken unless the search would list `slot` right now (same rules and policy)."""
    outcome = find_matches(session, candidate, interviewers, rules, now, slot.start, slot.end,
                           exclude_interview=exclude_interview, policy=policy)
    if slot in outcome.slots:
        return
    minutes = int(rules.duration.total_seconds() // 60)
    if slot.duration != rules.duration:
        why = f"it is not {minutes} minutes long"
    elif (booked := booked_then(session, [candidate, *interviewers], slot, exclude_interview)) is not None:
        why = f"someone just booked {booked} at that time"  # a lost race, not a lack of free time
    else:
        why = _why_not(outcome)
    raise SlotTaken(f"That slot was just taken: {why}.",
                    nearest_slots(session, candidate, interviewers, slot, rules, now, exclude_interview, policy))


def booked_then(session: Session, people: Sequence[Person], slot: Interval, exclude_interview: int | None) -> str | None:
    """The name of someone here already in an interview overlapping `slot`, if anyone is."""
    query = (select(Person.name).join(InterviewParticipant, InterviewParticipant.person_id == Person.id)
             .join(Interview, Interview.id == InterviewParticipant.interview_id)
             .where(Person.id.in_([p.id for p in people]), InterviewParticipant.active.is_(True),
                    Interview.status == InterviewStatus.booked, InterviewParticipant.start_at < slot.end,
                    InterviewParticipant.end_at > slot.start)
             .order_by(Person.id).limit(1))
    if exclude_interview is not None:
        query = query.where(Interview.id != exclude_interview)
    return session.scalars(query).first()


def nearest_slots(
    session: Session,
    candidate: Person,
    interviewers: Sequence[Person],
    slot: Interval,
    rules: SearchRules,
    now: datetime,
    exclude_interview: int | None = None,
    policy: Policy | None = None,
) -> list[Interval]:
    """Up to three slots the search lists now over its normal range, nearest to `slot`."""
    fresh = find_matches(session, candidate, interviewers, rules, now, exclude_interview=exclude_interview,
                         policy=policy)
    return _nearest(fresh.slots, slot)


def _existing(session: Session, key: str) -> Interview | None:
    return session.scalars(select(Interview).where(Interview.idempotency_key == key)).first()


def _replay(interview: Interview, people: Sequence[Person], slot: Interval) -> Booking:
    """A retry returns the first booking; a key reused for something else is a caller bug."""
    same_people = {p.person_id for p in interview.participants} == {p.id for p in people}
    if (interview.start_at, interview.end_at) != (slot.start, slot.end) or not same_people:
        raise BookingError("This booking request was already used for another slot or other people.")
    return Booking(interview=interview, replayed=True)


def book(
    session: Session,
    *,
    candidate: Person,
    interviewers: Sequence[Person],
    slot: Interval,
    rules: SearchRules,
    now: datetime,
    booked_by: Person | None = None,
    idempotency_key: str | None = None,
    template_id: int | None = None,
    policy: Policy | None = None,
) -> Booking:
    """Book `slot` inside the caller's unit of work (flushed, not committed).

    Locks the people, re-runs the search over exactly this slot, then writes the interview and
    its participants; raises SlotTaken (with nearby alternatives) when the search would not
    list the slot any more.
    """
    people = [candidate, *interviewers]
    if idempotency_key and (done := _existing(session, idempotency_key)) is not None:
        return _replay(done, people, slot)
    lock_people(session, [p.id for p in people])
    if idempotency_key and (done := _existing(session, idempotency_key)) is not None:
        return _replay(done, people, slot)  # a concurrent retry won while we waited for the lock
    check_bookable(session, candidate, interviewers, slot, rules, now, policy=policy)
    interview = new_interview(candidate, interviewers, slot, rules, now, booked_by, idempotency_key, template_id)
    try:
        write_exclusive(session, lambda: session.add(interview),
                         partial(nearest_slots, session, candidate, interviewers, slot, rules, now, policy=policy))
    except IntegrityError:
        if idempotency_key and (done := _existing(session, idempotency_key)) is not None:
            return _replay(done, people, slot)  # a concurrent insert with the same key committed first
        raise
    return Booking(interview=interview)


def new_interview(
    candidate: Person, interviewers: Sequence[Person], slot: Interval, rules: SearchRules, now: datetime,
    booked_by: Person | None, idempotency_key: str | None, template_id: int | None, title: str | None = None,
) -> Interview:
    """A booked interview with one active participant row per person (times copied for the
    exclusion constraint); `title` names a loop's session."""
    interview = Interview(
        workspace_id=candidate.workspace_id, uid=f"{uuid.uuid4()}@interview-bot",
        candidate_id=candidate.id, template_id=template_id, start_at=slot.start, end_at=slot.end,
        buffer_before_min=int(rules.buffer_before.total_seconds() // 60),
        buffer_after_min=int(rules.buffer_after.total_seconds() // 60),
        idempotency_key=idempotency_key, booked_by=booked_by.id if booked_by else None, title=title,
        created_at=now, updated_at=now,
    )
    interview.participants = [
        InterviewParticipant(person=p, role=Role.candidate if p is candidate else Role.interviewer,
                             start_at=slot.start, end_at=slot.end, active=True)
        for p in [candidate, *interviewers]
    ]
    return interview


def write_exclusive(session: Session, write: Callable[[], None], nearby: Callable[[], list[Interval]]) -> None:
    """Make and flush the changes inside a SAVEPOINT, so a constraint firing leaves the caller's
    transaction usable (begin_nested flushes what is already pending *before* the savepoint,
    hence `write` runs inside it). PostgreSQL's exclusion constraint firing means a concurrent
    booking of someone here won the race: SlotTaken, with fresh alternatives."""
    try:
        with session.begin_nested():
            write()
            session.flush()
    except DBAPIError as err:
        # Two inserts checking each other's rows under the constraint can also deadlock: one of
        # them is aborted, and it lost the race just the same.
        if getattr(err.orig, "sqlstate", None) in (EXCLUSION_VIOLATION, DEADLOCK_DETECTED):
            raise SlotTaken("That slot was just taken: someone just booked one of these people at that time.",
                            nearby()) from None
        raise


def get_interview(session: Session, workspace_id: str, interview_id: int, *, lock: bool = False) -> Interview:
    """An interview of this workspace (another workspace's id is as unknown as a made-up one);
    `lock` row-locks and re-reads it so concurrent changes to it queue up."""
    interview = session.get(Interview, interview_id, with_for_update=lock, populate_existing=lock)
    if interview is None or interview.workspace_id != workspace_id:
        raise BookingError(f"There is no interview #{interview_id}.")
    return interview


def cancel(session: Session, workspace_id: str, interview_id: int, *, now: datetime) -> Interview:
    """Cancel an upcoming interview; inactive participants free the time for the constraint."""
    interview = get_interview(session, workspace_id, interview_id, lock=True)
    if interview.status is InterviewStatus.cancelled:
        raise BookingError(f"Interview #{interview_id} is already cancelled.")
    if interview.start_at <= now:
        raise BookingError(f"Interview #{interview_id} has already started; it cannot be cancelled.")
    # The participants' rows change everyone's free-time version (a row lock each): take the
    # locks in id order first, as booking does, so the two cannot deadlock.
    lock_people(session, [part.person_id for part in interview.participants])
    interview.status = InterviewStatus.cancelled
    interview.sequence += 1
    interview.updated_at = now
    for part in interview.participants:
        part.active = False
    session.flush()
    return interview


def relocate(session: Session, workspace_id: str, interview_id: int, location: str | None, *,
             now: datetime) -> Interview:
    """Change where an upcoming interview is (a new SEQUENCE, so calendars update the event)."""
    interview = get_interview(session, workspace_id, interview_id, lock=True)
    if interview.status is not InterviewStatus.booked:
        raise BookingError(f"Interview #{interview_id} is {interview.status.value}; its place cannot change.")
    if interview.end_at <= now:
        raise BookingError(f"Interview #{interview_id} is over; its place cannot change.")
    if interview.location == location:
        raise BookingError(f"Interview #{interview_id} is already there; nothing was changed.")
    interview.location = location
    interview.sequence += 1
    interview.updated_at = now
    session.flush()
    return interview


def reschedule(
    session: Session, workspace_id: str, interview_id: int, new_slot: Interval, *, rules: SearchRules,
    now: datetime, policy: Policy | None = None,
) -> Interview:
    """Move an upcoming interview, judged like a new booking but ignoring its own old time."""
    interview = get_interview(session, workspace_id, interview_id, lock=True)
    if interview.status is not InterviewStatus.booked:
        raise BookingError(f"Interview #{interview_id} is {interview.status.value}; it cannot be moved.")
    if interview.start_at <= now:
        raise BookingError(f"Interview #{interview_id} has already started; it cannot be moved.")
    people = [p.person for p in interview.participants]
    lock_people(session, [p.id for p in people])
    candidate = next(p for p in people if p.id == interview.candidate_id)
    interviewers = [p for p in people if p.id != interview.candidate_id]
    check_bookable(session, candidate, interviewers, new_slot, rules, now, exclude_interview=interview.id,
                   policy=policy)

    def move() -> None:
        interview.start_at, interview.end_at = new_slot.start, new_slot.end
        interview.sequence += 1
        interview.updated_at = now
        for part in interview.participants:
            part.start_at, part.end_at = new_slot.start, new_slot.end

    write_exclusive(session, move, partial(nearest_slots, session, candidate, interviewers, new_slot, rules, now,
                                            exclude_interview=interview.id, policy=policy))
    return interview


def record_grade(session: Session, interview_id: int, *, interviewer: Person, grade: int, now: datetime) -> None:
    """An interviewer grades the candidate 0–5 once the interview is over; re-grading overwrites."""
    if not 0 <= grade <= 5:
        raise BookingError("A grade is a whole number from 0 to 5.")
    interview = get_interview(session, interviewer.workspace_id, interview_id, lock=True)
    part = next((p for p in interview.participants if p.person_id == interviewer.id), None)
    if part is None or part.role is not Role.interviewer:
        raise BookingError(f"Only the interviewers of interview #{interview_id} can grade it.")
    if interview.status is InterviewStatus.cancelled:
        raise BookingError(f"Interview #{interview_id} was cancelled.")
    if interview.end_at > now:
        raise BookingError(f"Interview #{interview_id} has not ended yet.")
    part.grade, part.graded_at = grade, now
    if interview.status is InterviewStatus.booked:
        interview.status = InterviewStatus.completed
    session.flush()


def complete_past(session: Session, now: datetime) -> int:
    """Mark booked interviews that have ended as completed."""
    statement = (
        update(Interview)
        .where(Interview.status == InterviewStatus.booked, Interview.end_at <= now)
        .values(status=InterviewStatus.completed, updated_at=now)
    )
    return affected_rows(session, statement)


def upcoming_for(session: Session, person: Person, now: datetime, limit: int = 50) -> list[Interview]:
    """Interviews `person` takes part in that have not ended, soonest first."""
    return list(session.scalars(
        select(Interview)
        .join(InterviewParticipant, InterviewParticipant.interview_id == Interview.id)
        .where(InterviewParticipant.person_id == person.id, InterviewParticipant.active.is_(True),
               Interview.status == InterviewStatus.booked, Interview.end_at > now)
        .order_by(Interview.start_at).limit(limit)
    ))


def upcoming_all(session: Session, workspace_id: str, now: datetime, limit: int = 100) -> list[Interview]:
    """HR's view: every booked interview in the workspace that has not ended."""
    return list(session.scalars(
        select(Interview)
        .where(Interview.workspace_id == workspace_id, Interview.status == InterviewStatus.booked,
               Interview.end_at > now)
        .order_by(Interview.start_at).limit(limit)
    ))


def interviews_on_day(session: Session, workspace_id: str, day_start: datetime, day_end: datetime) -> list[Interview]:
    """Booked or completed interviews starting in [day_start, day_end), for the day's schedule."""
    return list(session.scalars(
        select(Interview)
        .where(Interview.workspace_id == workspace_id, Interview.status != InterviewStatus.cancelled,
               Interview.start_at >= day_start, Interview.start_at < day_end)
        .order_by(Interview.start_at)
    ))

