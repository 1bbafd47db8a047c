"""Slot search (`scheduling.slots`): worked examples, then properties checked against the
brute-force reference in `tests/reference.py` over a small random universe (15-minute lattice
over three days) where hypothesis reaches the edges quickly."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.errors import InvalidInterval
from scheduling.intervals import Interval, normalize, subtract
from scheduling.slots import (
    Participant,
    SearchRules,
    diagnose,
    find_slots,
    free_time,
    grid_ceil,
    group_by_day,
    search_bounds,
)
from tests.reference import first_grid_start, reference_slots

DAY = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday
NOW = DAY - timedelta(days=7)  # far enough back that the default 24 h notice never bites
M = timedelta(minutes=1)
H = timedelta(hours=1)
OPEN = SearchRules(min_notice=timedelta(0))

PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The comparison with the brute-force reference is the property that matters most.
REFERENCE = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(hhmm: str, day: int = 0) -> datetime:
    h, m = hhmm.split(":")
    return DAY + timedelta(days=day, hours=int(h), minutes=int(m))


def span(a: str, b: str, day: int = 0, end_day: int | None = None) -> Interval:
    return Interval(at(a, day), at(b, day if end_day is None else end_day))


def person(
    key: str, windows: Sequence[Interval], busy: Sequence[Interval] = (), label: str = ""
) -> Participant:
    return Participant(key=key, windows=tuple(windows), busy=tuple(busy), label=label)


def starts(slots: Sequence[Interval]) -> list[str]:
    return [s.start.strftime("%d %H:%M") for s in slots]


def local_span(
    zone: str, y: int, mo: int, d: int, h0: int, h1: int, d1: int | None = None
) -> Interval:
    z = ZoneInfo(zone)
    return Interval(datetime(y, mo, d, h0, tzinfo=z), datetime(y, mo, d1 or d, h1, tzinfo=z))


def assert_on_grid(slots: Sequence[Interval], rules: SearchRules) -> None:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for s in slots:
        assert (s.start - epoch) % rules.step == timedelta(0), s
        assert s.duration == rules.duration, s
        assert s.start.tzinfo is UTC


# --------------------------------------------------------------------------------------------
# Rules and helpers
# --------------------------------------------------------------------------------------------


class TestRules:
    def test_defaults_are_the_documented_ones(self) -> None:
        r = SearchRules()
        assert r.duration == 60 * M and r.step == 30 * M
        assert r.min_notice == 24 * H and r.horizon == timedelta(days=90)
        assert r.buffer_before == r.buffer_after == timedelta(0)

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"duration": timedelta(0)},
            {"duration": -M},
            {"step": timedelta(0)},
            {"step": -30 * M},
            {"min_notice": -M},
            {"horizon": -M},
            {"buffer_before": -M},
            {"buffer_after": -M},
        ],
    )
    def test_invalid_rules_refused(self, kwargs: dict[str, timedelta]) -> None:
        with pytest.raises(InvalidInterval):
            SearchRules(**kwargs)


@pytest.mark.parametrize(
    ("moment", "step", "expected"),
    [
        (at("10:00"), 30 * M, at("10:00")),  # on the grid stays
        (at("10:00") + timedelta(microseconds=1), 30 * M, at("10:30")),
        (at("10:01"), 30 * M, at("10:30")),
        (at("10:29"), 30 * M, at("10:30")),
        (at("10:31"), 30 * M, at("11:00")),
        (at("23:45"), 30 * M, at("00:00", 1)),  # rolls over midnight
        (at("10:07"), 15 * M, at("10:15")),
        (at("10:07"), H, at("11:00")),
        (at("10:07"), 7 * M, DAY + 10 * H + 10 * M),  # 7-minute grid from the epoch (…:10 today)
    ],
)
def test_grid_ceil(moment: datetime, step: timedelta, expected: datetime) -> None:
    assert grid_ceil(moment, step) == expected
    assert first_grid_start(moment, step) == expected


def test_grid_ceil_of_non_utc_input_is_the_same_instant() -> None:
    berlin = datetime(2027, 1, 4, 11, 10, tzinfo=ZoneInfo("Europe/Berlin"))  # 10:10 UTC
    assert grid_ceil(berlin, 30 * M) == at("10:30")


class TestSearchBounds:
    def test_notice_and_horizon(self) -> None:
        b = search_bounds(SearchRules(), at("10:15"))
        assert b == Interval(at("10:15", 1), at("10:15", 90) + H)

    def test_start_and_end_narrow(self) -> None:
        b = search_bounds(SearchRules(), at("10:15"), at("00:00", 3), at("00:00", 5))
        assert b == Interval(at("00:00", 3), at("00:00", 5))

    def test_start_before_notice_is_ignored(self) -> None:
        b = search_bounds(SearchRules(), at("10:15"), at("00:00", -3), at("00:00", 5))
        assert b == Interval(at("10:15", 1), at("00:00", 5))

    @pytest.mark.parametrize(
        ("start", "end"),
        [
            (at("00:00", 5), at("00:00", 3)),  # reversed
            (at("00:00", 3), at("00:00", 3)),  # empty
            (None, at("09:00", 1)),  # ends inside the notice period
            (at("00:00", 200), None),  # starts past the horizon
        ],
    )
    def test_empty(self, start: datetime | None, end: datetime | None) -> None:
        assert search_bounds(SearchRules(), at("10:15"), start, end) is None

    def test_naive_refused(self) -> None:
        with pytest.raises(InvalidInterval):
            search_bounds(SearchRules(), datetime(2027, 1, 4))
        with pytest.raises(InvalidInterval):
            search_bounds(SearchRules(), at("10:00"), datetime(2027, 1, 5))


# --------------------------------------------------------------------------------------------
# Worked examples
# --------------------------------------------------------------------------------------------


class TestExamples:
    def test_interviewer_morning_candidate_midday(self) -> None:
        interviewer = person("i", [span("09:00", "12:00")])
        candidate = person("c", [span("11:00", "14:00")])
        slots = find_slots([candidate, interviewer], SearchRules(), NOW)
        assert slots == [span("11:00", "12:00")]

    def test_no_participants_no_slots(self) -> None:
        assert find_slots([], SearchRules(), NOW) == []

    def test_single_participant(self) -> None:
        slots = find_slots([person("a", [span("09:00", "11:00")])], SearchRules(), NOW)
        assert starts(slots) == ["04 09:00", "04 09:30", "04 10:00"]

    def test_window_shorter_than_duration(self) -> None:
        assert find_slots([person("a", [span("09:00", "09:59")])], SearchRules(), NOW) == []

    def test_window_exactly_one_duration_long(self) -> None:
        assert find_slots([person("a", [span("09:00", "10:00")])], SearchRules(), NOW) == [
            span("09:00", "10:00")
        ]

    def test_off_grid_window_rounds_starts_up(self) -> None:
        slots = find_slots([person("a", [span("09:10", "11:20")])], SearchRules(), NOW)
        assert starts(slots) == ["04 09:30", "04 10:00"]

    def test_touching_windows_of_one_person_merge(self) -> None:
        a = person("a", [span("09:00", "09:30"), span("09:30", "10:00")])
        assert find_slots([a], SearchRules(), NOW) == [span("09:00", "10:00")]

    def test_window_across_midnight(self) -> None:
        a = person("a", [span("22:00", "02:00", 0, 1)])
        b = person("b", [span("23:00", "03:00", 0, 1)])
        slots = find_slots([a, b], SearchRules(), NOW)
        assert starts(slots) == ["04 23:00", "04 23:30", "05 00:00", "05 00:30", "05 01:00"]
        assert any(s.start.date() == date(2027, 1, 5) for s in slots)
        assert slots[-1] == span("01:00", "02:00", 1)

    def test_ninety_minutes_on_a_thirty_minute_grid(self) -> None:
        rules = SearchRules(duration=90 * M)
        slots = find_slots([person("a", [span("09:00", "12:00")])], rules, NOW)
        assert starts(slots) == ["04 09:00", "04 09:30", "04 10:00", "04 10:30"]
        assert_on_grid(slots, rules)
        assert slots[-1].end == at("12:00")

    def test_busy_blocks_split_free_time(self) -> None:
        a = person("a", [span("09:00", "17:00")], [span("10:00", "11:00"), span("12:30", "16:00")])
        slots = find_slots([a], SearchRules(), NOW)
        assert starts(slots) == ["04 09:00", "04 11:00", "04 11:30", "04 16:00"]

    def test_busy_outside_windows_is_irrelevant(self) -> None:
        a = person("a", [span("09:00", "10:00")], [span("08:00", "09:00"), span("10:00", "11:00")])
        assert find_slots([a], SearchRules(), NOW) == [span("09:00", "10:00")]

    def test_panel_needs_everyone(self) -> None:
        c = person("c", [span("09:00", "17:00")])
        i1 = person("i1", [span("09:00", "17:00")], [span("09:00", "12:00")])
        i2 = person("i2", [span("10:00", "15:00")], [span("13:00", "14:00")])
        slots = find_slots([c, i1, i2], SearchRules(), NOW)
        assert starts(slots) == ["04 12:00", "04 14:00"]

    def test_no_slot_straddles_two_days_of_separate_windows(self) -> None:
        a = person("a", [span("09:00", "17:00"), span("09:00", "17:00", 1)])
        slots = find_slots([a], SearchRules(), NOW)
        assert len(slots) == 2 * 15
        assert all(s.start.date() == s.end.date() for s in slots)


class TestTimeZonesAndDst:
    def test_new_york_spring_forward(self) -> None:
        # 2027-03-14: 02:00 EST jumps to 03:00 EDT. Local 00:00-06:00 is only five hours long.
        w = local_span("America/New_York", 2027, 3, 14, 0, 6)
        assert w.start == datetime(2027, 3, 14, 5, tzinfo=UTC)
        assert w.end == datetime(2027, 3, 14, 10, tzinfo=UTC)
        rules = SearchRules()
        slots = find_slots([person("a", [w])], rules, datetime(2027, 3, 1, tzinfo=UTC))
        assert len(slots) == 9  # 05:00, 05:30, ..., 09:00 UTC
        assert slots[0].start == datetime(2027, 3, 14, 5, tzinfo=UTC)
        assert slots[-1].end == datetime(2027, 3, 14, 10, tzinfo=UTC)
        assert_on_grid(slots, rules)
        ny = ZoneInfo("America/New_York")
        local = [s.start.astimezone(ny).strftime("%H:%M") for s in slots]
        assert "02:00" not in local and "02:30" not in local  # the skipped hour never appears
        assert local[:4] == ["00:00", "00:30", "01:00", "01:30"]
        assert local[4] == "03:00"

    def test_new_york_spring_forward_panel_with_utc_partner(self) -> None:
        ny = local_span("America/New_York", 2027, 3, 14, 9, 12)  # EDT: 13:00-16:00 UTC
        utc_partner = person(
            "u",
            [
                Interval(
                    datetime(2027, 3, 14, 12, tzinfo=UTC), datetime(2027, 3, 14, 15, tzinfo=UTC)
                )
            ],
        )
        slots = find_slots(
            [person("n", [ny]), utc_partner], SearchRules(), datetime(2027, 3, 1, tzinfo=UTC)
        )
        assert [s.start.hour * 60 + s.start.minute for s in slots] == [780, 810, 840]

    def test_london_spring_forward(self) -> None:
        # 2027-03-28: 01:00 GMT jumps to 02:00 BST. Local 00:00-04:00 is 00:00-03:00 UTC.
        w = local_span("Europe/London", 2027, 3, 28, 0, 4)
        assert w.duration == 3 * H
        rules = SearchRules(duration=45 * M, step=15 * M)
        slots = find_slots([person("a", [w])], rules, datetime(2027, 3, 1, tzinfo=UTC))
        assert_on_grid(slots, rules)
        assert len(slots) == 10  # 00:00 .. 02:15 UTC every 15 min
        assert slots[-1].end == datetime(2027, 3, 28, 3, tzinfo=UTC)
        # Default rules on that day: slots on :00/:30 UTC, exactly 60 min each.
        default = find_slots([person("a", [w])], SearchRules(), datetime(2027, 3, 1, tzinfo=UTC))
        assert_on_grid(default, SearchRules())
        assert len(default) == 5

    def test_new_york_fall_back_day_is_longer(self) -> None:
        # 2027-11-07: 02:00 EDT falls back to 01:00 EST. Local 00:00-04:00 is five hours.
        w = local_span("America/New_York", 2027, 11, 7, 0, 4)
        assert w.duration == 5 * H
        slots = find_slots([person("a", [w])], SearchRules(), datetime(2027, 11, 1, tzinfo=UTC))
        assert len(slots) == 9
        assert_on_grid(slots, SearchRules())

    @pytest.mark.parametrize(
        ("zone", "first_utc"),
        [
            ("Asia/Kolkata", "03:30"),  # 09:00 IST = 03:30 UTC, on the grid
            ("Asia/Kathmandu", "03:30"),  # 09:00 NPT = 03:15 UTC, first grid start 03:30
            ("Australia/Eucla", "00:30"),  # 09:00 +08:45 = 00:15 UTC
        ],
    )
    def test_odd_offset_zones_keep_the_utc_grid(self, zone: str, first_utc: str) -> None:
        w = local_span(zone, 2027, 1, 4, 9, 12)
        slots = find_slots([person("a", [w])], SearchRules(), NOW)
        assert slots[0].start.strftime("%H:%M") == first_utc
        assert_on_grid(slots, SearchRules())


class TestBounds:
    def test_minimum_notice_is_relative_to_now(self) -> None:
        a = person("a", [span("09:00", "12:00", 1)])
        now = at("10:15")  # notice ends tomorrow 10:15: first start 10:30
        assert starts(find_slots([a], SearchRules(), now)) == ["05 10:30", "05 11:00"]
        # the same data long before: every start is bookable
        assert len(find_slots([a], SearchRules(), NOW)) == 5
        # and nothing once `now` is past the window
        assert find_slots([a], SearchRules(), at("12:00", 1)) == []

    def test_minimum_notice_exactly_on_a_grid_point(self) -> None:
        a = person("a", [span("09:00", "12:00", 1)])
        assert starts(find_slots([a], SearchRules(), at("10:00")))[0] == "05 10:00"

    def test_custom_and_zero_notice(self) -> None:
        a = person("a", [span("09:00", "12:00")])
        assert starts(find_slots([a], SearchRules(min_notice=H), at("09:10"))) == [
            "04 10:30",
            "04 11:00",
        ]
        assert starts(find_slots([a], OPEN, at("09:00")))[0] == "04 09:00"

    def test_horizon_bounds_the_start(self) -> None:
        a = person("a", [span("00:00", "00:00", d, d + 1) for d in range(10)])
        rules = SearchRules(min_notice=timedelta(0), horizon=timedelta(days=2))
        slots = find_slots([a], rules, at("00:00"))
        assert slots[0].start == at("00:00")
        assert slots[-1].start == at("00:00", 2)  # a start exactly at the horizon is allowed
        assert slots[-1].end == at("01:00", 2)
        assert len(slots) == 2 * 48 + 1

    def test_start_and_end_bounds(self) -> None:
        a = person("a", [span("09:00", "17:00", d) for d in range(5)])
        slots = find_slots([a], SearchRules(), NOW, start=at("15:00", 1), end=at("10:30", 2))
        assert starts(slots) == ["05 15:00", "05 15:30", "05 16:00", "06 09:00", "06 09:30"]
        assert slots[-1].end <= at("10:30", 2)

    def test_end_inside_a_slot_excludes_it(self) -> None:
        a = person("a", [span("09:00", "12:00")])
        assert starts(find_slots([a], SearchRules(), NOW, end=at("10:59"))) == [
            "04 09:00",
            "04 09:30",
        ]

    def test_off_grid_start_bound_rounds_up(self) -> None:
        a = person("a", [span("09:00", "12:00")])
        assert starts(find_slots([a], SearchRules(), NOW, start=at("09:01")))[0] == "04 09:30"

    def test_empty_range(self) -> None:
        a = person("a", [span("09:00", "12:00")])
        assert find_slots([a], SearchRules(), NOW, start=at("12:00"), end=at("09:00")) == []
        assert find_slots([a], SearchRules(), at("12:00"), end=at("00:00", 1)) == []

    def test_naive_now_refused(self) -> None:
        with pytest.raises(InvalidInterval):
            find_slots([person("a", [span("09:00", "12:00")])], SearchRules(), datetime(2027, 1, 1))


class TestBuffers:
    WINDOW = span("08:00", "13:00")
    BUSY = span("10:00", "11:00")

    def run(self, before: int, after: int) -> list[str]:
        rules = SearchRules(buffer_before=before * M, buffer_after=after * M)
        slots = find_slots([person("a", [self.WINDOW], [self.BUSY])], rules, NOW)
        assert_on_grid(slots, rules)
        return [s.start.strftime("%H:%M") for s in slots]

    def test_no_buffer(self) -> None:
        assert self.run(0, 0) == ["08:00", "08:30", "09:00", "11:00", "11:30", "12:00"]

    def test_buffer_before_removes_the_start_right_after_busy(self) -> None:
        # 11:00 needs 10:45-11:00 free before it; the grid is not shifted to 11:15.
        assert self.run(15, 0) == ["08:00", "08:30", "09:00", "11:30", "12:00"]

    def test_buffer_after_removes_the_start_right_before_busy(self) -> None:
        # 09:00-10:00 needs 10:00-10:15 free after it.
        assert self.run(0, 15) == ["08:00", "08:30", "11:00", "11:30", "12:00"]

    def test_both_buffers(self) -> None:
        assert self.run(15, 15) == ["08:00", "08:30", "11:30", "12:00"]
        assert self.run(30, 30) == ["08:00", "08:30", "11:30", "12:00"]
        assert self.run(31, 31) == ["08:00", "12:00"]

    def test_buffers_do_not_shrink_availability_edges(self) -> None:
        rules = SearchRules(buffer_before=30 * M, buffer_after=30 * M)
        slots = find_slots([person("a", [span("09:00", "10:00")])], rules, NOW)
        assert slots == [span("09:00", "10:00")]

    def test_buffer_only_around_busy_of_the_same_person(self) -> None:
        rules = SearchRules(buffer_before=15 * M)
        a = person("a", [span("08:00", "13:00")], [self.BUSY])
        b = person("b", [span("11:00", "13:00")])  # b's window starts at 11: no buffer needed
        assert [s.start.strftime("%H:%M") for s in find_slots([a, b], rules, NOW)] == [
            "11:30",
            "12:00",
        ]

    def test_free_time_widens_busy_by_the_buffers(self) -> None:
        rules = SearchRules(buffer_before=15 * M, buffer_after=30 * M)
        free = free_time(person("a", [self.WINDOW], [self.BUSY]), rules)
        # slot [s, e) clashes when [s-15, e+30) meets 10-11: busy acts as 09:30-11:15
        assert free == (span("08:00", "09:30"), span("11:15", "13:00"))


class TestGroupByDay:
    def test_utc_day_splits_into_two_local_days(self) -> None:
        # 2027-01-04 UTC 13:00..16:00 in Tokyo (+09:00) is 22:00 on the 4th .. 01:00 on the 5th.
        slots = find_slots([person("a", [span("13:00", "17:00")])], SearchRules(), NOW)
        days = group_by_day(slots, ZoneInfo("Asia/Tokyo"))
        assert [d for d, _ in days] == [date(2027, 1, 4), date(2027, 1, 5)]
        assert starts(days[0][1]) == ["04 13:00", "04 13:30", "04 14:00", "04 14:30"]
        assert starts(days[1][1]) == ["04 15:00", "04 15:30", "04 16:00"]
        assert sum(len(v) for _, v in days) == len(slots)
        # In UTC the same slots are one day.
        assert [d for d, _ in group_by_day(slots, ZoneInfo("UTC"))] == [date(2027, 1, 4)]

    def test_west_of_utc(self) -> None:
        # 05:00-10:00 UTC is 21:00 on the 3rd .. 02:00 on the 4th in Los Angeles (UTC-8).
        slots = find_slots([person("a", [span("05:00", "10:00")])], SearchRules(), NOW)
        days = group_by_day(slots, ZoneInfo("America/Los_Angeles"))
        assert [d for d, _ in days] == [date(2027, 1, 3), date(2027, 1, 4)]
        assert [len(v) for _, v in days] == [6, 3]
        assert days[1][1][0].start == at("08:00")  # local midnight

    def test_order_of_input_does_not_matter(self) -> None:
        slots = find_slots([person("a", [span("13:00", "17:00")])], SearchRules(), NOW)
        zone = ZoneInfo("Asia/Tokyo")
        assert group_by_day(reversed(slots), zone) == group_by_day(slots, zone)

    def test_empty(self) -> None:
        assert group_by_day([], ZoneInfo("UTC")) == []


class TestDiagnose:
    def test_names_the_participant_who_does_not_line_up(self) -> None:
        c = person("c", [span("09:00", "12:00")], label="Cand")
        i1 = person("i1", [span("09:00", "12:00")], label="Ann")
        i2 = person("i2", [span("14:00", "17:00")], label="Bob")
        assert find_slots([c, i1, i2], SearchRules(), NOW) == []
        d = diagnose([c, i1, i2], SearchRules(), NOW)
        assert d.bottlenecks == ["Bob"]
        assert any("Bob" in r and "line up" in r for r in d.reasons)

    def test_names_the_participant_with_no_free_time(self) -> None:
        c = person("c", [span("09:00", "12:00")])
        i = person("i", [span("09:00", "12:00")], [span("08:00", "13:00")], label="Ann")
        d = diagnose([c, i], SearchRules(), NOW)
        assert d.bottlenecks == ["Ann"]
        assert any("Ann has no free time" in r for r in d.reasons)

    def test_names_the_participant_with_nothing_in_range(self) -> None:
        c = person("c", [span("09:00", "12:00", d) for d in range(3)])
        i = person("i", [span("09:00", "12:00", 2)], label="Ann")
        d = diagnose([c, i], SearchRules(), NOW, end=at("00:00", 2))
        assert d.bottlenecks == ["Ann"]
        assert any("Ann has no free 1 h in the range" in r for r in d.reasons)
        # and the nearest bookable alternative is offered
        assert d.alternatives[0] == span("09:00", "10:00", 2)

    def test_no_common_time_for_the_group(self) -> None:
        a = person("a", [span("09:00", "10:00")])
        b = person("b", [span("09:30", "10:30")])
        c = person("c", [span("09:30", "10:30")])
        d = diagnose([a, b, c], SearchRules(), NOW)
        assert d.bottlenecks == ["a"]
        d2 = diagnose(
            [a, person("b", [span("10:00", "11:00")]), person("c", [span("08:30", "09:30")])],
            SearchRules(),
            NOW,
        )
        assert d2.bottlenecks == []
        assert any("No common free time" in r for r in d2.reasons)

    def test_notes_minimum_notice(self) -> None:
        now = at("09:00")
        a = person("a", [span("10:00", "12:00")])  # only within the next 24 h
        b = person("b", [span("09:00", "13:00")])
        assert find_slots([a, b], SearchRules(), now) == []
        d = diagnose([a, b], SearchRules(), now)
        assert any("minimum notice (24 h)" in r for r in d.reasons)
        assert d.alternatives == []  # too-soon slots are not bookable alternatives
        assert d.bottlenecks == [] and not any("has no free" in r for r in d.reasons), d  # nobody is blamed

    def test_past_common_time_is_not_blamed_on_notice(self) -> None:
        a = person("a", [span("10:00", "12:00", -3), span("10:00", "12:00", 5)])
        b = person("b", [span("10:00", "12:00", -3)])
        d = diagnose([a, b], SearchRules(), at("09:00"))
        assert not any("notice" in r for r in d.reasons)

    def test_empty_range_is_explained(self) -> None:
        a = person("a", [span("10:00", "12:00", 3)])
        d = diagnose([a], SearchRules(), at("09:00"), start=at("00:00", 2), end=at("00:00", 1))
        assert any("date range is empty" in r for r in d.reasons)
        assert d.alternatives == [
            span("10:00", "11:00", 3),
            span("10:30", "11:30", 3),
            span("11:00", "12:00", 3),
        ]

    def test_alternatives_are_nearest_to_the_requested_range(self) -> None:
        a = person("a", [span("09:00", "10:00", d) for d in (2, 6, 30)])
        # asked for days 3..5: day 6 (just after) and day 2 (just before) are nearest
        d = diagnose(
            [a], SearchRules(), NOW, start=at("00:00", 3), end=at("00:00", 5), max_alternatives=2
        )
        assert d.alternatives == [span("09:00", "10:00", 2), span("09:00", "10:00", 6)]
        # a long range: the slot just after its end beats one well before its start
        d = diagnose(
            [a], SearchRules(), NOW, start=at("00:00", 7), end=at("00:00", 30), max_alternatives=1
        )
        assert d.alternatives == [span("09:00", "10:00", 30)]

    def test_alternatives_respect_notice_and_horizon(self) -> None:
        rules = SearchRules(horizon=timedelta(days=10))
        a = person("a", [span("09:00", "12:00", d) for d in range(-2, 20)])
        d = diagnose([a], rules, at("09:00"), start=at("00:00", 30), max_alternatives=50)
        full = search_bounds(rules, at("09:00"))
        assert full is not None and d.alternatives
        assert all(
            full.contains(s) and s.start <= at("09:00") + rules.horizon for s in d.alternatives
        )
        assert d.alternatives == sorted(d.alternatives)


# --------------------------------------------------------------------------------------------
# Properties against the brute-force reference
# --------------------------------------------------------------------------------------------

LATTICE = 15 * M
SPAN = 3 * 24 * 4  # 15-minute points over three days


@st.composite
def lattice_intervals(draw: st.DrawFn, max_len: int = 32) -> Interval:
    a = draw(st.integers(0, SPAN - 1))
    n = draw(st.integers(1, max_len))
    return Interval(DAY + a * LATTICE, DAY + (a + n) * LATTICE)


@st.composite
def participants(draw: st.DrawFn, key: str) -> Participant:
    windows = draw(st.lists(lattice_intervals(48), max_size=5))
    busy = draw(st.lists(lattice_intervals(12), max_size=6))
    return Participant(key=key, windows=tuple(windows), busy=tuple(busy))


@st.composite
def panels(draw: st.DrawFn, min_size: int = 1, max_size: int = 4) -> list[Participant]:
    n = draw(st.integers(min_size, max_size))
    return [draw(participants(f"p{i}")) for i in range(n)]


minutes = st.sampled_from
rules_st = st.builds(
    SearchRules,
    duration=minutes([15 * M, 30 * M, 45 * M, 60 * M, 90 * M, 120 * M]),
    step=minutes([15 * M, 30 * M, 60 * M, 20 * M]),
    min_notice=minutes([timedelta(0), 50 * M, 24 * H]),
    horizon=minutes([timedelta(0), H, timedelta(days=1), timedelta(days=2), timedelta(days=90)]),
    buffer_before=minutes([timedelta(0), 15 * M, 10 * M, 30 * M]),
    buffer_after=minutes([timedelta(0), 15 * M, 45 * M]),
)
# `now` on a 5-minute lattice from a day before the universe: bounds are often off the grid.
now_st = st.integers(-24 * 12, 3 * 24 * 12).map(lambda k: DAY + k * 5 * M)
bound_st = st.none() | st.integers(-4, SPAN + 4).map(lambda k: DAY + k * LATTICE + (k % 3) * 5 * M)


@REFERENCE
@given(panels(), rules_st, now_st, bound_st, bound_st)
def test_matches_brute_force_reference(
    ps: list[Participant],
    rules: SearchRules,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
) -> None:
    got = find_slots(ps, rules, now, start, end)
    assert got == reference_slots(ps, rules, now, start, end)


@PROPS
@given(panels(), rules_st, now_st, bound_st, bound_st)
def test_slots_lie_in_everyones_free_time_on_the_grid(
    ps: list[Participant],
    rules: SearchRules,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
) -> None:
    slots = find_slots(ps, rules, now, start, end)
    assert_on_grid(slots, rules)
    assert slots == sorted(set(slots))
    for p in ps:
        busy = [b.widen(rules.buffer_after, rules.buffer_before) for b in p.busy]
        free = subtract(p.windows, busy)
        assert free == free_time(p, rules)
        for s in slots:
            assert any(f.contains(s) for f in free)
            assert not any(
                b.overlaps(Interval(s.start - rules.buffer_before, s.end + rules.buffer_after))
                for b in p.busy
            )
    for s in slots:
        assert s.start >= now + rules.min_notice
        assert s.start <= now + rules.horizon
        assert start is None or s.start >= start
        assert end is None or s.end <= end


@PROPS
@given(st.data(), panels(), rules_st, now_st)
def test_independent_of_orders(
    data: st.DataObject, ps: list[Participant], rules: SearchRules, now: datetime
) -> None:
    expected = find_slots(ps, rules, now)
    shuffled = [
        Participant(
            key=p.key,
            windows=tuple(data.draw(st.permutations(p.windows))),
            busy=tuple(data.draw(st.permutations(p.busy))),
        )
        for p in data.draw(st.permutations(ps))
    ]
    assert find_slots(shuffled, rules, now) == expected


@PROPS
@given(panels(max_size=3), participants("extra"), rules_st, now_st)
def test_adding_a_participant_never_adds_slots(
    ps: list[Participant], extra: Participant, rules: SearchRules, now: datetime
) -> None:
    before = set(find_slots(ps, rules, now))
    after = find_slots([*ps, extra], rules, now)
    assert set(after) <= before
    assert set(after) == before & set(find_slots([extra], rules, now))


@PROPS
@given(panels(), rules_st, now_st)
def test_merging_windows_and_busy_first_changes_nothing(
    ps: list[Participant], rules: SearchRules, now: datetime
) -> None:
    merged = [
        Participant(key=p.key, windows=normalize(p.windows), busy=normalize(p.busy)) for p in ps
    ]
    assert find_slots(merged, rules, now) == find_slots(ps, rules, now)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels(), rules_st, now_st, bound_st, bound_st)
def test_diagnose_is_consistent(
    ps: list[Participant],
    rules: SearchRules,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
) -> None:
    if find_slots(ps, rules, now, start, end):
        return
    d = diagnose(ps, rules, now, start, end)
    assert d.reasons
    assert set(d.bottlenecks) <= {p.name for p in ps}
    bookable = set(reference_slots(ps, rules, now))
    assert set(d.alternatives) <= bookable
    assert len(d.alternatives) <= 3
    assert d.alternatives == sorted(d.alternatives)
    if bookable:
        assert d.alternatives
