"""The `/availability add` quick forms: every form, every error, DST, and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scheduling.availability_text import (
    EXAMPLES,
    describe_windows,
    examples_for,
    parse_availability,
)
from scheduling.errors import (
    BeyondHorizon,
    InvalidInterval,
    NonexistentLocalTime,
    ParseError,
    PastTime,
    SchedulingError,
    TooManyWindows,
    UnknownZone,
)
from scheduling.intervals import Interval
from scheduling.zones import parse_zone, resolve_local

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
ZONE_NAMES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
BERLIN = ZoneInfo("Europe/Berlin")
NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def parse(text: str, zone: str = "UTC", **kw) -> list[Interval]:
    return parse_availability(text, zone=ZoneInfo(zone), now=kw.pop("now", NOW), **kw)


def local(windows: list[Interval], zone: str) -> list[tuple[str, str]]:
    """Windows as local `YYYY-MM-DD HH:MM` pairs: the tables below read like the input."""
    z = ZoneInfo(zone)
    return [
        (f"{w.start.astimezone(z):%Y-%m-%d %H:%M}", f"{w.end.astimezone(z):%Y-%m-%d %H:%M}")
        for w in windows
    ]


# --- forms, read in the sender's zone -------------------------------------------------------

FORMS = [
    ("2026-12-02 10:00-14:00", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("2026-12-02 10:00 - 14:00", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("2026-12-02 10:00 to 14:00", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("2026-12-02 10:00–14:00", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("on 2026-12-02 from 10:00 to 14:00", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("2 Dec 10-14", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("dec 2 2026 10:00-14:00", [("2026-12-02 10:00", "2026-12-02 14:00")]),
    ("jan 5 10-11", [("2027-01-05 10:00", "2027-01-05 11:00")]),  # next 5 Jan
    ("tomorrow 9am-12pm", [("2026-11-24 09:00", "2026-11-24 12:00")]),
    ("Tomorrow 9:30am-12:15pm", [("2026-11-24 09:30", "2026-11-24 12:15")]),
    ("tomorrow 9-11am", [("2026-11-24 09:00", "2026-11-24 11:00")]),
    ("tomorrow 11-2pm", [("2026-11-24 11:00", "2026-11-24 14:00")]),
    ("tomorrow 8-9pm", [("2026-11-24 20:00", "2026-11-24 21:00")]),
    ("tomorrow 12am-1am", [("2026-11-24 00:00", "2026-11-24 01:00")]),
    ("tomorrow 12pm-1pm", [("2026-11-24 12:00", "2026-11-24 13:00")]),
    ("tomorrow noon-17.30", [("2026-11-24 12:00", "2026-11-24 17:30")]),
    ("tomorrow 9-17", [("2026-11-24 09:00", "2026-11-24 17:00")]),
    ("tomorrow 9-5", [("2026-11-24 09:00", "2026-11-24 17:00")]),
    ("tomorrow 09:00-24:00", [("2026-11-24 09:00", "2026-11-25 00:00")]),
    ("today 14:00-15:30", [("2026-11-23 14:00", "2026-11-23 15:30")]),
    ("tue 14:00-17:30", [("2026-11-24 14:00", "2026-11-24 17:30")]),
    ("Tuesday 14:00-17:30", [("2026-11-24 14:00", "2026-11-24 17:30")]),
    ("next tue 14:00-17:30", [("2026-12-01 14:00", "2026-12-01 17:30")]),
    ("next sunday 10-12", [("2026-12-06 10:00", "2026-12-06 12:00")]),
    ("this fri 10-12", [("2026-11-27 10:00", "2026-11-27 12:00")]),
    ("wed,fri 10-12", [("2026-11-25 10:00", "2026-11-25 12:00"), ("2026-11-27 10:00", "2026-11-27 12:00")]),
    ("2026-12-02 09:00, 2026-12-02 10:00", [("2026-12-02 09:00", "2026-12-02 10:00"), ("2026-12-02 10:00", "2026-12-02 11:00")]),
    ("2026-12-02 09:00, 10:00", [("2026-12-02 09:00", "2026-12-02 10:00"), ("2026-12-02 10:00", "2026-12-02 11:00")]),
    ("2026-12-02 10:00-12:00; 2026-12-03 14:00-15:00", [("2026-12-02 10:00", "2026-12-02 12:00"), ("2026-12-03 14:00", "2026-12-03 15:00")]),
    ("2026-12-03 14:00-15:00, 2026-12-02 10:00-12:00", [("2026-12-02 10:00", "2026-12-02 12:00"), ("2026-12-03 14:00", "2026-12-03 15:00")]),
    ("2026-12-02 22:00-02:00", [("2026-12-02 22:00", "2026-12-03 02:00")]),
    ("2026-12-02 10pm-2am", [("2026-12-02 22:00", "2026-12-03 02:00")]),
    ("2026-12-02 23:00-midnight", [("2026-12-02 23:00", "2026-12-03 00:00")]),
    ("2026-12-02 10:00-02:00", [("2026-12-02 10:00", "2026-12-03 02:00")]),  # padded: 24 h
    ("2026-12-02 10:00 -11:00", [("2026-12-02 10:00", "2026-12-02 11:00")]),  # range, not zone
]


@pytest.mark.parametrize("zone", ZONE_NAMES)
@pytest.mark.parametrize(("text", "expected"), FORMS)
def test_forms_in_the_senders_zone(text: str, expected: list[tuple[str, str]], zone: str) -> None:
    if text.startswith("today") and zone == "Asia/Kolkata":
        pytest.skip("14:30 already in Kolkata: clipped, see test_today_is_local")
    assert local(parse(text, zone), zone) == expected


def test_today_is_local() -> None:
    # At 09:00Z it is 14:30 in Kolkata: a window from 14:00 is clipped to now.
    windows = parse("today 14:00-15:30", "Asia/Kolkata")
    assert windows == [Interval(NOW, datetime(2026, 11, 23, 10, 0, tzinfo=UTC))]
    # ... and 04:00 in New York, so "today" is still Monday there too.
    assert local(parse("today 05:00-06:00", "America/New_York"), "America/New_York") == [
        ("2026-11-23 05:00", "2026-11-23 06:00")
    ]


def test_bare_weekday_today_counts_until_its_window_ends() -> None:
    # Monday 09:00Z = 10:00 Berlin: "mon 12-13" is still ahead today, "mon 8-9" is next week.
    assert local(parse("mon 12:00-13:00", "Europe/Berlin"), "Europe/Berlin") == [
        ("2026-11-23 12:00", "2026-11-23 13:00")
    ]
    assert local(parse("mon 08:00-09:00", "Europe/Berlin"), "Europe/Berlin") == [
        ("2026-11-30 08:00", "2026-11-30 09:00")
    ]
    # Under way: clipped to start now.
    assert parse("mon 09:00-12:00", "Europe/Berlin")[0].start == NOW
    # "next mon" is next calendar week's Monday.
    assert local(parse("next mon 12:00-13:00", "Europe/Berlin"), "Europe/Berlin") == [
        ("2026-11-30 12:00", "2026-11-30 13:00")
    ]


def test_window_under_way_is_clipped_to_now() -> None:
    assert parse("2026-11-23 08:00-10:00") == [Interval(NOW, NOW + timedelta(hours=1))]


def test_window_ending_exactly_now_is_past() -> None:
    with pytest.raises(PastTime):
        parse("2026-11-23 07:00-09:00")


@pytest.mark.parametrize(
    ("text", "zone_name"),
    [
        ("2026-12-02 10:00-14:00 UTC", "UTC"),
        ("2026-12-02 10:00-14:00 Z", "UTC"),
        ("2026-12-02 10:00-14:00 +05:30", "Asia/Kolkata"),
        ("2026-12-02 10:00-14:00 UTC+5:30", "Asia/Kolkata"),
        ("2026-12-02 10:00-14:00 UTC +05:30", "Asia/Kolkata"),
        ("2026-12-02 10:00-14:00 Europe/Berlin", "Europe/Berlin"),
        ("2026-12-02 10:00-14:00 in europe/berlin", "Europe/Berlin"),
        ("2026-12-02 10:00-14:00 -0500", "America/New_York"),
        ("2026-12-02 10:00-14:00 America/New_York", "America/New_York"),
    ],
)
def test_named_zone_overrides_the_senders(text: str, zone_name: str) -> None:
    expected = parse("2026-12-02 10:00-14:00", zone_name)
    for sender in ZONE_NAMES:
        assert parse(text, sender) == expected


def test_zone_suffix_applies_to_every_segment() -> None:
    windows = parse("2026-12-02 09:00, 2026-12-03 09:00-10:00 Europe/Berlin", "Asia/Kolkata")
    assert local(windows, "Europe/Berlin") == [
        ("2026-12-02 09:00", "2026-12-02 10:00"),
        ("2026-12-03 09:00", "2026-12-03 10:00"),
    ]


def test_slot_length_is_configurable() -> None:
    [w] = parse("2026-12-02 09:00", slot_length=timedelta(minutes=30))
    assert w.duration == timedelta(minutes=30)


# --- weekly repeats -------------------------------------------------------------------------


def test_weekdays_weekly_until_inclusive() -> None:
    windows = parse("mon-fri 09:00-17:00 weekly until 2027-01-31", "Europe/Berlin")
    days = [w.start.astimezone(BERLIN).date() for w in windows]
    assert days[0] == date(2026, 11, 23) and days[-1] == date(2027, 1, 29)
    assert len(days) == 50 and all(d.weekday() < 5 for d in days)
    assert windows[0].start == NOW  # today's is under way: clipped
    assert all(w.start.astimezone(BERLIN).time() == time(9) for w in windows[1:])
    inclusive = parse("mon-fri 09:00-17:00 weekly until 2027-01-29", "Europe/Berlin")
    assert inclusive == windows


@pytest.mark.parametrize(
    ("text", "weekdays", "count"),
    [
        ("mon,wed,fri 10:00-12:00 weekly until 2027-01-31", {0, 2, 4}, 30),
        ("tue 14:00-16:00 weekly until 2027-01-31", {1}, 10),
        ("tuesday 14:00-16:00 every week until 2027-01-31", {1}, 10),
        ("2026-12-02 10:00-11:00 weekly until 2026-12-16", {2}, 3),
        ("next mon-wed 10:00-11:00 weekly until 2026-12-09", {0, 1, 2}, 6),
        ("weekdays 8-9 weekly until 2026-11-27", {1, 2, 3, 4}, 4),  # Monday's is over
    ],
)
def test_weekly_forms(text: str, weekdays: set[int], count: int) -> None:
    windows = parse(text, "Europe/Berlin")
    assert len(windows) == count
    assert {w.start.astimezone(BERLIN).weekday() for w in windows} == weekdays
    assert windows == sorted(windows)


def test_weekly_keeps_local_wall_time_across_dst() -> None:
    windows = parse(
        "mon 09:00-10:00 weekly until 2027-04-05", "Europe/London", horizon=timedelta(days=180)
    )
    by_day = {w.start.astimezone(LONDON).date(): w for w in windows}
    before, after = by_day[date(2027, 3, 22)], by_day[date(2027, 3, 29)]
    assert all(w.start.astimezone(LONDON).time() == time(9) for w in windows)
    assert before.start == datetime(2027, 3, 22, 9, tzinfo=UTC)  # GMT
    assert after.start == datetime(2027, 3, 29, 8, tzinfo=UTC)  # BST: the instant moved 1 h


def test_midnight_crossing_repeat() -> None:
    windows = parse("fri 22:00-02:00 weekly until 2026-12-11", "Europe/Berlin")
    assert local(windows, "Europe/Berlin") == [
        ("2026-11-27 22:00", "2026-11-28 02:00"),
        ("2026-12-04 22:00", "2026-12-05 02:00"),
        ("2026-12-11 22:00", "2026-12-12 02:00"),
    ]


# --- DST ------------------------------------------------------------------------------------


def test_nonexistent_local_time_errors() -> None:
    with pytest.raises(NonexistentLocalTime, match="02:30 does not exist in America/New_York"):
        parse("2027-03-14 02:30-04:00", "America/New_York", horizon=timedelta(days=400))


def test_nonexistent_time_inside_a_repeat_errors() -> None:
    with pytest.raises(NonexistentLocalTime):
        parse("sun 02:30-03:30 weekly until 2027-03-21", "America/New_York",
              horizon=timedelta(days=400))


def test_ambiguous_local_time_is_the_earlier_instant() -> None:
    [w] = parse("2027-11-07 01:30-03:00", "America/New_York", horizon=timedelta(days=400))
    assert w.start == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)  # 01:30 EDT, not EST
    assert w.end == datetime(2027, 11, 7, 8, 0, tzinfo=UTC)


# --- errors ---------------------------------------------------------------------------------

TWO_YEARS = "mon-fri 09:00-17:00 weekly until 2028-12-31"
ERRORS = [
    ("", ParseError, "Say when"),
    ("   ", ParseError, "Say when"),
    ("sometime next week", ParseError, "could not understand"),
    ("2026-12-02", ParseError, "could not understand"),
    ("10:00-12:00", ParseError, "Start with the day"),
    ("12/02 10:00-12:00", ParseError, "YYYY-MM-DD"),
    ("2026-02-30 10:00-12:00", ParseError, "not a date"),
    ("2026-12-02 25:00-26:00", ParseError, "not a time"),
    ("tomorrow 13pm-2pm", ParseError, "not a time"),
    ("tomorrow 9:75-10", ParseError, "not a time"),
    ("tue 14:00-16:00 weekly", ParseError, "until"),
    ("tue 14:00-16:00 weekly until someday", ParseError, "not a date"),
    ("2026-12-02 10:00-12:00 UTC; 2026-12-03 10:00-12:00", ParseError, "once, at the very end"),
    ("2026-12-02 10:00-10:00", InvalidInterval, "end is not after the start"),
    ("tomorrow 9am-9am", InvalidInterval, "end is not after the start"),
    ("2026-11-20 10:00-12:00", PastTime, "in the past"),
    ("today 00:00-01:00", PastTime, "in the past"),
    ("tue 14:00-16:00 weekly until 2026-11-01", PastTime, "in the past"),
    ("2026-12-09 10:00-12:00 weekly until 2026-12-02", InvalidInterval, "before its first day"),
    ("tue 14:00-16:00 weekly until 2026-11-23", InvalidInterval, "no Tuesday"),
    ("2027-03-01 10:00-12:00", BeyondHorizon, "too far ahead"),
    ("mon-fri 09:00-17:00 weekly until 2027-04-30", BeyondHorizon, "too far ahead"),
    ("2026-12-02 10:00-14:00 PST", UnknownZone, "'PST'"),
    ("2026-12-02 10:00-14:00 Mars/Olympus", UnknownZone, "'Mars/Olympus'"),
    ("2026-12-02 10:00-14:00 +15:00", UnknownZone, "'+15:00'"),
    ("2026-12-02 02:30-04:00 America/New_York", None, None),  # placeholder, replaced below
    (TWO_YEARS, TooManyWindows, "more than 200"),
    ("; ".join(f"2026-12-0{d} " + ", ".join(f"{h:02d}:00" for h in range(24)) for d in range(1, 10)),
     TooManyWindows, "more than 200"),
]
ERRORS = [e for e in ERRORS if e[1] is not None]


@pytest.mark.parametrize("zone", ZONE_NAMES)
@pytest.mark.parametrize(("text", "error", "words"), ERRORS)
def test_errors_explain_and_offer_a_working_example(
    text: str, error: type[SchedulingError], words: str, zone: str
) -> None:
    with pytest.raises(error) as caught:
        parse(text, zone)
    err = caught.value
    assert words in str(err)
    assert err.example, "every error offers an example"
    assert parse(err.example, zone), err.example  # and that example really works now


def test_nonexistent_error_offers_a_working_example() -> None:
    horizon = timedelta(days=400)
    with pytest.raises(NonexistentLocalTime) as caught:
        parse("2027-03-14 02:30-04:00", "America/New_York", horizon=horizon)
    assert caught.value.example == "2027-03-14 03:00"
    assert parse(caught.value.example, "America/New_York", horizon=horizon)


def test_too_many_windows_respects_the_cap() -> None:
    assert len(parse("mon-fri 9-10 weekly until 2027-01-01", max_windows=30)) == 30
    with pytest.raises(TooManyWindows):
        parse("mon-fri 9-10 weekly until 2027-01-04", max_windows=30)


def test_nothing_partial_on_error() -> None:
    with pytest.raises(PastTime):
        parse("2026-12-02 10:00-12:00; 2026-11-01 10:00-12:00")


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidInterval):
        parse_availability("tomorrow 9-10", zone=BERLIN, now=datetime(2026, 11, 23, 9))


# --- examples and display -------------------------------------------------------------------


@pytest.mark.parametrize("zone", ZONE_NAMES)
def test_examples_parse(zone: str) -> None:
    for text in EXAMPLES:
        assert parse(text, zone), text
    later = datetime(2027, 6, 1, 12, tzinfo=UTC)
    for text in examples_for(later.date()):
        assert parse(text, zone, now=later), text


def test_describe_windows() -> None:
    windows = parse("2026-12-02 10:00-14:00; 2026-12-02 22:00-02:00", "Europe/Berlin")
    assert describe_windows(windows, BERLIN) == (
        "Wed 2 Dec 10:00–14:00 CET\nWed 2 Dec 22:00 – Thu 3 Dec 02:00 CET"
    )
    assert describe_windows(windows[:1], parse_zone("+05:30")) == "Wed 2 Dec 14:30–18:30 UTC+05:30"
    assert describe_windows([], BERLIN) == ""


# --- properties -----------------------------------------------------------------------------

ZONES = st.sampled_from(ZONE_NAMES + ["Europe/London", "Australia/Lord_Howe"])
HORIZON = timedelta(days=90)
clock = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
days_ahead = st.integers(-3, 100)
weekday_words = st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun", "mon-fri",
                                 "mon,wed,fri", "next tue", "this sat", "weekdays"])


@st.composite
def availability_texts(draw: st.DrawFn) -> str:
    day = (NOW.date() + timedelta(days=draw(days_ahead))).isoformat()
    start, end = draw(clock), draw(clock)
    times = f"{start:%H:%M}-{end:%H:%M}" if draw(st.booleans()) else f"{start:%H:%M}"
    prefix = draw(st.sampled_from([day, "today", "tomorrow", draw(weekday_words)]))
    repeat = ""
    if draw(st.booleans()):
        until = NOW.date() + timedelta(days=draw(st.integers(-5, 200)))
        repeat = f" weekly until {until.isoformat()}"
    zone = draw(st.sampled_from(["", " UTC", " +05:30", " Europe/Berlin", " -08:00"]))
    return f"{prefix} {times}{repeat}{zone}"


@settings(max_examples=300, deadline=None)
@given(text=availability_texts(), zone=ZONES)
def test_windows_are_valid_bounded_and_deterministic(text: str, zone: str) -> None:
    try:
        windows = parse(text, zone)
    except SchedulingError as err:
        assert err.example and parse(err.example, zone)
        return
    assert windows and windows == sorted(windows)
    for w in windows:
        assert w.end > w.start
        assert NOW <= w.start <= NOW + HORIZON
        assert w.end <= NOW + HORIZON + timedelta(days=1)
    assert parse(text, zone) == windows


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(list("0123456789:-,; amptoudeywekl/+.")), max_size=40))
def test_any_text_parses_or_raises_a_scheduling_error(text: str) -> None:
    try:
        parse(text, "Europe/Berlin")
    except SchedulingError as err:
        assert str(err) and err.example


@settings(max_examples=300, deadline=None)
@given(zone=ZONES, ahead=st.integers(1, 89), start=clock, end=clock)
def test_dated_ranges_equal_the_zone_resolved_instants(
    zone: str, ahead: int, start: time, end: time
) -> None:
    assume(start != end)
    z = ZoneInfo(zone)
    day = NOW.astimezone(z).date() + timedelta(days=ahead)
    end_day = day + timedelta(days=1) if end < start else day
    try:
        expected = Interval(resolve_local(day, start, z), resolve_local(end_day, end, z))
    except SchedulingError:
        assume(False)
    assume(expected.start <= NOW + HORIZON)
    text = f"{day.isoformat()} {start:%H:%M}-{end:%H:%M}"
    assert parse(text, zone) == [expected]
