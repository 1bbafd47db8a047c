"""Availability windows: add (merging with what is stored), list, remove, clear, load."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.intervals import Interval, normalize, unchecked
from storage.db import affected_rows
from storage.models import AvailabilityWindow, Person
from storage.people import lock_people


class UnknownWindow(SchedulingError):
    """A window id that is not one of the person's windows."""


def add_windows(
    session: Session, person: Person, intervals: Sequence[Interval], note: str | None = None
) -> list[AvailabilityWindow]:
    """Store `intervals`, merged with each other and with overlapping or touching stored windows.

    Stored windows untouched by the new ones keep their ids. Returns the windows that now cover
    the added time.
    """
    if not intervals:
        return []
    lock_people(session, [person.id])
    new = normalize(intervals)
    stored = session.scalars(
        select(AvailabilityWindow).where(
            AvailabilityWindow.person_id == person.id,
            AvailabilityWindow.end_at >= new[0].start,
            AvailabilityWindow.start_at <= new[-1].end,
        )
    ).all()
    affected = [w for w in stored if any(w.start_at <= n.end and n.start <= w.end_at for n in new)]
    merged = normalize([*new, *(Interval(w.start_at, w.end_at) for w in affected)])
    for window in affected:
        session.delete(window)
    session.flush()
    rows = [
        AvailabilityWindow(person_id=person.id, start_at=iv.start, end_at=iv.end, note=note)
        for iv in merged
    ]
    session.add_all(rows)
    session.flush()
    return rows


def list_windows(
    session: Session, person: Person, since: datetime | None = None
) -> Sequence[AvailabilityWindow]:
    query = select(AvailabilityWindow).where(AvailabilityWindow.person_id == person.id)
    if since is not None:
        query = query.where(AvailabilityWindow.end_at > since)
    return session.scalars(query.order_by(AvailabilityWindow.start_at)).all()


def remove_window(session: Session, person: Person, window_id: int) -> AvailabilityWindow:
    window = session.get(AvailabilityWindow, window_id)
    if window is None or window.person_id != person.id:
        raise UnknownWindow(
            f"You have no availability window #{window_id}.",
            example="/availability list  (then /availability remove <id>)",
        )
    session.delete(window)
    session.flush()
    return window


def clear_windows(session: Session, person: Person, since: datetime | None = None) -> int:
    """Delete the person's windows (only those ending after `since`, when given)."""
    query = delete(AvailabilityWindow).where(AvailabilityWindow.person_id == person.id)
    if since is not None:
        query = query.where(AvailabilityWindow.end_at > since)
    return affected_rows(session, query)


_W = AvailabilityWindow.__table__.c
# Built once: the search path runs it on every cache miss, and building it costs more than the
# query (Core, not ORM: rows, not objects).
_WINDOWS = (
    select(_W.person_id, _W.start_at, _W.end_at)
    .where(_W.person_id.in_(bindparam("ids", expanding=True)), _W.end_at > bindparam("lo"),
           _W.start_at < bindparam("hi"))
    .order_by(_W.person_id, _W.start_at)
)


def windows_between(
    session: Session, person_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[Interval]]:
    """Windows of these people overlapping `[start, end)`, by person id, in time order."""
    result: dict[int, list[Interval]] = {pid: [] for pid in person_ids}
    rows = session.connection().execute(_WINDOWS, {"ids": list(person_ids), "lo": start, "hi": end}).all()
    for pid, s, e in rows:
        result[pid].append(unchecked(s, e))
    return result
