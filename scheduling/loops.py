"""Interview loops: several sessions back to back, each with its own people or "k from a pool".

A loop starts on the slot grid; each next session starts when the one before ends plus the
break. It is bookable at a start when:

* the candidate is free for the whole span, first start to last end: they sit the breaks
  too, so an appointment in a break would not work (buffers widen their busy time around
  the span, not around each session);
* everyone named for a session, and the pool members chosen for it, are free for that
  session's slot (buffers around the session);
* chosen members are under their caps (hard, as in `scheduling.pools`);
* nobody sits two sessions of one loop (so a member never adds to their own cap twice);
* unless `across_days`, the span lies on one local day of the candidate (ending at midnight
  is still that day).

Among the valid assignments the fairest wins: the first session (in time order) gets its
fairest possible members, then the second, and so on, where a session's choice compares as
the fairness ranks of its members. Taking each session's fairest free members greedily could
use someone a later session needs, so each choice is checked to leave the rest fillable. With `order="free"` the sessions
may run in any order; at each start the first order that works is taken, trying orders
lexicographically by position in the spec (so the given order first).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import combinations, permutations
from operator import attrgetter
from typing import Literal

from scheduling.errors import SchedulingError
from scheduling.freetime import FreeTime
from scheduling.intervals import Interval, unchecked
from scheduling.policies import Policy
from scheduling.pools import (
    Member,
    blocked_starts,
    fairness_key,
    reason,
    require_cover,
    team_median,
)
from scheduling.slots import SearchRules, _long_enough, search_bounds, starts_in

__all__ = ["InvalidLoop", "LoopOption", "LoopSpec", "SessionPick", "SessionSpec", "find_loops"]

MAX_FREE_ORDER = 5  # sessions: up to 120 orders to try per start
_TICK = timedelta(microseconds=1)
_start, _end = attrgetter("start"), attrgetter("end")


class InvalidLoop(SchedulingError):
    """A loop template that can never be booked as written."""


@dataclass(frozen=True)
class SessionSpec:
    """One session: `people` (keys into the search's `named`) and `k` members of `pool`.
    Members are known by key; one named anywhere in the loop is not chosen from a pool."""

    name: str
    duration: timedelta
    people: tuple[str, ...] = ()
    pool: tuple[Member, ...] = ()
    k: int = 0

    def __post_init__(self) -> None:
        if self.duration <= timedelta(0):
            raise InvalidLoop(f"Session {self.name!r} needs a positive duration.", example="45m")
        if not 0 <= self.k <= len(self.pool):
            raise InvalidLoop(f"Session {self.name!r} asks for {self.k} from a pool of {len(self.pool)}.")
        if len({m.key for m in self.pool}) != len(self.pool):
            raise InvalidLoop(f"The pool of session {self.name!r} lists someone twice.")


@dataclass(frozen=True)
class LoopSpec:
    """Sessions, in order unless `order="free"`, with `break_between` after each but the last."""

    sessions: tuple[SessionSpec, ...]
    order: Literal["fixed", "free"] = "fixed"
    break_between: timedelta = timedelta(0)
    across_days: bool = False

    def __post_init__(self) -> None:
        if not self.sessions:
            raise InvalidLoop("A loop needs at least one session.")
        names = [s.name for s in self.sessions]
        if len(set(names)) != len(names):
            raise InvalidLoop("Two sessions of the loop have the same name.")
        if self.order not in ("fixed", "free"):
            raise InvalidLoop(f"The order is 'fixed' or 'free', not {self.order!r}.")
        if self.order == "free" and len(self.sessions) > MAX_FREE_ORDER:
            raise InvalidLoop(f"A loop in free order has at most {MAX_FREE_ORDER} sessions.")
        if self.break_between < timedelta(0):
            raise InvalidLoop("The break between sessions cannot be negative.")
        named = [p for s in self.sessions for p in s.people]
        if len(set(named)) != len(named):
            raise InvalidLoop("Someone is named for two sessions; one person sits one session.")

    @property
    def length(self) -> timedelta:
        """First start to last end, whatever the order."""
        return sum((s.duration for s in self.sessions), self.break_between * (len(self.sessions) - 1))


@dataclass(frozen=True)
class SessionPick:
    """`interviewers`: the named people, then the chosen members (fairest first); `why`: one
    sentence per chosen member; `others`: free, uncapped members not in the loop, for a swap."""

    name: str
    slot: Interval
    interviewers: tuple[str, ...]
    others: tuple[str, ...]
    why: tuple[str, ...]


@dataclass(frozen=True)
class LoopOption:
    start: datetime
    end: datetime
    sessions: tuple[SessionPick, ...]  # in time order


class _Seat:
    """Can someone sit `[t, end)` inside `within`? Their free spans and the spans where caps
    forbid a start are both in time order: one bisection each, no scan."""

    def __init__(self, free: FreeTime, within: Interval, blocked: Sequence[Interval] = ()):
        first = bisect_right(free.spans, within.start, key=_end)
        spans = free.spans[first:bisect_left(free.spans, within.end, lo=first, key=_start)]
        self.starts = [s.start for s in spans]
        self.ends = [s.end for s in spans]
        self.blocked = blocked

    def takes(self, t: datetime, end: datetime) -> bool:
        i = bisect_right(self.starts, t) - 1
        if i < 0 or end > self.ends[i]:
            return False
        if not self.blocked:
            return True
        j = bisect_right(self.blocked, t, key=_start) - 1
        return j < 0 or t >= self.blocked[j].end


class _Session:
    """A session prepared for the search: seats of its named people and ranked members."""

    def __init__(self, spec: SessionSpec, people: list[_Seat], taken: set[str],
                 seats: Mapping[str, _Seat]):
        self.spec = spec
        self.people = people
        ranked = sorted((m for m in spec.pool if m.key not in taken), key=fairness_key)
        self.members = [(m, seats[m.key]) for m in ranked]
        self.median = team_median(spec.pool)

    def free_at(self, t: datetime) -> list[Member] | None:
        """Members free and uncapped at t, fairest first; None if a named person is not free
        or fewer than k members are."""
        end = t + self.spec.duration
        if not all(seat.takes(t, end) for seat in self.people):
            return None
        free = [m for m, seat in self.members if seat.takes(t, end)]
        return free if len(free) >= self.spec.k else None


def find_loops(
    candidate: FreeTime,
    named: Mapping[str, FreeTime],
    loop: LoopSpec,
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    policy: Policy | None = None,
    candidate_zone: tzinfo = UTC,
) -> list[LoopOption]:
    """One option per grid start where the loop is bookable (module docstring), in time order.

    `rules.duration` is not used (each session has its own); notice, horizon, `start` and `end`
    bound the whole loop as they bound a slot, with the loop's length as its duration.
    """
    taken = {p for s in loop.sessions for p in s.people}  # named, so in no pool
    missing = sorted(taken - named.keys())
    if missing:
        raise InvalidLoop(f"No free time known for {', '.join(missing)}.")
    span_rules = replace(rules, duration=loop.length)
    bounds = search_bounds(span_rules, now, start, end)
    if bounds is None:
        return []
    require_cover([candidate, *(named[p] for p in taken), *(m.free for s in loop.sessions for m in s.pool)], bounds)
    where = _long_enough(candidate.meet([bounds], loop.length), loop.length)
    spans = [s for s in starts_in(where, span_rules) if loop.across_days or _one_day(s, candidate_zone)]
    if not spans:
        return []
    pools = {m.key: m for s in loop.sessions for m in s.pool}  # one seat each, whatever the session
    seats = {key: _Seat(m.free, bounds, blocked_starts(m, policy, bounds)) for key, m in pools.items()}
    sessions = [_Session(s, [_Seat(named[p], bounds) for p in s.people], taken, seats)
                for s in loop.sessions]
    n = len(sessions)
    orders = [tuple(range(n))] if loop.order == "fixed" else list(permutations(range(n)))
    options = []
    for span in spans:
        seen: dict[tuple[int, datetime], list[Member] | None] = {}  # orders share sessions' times
        for order in orders:
            option = _option_at(span.start, order, sessions, loop.break_between, seen, now)
            if option is not None:
                options.append(option)
                break
    return options


def _one_day(span: Interval, zone: tzinfo) -> bool:
    return span.start.astimezone(zone).date() == (span.end - _TICK).astimezone(zone).date()


def _option_at(
    t: datetime, order: tuple[int, ...], sessions: list[_Session], gap: timedelta,
    seen: dict[tuple[int, datetime], list[Member] | None], now: datetime,
) -> LoopOption | None:
    """The fairest assignment for the sessions run in `order` from t, if any."""
    slots, free = [], []
    for j in order:
        if (j, t) not in seen:
            seen[j, t] = sessions[j].free_at(t)
        members = seen[j, t]
        if members is None:
            return None
        slots.append(unchecked(t, t + sessions[j].spec.duration))
        free.append(members)
        t = slots[-1].end + gap
    chosen = _fairest(free, [sessions[j].spec.k for j in order])
    if chosen is None:
        return None
    used = {m.key for picks in chosen for m in picks}
    picks = tuple(
        SessionPick(
            name=sessions[j].spec.name,
            slot=slot,
            interviewers=(*sessions[j].spec.people, *(m.key for m in mine)),
            others=tuple(m.key for m in members if m.key not in used),
            why=tuple(reason(m, sessions[j].median, now) for m in mine),
        )
        for j, slot, members, mine in zip(order, slots, free, chosen, strict=True)
    )
    return LoopOption(slots[0].start, slots[-1].end, picks)


def _fairest(free: list[list[Member]], ks: list[int]) -> list[tuple[Member, ...]] | None:
    """The fairest choice of ks[i] members from free[i] (each fairest first), nobody twice.

    Session by session, the first choice (combinations come in fairness order) that leaves
    the later sessions fillable. Whether they are is a matching question, answered exactly
    (`_fillable`), so no choice is ever undone: plain backtracking could take exponential
    time on a loop that cannot be filled.
    """
    chosen: list[tuple[Member, ...]] = []
    used: frozenset[str] = frozenset()
    for i, k in enumerate(ks):
        for picks in combinations([m for m in free[i] if m.key not in used], k):
            taken = used | {m.key for m in picks}
            if _fillable(free[i + 1:], ks[i + 1:], taken):
                chosen.append(picks)
                used = taken
                break
        else:
            return None
    return chosen


def _fillable(free: list[list[Member]], ks: list[int], used: frozenset[str]) -> bool:
    """Can each session still get ks[i] members of free[i], nobody twice and nobody `used`?
    Kuhn's augmenting paths, one seat per member a session needs."""
    options = [[m.key for m in f if m.key not in used] for f, k in zip(free, ks, strict=True) for _ in range(k)]
    owner: dict[str, int] = {}

    def seat(s: int, seen: set[str]) -> bool:
        for key in options[s]:
            if key not in seen:
                seen.add(key)
                if key not in owner or seat(owner[key], seen):
                    owner[key] = s
                    return True
        return False

    return all(seat(s, set()) for s in range(len(options)))
