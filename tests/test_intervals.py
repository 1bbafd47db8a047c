"""Exhaustive tests of the half-open interval algebra (`scheduling.intervals`).

Tables of edge cases in the style of the `portion` library's tests, then hypothesis properties
over a small lattice (15-minute steps over three days) so that touching, identical, nested and
empty cases come up constantly.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.errors import InvalidInterval, SchedulingError
from scheduling.intervals import (
    Interval,
    as_utc,
    clip,
    intersect,
    intersect_all,
    iso_z,
    normalize,
    subtract,
    widen_all,
)

DAY = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday
MIN = timedelta(minutes=1)
LATTICE = timedelta(minutes=15)
SPAN = 3 * 24 * 4  # 15-minute points in three days

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def t(hhmm: str, day: int = 0) -> datetime:
    """`"09:30"` on DAY (+ `day` days), UTC."""
    h, m = hhmm.split(":")
    return DAY + timedelta(days=day, hours=int(h), minutes=int(m))


def iv(a: str, b: str, day: int = 0, end_day: int | None = None) -> Interval:
    return Interval(t(a, day), t(b, day if end_day is None else end_day))


def ivs(*pairs: str) -> tuple[Interval, ...]:
    """`ivs("9-10", "10:30-11")`: hours or hh:mm, all on DAY."""
    out = []
    for pair in pairs:
        a, b = pair.split("-")
        out.append(iv(a if ":" in a else f"{a}:00", b if ":" in b else f"{b}:00"))
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Construction, validation, conversion
# --------------------------------------------------------------------------------------------


class TestConstruction:
    def test_fields_and_duration(self) -> None:
        x = iv("09:00", "10:30")
        assert x.start == t("09:00") and x.end == t("10:30")
        assert x.duration == timedelta(minutes=90)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (t("10:00"), t("10:00")),  # zero length
            (t("10:00"), t("09:59")),  # reversed
            (t("10:00"), t("10:00", -1)),  # reversed by a day
            (t("10:00"), t("10:00") - timedelta(microseconds=1)),
        ],
        ids=["zero-length", "reversed", "reversed-day", "reversed-microsecond"],
    )
    def test_empty_or_reversed_refused(self, start: datetime, end: datetime) -> None:
        with pytest.raises(InvalidInterval, match="must be after the start"):
            Interval(start, end)

    def test_one_microsecond_is_allowed(self) -> None:
        x = Interval(t("10:00"), t("10:00") + timedelta(microseconds=1))
        assert x.duration == timedelta(microseconds=1)

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (datetime(2027, 1, 4, 9), t("10:00")),
            (t("09:00"), datetime(2027, 1, 4, 10)),
            (datetime(2027, 1, 4, 9), datetime(2027, 1, 4, 10)),
        ],
        ids=["naive-start", "naive-end", "both-naive"],
    )
    def test_naive_refused(self, start: datetime, end: datetime) -> None:
        with pytest.raises(InvalidInterval, match="no time zone"):
            Interval(start, end)

    def test_errors_are_user_facing_scheduling_errors(self) -> None:
        with pytest.raises(SchedulingError) as info:
            Interval(t("10:00"), t("09:00"))
        assert "UTC" in info.value.message

    @pytest.mark.parametrize(
        ("local", "utc"),
        [
            (datetime(2027, 1, 4, 10, tzinfo=timezone(timedelta(hours=1))), t("09:00")),
            (datetime(2027, 1, 4, 4, tzinfo=ZoneInfo("America/New_York")), t("09:00")),
            (
                datetime(2027, 1, 4, 14, 30, tzinfo=timezone(timedelta(hours=5, minutes=30))),
                t("09:00"),
            ),
            (datetime(2027, 1, 5, 0, tzinfo=ZoneInfo("Asia/Tokyo")), t("15:00")),
            (datetime(2027, 1, 4, 9, tzinfo=ZoneInfo("UTC")), t("09:00")),
            # summer time: London is UTC+1 in July
            (
                datetime(2027, 7, 1, 10, tzinfo=ZoneInfo("Europe/London")),
                datetime(2027, 7, 1, 9, tzinfo=UTC),
            ),
        ],
    )
    def test_aware_non_utc_converted(self, local: datetime, utc: datetime) -> None:
        x = Interval(local, local + timedelta(hours=1))
        assert x.start == utc and x.end == utc + timedelta(hours=1)
        assert x.start.utcoffset() == timedelta(0) and x.start.tzinfo is UTC
        assert x.end.tzinfo is UTC

    def test_converted_intervals_compare_equal_to_utc_ones(self) -> None:
        berlin = ZoneInfo("Europe/Berlin")
        a = Interval(
            datetime(2027, 1, 4, 10, tzinfo=berlin), datetime(2027, 1, 4, 11, tzinfo=berlin)
        )
        assert a == iv("09:00", "10:00")
        assert hash(a) == hash(iv("09:00", "10:00"))

    def test_reversed_after_conversion_refused(self) -> None:
        # 10:00+02:00 is 08:00 UTC, before 09:00 UTC
        with pytest.raises(InvalidInterval):
            Interval(t("09:00"), datetime(2027, 1, 4, 10, tzinfo=timezone(timedelta(hours=2))))

    def test_frozen(self) -> None:
        x = iv("09:00", "10:00")
        with pytest.raises(AttributeError):
            x.start = t("08:00")  # type: ignore[misc]

    def test_ordering_is_by_start_then_end(self) -> None:
        a, b, c = iv("09:00", "10:00"), iv("09:00", "11:00"), iv("08:00", "12:00")
        assert sorted([a, b, c]) == [c, a, b]

    def test_as_utc(self) -> None:
        assert as_utc(datetime(2027, 1, 4, 10, tzinfo=timezone(timedelta(hours=1)))) == t("09:00")
        with pytest.raises(InvalidInterval):
            as_utc(datetime(2027, 1, 4, 10))

    def test_iso(self) -> None:
        assert iv("09:00", "10:30").iso() == {
            "start": "2027-01-04T09:00:00Z",
            "end": "2027-01-04T10:30:00Z",
        }
        assert iso_z(datetime(2027, 1, 4, 10, tzinfo=ZoneInfo("Europe/Berlin"))) == (
            "2027-01-04T09:00:00Z"
        )


# --------------------------------------------------------------------------------------------
# Predicates: overlaps / contains / widen
# --------------------------------------------------------------------------------------------

# (a, b, overlaps, a contains b, b contains a)
RELATIONS = [
    ("9-10", "10-11", False, False, False),  # touching: no overlap
    ("10-11", "9-10", False, False, False),
    ("9-10", "11-12", False, False, False),  # gap
    ("9-11", "10-12", True, False, False),  # partial overlap
    ("10-12", "9-11", True, False, False),
    ("9-12", "10-11", True, True, False),  # strict containment
    ("9-12", "9-10", True, True, False),  # shared start
    ("9-12", "11-12", True, True, False),  # shared end
    ("9-10", "9-10", True, True, True),  # identical
    ("9-10", "9:59-11", True, False, False),  # one minute of overlap
]


@pytest.mark.parametrize(("a", "b", "overlap", "a_in", "b_in"), RELATIONS)
def test_relations(a: str, b: str, overlap: bool, a_in: bool, b_in: bool) -> None:
    (x,), (y,) = ivs(a), ivs(b)
    assert x.overlaps(y) is overlap
    assert y.overlaps(x) is overlap
    assert x.contains(y) is a_in
    assert y.contains(x) is b_in


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (0, 0, ("10:00", "11:00")),
        (15, 0, ("09:45", "11:00")),
        (0, 15, ("10:00", "11:15")),
        (30, 45, ("09:30", "11:45")),
        (-15, 0, ("10:15", "11:00")),  # negative narrows
    ],
)
def test_widen(before: int, after: int, expected: tuple[str, str]) -> None:
    x = iv("10:00", "11:00").widen(timedelta(minutes=before), timedelta(minutes=after))
    assert x == iv(*expected)


def test_widen_cannot_produce_an_empty_interval() -> None:
    with pytest.raises(InvalidInterval):
        iv("10:00", "11:00").widen(timedelta(minutes=-30), timedelta(minutes=-30))


def test_widen_across_midnight() -> None:
    x = iv("23:30", "23:45").widen(timedelta(0), timedelta(minutes=30))
    assert x == Interval(t("23:30"), t("00:15", 1))


# --------------------------------------------------------------------------------------------
# normalize
# --------------------------------------------------------------------------------------------

NORMALIZE = [
    ((), ()),
    (("9-10",), ("9-10",)),
    (("9-10", "10-11"), ("9-11",)),  # touching merge
    (("10-11", "9-10"), ("9-11",)),  # order does not matter
    (("9-11", "10-12"), ("9-12",)),  # overlap merge
    (("9-12", "10-11"), ("9-12",)),  # contained swallowed
    (("10-11", "9-12"), ("9-12",)),
    (("9-10", "9-10"), ("9-10",)),  # identical deduplicated
    (("9-10", "11-12"), ("9-10", "11-12")),  # gap kept
    (("11-12", "9-10"), ("9-10", "11-12")),  # sorted
    (("9-10", "10-11", "11-12", "12-13"), ("9-13",)),  # a chain of touches
    (("9-10", "9-11", "9-9:30"), ("9-11",)),  # same start, different ends
    (("9-12", "10-11", "11:30-13"), ("9-13",)),  # later one extends past a swallowed one
    (("9-10", "10:01-11"), ("9-10", "10:01-11")),  # one minute apart stays apart
]


@pytest.mark.parametrize(("given", "expected"), NORMALIZE)
def test_normalize_table(given: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert normalize(ivs(*given)) == ivs(*expected)


def test_normalize_accepts_any_iterable_and_returns_tuple() -> None:
    result = normalize(x for x in ivs("10-11", "9-10"))
    assert isinstance(result, tuple)
    assert result == ivs("9-11")


def test_normalize_merges_across_midnight() -> None:
    a = Interval(t("22:00"), t("00:00", 1))
    b = Interval(t("00:00", 1), t("02:00", 1))
    assert normalize([b, a]) == (Interval(t("22:00"), t("02:00", 1)),)


def test_normalize_does_not_mutate_input() -> None:
    data = list(ivs("10-11", "9-10"))
    normalize(data)
    assert data == list(ivs("10-11", "9-10"))


# --------------------------------------------------------------------------------------------
# intersect / intersect_all / clip
# --------------------------------------------------------------------------------------------

INTERSECT = [
    ((), (), ()),
    (("9-10",), (), ()),
    ((), ("9-10",), ()),
    (("9-10",), ("10-11",), ()),  # touching: empty
    (("9-10",), ("11-12",), ()),
    (("9-11",), ("10-12",), ("10-11",)),
    (("9-12",), ("10-11",), ("10-11",)),  # containment
    (("9-10",), ("9-10",), ("9-10",)),  # identical
    (("9-12",), ("9-10", "11-12"), ("9-10", "11-12")),
    (("9-10", "11-12"), ("9:30-11:30",), ("9:30-10", "11-11:30")),
    (("9-10", "11-12", "13-14"), ("9:30-13:30",), ("9:30-10", "11-12", "13-13:30")),
    (
        ("9-10", "10:30-11", "11:30-12"),
        ("9:45-10:45", "10:50-11:40"),
        ("9:45-10", "10:30-10:45", "10:50-11", "11:30-11:40"),
    ),
    (("9-12",), ("9-12",), ("9-12",)),
    (("9-10", "12-13"), ("10-12",), ()),  # the gap exactly
]


@pytest.mark.parametrize(("a", "b", "expected"), INTERSECT)
def test_intersect_table(a: tuple[str, ...], b: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert intersect(ivs(*a), ivs(*b)) == ivs(*expected)
    assert intersect(ivs(*b), ivs(*a)) == ivs(*expected)


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ([], ()),  # no sets: no time
        ([("9-10",)], ("9-10",)),
        ([("10-11", "9-10")], ("9-11",)),  # a single set comes back normalized
        ([("9-12",), ("10-13",), ("8-11",)], ("10-11",)),
        ([("9-12",), ("10-13",), ("12-14",)], ()),  # pairwise overlap, no common time
        ([("9-12",), (), ("9-12",)], ()),  # an empty set empties everything
        ([("9-10", "10-11"), ("9:30-10:30",)], ("9:30-10:30",)),  # sets normalized first
        ([("9-12",), ("9-12",), ("9-12",)], ("9-12",)),
    ],
)
def test_intersect_all_table(sets: list[tuple[str, ...]], expected: tuple[str, ...]) -> None:
    assert intersect_all(ivs(*s) for s in sets) == ivs(*expected)


def test_intersect_all_accepts_generators_of_generators() -> None:
    sets = ((x for x in ivs(*s)) for s in [("9-12",), ("10-13",)])
    assert intersect_all(sets) == ivs("10-12")


@pytest.mark.parametrize(
    ("given", "window", "expected"),
    [
        ((), "9-17", ()),
        (("8-10", "12-13", "16-18"), "9-17", ("9-10", "12-13", "16-17")),
        (("8-9", "17-18"), "9-17", ()),  # touching the window edges
        (("9-17",), "9-17", ("9-17",)),
        (("10-11", "9-10"), "9-17", ("9-11",)),  # normalized
        (("7-8",), "9-17", ()),
        (("8-18",), "9-17", ("9-17",)),
    ],
)
def test_clip_table(given: tuple[str, ...], window: str, expected: tuple[str, ...]) -> None:
    assert clip(ivs(*given), ivs(window)[0]) == ivs(*expected)


# --------------------------------------------------------------------------------------------
# subtract
# --------------------------------------------------------------------------------------------

SUBTRACT = [
    ((), (), ()),
    ((), ("9-10",), ()),
    (("9-10",), (), ("9-10",)),
    (("9-12",), ("10-11",), ("9-10", "11-12")),  # hole in the middle
    (("9-12",), ("9-10",), ("10-12",)),  # shared start
    (("9-12",), ("11-12",), ("9-11",)),  # shared end
    (("9-12",), ("9-12",), ()),  # identical
    (("9-12",), ("8-13",), ()),  # swallowed
    (("9-10",), ("10-11",), ("9-10",)),  # touching after: unchanged
    (("10-11",), ("9-10",), ("10-11",)),  # touching before: unchanged
    (("9-12",), ("8-10",), ("10-12",)),  # overlap at the start
    (("9-12",), ("11-13",), ("9-11",)),  # overlap at the end
    (("9-12",), ("9:30-10", "10-10:30"), ("9-9:30", "10:30-12")),  # touching holes merge
    (("9-12",), ("9:30-10", "10:30-11"), ("9-9:30", "10-10:30", "11-12")),
    (("9-10", "11-12"), ("9:30-11:30",), ("9-9:30", "11:30-12")),  # one hole, two bases
    (("9-10", "10-11"), ("9:30-10:30",), ("9-9:30", "10:30-11")),  # bases normalized first
    (
        ("9-10", "11-12", "13-14"),
        ("8-9", "10-11", "12-13", "14-15"),
        ("9-10", "11-12", "13-14"),
    ),  # holes exactly in the gaps
    (
        ("9-10", "11-12", "13-14"),
        ("9:15-9:30", "13:30-15"),
        ("9-9:15", "9:30-10", "11-12", "13-13:30"),
    ),
    (("9-17",), ("12-13", "10-11", "10:30-11:30"), ("9-10", "11:30-12", "13-17")),  # unsorted
    (("9-12", "12-13"), ("12-12:30",), ("9-12", "12:30-13")),
]


@pytest.mark.parametrize(("a", "b", "expected"), SUBTRACT)
def test_subtract_table(a: tuple[str, ...], b: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert subtract(ivs(*a), ivs(*b)) == ivs(*expected)


def test_subtract_hole_spanning_many_bases() -> None:
    base = [iv(f"{h:02d}:00", f"{h:02d}:30") for h in range(8, 18)]
    assert subtract(base, ivs("9-17")) == ivs("8-8:30", "17-17:30")


# --------------------------------------------------------------------------------------------
# widen_all
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "before", "after", "expected"),
    [
        ((), 15, 15, ()),
        (("10-11",), 0, 0, ("10-11",)),
        (("11-12", "9-10"), 0, 0, ("9-10", "11-12")),  # normalized even with no buffer
        (("9-10", "11-12"), 0, 30, ("9-10:30", "11-12:30")),
        (("9-10", "11-12"), 30, 30, ("8:30-12:30",)),  # widened blocks merge
        (("9-10", "10:30-11"), 0, 30, ("9-11:30",)),  # widened to touch: merged
        (("9-10", "11-12"), 15, 0, ("8:45-10", "10:45-12")),
    ],
)
def test_widen_all_table(
    given: tuple[str, ...], before: int, after: int, expected: tuple[str, ...]
) -> None:
    got = widen_all(ivs(*given), timedelta(minutes=before), timedelta(minutes=after))
    assert got == ivs(*expected)


# --------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------


@st.composite
def intervals(draw: st.DrawFn) -> Interval:
    a = draw(st.integers(0, SPAN - 1))
    n = draw(st.integers(1, 24))
    return Interval(DAY + a * LATTICE, DAY + (a + n) * LATTICE)


interval_lists = st.lists(intervals(), max_size=8)


def points(xs: Sequence[Interval]) -> set[int]:
    """The lattice points covered (as point sets on the 15-min lattice, half-open)."""
    out: set[int] = set()
    for x in xs:
        a = (x.start - DAY) // LATTICE
        b = (x.end - DAY) // LATTICE
        out.update(range(a, b))
    return out


def assert_normalized(xs: Sequence[Interval]) -> None:
    """Sorted, and a real gap between consecutive intervals (no overlap, no touching)."""
    for x, y in zip(xs, xs[1:], strict=False):
        assert x.end < y.start, (x, y)


@PROPS
@given(interval_lists)
def test_normalize_idempotent(xs: list[Interval]) -> None:
    once = normalize(xs)
    assert normalize(once) == once


@PROPS
@given(st.data(), interval_lists)
def test_normalize_order_independent(data: st.DataObject, xs: list[Interval]) -> None:
    shuffled = data.draw(st.permutations(xs))
    assert normalize(shuffled) == normalize(xs)


@PROPS
@given(interval_lists)
def test_normalize_sorted_gapped_same_points(xs: list[Interval]) -> None:
    n = normalize(xs)
    assert_normalized(n)
    assert points(n) == points(xs)


@PROPS
@given(interval_lists, interval_lists)
def test_subtract_properties(a: list[Interval], b: list[Interval]) -> None:
    d = subtract(a, b)
    assert_normalized(d)
    na, nb = normalize(a), normalize(b)
    # disjoint from b
    assert not any(x.overlaps(y) for x in d for y in nb)
    assert intersect(d, nb) == ()
    # contained in a
    assert all(any(y.contains(x) for y in na) for x in d)
    # (a - b) ∪ (a ∩ b) == a
    assert normalize([*d, *intersect(na, nb)]) == na
    # point-set semantics
    assert points(d) == points(a) - points(b)


@PROPS
@given(interval_lists, interval_lists)
def test_intersect_commutative_and_pointwise(a: list[Interval], b: list[Interval]) -> None:
    na, nb = normalize(a), normalize(b)
    ab = intersect(na, nb)
    assert ab == intersect(nb, na)
    assert_normalized(ab)
    assert points(ab) == points(a) & points(b)


@PROPS
@given(interval_lists, interval_lists, interval_lists)
def test_intersect_associative(a: list[Interval], b: list[Interval], c: list[Interval]) -> None:
    na, nb, nc = normalize(a), normalize(b), normalize(c)
    left = intersect(intersect(na, nb), nc)
    right = intersect(na, intersect(nb, nc))
    assert left == right
    assert intersect_all([a, b, c]) == left
    assert intersect_all([c, a, b]) == left


@PROPS
@given(interval_lists)
def test_intersect_with_self_is_identity(a: list[Interval]) -> None:
    na = normalize(a)
    assert intersect(na, na) == na
    assert subtract(a, a) == ()
    assert subtract(a, []) == na


@PROPS
@given(interval_lists, intervals())
def test_clip_is_intersection_with_window(a: list[Interval], w: Interval) -> None:
    c = clip(a, w)
    assert_normalized(c)
    assert all(w.contains(x) for x in c)
    assert points(c) == points(a) & points([w])


@PROPS
@given(interval_lists, st.integers(0, 8), st.integers(0, 8))
def test_widen_all_pointwise(a: list[Interval], before: int, after: int) -> None:
    w = widen_all(a, before * LATTICE, after * LATTICE)
    assert_normalized(w)
    expected: set[int] = set()
    for x in a:
        lo = (x.start - DAY) // LATTICE - before
        hi = (x.end - DAY) // LATTICE + after
        expected.update(range(lo, hi))
    assert points(w) == expected
