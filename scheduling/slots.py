"""Slot search: every start on the grid where all participants are free for the whole slot.

Buffers widen busy time, never availability edges or the grid: a slot `[s, e)` conflicts with a
busy block `[b0, b1)` when `[s - before, e + after)` overlaps it. The work is a merge/intersect
sweep over sorted intervals, then one walk along the grid inside the common free time, so it
scales with the number of intervals, not with the number of candidate starts times people.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from scheduling.errors import InvalidInterval
from scheduling.intervals import Interval, as_utc, intersect, intersect_all, normalize, subtract

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class SearchRules:
    """The knobs of a search; defaults are the product's documented defaults."""

    duration: timedelta = timedelta(minutes=60)
    step: timedelta = timedelta(minutes=30)
    min_notice: timedelta = timedelta(hours=24)
    horizon: timedelta = timedelta(days=90)
    buffer_before: timedelta = timedelta(0)
    buffer_after: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise InvalidInterval("The interview duration must be positive.", example="60m")
        if self.step <= timedelta(0):
            raise InvalidInterval("The step grid must be positive.", example="30m")
        if min(self.min_notice, self.horizon, self.buffer_before, self.buffer_after) < timedelta(0):
            raise InvalidInterval("Notice, horizon and buffers cannot be negative.")


@dataclass(frozen=True)
class Participant:
    """Someone who must attend: availability windows and busy blocks, in UTC."""

    key: str
    windows: Sequence[Interval]
    busy: Sequence[Interval] = ()
    label: str = ""

    @property
    def name(self) -> str:
        return self.label or self.key


def free_time(person: Participant, rules: SearchRules) -> tuple[Interval, ...]:
    """Availability minus busy blocks widened by the buffers (see module docstring)."""
    busy = (b.widen(rules.buffer_after, rules.buffer_before) for b in person.busy)
    return subtract(person.windows, busy)


def search_bounds(
    rules: SearchRules, now: datetime, start: datetime | None = None, end: datetime | None = None
) -> Interval | None:
    """The span slots may occupy: after notice and `start`, before `end`; None if empty.

    The horizon bounds the *start* of a slot, so the span may run one duration past it.
    """
    lo = as_utc(now) + rules.min_notice
    if start is not None:
        lo = max(lo, as_utc(start))
    hi = as_utc(now) + rules.horizon + rules.duration
    if end is not None:
        hi = min(hi, as_utc(end))
    return Interval(lo, hi) if lo < hi else None


def grid_ceil(moment: datetime, step: timedelta) -> datetime:
    """The first grid point at or after `moment`; the grid is aligned to the UTC epoch."""
    offset = (moment - EPOCH) % step
    return moment if not offset else moment + (step - offset)


def starts_in(free: Iterable[Interval], rules: SearchRules) -> list[Interval]:
    """Every grid-aligned slot of `rules.duration` lying wholly inside one free interval."""
    slots: list[Interval] = []
    dur, step = rules.duration, rules.step
    for iv in free:
        s = grid_ceil(iv.start, step)
        last = iv.end - dur
        while s <= last:
            slots.append(Interval(s, s + dur))
            s += step
    return slots


def common_free(participants: Sequence[Participant], rules: SearchRules) -> tuple[Interval, ...]:
    return intersect_all(free_time(p, rules) for p in participants)


def find_slots(
    participants: Sequence[Participant],
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Interval]:
    """All slots, in time order, where every participant is free (buffers included)."""
    if not participants:
        return []
    bounds = search_bounds(rules, now, start, end)
    if bounds is None:
        return []
    return starts_in(intersect(common_free(participants, rules), (bounds,)), rules)


def group_by_day(slots: Iterable[Interval], zone: ZoneInfo) -> list[tuple[date, list[Interval]]]:
    """Slots grouped by the local date of their start in `zone`, in time order."""
    days: dict[date, list[Interval]] = {}
    for slot in sorted(slots):
        days.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    return list(days.items())


@dataclass(frozen=True)
class Diagnosis:
    """Why a search came back empty, in terms a coordinator can act on."""

    reasons: list[str] = field(default_factory=list)
    bottlenecks: list[str] = field(default_factory=list)
    alternatives: list[Interval] = field(default_factory=list)


def diagnose(
    participants: Sequence[Participant],
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    max_alternatives: int = 3,
) -> Diagnosis:
    """Explain an empty result: who blocks it, which bound removed slots, what is nearest."""
    reasons: list[str] = []
    bottlenecks: list[str] = []
    bounds = search_bounds(rules, now, start, end)
    if bounds is None:
        reasons.append("The date range is empty once the minimum notice and horizon apply.")
    free = {p.key: free_time(p, rules) for p in participants}
    for p in participants:
        if not free[p.key]:
            bottlenecks.append(p.name)
            reasons.append(f"{p.name} has no free time at all.")
        elif bounds is not None and not starts_in(intersect(free[p.key], (bounds,)), rules):
            bottlenecks.append(p.name)
            reasons.append(f"{p.name} has no free {_minutes(rules.duration)} in the range.")
    if not bottlenecks and len(participants) > 1 and bounds is not None:
        for p in participants:
            others = [q for q in participants if q.key != p.key]
            if find_slots(others, rules, now, start, end):
                bottlenecks.append(p.name)
        if bottlenecks:
            reasons.append(
                "Everyone has free time, but it does not line up; without "
                + ", ".join(bottlenecks)
                + " there would be slots."
            )
        else:
            reasons.append("No common free time for the whole group in the range.")
    unbounded = starts_in(intersect_all(free.values()), rules) if participants else []
    too_soon = [s for s in unbounded if s.start < as_utc(now) + rules.min_notice]
    if too_soon and bounds is not None and not any(s.start >= bounds.start for s in unbounded):
        reasons.append(
            f"Common slots exist only sooner than the minimum notice "
            f"({_minutes(rules.min_notice)})."
        )
    alternatives = _nearest(unbounded, rules, now, bounds, max_alternatives)
    return Diagnosis(reasons=reasons, bottlenecks=bottlenecks, alternatives=alternatives)


def _nearest(
    slots: list[Interval], rules: SearchRules, now: datetime, bounds: Interval | None, n: int
) -> list[Interval]:
    """Bookable slots outside the requested range, nearest to it first."""
    full = search_bounds(rules, now)
    if full is None:
        return []
    allowed = [s for s in slots if full.contains(s)]
    anchor = bounds.start if bounds is not None else full.start
    allowed.sort(key=lambda s: abs((s.start - anchor).total_seconds()))
    return sorted(allowed[:n])


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        return f"{minutes // (24 * 60) * 24} h" if minutes < 7 * 24 * 60 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
