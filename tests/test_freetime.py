"""Kept free time answers exactly what a fresh search answers."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.freetime import FreeTime, find_slots_in
from scheduling.intervals import Interval, intersect, normalize
from scheduling.slots import Participant, SearchRules, find_slots, search_bounds
from tests.reference import reference_slots
from tests.test_slots import (
    DAY,
    LATTICE,
    PROPS,
    REFERENCE,
    SPAN,
    bound_st,
    lattice_intervals,
    now_st,
    panels,
    rules_st,
)

UNIVERSE = Interval(DAY - timedelta(days=30), DAY + SPAN * LATTICE + timedelta(days=200))


def kept(ps: list[Participant], rules: SearchRules, covers: Interval = UNIVERSE) -> list[FreeTime]:
    return [FreeTime.of(p, rules, covers) for p in ps]


@REFERENCE
@given(panels(), rules_st, now_st, bound_st, bound_st)
def test_kept_free_time_answers_like_a_fresh_search(
    ps: list[Participant], rules: SearchRules, now: datetime, start: datetime | None, end: datetime | None
) -> None:
    got = find_slots_in(kept(ps, rules), rules, now, start, end)
    assert got == find_slots(ps, rules, now, start, end)
    assert got == reference_slots(ps, rules, now, start, end)


@PROPS
@given(panels(), rules_st, now_st, bound_st, bound_st, st.data())
def test_any_covering_span_gives_the_same_answer(
    ps: list[Participant], rules: SearchRules, now: datetime, start: datetime | None,
    end: datetime | None, data: st.DataObject,
) -> None:
    """Free time kept over just the bounds (or a little more) answers as over all time."""
    bounds = search_bounds(rules, now, start, end)
    if bounds is None:
        return
    extra = data.draw(st.sampled_from([timedelta(0), timedelta(minutes=7), timedelta(days=1)]))
    covers = Interval(bounds.start - extra, bounds.end + extra)
    assert find_slots_in(kept(ps, rules, covers), rules, now, start, end) == find_slots(ps, rules, now, start, end)


@PROPS
@given(panels(), rules_st, st.lists(lattice_intervals(40), min_size=1, max_size=12), st.sampled_from([15, 60, 120]))
def test_meeting_a_set_is_intersecting_with_the_long_pieces(
    ps: list[Participant], rules: SearchRules, pieces: list[Interval], minutes: int
) -> None:
    """Both ways `meet` works (bisection for few pieces, a sweep for many) give the intersection."""
    duration = timedelta(minutes=minutes)
    common = normalize(pieces)
    for free in kept(ps, rules):
        long = tuple(s for s in free.spans if s.duration >= duration)
        assert tuple(free.meet(common, duration)) == intersect(common, long)


def test_free_time_that_does_not_cover_the_bounds_is_refused() -> None:
    rules = SearchRules(min_notice=timedelta(0), horizon=timedelta(days=2))
    short = Interval(DAY, DAY + timedelta(days=1))
    person = Participant("p", windows=(short,))
    with pytest.raises(ValueError, match="not over"):
        find_slots_in([FreeTime.of(person, rules, short)], rules, DAY)
