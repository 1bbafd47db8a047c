"""Find common slots for a candidate and one or more interviewers from stored data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.freetime import find_slots_in
from scheduling.intervals import Interval
from scheduling.policies import (
    CandidateHistory,
    InterviewerLoad,
    Policy,
    ProgrammeRules,
    apply_caps,
    programme_verdict,
)
from scheduling.slots import (
    Diagnosis,
    Participant,
    SearchRules,
    _nearest,
    diagnose,
    find_slots,
    search_bounds,
)
from scheduling.zones import zone_of
from storage.availability import windows_between
from storage.busy import blocks_between, interviews_between
from storage.freetime import CACHE
from storage.loads import WEEK, counted, interview_starts
from storage.models import Interview, InterviewParticipant, InterviewStatus, Person, Role

ALTERNATIVES = 3  # nearest other slots offered when none fit

class InvalidPanel(SchedulingError):
    """A search whose people do not make an interview (no interviewer, duplicates, wrong roles)."""


@dataclass
class SearchOutcome:
    """Slots found; `notes` say which rule (programme, cap) removed what, for HR to pass on."""

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
    session.flush()  # the reads are Core statements, which do not autoflush pending changes
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
    policy: Policy | None = None,
) -> SearchOutcome:
    """Common slots in time order; when there are none, a diagnosis of why.

    With a `policy`, programme rules and then caps remove slots after the free-time search;
    each rule that removed something adds a note (and is the diagnosis when nothing is left).
    Booking re-runs this search, so a slot is booked under exactly the rules it was listed by.
    """
    check_panel(candidate, interviewers)
    people = [candidate, *interviewers]
    outcome = SearchOutcome(slots=[], candidate=candidate, interviewers=list(interviewers))
    full = search_bounds(rules, now)
    if full is None:
        return outcome
    margin = rules.buffer_before + rules.buffer_after + timedelta(days=1)
    span = Interval(full.start - margin, full.end + margin)
    participants: list[Participant] | None = None
    if exclude_interview is None:
        free = CACHE.free_times(session, people, rules, full, load_participants)
        outcome.slots = find_slots_in(free, rules, now, start, end)
    else:  # a moved interview's own time is free for it: not what is kept for everyone
        participants = load_participants(session, people, span, exclude_interview)
        outcome.slots = find_slots(participants, rules, now, start, end)
    policy = policy or Policy()
    if policy.programme is not None and _programme_blocks(
        session, outcome, policy.programme, exclude_interview
    ):
        return outcome
    loads = interviewer_loads(session, interviewers, span, exclude_interview) if policy.has_caps else []
    if outcome.slots and policy.has_caps:
        capped = apply_caps(outcome.slots, loads, policy)
        outcome.slots = capped.slots
        outcome.notes.extend(capped.notes)
        if not capped.slots:
            outcome.diagnosis = Diagnosis(reasons=list(capped.notes), bottlenecks=capped.capped)
    if not outcome.slots:
        participants = participants or load_participants(session, people, span, exclude_interview)
        diagnosis = outcome.diagnosis or diagnose(participants, rules, now, start, end, ALTERNATIVES)
        if policy.has_caps:  # an alternative a cap would refuse is no alternative
            allowed = apply_caps(find_slots(participants, rules, now), loads, policy).slots
            diagnosis = replace(
                diagnosis, alternatives=_nearest(allowed, rules, now, start, end, ALTERNATIVES)
            )
        outcome.diagnosis = diagnosis
    return outcome


def _programme_blocks(
    session: Session, outcome: SearchOutcome, rules: ProgrammeRules, exclude_interview: int | None
) -> bool:
    """Check the programme; when it refuses, empty the outcome and say why (no alternatives:
    no other time would be allowed either)."""
    history = candidate_history(session, outcome.candidate, exclude_interview)
    panel = {p.id: p.name for p in outcome.interviewers}
    verdict = programme_verdict(rules, history, panel, outcome.candidate.name)
    if verdict.allowed:
        return False
    outcome.slots = []
    outcome.notes.extend(verdict.reasons)
    outcome.diagnosis = Diagnosis(reasons=list(verdict.reasons), bottlenecks=list(verdict.blocked_by))
    return True


def interviewer_loads(
    session: Session, interviewers: Sequence[Person], span: Interval, exclude_interview: int | None
) -> list[InterviewerLoad]:
    """Each interviewer's interview starts around `span`, wide enough to fill any local week."""
    starts = interview_starts(session, [p.id for p in interviewers], span.start - WEEK, span.end + WEEK,
                              exclude_interview)
    return [InterviewerLoad(p.name, zone_of(p.tz), starts[p.id]) for p in interviewers]


def candidate_history(
    session: Session, candidate: Person, exclude_interview: int | None = None
) -> CandidateHistory:
    """Completed count, grades (lowest interviewer grade per interview) and past interviewers."""
    query = counted(
        select(
            Interview.id,
            Interview.status,
            InterviewParticipant.person_id,
            InterviewParticipant.grade,
        )
        .join(InterviewParticipant, InterviewParticipant.interview_id == Interview.id)
        .where(Interview.candidate_id == candidate.id, InterviewParticipant.role == Role.interviewer)
        .order_by(Interview.start_at, Interview.id),
        exclude_interview,
    )
    completed: dict[int, int | None] = {}
    interviewed_by: set[int] = set()
    for interview_id, status, person_id, grade in session.execute(query):
        interviewed_by.add(person_id)
        if status is InterviewStatus.completed:
            given = [g for g in (completed.get(interview_id), grade) if g is not None]
            completed[interview_id] = min(given) if given else None
    grades = tuple(g for g in completed.values() if g is not None)
    return CandidateHistory(len(completed), grades, frozenset(interviewed_by))
