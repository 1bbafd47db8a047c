"""Busy time: manual and calendar blocks plus booked interviews (widened by their buffers)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from scheduling.intervals import Interval, unchecked
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


_B = BusyBlock.__table__.c
_P, _I = InterviewParticipant.__table__.c, Interview.__table__.c
_INTERVIEWS = Interview.__table__
# Built once (Core, not ORM): the search path runs them on every cache miss.
_BLOCKS = select(_B.person_id, _B.start_at, _B.end_at).where(
    _B.person_id.in_(bindparam("ids", expanding=True)), _B.end_at > bindparam("lo"), _B.start_at < bindparam("hi")
)
_BOOKED = (
    select(_P.person_id, _P.start_at, _P.end_at, _I.buffer_before_min, _I.buffer_after_min)
    .join(_INTERVIEWS, _I.id == _P.interview_id)
    .where(_P.person_id.in_(bindparam("ids", expanding=True)), _P.active.is_(True),
           _P.end_at > bindparam("lo"), _P.start_at < bindparam("hi"), _P.interview_id != bindparam("moved"))
)


def blocks_between(
    session: Session, person_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Stored busy blocks overlapping `[start, end)`, by person id."""
    result: dict[int, list[Interval]] = {pid: [] for pid in person_ids}
    for pid, s, e in session.connection().execute(_BLOCKS, {"ids": list(person_ids), "lo": start, "hi": end}).all():
        result[pid].append(unchecked(s, e))
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
    # `moved` 0 when no interview is being moved: ids start at 1.
    params = {"ids": list(person_ids), "lo": start - margin, "hi": end + margin, "moved": exclude_interview or 0}
    minute = timedelta(minutes=1)
    for pid, s, e, before, after in session.connection().execute(_BOOKED, params).all():
        result[pid].append(unchecked(s - before * minute, e + after * minute))
    return result
