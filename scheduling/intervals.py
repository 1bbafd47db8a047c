"""Half-open UTC intervals `[start, end)` and the set algebra the search needs.

9-10 and 10-11 touch but do not overlap; `normalize` merges both overlapping and touching
intervals. Every operation is O(n log n) (a sort) followed by a linear sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import attrgetter

from scheduling.errors import InvalidInterval

__all__ = [
    "UTC",
    "Interval",
    "as_utc",
    "clip",
    "intersect",
    "intersect_all",
    "iso_z",
    "normalize",
    "subtract",
    "subtract_iter",
    "unchecked",
    "widen_all",
]


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

    @classmethod
    def from_iso(cls, data: dict[str, str]) -> Interval:
        """The inverse of `iso()`."""
        return cls(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]))


def iso_z(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


def unchecked(start: datetime, end: datetime) -> Interval:
    """Build without re-validating: for results of algebra on already-valid intervals, and for
    rows the database already holds to it (aware UTC, under an `end_at > start_at` CHECK)."""
    obj = object.__new__(Interval)
    object.__setattr__(obj, "start", start)
    object.__setattr__(obj, "end", end)
    return obj


# Sorting on a C-level key is several times faster than the dataclass's generated `__lt__`
# (which builds two tuples per comparison) and gives the same (start, end) order.
_by_start_end = attrgetter("start", "end")
_by_start = attrgetter("start")


def normalize(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sort and merge overlapping or touching intervals. Idempotent."""
    merged: list[Interval] = []
    for iv in sorted(intervals, key=_by_start_end):
        if merged and iv.start <= merged[-1].end:
            if iv.end > merged[-1].end:
                merged[-1] = unchecked(merged[-1].start, iv.end)
        else:
            merged.append(iv)
    return tuple(merged)


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> tuple[Interval, ...]:
    """Intersection of two normalized sets: a linear two-pointer sweep.

    A piece equal to an input interval reuses that object instead of building a new one (the
    common case when many people share the same working hours).
    """
    na, nb = len(a), len(b)
    if not na or not nb:
        return ()
    out: list[Interval] = []
    append = out.append
    i = j = 0
    x, y = a[0], b[0]
    while True:
        xs, xe, ys, ye = x.start, x.end, y.start, y.end
        if xe < ye:
            if xs >= ys:
                append(x)  # x lies inside y
            elif ys < xe:
                append(unchecked(ys, xe))
            i += 1
            if i == na:
                break
            x = a[i]
        else:
            if ys >= xs:
                append(y)  # y lies inside x
            elif xs < ye:
                append(unchecked(xs, ye))
            j += 1
            if j == nb:
                break
            y = b[j]
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
    return tuple(subtract_iter(normalize(free), sorted(busy, key=_by_start)))


def subtract_iter(base: Sequence[Interval], holes: Iterable[Interval]) -> Iterator[Interval]:
    """Lazily yield `base` minus `holes`, in order, so a caller can stop at the first fit.

    `base` must be normalized; `holes` need only be sorted by start (they may overlap, touch
    or nest). Each hole is looked at once. Holes are consumed in start order, so every hole
    already consumed starts before the current base interval, and all that matters about them
    from then on is how far the furthest one reaches. The output is normalized: a piece ends
    where a hole starts and the next one starts where a hole ends, so pieces never touch.
    """
    if not base:
        return
    it = iter(holes)
    hole = next(it, None)
    reach = base[0].start  # the furthest end of any hole consumed so far
    for iv in base:
        start, end = iv.start, iv.end
        cursor = reach if reach > start else start
        while hole is not None:
            hs = hole.start
            if hs >= end:
                break
            he = hole.end
            if he > cursor:
                if hs > cursor:
                    yield unchecked(cursor, hs)
                cursor = he
            if he > reach:
                reach = he
            hole = next(it, None)
        if cursor == start:
            yield iv
        elif cursor < end:
            yield unchecked(cursor, end)


def clip(intervals: Iterable[Interval], window: Interval) -> tuple[Interval, ...]:
    """The parts of `intervals` that lie inside `window`."""
    return intersect(normalize(intervals), (window,))


def widen_all(
    intervals: Iterable[Interval], before: timedelta, after: timedelta
) -> tuple[Interval, ...]:
    if not before and not after:
        return normalize(intervals)
    if before >= timedelta(0) and after >= timedelta(0):  # cannot empty an interval
        return normalize([unchecked(iv.start - before, iv.end + after) for iv in intervals])
    return normalize(iv.widen(before, after) for iv in intervals)
