"""Brute-force reference for the slot search: obviously correct, deliberately slow.

It shares no code with `scheduling.slots` beyond the `Participant`/`SearchRules` data types:
for every grid start inside the search bounds it asks each participant directly whether the
slot is covered by their availability (the union of their windows, since a person's touching or
overlapping windows merge) and whether any busy block overlaps the slot widened by the buffers,
`[s - buffer_before, s + duration + buffer_after)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import combinations, permutations, product

from scheduling.intervals import Interval
from scheduling.loops import LoopSpec, SessionSpec
from scheduling.policies import Policy
from scheduling.pools import Member
from scheduling.slots import Participant, SearchRules

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def first_grid_start(moment: datetime, step: timedelta) -> datetime:
    """The first multiple of `step` after the UTC epoch that is at or after `moment`."""
    step_us = step // timedelta(microseconds=1)
    since_us = (moment - _EPOCH) // timedelta(microseconds=1)
    k = -(-since_us // step_us)  # ceiling division on integers
    return _EPOCH + timedelta(microseconds=k * step_us)


def covered(start: datetime, end: datetime, windows: Iterable[Interval]) -> bool:
    """Is `[start, end)` covered by the union of `windows` (which may overlap or touch)?"""
    cursor = start
    ordered = sorted(windows, key=lambda w: w.start)
    progressed = True
    while cursor < end and progressed:
        progressed = False
        for w in ordered:
            if w.start <= cursor < w.end:
                cursor = w.end
                progressed = True
    return cursor >= end


def participant_free_for(
    person: Participant, start: datetime, end: datetime, rules: SearchRules
) -> bool:
    if not covered(start, end, person.windows):
        return False
    lo, hi = start - rules.buffer_before, end + rules.buffer_after
    return not any(b.start < hi and lo < b.end for b in person.busy)


def reference_slots(
    participants: Sequence[Participant],
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Interval]:
    """Every grid slot within the bounds where every participant is free. O(starts × people × n)."""
    if not participants:
        return []
    earliest = now + rules.min_notice
    if start is not None and start > earliest:
        earliest = start
    latest_start = now + rules.horizon
    # Past the last window end of anyone, nobody is covered: stop there instead of walking
    # the rest of a 90-day horizon one grid step at a time.
    if any(not p.windows for p in participants):
        return []
    last_end = min(max(w.end for w in p.windows) for p in participants)
    out: list[Interval] = []
    s = first_grid_start(earliest, rules.step)
    while s <= latest_start:
        e = s + rules.duration
        if (end is not None and e > end) or e > last_end:
            break
        if all(participant_free_for(p, s, e, rules) for p in participants):
            out.append(Interval(s, e))
        s += rules.step
    return out


# --------------------------------------------------------------------------------------------
# Pools and loops: every grid start, every member, every assignment
# --------------------------------------------------------------------------------------------


def fairness_rank(member: Member) -> tuple[int, int, int, datetime, str]:
    """The documented order, written out again: this week, last 30 days, never interviewed
    first, then the oldest last interview, then the key."""
    load = member.load
    if load.last_at is None:
        return load.this_week, load.last_30_days, 0, _EPOCH, member.key
    return load.this_week, load.last_30_days, 1, load.last_at, member.key


def over_cap(member: Member, start: datetime, policy: Policy | None) -> bool:
    """Would an interview starting at `start` put `member` over a cap? Counted from scratch."""
    if policy is None:
        return False
    day = start.astimezone(member.zone).date()
    booked = [b.astimezone(member.zone).date() for b in member.booked]
    if policy.cap_per_day is not None and sum(d == day for d in booked) >= policy.cap_per_day:
        return True
    week = day.isocalendar()[:2]
    in_week = sum(d.isocalendar()[:2] == week for d in booked)
    return policy.cap_per_week is not None and in_week >= policy.cap_per_week


def _grid(rules: SearchRules, now: datetime, start: datetime | None, end: datetime | None,
          length: timedelta, last_end: datetime) -> Iterable[datetime]:
    """Grid starts of a span of `length` inside the bounds, stopping once past `last_end`."""
    earliest = now + rules.min_notice
    if start is not None and start > earliest:
        earliest = start
    s = first_grid_start(earliest, rules.step)
    while s <= now + rules.horizon and s + length <= last_end and (end is None or s + length <= end):
        yield s
        s += rules.step


def reference_pool(
    fixed: Sequence[Participant], pool: Sequence[Member], people: Mapping[str, Participant],
    k: int, rules: SearchRules, now: datetime, start: datetime | None = None,
    end: datetime | None = None, policy: Policy | None = None,
) -> list[tuple[Interval, tuple[str, ...], tuple[str, ...]]]:
    """(slot, chosen, others) per grid slot: every member asked directly, `people[key]` being
    a member's calendar."""
    everyone = list(fixed) or [people[m.key] for m in pool]
    if any(not p.windows for p in fixed) or not any(p.windows for p in everyone):
        return []
    last_end = min(max(w.end for w in p.windows) for p in fixed) if fixed else \
        max(w.end for p in everyone for w in p.windows)
    out = []
    for s in _grid(rules, now, start, end, rules.duration, last_end):
        e = s + rules.duration
        if not all(participant_free_for(p, s, e, rules) for p in fixed):
            continue
        free = [m.key for m in sorted(pool, key=fairness_rank)
                if participant_free_for(people[m.key], s, e, rules) and not over_cap(m, s, policy)]
        if len(free) >= k:
            out.append((Interval(s, e), tuple(free[:k]), tuple(free[k:])))
    return out


_TICK = timedelta(microseconds=1)
LoopAnswer = tuple[datetime, tuple[tuple[str, Interval, tuple[str, ...], tuple[str, ...]], ...]]


def reference_loops(
    candidate: Participant, named: Mapping[str, Participant], loop: LoopSpec,
    people: Mapping[str, Participant], rules: SearchRules, now: datetime,
    start: datetime | None = None, end: datetime | None = None, policy: Policy | None = None,
    zone: tzinfo = UTC,
) -> list[LoopAnswer]:
    """(start, sessions as (name, slot, interviewers, others)) per grid start: every order,
    then every assignment in fairness order until one is valid."""
    if not candidate.windows:
        return []
    length = sum((s.duration for s in loop.sessions), loop.break_between * (len(loop.sessions) - 1))
    last_end = max(w.end for w in candidate.windows)
    n = len(loop.sessions)
    orders = [tuple(range(n))] if loop.order == "fixed" else list(permutations(range(n)))
    out = []
    for s in _grid(rules, now, start, end, length, last_end):
        if not participant_free_for(candidate, s, s + length, rules):
            continue
        if not loop.across_days and s.astimezone(zone).date() != (s + length - _TICK).astimezone(zone).date():
            continue
        for order in orders:
            found = _loop_at(s, [loop.sessions[j] for j in order], loop, named, people, rules, policy)
            if found is not None:
                out.append((s, found))
                break
    return out


def _loop_at(
    t: datetime, sessions: list[SessionSpec], loop: LoopSpec, named: Mapping[str, Participant],
    people: Mapping[str, Participant], rules: SearchRules, policy: Policy | None,
) -> tuple[tuple[str, Interval, tuple[str, ...], tuple[str, ...]], ...] | None:
    named_keys = {p for s in loop.sessions for p in s.people}
    slots, eligible = [], []
    for spec in sessions:
        slot = Interval(t, t + spec.duration)
        if not all(participant_free_for(named[p], slot.start, slot.end, rules) for p in spec.people):
            return None
        eligible.append([m.key for m in sorted(spec.pool, key=fairness_rank)
                         if m.key not in named_keys and not over_cap(m, slot.start, policy)
                         and participant_free_for(people[m.key], slot.start, slot.end, rules)])
        slots.append(slot)
        t = slot.end + loop.break_between
    for assignment in product(*(combinations(e, spec.k) for e, spec in zip(eligible, sessions, strict=True))):
        keys = [key for picks in assignment for key in picks]
        if len(set(keys)) == len(keys):
            return tuple(
                (spec.name, slot, (*spec.people, *picks), tuple(m for m in e if m not in keys))
                for spec, slot, picks, e in zip(sessions, slots, assignment, eligible, strict=True)
            )
    return None
