"""Busy time: manual and calendar blocks plus booked interviews (widened by their buffers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduling.intervals import Interval
from storage.models import BusyBlock, Interview, InterviewParticipant, Person


def add_busy(session: Session, person: Person, interval: Interval, source: str = "manual") -> BusyBlock:
    block = BusyBlock(person_id=person.id, start_at=interval.start, end_at=interval.end, source=source)
    session.add(block)
    session.flush()
    return block


def replace_source_blocks(
    session: Session, person: Person, source: str, window: Interval, blocks: Sequence[Interval]
) -> None:
    """Swap a source's cached blocks inside `window` for freshly fetched ones."""
    session.execute(
        delete(BusyBlock).where(
            BusyBlock.person_id == person.id,
            BusyBlock.source == source,
            BusyBlock.end_at > window.start,
            BusyBlock.start_at < window.end,
        )
    )
    session.add_all(
        BusyBlock(person_id=person.id, start_at=b.start, end_at=b.end, source=source) for b in blocks
    )
    session.flush()


def blocks_between(
    session: Session, person_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Stored busy blocks overlapping `[start, end)`, by person id."""
    result: dict[int, list[Interval]] = {pid: [] for pid in person_ids}
    rows = session.execute(
        select(BusyBlock.person_id, BusyBlock.start_at, BusyBlock.end_at).where(
            BusyBlock.person_id.in_(person_ids),
            BusyBlock.end_at > start,
            BusyBlock.start_at < end,
        )
    )
    for pid, s, e in rows:
        result[pid].append(Interval(s, e))
    return result


def interviews_between(
    session: Session,
    person_ids: Sequence[int],
    start: datetime,
    end: datetime,
    exclude_interview: int | None = None,
) -> dict[int, list[Interval]]:
    """Active bookings of these people near `[start, end)`, widened by each interview's buffers."""
    result: dict[int, list[Interval]] = {pid: [] for pid in person_ids}
    margin = timedelta(days=1)  # buffers are far shorter; catches bookings whose buffer reaches in
    query = (
        select(
            InterviewParticipant.person_id,
            InterviewParticipant.start_at,
            InterviewParticipant.end_at,
            Interview.buffer_before_min,
            Interview.buffer_after_min,
        )
        .join(Interview, Interview.id == InterviewParticipant.interview_id)
        .where(
            InterviewParticipant.person_id.in_(person_ids),
            InterviewParticipant.active.is_(True),
            InterviewParticipant.end_at > start - margin,
            InterviewParticipant.start_at < end + margin,
        )
    )
    if exclude_interview is not None:
        query = query.where(InterviewParticipant.interview_id != exclude_interview)
    for pid, s, e, before, after in session.execute(query):
        result[pid].append(Interval(s - timedelta(minutes=before), e + timedelta(minutes=after)))
    return result
