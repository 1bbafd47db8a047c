"""Booking a loop in one step: one interview per session, all of them or none.

The path of `storage.booking.book`, for several interviews at once. The lock covers the
candidate and everyone the loop may involve (named people and every pool member), in id order:
the fair choice reads every member's load, so a concurrent booking from the same pool waits
and the re-check then decides on what is committed. The re-check is the search itself, over
exactly the asked start, and it chooses afresh: if members listed earlier have since become
busy or busier, the fairest free ones now are booked; if the start no longer fits at all,
`LoopTaken` says why and offers the nearest options. All interviews are written in one
savepoint under PostgreSQL's exclusion constraint; nothing is committed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduling.intervals import Interval
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.booking import BookingError, SlotTaken, booked_then, new_interview, write_exclusive
from storage.loop_matching import (
    LoopCast,
    LoopOutcome,
    cast_of,
    find_loop_matches,
    loop_length,
    nearest,
)
from storage.models import Interview, InterviewStatus, InterviewTemplate, Person
from storage.people import lock_people


class LoopTaken(SlotTaken):
    """The loop can no longer start then; `outcome` holds the nearest options now."""

    def __init__(self, message: str, outcome: LoopOutcome) -> None:
        super().__init__(message, [Interval(o.start, o.end) for o in outcome.options])
        self.outcome = outcome


@dataclass
class LoopBooking:
    """The interviews, in time order; `replayed` when a retry found them already booked."""

    interviews: list[Interview]
    replayed: bool = False


def book_loop(
    session: Session,
    *,
    template: InterviewTemplate,
    candidate: Person,
    start: datetime,
    rules: SearchRules,
    now: datetime,
    idempotency_key: str,
    booked_by: Person | None = None,
    policy: Policy | None = None,
) -> LoopBooking:
    """Book the option the search lists at `start`; session i gets the key `{key}/{i}`."""
    keys = [f"{idempotency_key}/{i}" for i in range(len(template.sessions))]
    if (done := _replay(session, keys, candidate, start)) is not None:
        return done
    cast = cast_of(session, template, candidate)
    lock_people(session, [p.id for p in cast.everyone])
    if (done := _replay(session, keys, candidate, start)) is not None:
        return done  # a concurrent retry won while we waited for the locks
    found = find_loop_matches(session, template, cast, rules, now, start, start + loop_length(template),
                              policy=policy)
    option = next((o for o in found.options if o.start == start), None)
    if option is None:
        raise LoopTaken(f"That loop cannot start then: {_why_not(session, cast, found, start, template)}.",
                        _nearest(session, template, cast, rules, now, start, policy))
    position = {s.name: i for i, s in enumerate(template.sessions)}
    interviews = [
        new_interview(candidate, [found.people[h] for h in pick.interviewers], pick.slot, rules, now, booked_by,
                       keys[position[pick.name]], template.id, title=pick.name)
        for pick in option.sessions]
    try:
        write_exclusive(session, lambda: session.add_all(interviews), list)
    except SlotTaken:
        raise LoopTaken("That loop was just taken: someone just booked one of these people at that time.",
                        _nearest(session, template, cast, rules, now, start, policy)) from None
    return LoopBooking(interviews)


def _replay(session: Session, keys: Sequence[str], candidate: Person, start: datetime) -> LoopBooking | None:
    """The loop booked under these keys before, if any; a key reused for another loop, or for
    one cancelled since, is refused rather than answered with the old interviews."""
    found = list(session.scalars(select(Interview).where(Interview.idempotency_key.in_(keys))
                                 .order_by(Interview.start_at)))
    if not found:
        return None
    if len(found) != len(keys) or found[0].start_at != start or any(i.candidate_id != candidate.id for i in found):
        raise BookingError("This booking request was already used for another loop.")
    if any(i.status is InterviewStatus.cancelled for i in found):
        raise BookingError("This loop was booked under this request and cancelled since; book it again "
                           "under a new request key.", example="--key onsite-cara-2")
    return LoopBooking(found, replayed=True)


def _why_not(session: Session, cast: LoopCast, found: LoopOutcome, start: datetime,
             template: InterviewTemplate) -> str:
    if found.notes:
        return found.notes[0].rstrip(".")
    fixed = [cast.candidate, *(p for group in cast.named for p in group)]
    booked = booked_then(session, fixed, Interval(start, start + loop_length(template)), None)
    if booked is not None:
        return f"someone just booked {booked} at that time"  # a lost race, not a lack of free time
    return "the search does not list that start (someone is not free, or it is off the grid or out of range)"


def _nearest(session: Session, template: InterviewTemplate, cast: LoopCast, rules: SearchRules, now: datetime,
             start: datetime, policy: Policy | None) -> LoopOutcome:
    """The options the search lists now over its normal range, the three nearest to `start`."""
    fresh = find_loop_matches(session, template, cast, rules, now, policy=policy)
    fresh.options = nearest(fresh.options, start)
    return fresh

