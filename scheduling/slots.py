"""Slot search: every start on the grid where all participants are free for the whole slot.

Buffers widen busy time, never availability edges or the grid: a slot `[s, e)` conflicts with a
busy block `[b0, b1)` when `[s - before, e + after)` overlaps it. The work is a merge/intersect
sweep over sorted intervals, then one walk along the grid inside the common free time, so it
scales with the number of intervals, not with the number of candidate starts times people.

The search works inside the bounds only: availability is intersected first (few, long
intervals), pieces too short for one slot are dropped as soon as they appear, and only the busy
blocks that reach into what is left are sorted and swept. Common free time is
`(∩ windows) − (∪ widened busy)`, which is what per-person `free_time` intersected gives.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from scheduling.errors import InvalidInterval
from scheduling.intervals import (
    Interval,
    as_utc,
    intersect,
    intersect_all,
    normalize,
    subtract,
    subtract_iter,
    unchecked,
)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# The product's defaults, in the units people set them in.
DEFAULT_DURATION_MIN = 60
DEFAULT_STEP_MIN = 30
DEFAULT_NOTICE_MIN = 24 * 60
DEFAULT_HORIZON_DAYS = 90


@dataclass(frozen=True)
class SearchRules:
    """The knobs of a search; defaults are the product's documented defaults (the settings,
    templates, tables and command line take theirs from here)."""

    duration: timedelta = timedelta(minutes=DEFAULT_DURATION_MIN)
    step: timedelta = timedelta(minutes=DEFAULT_STEP_MIN)
    min_notice: timedelta = timedelta(minutes=DEFAULT_NOTICE_MIN)
    horizon: timedelta = timedelta(days=DEFAULT_HORIZON_DAYS)
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
    # A slot [s, e) clashes with busy [b0, b1) when [s - before, e + after) overlaps it, i.e.
    # when [s, e) overlaps [b0 - after, b1 + before): the busy block widens "the other way".
    return subtract(person.windows, _widened_busy(person, rules))


def _widened_busy(person: Participant, rules: SearchRules) -> list[Interval]:
    after, before = rules.buffer_after, rules.buffer_before
    if not after and not before:
        return list(person.busy)
    # Buffers are never negative (SearchRules checks), so the result is a valid interval.
    return [unchecked(b.start - after, b.end + before) for b in person.busy]


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
    append, dur, step = slots.append, rules.duration, rules.step
    make, put = object.__new__, object.__setattr__  # `unchecked`, inlined: the hottest loop
    for iv in free:
        s = grid_ceil(iv.start, step)
        last = iv.end - dur
        while s <= last:
            slot = make(Interval)
            put(slot, "start", s)
            put(slot, "end", s + dur)
            append(slot)
            s += step
    return slots


def _fits(iv: Interval, rules: SearchRules) -> bool:
    """Does at least one grid slot lie inside `iv`?"""
    return grid_ceil(iv.start, rules.step) + rules.duration <= iv.end


def common_free(participants: Sequence[Participant], rules: SearchRules) -> tuple[Interval, ...]:
    """When everyone is free, over all time (no notice, horizon or range)."""
    return intersect_all(free_time(p, rules) for p in participants)


_by_start = attrgetter("start")


def _windows_in(person: Participant, lo: datetime, hi: datetime) -> tuple[Interval, ...]:
    """The person's availability reaching into [lo, hi), normalized."""
    return normalize([w for w in person.windows if w.start < hi and w.end > lo])


def _holes_in(person: Participant, rules: SearchRules, lo: datetime, hi: datetime) -> list[Interval]:
    """Busy blocks widened by the buffers that reach into [lo, hi), sorted by start."""
    after, before = rules.buffer_after, rules.buffer_before
    if not after and not before:
        holes = [b for b in person.busy if b.start < hi and b.end > lo]
    else:
        holes = [
            unchecked(b.start - after, b.end + before)
            for b in person.busy
            if b.start - after < hi and b.end + before > lo
        ]
    holes.sort(key=_by_start)
    return holes


def _long_enough(pieces: Iterable[Interval], duration: timedelta) -> list[Interval]:
    return [iv for iv in pieces if iv.end - iv.start >= duration]


def _common_windows(
    participants: Sequence[Participant], rules: SearchRules, within: Sequence[Interval]
) -> list[Interval]:
    """Availability common to everyone inside `within`, without pieces shorter than a slot."""
    common = list(within)
    for p in participants:
        if not common:
            break
        windows = _windows_in(p, common[0].start, common[-1].end)
        common = _long_enough(intersect(common, windows), rules.duration)
    return common


def _common_free_within(
    participants: Sequence[Participant], rules: SearchRules, bounds: Interval
) -> list[Interval]:
    """Common free time inside `bounds`, keeping only pieces that can hold a slot's length."""
    common = _common_windows(participants, rules, (bounds,))
    for p in participants:
        if not common:
            break
        holes = _holes_in(p, rules, common[0].start, common[-1].end)
        if holes:
            common = _long_enough(subtract_iter(common, holes), rules.duration)
    return common


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
    return starts_in(_common_free_within(participants, rules, bounds), rules)


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
    if rules.min_notice and find_slots(participants, replace(rules, min_notice=timedelta(0)), now, start, end):
        # Only the notice removes them: nobody is to blame for a lack of free time.
        common = starts_in(common_free(participants, rules), rules)
        return Diagnosis(
            reasons=[f"Common slots exist in the range, but only sooner than the minimum notice "
                     f"({_minutes(rules.min_notice)})."],
            alternatives=_nearest(common, rules, now, start, end, max_alternatives))
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
    moment = as_utc(now)
    # Slots already in the past are not "too soon": lowering the notice would not bring them back.
    too_soon = [s for s in unbounded if moment <= s.start < moment + rules.min_notice]
    if too_soon and bounds is not None and not any(s.start >= bounds.start for s in unbounded):
        reasons.append(
            f"Common slots exist only sooner than the minimum notice "
            f"({_minutes(rules.min_notice)})."
        )
    alternatives = _nearest(unbounded, rules, now, start, end, max_alternatives)
    return Diagnosis(reasons=reasons, bottlenecks=bottlenecks, alternatives=alternatives)


def _nearest(
    slots: list[Interval],
    rules: SearchRules,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
    n: int,
) -> list[Interval]:
    """Bookable slots (notice and horizon applied), nearest to the requested range first.

    Distance is measured to the range as a whole, not to its first instant: with a two-week
    range, a slot an hour after its end is nearer than one a day before its start.
    """
    full = search_bounds(rules, now)
    if full is None:
        return []
    lo = as_utc(start) if start is not None else full.start
    hi = as_utc(end) if end is not None else full.end
    hi = max(hi, lo)

    def distance(s: Interval) -> tuple[timedelta, datetime]:
        if s.end <= lo:
            return lo - s.end, s.start
        if s.start >= hi:
            return s.start - hi, s.start
        return timedelta(0), s.start

    allowed = [s for s in slots if full.contains(s)]
    allowed.sort(key=distance)
    return sorted(allowed[:n])


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        return f"{minutes // (24 * 60) * 24} h" if minutes < 7 * 24 * 60 else f"{minutes // 1440} days"
    if minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"
