"""Interviewers' interview load as stored: the starts that caps and fair choice count.

Counted: the person's active participation as an interviewer in an interview not cancelled
(completed ones count: they were load). One query for the starts around a search, one for the
latest interview before a window, so "longest since their last interview" is exact however long
ago that was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from scheduling.freetime import FreeTime
from scheduling.pools import RECENT, Load, Member, load_of
from scheduling.zones import zone_of
from storage.models import Interview, InterviewParticipant, InterviewStatus, Person, Role

WEEK = timedelta(days=8)  # wide enough to fill any local ISO week around an instant


# Any SELECT joining participants to interviews: `counted` hands back the same row type.
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def counted(query: _Query, exclude_interview: int | None) -> _Query:
    """Participations that count for rules and load: active, not cancelled, not the one moved."""
    query = query.where(InterviewParticipant.active.is_(True), Interview.status != InterviewStatus.cancelled)
    if exclude_interview is not None:
        query = query.where(Interview.id != exclude_interview)
    return query


def _as_interviewer(query: _Query, exclude_interview: int | None) -> _Query:
    return counted(query.join(Interview, Interview.id == InterviewParticipant.interview_id)
                   .where(InterviewParticipant.role == Role.interviewer), exclude_interview)


def interview_starts(
    session: Session, person_ids: Sequence[int], since: datetime, until: datetime,
    exclude_interview: int | None = None,
) -> dict[int, list[datetime]]:
    """Counted interview starts in `[since, until)`, per person."""
    query = _as_interviewer(select(InterviewParticipant.person_id, InterviewParticipant.start_at).where(
        InterviewParticipant.person_id.in_(person_ids), InterviewParticipant.start_at >= since,
        InterviewParticipant.start_at < until), exclude_interview)
    starts: dict[int, list[datetime]] = {pid: [] for pid in person_ids}
    for pid, moment in session.execute(query):
        starts[pid].append(moment)
    return starts


def last_interview_before(session: Session, person_ids: Sequence[int], moment: datetime) -> dict[int, datetime]:
    """Each person's latest counted interview start before `moment` (absent: none ever)."""
    query = _as_interviewer(select(InterviewParticipant.person_id, func.max(InterviewParticipant.start_at)).where(
        InterviewParticipant.person_id.in_(person_ids), InterviewParticipant.start_at < moment), None)
    return {pid: last for pid, last in session.execute(query.group_by(InterviewParticipant.person_id))}


def loads_of(
    session: Session, people: Sequence[Person], now: datetime, until: datetime,
) -> tuple[dict[int, Load], dict[int, list[datetime]]]:
    """Fairness loads at `now`, and the starts up to `until` that caps count, per person."""
    ids = [p.id for p in people]
    since = now - RECENT - WEEK
    starts = interview_starts(session, ids, since, until + WEEK)
    older = last_interview_before(session, ids, since)
    loads = {}
    for p in people:
        load = load_of(starts[p.id], zone_of(p.tz), now)
        if load.last_at is None and p.id in older:
            load = Load(load.this_week, load.last_30_days, older[p.id])
        loads[p.id] = load
    return loads, starts


def as_members(
    session: Session, people: Sequence[Person], free: Mapping[int, FreeTime], now: datetime, until: datetime,
) -> dict[int, Member]:
    """Pool members as fair choice sees them: kept free time, load at `now`, and the starts up
    to `until` that their caps count; by person id."""
    loads, starts = loads_of(session, people, now, until)
    return {p.id: Member(p.handle, p.name, free[p.id], loads[p.id], zone_of(p.tz), tuple(starts[p.id]))
            for p in people}
