"""Brute-force reference for the slot search: obviously correct, deliberately slow.

It shares no code with `scheduling.slots` beyond the `Participant`/`SearchRules` data types:
for every grid start inside the search bounds it asks each participant directly whether the
slot is covered by their availability (the union of their windows, since a person's touching or
overlapping windows merge) and whether any busy block overlaps the slot widened by the buffers,
`[s - buffer_before, s + duration + buffer_after)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from scheduling.intervals import Interval
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
