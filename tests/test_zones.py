"""Zone parsing, local-time resolution (DST gaps and overlaps) and display."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduling.errors import NonexistentLocalTime, SchedulingError, UnknownZone
from scheduling.zones import (
    describe,
    describe_span,
    is_zone,
    parse_zone,
    resolve_local,
    zone_label,
    zone_of,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("AMERICA/NEW_YORK", "America/New_York"),
        ("Asia/Kolkata", "Asia/Kolkata"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("Z", "UTC"),
        ("GMT", "UTC"),
        ("+05:30", "UTC+05:30"),
        ("-0800", "UTC-08:00"),
        ("+5", "UTC+05:00"),
        ("UTC+2", "UTC+02:00"),
        ("gmt-03:00", "UTC-03:00"),
        ("+00:00", "UTC"),
        ("+14:00", "UTC+14:00"),
        ("-12", "UTC-12:00"),
    ],
)
def test_parse_zone(text: str, label: str) -> None:
    assert zone_label(parse_zone(text)) == label


def test_fixed_offsets_are_exact() -> None:
    assert parse_zone("+05:30").utcoffset(None) == timedelta(hours=5, minutes=30)
    assert parse_zone("-0800").utcoffset(None) == timedelta(hours=-8)


@pytest.mark.parametrize(
    "text", ["", "Mars/Olympus", "PST", "+15", "-13:00", "+05:75", "14:00", "Europe", "../etc"]
)
def test_unknown_zone(text: str) -> None:
    with pytest.raises(UnknownZone) as err:
        parse_zone(text)
    assert repr(text.strip()) in str(err.value)
    assert err.value.example is not None and is_zone(err.value.example)


def test_zone_of_takes_stored_iana_names_only() -> None:
    assert zone_of("Europe/Berlin") == BERLIN
    assert zone_of("america/new_york").key == "America/New_York"
    assert zone_of("UTC").key == "UTC"
    for bad in ("", "+05:30", "Nowhere/Place"):
        with pytest.raises(UnknownZone):
            zone_of(bad)
    assert issubclass(UnknownZone, SchedulingError)


def test_resolve_plain_time() -> None:
    assert resolve_local(date(2026, 12, 2), time(10), BERLIN) == datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert resolve_local(date(2026, 12, 2), time(10), parse_zone("+05:30")) == datetime(
        2026, 12, 2, 4, 30, tzinfo=UTC
    )


def test_nonexistent_time_in_spring_forward_gap() -> None:
    with pytest.raises(NonexistentLocalTime) as err:
        resolve_local(date(2027, 3, 14), time(2, 30), NY)
    message = str(err.value)
    assert "2027-03-14 02:30 does not exist in America/New_York" in message
    assert "clocks jump forward at 02:00" in message
    assert err.value.example == "2027-03-14 03:00"


def test_gap_edges_exist() -> None:
    assert resolve_local(date(2027, 3, 14), time(1, 59), NY) == datetime(2027, 3, 14, 6, 59, tzinfo=UTC)
    assert resolve_local(date(2027, 3, 14), time(3, 0), NY) == datetime(2027, 3, 14, 7, tzinfo=UTC)


def test_london_gap() -> None:
    with pytest.raises(NonexistentLocalTime, match="jump forward at 01:00 to 02:00"):
        resolve_local(date(2027, 3, 28), time(1, 15), LONDON)


def test_ambiguous_time_is_the_first_occurrence() -> None:
    # 01:30 happens twice on 2027-11-07 in New York: 05:30Z (EDT) and 06:30Z (EST).
    assert resolve_local(date(2027, 11, 7), time(1, 30), NY) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    assert resolve_local(date(2027, 11, 7), time(1, 30, fold=1), NY) == datetime(
        2027, 11, 7, 5, 30, tzinfo=UTC
    )


def test_describe() -> None:
    moment = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert describe(moment, BERLIN) == "Wed 2 Dec 10:00 CET"
    assert describe(moment, parse_zone("+05:30")) == "Wed 2 Dec 14:30 UTC+05:30"
    assert describe(moment, ZoneInfo("Asia/Kolkata")) == "Wed 2 Dec 14:30 IST"
    assert describe(moment, ZoneInfo("America/Sao_Paulo")) == "Wed 2 Dec 06:00 UTC-03:00"
    assert describe(moment, UTC) == "Wed 2 Dec 09:00 UTC"
    assert describe(moment, BERLIN, year=True) == "Wed 2 Dec 2026 10:00 CET"


def test_describe_span() -> None:
    start = datetime(2026, 12, 2, 9, tzinfo=UTC)
    assert describe_span(start, start + timedelta(hours=4), BERLIN) == "Wed 2 Dec 10:00–14:00 CET"
    assert (
        describe_span(start + timedelta(hours=12), start + timedelta(hours=16), BERLIN)
        == "Wed 2 Dec 22:00 – Thu 3 Dec 02:00 CET"
    )
    dst = datetime(2027, 3, 28, 0, tzinfo=UTC)
    assert describe_span(dst, dst + timedelta(hours=3), LONDON) == "Sun 28 Mar 00:00 GMT – 04:00 BST"


def test_zone_label() -> None:
    assert zone_label(BERLIN) == "Europe/Berlin"
    assert zone_label(UTC) == "UTC"
    assert zone_label(timezone(timedelta(hours=-3, minutes=-30))) == "UTC-03:30"


ZONES = st.sampled_from(["Europe/Berlin", "America/New_York", "Europe/London", "Asia/Kolkata",
                         "Australia/Lord_Howe", "America/Sao_Paulo"]).map(ZoneInfo)


@settings(max_examples=200, deadline=None)
@given(
    zone=ZONES,
    day=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    t=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
)
def test_resolved_instants_read_back_as_the_same_wall_time(zone: ZoneInfo, day: date, t: time) -> None:
    """Either the wall time exists and reads back unchanged (the earlier instant when it is
    ambiguous), or it is reported as nonexistent."""
    try:
        instant = resolve_local(day, t, zone)
    except NonexistentLocalTime:
        naive = datetime.combine(day, t)
        assert naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive
        return
    local = instant.astimezone(zone)
    assert (local.date(), local.time()) == (day, t)
    later = datetime.combine(day, t, zone).replace(fold=1).astimezone(UTC)
    assert instant <= later
