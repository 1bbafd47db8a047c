"""Find common slots for a candidate and one or more interviewers from stored data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.intervals import Interval
from scheduling.slots import (
    Diagnosis,
    Participant,
    SearchRules,
    diagnose,
    find_slots,
    search_bounds,
)
from storage.availability import windows_between
from storage.busy import blocks_between, interviews_between
from storage.models import Person, Role


class InvalidPanel(SchedulingError):
    """A search whose people do not make an interview (no interviewer, duplicates, wrong roles)."""


@dataclass
class SearchOutcome:
    slots: list[Interval]
    candidate: Person
    interviewers: list[Person]
    diagnosis: Diagnosis | None = None
    calendar_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def check_panel(candidate: Person, interviewers: Sequence[Person]) -> None:
    if not interviewers:
        raise InvalidPanel("Name at least one interviewer.", example="/interview slots @cand @interviewer 60m")
    ids = [p.id for p in interviewers]
    if len(set(ids)) != len(ids):
        raise InvalidPanel("An interviewer is named twice.")
    if candidate.id in ids:
        raise InvalidPanel(f"{candidate.name} cannot interview themselves.")
    if not candidate.has_role(Role.candidate):
        raise InvalidPanel(f"{candidate.name} is not registered as a candidate.")
    for person in interviewers:
        if not person.has_role(Role.interviewer):
            raise InvalidPanel(f"{person.name} is not registered as an interviewer.")


def load_participants(
    session: Session,
    people: Sequence[Person],
    span: Interval,
    exclude_interview: int | None = None,
) -> list[Participant]:
    """Each person's windows and busy time (blocks and bookings) around `span`."""
    ids = [p.id for p in people]
    windows = windows_between(session, ids, span.start, span.end)
    blocks = blocks_between(session, ids, span.start, span.end)
    booked = interviews_between(session, ids, span.start, span.end, exclude_interview)
    return [
        Participant(key=p.handle, label=p.name, windows=windows[p.id], busy=blocks[p.id] + booked[p.id])
        for p in people
    ]


def find_matches(
    session: Session,
    candidate: Person,
    interviewers: Sequence[Person],
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    exclude_interview: int | None = None,
) -> SearchOutcome:
    """Common slots in time order; when there are none, a diagnosis of why."""
    check_panel(candidate, interviewers)
    people = [candidate, *interviewers]
    outcome = SearchOutcome(slots=[], candidate=candidate, interviewers=list(interviewers))
    full = search_bounds(rules, now)
    if full is None:
        return outcome
    margin = rules.buffer_before + rules.buffer_after + timedelta(days=1)
    span = Interval(full.start - margin, full.end + margin)
    participants = load_participants(session, people, span, exclude_interview)
    outcome.slots = find_slots(participants, rules, now, start, end)
    if not outcome.slots:
        outcome.diagnosis = diagnose(participants, rules, now, start, end)
    return outcome
