"""Half-open UTC intervals `[start, end)` and the set algebra the search needs.

9-10 and 10-11 touch but do not overlap; `normalize` merges both overlapping and touching
intervals. Every operation is O(n log n) (a sort) followed by a linear sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from scheduling.errors import InvalidInterval

UTC = timezone.utc


def as_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; naive datetimes are refused, never guessed."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInterval(f"{moment.isoformat()} has no time zone; instants must be aware.")
    return moment.astimezone(UTC)


@dataclass(frozen=True, order=True, slots=True)
class Interval:
    """An immutable half-open span of UTC time."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        start, end = as_utc(self.start), as_utc(self.end)
        if end <= start:
            raise InvalidInterval(
                f"The end ({end:%Y-%m-%d %H:%M} UTC) must be after the start "
                f"({start:%Y-%m-%d %H:%M} UTC)."
            )
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Interval) -> bool:
        return self.start <= other.start and other.end <= self.end

    def widen(self, before: timedelta, after: timedelta) -> Interval:
        return Interval(self.start - before, self.end + after)

    def iso(self) -> dict[str, str]:
        """Machine-readable form: ISO 8601 UTC with a `Z`."""
        return {"start": iso_z(self.start), "end": iso_z(self.end)}


def iso_z(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def _raw(start: datetime, end: datetime) -> Interval:
    """Build without re-validating: for results of algebra on already-valid intervals."""
    obj = object.__new__(Interval)
    object.__setattr__(obj, "start", start)
    object.__setattr__(obj, "end", end)
    return obj


def normalize(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sort and merge overlapping or touching intervals. Idempotent."""
    ordered = sorted(intervals)
    merged: list[Interval] = []
    for iv in ordered:
        if merged and iv.start <= merged[-1].end:
            if iv.end > merged[-1].end:
                merged[-1] = _raw(merged[-1].start, iv.end)
        else:
            merged.append(iv)
    return tuple(merged)


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> tuple[Interval, ...]:
    """Intersection of two normalized sets: a linear two-pointer sweep."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i].start, b[j].start)
        end = min(a[i].end, b[j].end)
        if start < end:
            out.append(_raw(start, end))
        if a[i].end < b[j].end:
            i += 1
        else:
            j += 1
    return tuple(out)


def intersect_all(sets: Iterable[Iterable[Interval]]) -> tuple[Interval, ...]:
    """Time common to every set (each normalized first). No sets means no time."""
    result: tuple[Interval, ...] | None = None
    for s in sets:
        current = normalize(s)
        result = current if result is None else intersect(result, current)
        if not result:
            return ()
    return result or ()


def subtract(free: Iterable[Interval], busy: Iterable[Interval]) -> tuple[Interval, ...]:
    """`free` minus `busy`, both normalized first; the result is normalized."""
    base, holes = normalize(free), normalize(busy)
    out: list[Interval] = []
    j = 0
    for iv in base:
        cursor = iv.start
        while j < len(holes) and holes[j].end <= cursor:
            j += 1
        k = j
        while k < len(holes) and holes[k].start < iv.end:
            if holes[k].start > cursor:
                out.append(_raw(cursor, holes[k].start))
            cursor = max(cursor, holes[k].end)
            if cursor >= iv.end:
                break
            k += 1
        if cursor < iv.end:
            out.append(_raw(cursor, iv.end))
    return tuple(out)


def clip(intervals: Iterable[Interval], window: Interval) -> tuple[Interval, ...]:
    """The parts of `intervals` that lie inside `window`."""
    return intersect(normalize(intervals), (window,))


def widen_all(
    intervals: Iterable[Interval], before: timedelta, after: timedelta
) -> tuple[Interval, ...]:
    if not before and not after:
        return normalize(intervals)
    return normalize(iv.widen(before, after) for iv in intervals)
