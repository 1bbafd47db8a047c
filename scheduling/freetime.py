"""One person's free time, computed once and kept: searches then intersect slices of it.

`find_slots` subtracts every participant's busy blocks from their windows on each search. A
`FreeTime` holds that answer (`free_time` clipped to a span it covers), so a later search over
any bounds inside that span only bisects to the pieces it needs and intersects them, scarcest
person first. The
storage layer keeps these per person and version; the answers are those of `find_slots`
(property-tested against it).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from operator import attrgetter

from scheduling.intervals import Interval, intersect, unchecked
from scheduling.slots import (
    Participant,
    SearchRules,
    _long_enough,
    free_time,
    search_bounds,
    starts_in,
)

_start = attrgetter("start")


@dataclass(frozen=True)
class FreeTime:
    """`free_time(person, rules)` inside `covers`: normalized, in time order."""

    covers: Interval
    spans: tuple[Interval, ...]
    total: timedelta = field(init=False, compare=False)  # how much free time: the search's order
    _long: dict[timedelta, tuple[tuple[Interval, ...], tuple[datetime, ...]]] = field(
        init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "total", sum((s.end - s.start for s in self.spans), timedelta(0)))
        object.__setattr__(self, "_long", {})

    @classmethod
    def of(cls, person: Participant, rules: SearchRules, covers: Interval) -> FreeTime:
        """Only the buffers of `rules` matter: they widen the busy time."""
        return cls(covers, intersect(free_time(person, rules), (covers,)))

    def meet(self, common: Sequence[Interval], duration: timedelta) -> Sequence[Interval]:
        """`common` (normalized) ∩ this free time's pieces of at least `duration` (shorter ones
        can hold no slot). Few pieces against many: each looks up its own by bisection;
        otherwise one linear sweep."""
        spans, ends = self._at_least(duration)
        lo, hi = common[0].start, common[-1].end
        first = bisect_right(ends, lo)
        if len(common) * 8 >= len(spans):
            last = bisect_left(spans, hi, lo=first, key=_start)
            return intersect(common, spans[first:last])
        out = []
        for piece in common:
            lo, hi = piece.start, piece.end
            for i in range(bisect_right(ends, lo, lo=first), len(spans)):
                span = spans[i]
                start, end = span.start, span.end
                if start >= hi:
                    break
                out.append(span if lo <= start and end <= hi else unchecked(max(lo, start), min(hi, end)))
        return out

    def _at_least(self, duration: timedelta) -> tuple[tuple[Interval, ...], tuple[datetime, ...]]:
        """The pieces of at least `duration` and their ends, worked out once per duration."""
        found = self._long.get(duration)
        if found is None:
            spans = tuple(s for s in self.spans if s.end - s.start >= duration)
            found = self._long[duration] = (spans, tuple(s.end for s in spans))
        return found


def find_slots_in(
    free: Sequence[FreeTime],
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Interval]:
    """`find_slots` for people whose free time is known (computed with the same buffers).

    Every `FreeTime` must cover the search bounds, else the answer could miss slots.
    """
    if not free:
        return []
    bounds = search_bounds(rules, now, start, end)
    if bounds is None:
        return []
    for person in free:
        if not person.covers.contains(bounds):
            raise ValueError(f"free time known over {person.covers.iso()}, not over {bounds.iso()}")
    common: list[Interval] = [bounds]
    for person in sorted(free, key=attrgetter("total")):  # the scarcest first: common shrinks fastest
        common = _long_enough(person.meet(common, rules.duration), rules.duration)
        if not common:
            return []
    return starts_in(common, rules)
