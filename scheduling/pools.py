"""Interviewer pools: "any k of pool P", chosen fairly and explained, on the same slot grid.

Fairness reads a member's `Load`: fewest interviews this week (ISO week, in their own zone),
then fewest in the last 30 days, then longest since their last interview (never interviewed
comes first), then the key, so equal loads always resolve the same way.

Caps (`Policy.cap_per_day` / `cap_per_week`, counted in the member's zone from their booked
starts, as in `scheduling.policies`) are hard: a capped member is not free for that slot.

The search never asks "is this member free at this slot?" slot by slot. The fixed people's
slots are found once; then each free span of each member drops the member's key into the
bucket of every one of those slots it holds. Members are taken fairest first, so each bucket
is already in fairness order.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from operator import attrgetter

from scheduling.errors import SchedulingError
from scheduling.freetime import FreeTime
from scheduling.intervals import Interval, normalize, unchecked
from scheduling.policies import Policy
from scheduling.slots import EPOCH, SearchRules, _long_enough, search_bounds, starts_in

__all__ = [
    "InvalidPool",
    "Load",
    "Member",
    "PoolPick",
    "blocked_starts",
    "fairness_key",
    "load_of",
    "pick_from_pool",
    "reason",
    "require_cover",
    "team_median",
]

_start, _end = attrgetter("start"), attrgetter("end")
DAY = timedelta(days=1)
WEEK = timedelta(days=7)
RECENT = timedelta(days=30)


class InvalidPool(SchedulingError):
    """A pool request that cannot work: no one to choose, or the same person twice."""


@dataclass(frozen=True)
class Load:
    """An interviewer's counts as fairness reads them (and the App Home shows them)."""

    this_week: int = 0
    last_30_days: int = 0
    last_at: datetime | None = None  # start of the latest interview before now


def load_of(starts: Iterable[datetime], zone: tzinfo, now: datetime) -> Load:
    """Counts from booked interview starts (UTC).

    `this_week` counts every booking in the local ISO week of `now`, also those later this
    week: they are load already. `last_30_days` and `last_at` look back only, `[now - 30 d, now)`.
    """
    week = _iso_week(now.astimezone(zone).date())
    this_week = recent = 0
    last: datetime | None = None
    for s in starts:
        if _iso_week(s.astimezone(zone).date()) == week:
            this_week += 1
        if s < now:
            if s >= now - RECENT:
                recent += 1
            if last is None or s > last:
                last = s
    return Load(this_week, recent, last)


def _iso_week(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


@dataclass(frozen=True)
class Member:
    """A pool member: free time kept with the search's buffers, load, and what caps count."""

    key: str
    label: str
    free: FreeTime
    load: Load = Load()
    zone: tzinfo = UTC
    booked: tuple[datetime, ...] = ()  # booked interview starts (UTC), for the caps

    @property
    def name(self) -> str:
        return self.label or self.key


def fairness_key(member: Member) -> tuple[int, int, bool, datetime, str]:
    """Smaller is fairer to choose (see the module docstring)."""
    load = member.load
    return load.this_week, load.last_30_days, load.last_at is not None, load.last_at or EPOCH, member.key


def team_median(pool: Sequence[Member]) -> float:
    return statistics.median(m.load.this_week for m in pool) if pool else 0


def reason(member: Member, median: float, now: datetime) -> str:
    """`Dana Ito: 2 this week, team median 3, 5 in 30 days, last interview 12 days ago`."""
    load = member.load
    days = None if load.last_at is None else (now - load.last_at) // DAY
    if days is None:
        last = "no interview yet"
    elif days < 1:
        last = "last interview less than a day ago"
    else:
        last = f"last interview {days} day{'s' if days > 1 else ''} ago"
    return (f"{member.name}: {load.this_week} this week, team median {median:g}, "
            f"{load.last_30_days} in 30 days, {last}")


def blocked_starts(member: Member, policy: Policy | None, within: Interval) -> tuple[Interval, ...]:
    """UTC spans where a slot may not start because the member is at a cap: each full local
    day, and each full local ISO week (Monday 00:00 to Monday 00:00).

    Only bookings that can share a local week with a start in `within` are counted: less than
    a week apart on the wall clock, so less than eight days apart whatever DST does.
    """
    if policy is None or not policy.has_caps:
        return ()
    lo, hi = within.start - WEEK - DAY, within.end + WEEK + DAY
    near = [s for s in member.booked if lo < s < hi]
    if len(near) < min(c for c in (policy.cap_per_day, policy.cap_per_week) if c is not None):
        return ()
    days = Counter(s.astimezone(member.zone).date() for s in near)
    weeks: Counter[date] = Counter()
    for day, n in days.items():
        weeks[day - timedelta(days=day.weekday())] += n
    spans = []
    if policy.cap_per_day is not None:
        spans += [_local_days(d, 1, member.zone) for d, n in days.items() if n >= policy.cap_per_day]
    if policy.cap_per_week is not None:
        spans += [_local_days(d, 7, member.zone) for d, n in weeks.items() if n >= policy.cap_per_week]
    return normalize(spans)


def _local_days(first: date, n: int, zone: tzinfo) -> Interval:
    """From local midnight of `first` to local midnight `n` days later, in UTC. A midnight
    skipped by a spring-forward gap resolves (fold=0) to the instant the day begins."""
    start = datetime.combine(first, time(), zone).astimezone(UTC)
    end = datetime.combine(first + timedelta(days=n), time(), zone).astimezone(UTC)
    return unchecked(start, end)


def require_cover(frees: Iterable[FreeTime], bounds: Interval) -> None:
    """Free time known over less than the bounds would silently miss slots: refuse it."""
    for free in frees:
        if not free.covers.contains(bounds):
            raise ValueError(f"free time known over {free.covers.iso()}, not over {bounds.iso()}")


@dataclass(frozen=True)
class PoolPick:
    """One slot: the k fairest free members, the other free ones (for a swap), and why."""

    slot: Interval
    chosen: tuple[str, ...]
    others: tuple[str, ...]
    why: tuple[str, ...]


def pick_from_pool(
    fixed: Sequence[FreeTime],
    pool: Sequence[Member],
    k: int,
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    policy: Policy | None = None,
) -> list[PoolPick]:
    """Every grid slot where all `fixed` people (the candidate, named interviewers) are free
    and at least `k` members are free and under their caps, in time order.

    Bounds, grid and buffers are those of `find_slots_in`; fixed people must not be pool
    members. No fixed people means the pool alone decides.
    """
    if k < 1:
        raise InvalidPool("Choose at least one interviewer from the pool.", example="any 1")
    if len({m.key for m in pool}) != len(pool):
        raise InvalidPool("The pool lists someone twice.")
    bounds = search_bounds(rules, now, start, end)
    if bounds is None or len(pool) < k:
        return []
    require_cover([*fixed, *(m.free for m in pool)], bounds)
    common = _common(fixed, rules, bounds)
    if not common:
        return []
    slots = starts_in(common, rules)
    if not slots:
        return []
    starts, ends = [s.start for s in slots], [s.end for s in slots]
    buckets: list[list[str]] = [[] for _ in slots]  # member keys, fairest first, per slot
    for member in sorted(pool, key=fairness_key):
        key = member.key
        for lo, hi in _slot_ranges(member, starts, ends, blocked_starts(member, policy, bounds)):
            for bucket in buckets[lo:hi + 1]:
                bucket.append(key)
    by_key = {m.key: m for m in pool}
    median = team_median(pool)
    why: dict[str, str] = {}
    picks = []
    for slot, free in zip(slots, buckets, strict=True):
        if len(free) < k:
            continue
        chosen = tuple(free[:k])
        for key in chosen:
            if key not in why:
                why[key] = reason(by_key[key], median, now)
        picks.append(PoolPick(slot, chosen, tuple(free[k:]), tuple(why[c] for c in chosen)))
    return picks


def _common(fixed: Sequence[FreeTime], rules: SearchRules, bounds: Interval) -> list[Interval]:
    """The fixed people's common free pieces inside the bounds that can hold a slot."""
    common: list[Interval] = [bounds]
    for free in sorted(fixed, key=lambda f: f.total):  # the scarcest first: common shrinks fastest
        common = _long_enough(free.meet(common, rules.duration), rules.duration)
        if not common:
            break
    return common


def _slot_ranges(
    member: Member, starts: list[datetime], ends: list[datetime], blocked: Sequence[Interval]
) -> list[tuple[int, int]]:
    """Positions (inclusive ranges, in order) of the fixed people's slots this member can take.

    The slots inside one free span of the member are consecutive (slots and spans are both in
    time order), so two bisections per span find them: no intersection is built.
    """
    spans = member.free.spans
    first = bisect_right(spans, starts[0], key=_end)
    last = bisect_left(spans, ends[-1], lo=first, key=_start)
    ranges = []
    for span in spans[first:last]:
        lo, hi = bisect_left(starts, span.start), bisect_right(ends, span.end) - 1
        if lo <= hi:
            ranges.append((lo, hi))
    for block in blocked:
        ranges = _cut(ranges, bisect_left(starts, block.start), bisect_left(starts, block.end) - 1)
    return ranges


def _cut(ranges: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """`ranges` without the indices `lo..hi`."""
    out = []
    for a, b in ranges:
        if b < lo or a > hi:
            out.append((a, b))
            continue
        if a < lo:
            out.append((a, lo - 1))
        if b > hi:
            out.append((hi + 1, b))
    return out
