"""iCalendar feed source: ICS → busy semantics, the text prefilter, and HTTP/file fetching."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.intervals import Interval, normalize
from storage.freebusy import fetch_busy, fetch_many, source_for
from storage.freebusy import ics as ics_module
from storage.freebusy.base import BadCalendarData, redact_url
from storage.freebusy.ics import IcsSource, busy_from_ics, clear_cache
from storage.freebusy.netguard import AddressPolicy
from storage.freebusy.prefilter import SLACK, slim_ics

BERLIN = ZoneInfo("Europe/Berlin")
LOOPBACK = AddressPolicy.parse("127.0.0.0/8")  # the test servers are local; see test_netguard
NEW_YORK = ZoneInfo("America/New_York")


def utc_at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def iv(a: datetime, b: datetime) -> Interval:
    return Interval(a, b)


def cal(*events: str, extra: str = "") -> str:
    body = "".join(
        f"BEGIN:VEVENT\r\nDTSTAMP:20260101T000000Z\r\n{e.strip()}\r\nEND:VEVENT\r\n" for e in events
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{extra}{body}END:VCALENDAR\r\n"


def lines(*parts: str) -> str:
    return "\r\n".join(parts)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


# --- conversion semantics -------------------------------------------------------------------


def test_weekly_meeting_keeps_local_time_across_dst_berlin() -> None:
    feed = cal(
        lines(
            "UID:weekly-1",
            "DTSTART;TZID=Europe/Berlin:20270318T100000",
            "DTEND;TZID=Europe/Berlin:20270318T110000",
            "RRULE:FREQ=WEEKLY;COUNT=3",
        )
    )
    busy = busy_from_ics(feed, iv(utc_at(2027, 3, 15), utc_at(2027, 4, 10)), BERLIN)
    assert busy == (
        iv(utc_at(2027, 3, 18, 9), utc_at(2027, 3, 18, 10)),  # CET, UTC+1
        iv(utc_at(2027, 3, 25, 9), utc_at(2027, 3, 25, 10)),
        iv(
            utc_at(2027, 4, 1, 8), utc_at(2027, 4, 1, 9)
        ),  # CEST after 2027-03-28: one hour earlier in UTC
    )
    assert {b.start.astimezone(BERLIN).hour for b in busy} == {10}


def test_weekly_meeting_across_dst_new_york_with_utc_window_edges() -> None:
    feed = cal(
        lines(
            "UID:weekly-ny",
            "DTSTART;TZID=America/New_York:20270308T100000",
            "DURATION:PT30M",
            "RRULE:FREQ=WEEKLY",
        )
    )
    busy = busy_from_ics(feed, iv(utc_at(2027, 3, 8), utc_at(2027, 3, 16)), NEW_YORK)
    assert busy == (
        iv(utc_at(2027, 3, 8, 15), utc_at(2027, 3, 8, 15, 30)),  # EST, UTC-5
        iv(utc_at(2027, 3, 15, 14), utc_at(2027, 3, 15, 14, 30)),  # EDT after 2027-03-14
    )


def test_all_day_event_is_the_whole_local_day_in_the_person_zone() -> None:
    feed = cal(lines("UID:offsite", "DTSTART;VALUE=DATE:20270105", "DTEND;VALUE=DATE:20270106"))
    window = iv(utc_at(2027, 1, 1), utc_at(2027, 1, 10))
    assert busy_from_ics(feed, window, BERLIN) == (iv(utc_at(2027, 1, 4, 23), utc_at(2027, 1, 5, 23)),)
    assert busy_from_ics(feed, window, NEW_YORK) == (iv(utc_at(2027, 1, 5, 5), utc_at(2027, 1, 6, 5)),)


def test_all_day_event_without_dtend_lasts_one_day() -> None:
    feed = cal(lines("UID:holiday", "DTSTART;VALUE=DATE:20270105"))
    assert busy_from_ics(feed, iv(utc_at(2027, 1, 1), utc_at(2027, 1, 10)), ZoneInfo("UTC")) == (
        iv(utc_at(2027, 1, 5), utc_at(2027, 1, 6)),
    )


def test_exdate_removes_one_instance() -> None:
    feed = cal(
        lines(
            "UID:standup",
            "DTSTART;TZID=Europe/Berlin:20270104T093000",
            "DTEND;TZID=Europe/Berlin:20270104T094500",
            "RRULE:FREQ=DAILY;COUNT=3",
            "EXDATE;TZID=Europe/Berlin:20270105T093000",
        )
    )
    busy = busy_from_ics(feed, iv(utc_at(2027, 1, 1), utc_at(2027, 1, 10)), BERLIN)
    assert [b.start.date().day for b in busy] == [4, 6]


def test_recurrence_id_moves_one_instance() -> None:
    master = lines(
        "UID:sync",
        "DTSTART;TZID=Europe/Berlin:20270104T140000",
        "DTEND;TZID=Europe/Berlin:20270104T150000",
        "RRULE:FREQ=WEEKLY;COUNT=3",
    )
    moved = lines(
        "UID:sync",
        "RECURRENCE-ID;TZID=Europe/Berlin:20270111T140000",
        "DTSTART;TZID=Europe/Berlin:20270112T160000",
        "DTEND;TZID=Europe/Berlin:20270112T170000",
    )
    busy = busy_from_ics(cal(master, moved), iv(utc_at(2027, 1, 1), utc_at(2027, 1, 31)), BERLIN)
    assert busy == (
        iv(utc_at(2027, 1, 4, 13), utc_at(2027, 1, 4, 14)),
        iv(utc_at(2027, 1, 12, 15), utc_at(2027, 1, 12, 16)),  # moved, not on the 11th
        iv(utc_at(2027, 1, 18, 13), utc_at(2027, 1, 18, 14)),
    )


def test_cancelled_event_and_cancelled_instance_are_free() -> None:
    master = lines(
        "UID:review",
        "DTSTART:20270104T100000Z",
        "DTEND:20270104T110000Z",
        "RRULE:FREQ=DAILY;COUNT=3",
    )
    cancelled_instance = lines(
        "UID:review",
        "RECURRENCE-ID:20270105T100000Z",
        "DTSTART:20270105T100000Z",
        "DTEND:20270105T110000Z",
        "STATUS:CANCELLED",
    )
    cancelled_single = lines(
        "UID:gone", "DTSTART:20270104T150000Z", "DTEND:20270104T160000Z", "STATUS:CANCELLED"
    )
    feed = cal(master, cancelled_instance, cancelled_single)
    busy = busy_from_ics(feed, iv(utc_at(2027, 1, 1), utc_at(2027, 1, 10)), BERLIN)
    assert busy == (
        iv(utc_at(2027, 1, 4, 10), utc_at(2027, 1, 4, 11)),
        iv(utc_at(2027, 1, 6, 10), utc_at(2027, 1, 6, 11)),
    )


def test_transparent_and_show_as_free_events_are_free() -> None:
    feed = cal(
        lines("UID:a", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z", "TRANSP:TRANSPARENT"),
        lines(
            "UID:b",
            "DTSTART:20270104T120000Z",
            "DTEND:20270104T130000Z",
            "X-MICROSOFT-CDO-BUSYSTATUS:FREE",
        ),
        lines("UID:c", "DTSTART:20270104T140000Z", "DTEND:20270104T150000Z", "TRANSP:OPAQUE"),
    )
    assert busy_from_ics(feed, iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5)), BERLIN) == (
        iv(utc_at(2027, 1, 4, 14), utc_at(2027, 1, 4, 15)),
    )


def test_floating_time_is_read_in_the_person_zone() -> None:
    feed = cal(lines("UID:float", "DTSTART:20270104T090000", "DTEND:20270104T100000"))
    window = iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5))
    assert busy_from_ics(feed, window, BERLIN) == (iv(utc_at(2027, 1, 4, 8), utc_at(2027, 1, 4, 9)),)
    assert busy_from_ics(feed, window, NEW_YORK) == (iv(utc_at(2027, 1, 4, 14), utc_at(2027, 1, 4, 15)),)


def test_custom_vtimezone_is_honoured() -> None:
    vtimezone = lines(
        "BEGIN:VTIMEZONE",
        "TZID:Custom Office Time",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0300",
        "TZOFFSETTO:+0300",
        "END:STANDARD",
        "END:VTIMEZONE",
        "",
    )
    feed = cal(
        lines(
            "UID:tz",
            'DTSTART;TZID="Custom Office Time":20270104T120000',
            'DTEND;TZID="Custom Office Time":20270104T130000',
        ),
        extra=vtimezone,
    )
    assert busy_from_ics(feed, iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5)), BERLIN) == (
        iv(utc_at(2027, 1, 4, 9), utc_at(2027, 1, 4, 10)),
    )


def test_results_are_clipped_merged_and_zero_length_events_ignored() -> None:
    feed = cal(
        lines("UID:1", "DTSTART:20270104T080000Z", "DTEND:20270104T100000Z"),
        lines("UID:2", "DTSTART:20270104T093000Z", "DTEND:20270104T110000Z"),
        lines("UID:3", "DTSTART:20270104T120000Z"),  # no end: a point in time, blocks nothing
        lines("UID:4", "DTSTART:20270104T220000Z", "DTEND:20270105T020000Z"),
    )
    window = iv(utc_at(2027, 1, 4, 9), utc_at(2027, 1, 5))
    assert busy_from_ics(feed, window, BERLIN) == (
        iv(utc_at(2027, 1, 4, 9), utc_at(2027, 1, 4, 11)),
        iv(utc_at(2027, 1, 4, 22), utc_at(2027, 1, 5)),
    )


def test_vfreebusy_periods_are_read() -> None:
    feed = lines(
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        "BEGIN:VFREEBUSY",
        "DTSTART:20270104T000000Z",
        "DTEND:20270105T000000Z",
        "FREEBUSY;FBTYPE=BUSY:20270104T090000Z/20270104T100000Z,20270104T120000Z/PT30M",
        "FREEBUSY;FBTYPE=FREE:20270104T140000Z/20270104T150000Z",
        "END:VFREEBUSY",
        "END:VCALENDAR",
        "",
    )
    assert busy_from_ics(feed, iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5)), BERLIN) == (
        iv(utc_at(2027, 1, 4, 9), utc_at(2027, 1, 4, 10)),
        iv(utc_at(2027, 1, 4, 12), utc_at(2027, 1, 4, 12, 30)),
    )


@pytest.mark.parametrize(
    "body",
    [
        "<html><body>Please log in</body></html>",
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270104T100000Z\r\n",  # truncated
    ],
)
def test_not_an_ics_file_raises_bad_calendar(body: str) -> None:
    with pytest.raises(BadCalendarData):
        busy_from_ics(body, iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5)), BERLIN)


def test_one_broken_event_does_not_hide_the_others() -> None:
    feed = cal(
        lines("UID:bad", "DTSTART:garbage", "DTEND:20270104T110000Z"),
        lines(
            "UID:bad-rule",
            "DTSTART:20270104T120000Z",
            "DTEND:20270104T130000Z",
            "RRULE:FREQ=SOMETIMES",
        ),
        lines("UID:good", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z"),
    )
    busy = busy_from_ics(feed, iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5)), BERLIN)
    assert iv(utc_at(2027, 1, 4, 10), utc_at(2027, 1, 4, 11)) in busy


def test_fast_occurrence_path_matches_public_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """We read recurring-ical-events internals for speed; the public path must agree."""
    feed = _random_feed(random.Random(7), 60)
    window = iv(utc_at(2027, 1, 4), utc_at(2027, 2, 20))
    fast = busy_from_ics(feed, window, BERLIN)
    clear_cache()
    monkeypatch.setattr(
        ics_module, "_occurrences", lambda q, s, e: ics_module._public_occurrences(q, s, e)
    )
    assert busy_from_ics(feed, window, BERLIN) == fast
    assert fast


# --- prefilter: an optimisation must never change the answer ----------------------------------


def _random_feed(rng: random.Random, n: int) -> str:
    events = []
    zones = ("Europe/Berlin", "America/New_York", "Asia/Tokyo")
    for i in range(n):
        start = datetime(2027, 1, 4) + timedelta(
            days=rng.randint(-60, 60), hours=rng.randint(0, 23)
        )
        end = start + timedelta(minutes=rng.choice((30, 60, 90, 24 * 60 + 30)))
        form = rng.choice(("tzid", "utc", "floating", "date"))
        if form == "tzid":
            tz = rng.choice(zones)
            dt = [
                f"DTSTART;TZID={tz}:{start:%Y%m%dT%H%M%S}",
                f"DTEND;TZID={tz}:{end:%Y%m%dT%H%M%S}",
            ]
        elif form == "utc":
            dt = [f"DTSTART:{start:%Y%m%dT%H%M%SZ}", f"DTEND:{end:%Y%m%dT%H%M%SZ}"]
        elif form == "floating":
            dt = [f"DTSTART:{start:%Y%m%dT%H%M%S}", f"DTEND:{end:%Y%m%dT%H%M%S}"]
        else:
            dt = [
                f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
                f"DTEND;VALUE=DATE:{start + timedelta(days=rng.randint(1, 3)):%Y%m%d}",
            ]
        props = [f"UID:ev-{i}", *dt, "SUMMARY:x", "DESCRIPTION:long text, with: colons"]
        if rng.random() < 0.4:
            rule = "FREQ=WEEKLY"
            if rng.random() < 0.5:
                rule += f";UNTIL={start + timedelta(weeks=rng.randint(0, 10)):%Y%m%dT%H%M%SZ}"
            elif rng.random() < 0.5:
                rule += f";COUNT={rng.randint(1, 6)}"
            props.append(f"RRULE:{rule}")
        if rng.random() < 0.1:
            props.append("TRANSP:TRANSPARENT")
        if rng.random() < 0.1:
            props.append("STATUS:CANCELLED")
        if rng.random() < 0.2:
            props += ["BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"]
        events.append(lines(*props))
    return cal(*events)


def _busy_without_prefilter(feed: str, window: Interval, zone: ZoneInfo) -> tuple[Interval, ...]:
    from storage.freebusy.ics import busy_from_calendars, parse_calendars

    return busy_from_calendars(parse_calendars(feed), window, zone)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    offset_days=st.integers(-20, 20),
    length_days=st.integers(1, 30),
)
def test_prefilter_never_changes_the_busy_time(
    seed: int, offset_days: int, length_days: int
) -> None:
    feed = _random_feed(random.Random(seed), 25)
    start = utc_at(2027, 1, 4) + timedelta(days=offset_days, hours=seed % 24)
    window = iv(start, start + timedelta(days=length_days))
    clear_cache()
    assert busy_from_ics(feed, window, BERLIN) == _busy_without_prefilter(feed, window, BERLIN)


def test_prefilter_drops_far_events_and_noise() -> None:
    feed = cal(
        lines("UID:old", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "SUMMARY:old"),
        lines("UID:near", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z", "SUMMARY:near"),
        lines(
            "UID:ended",
            "DTSTART:20200101T100000Z",
            "DTEND:20200101T110000Z",
            "RRULE:FREQ=WEEKLY;UNTIL=20200301T000000Z",
        ),
        lines(
            "UID:live", "DTSTART:20200101T100000Z", "DTEND:20200101T110000Z", "RRULE:FREQ=WEEKLY"
        ),
    )
    day = utc_at(2027, 1, 4).date()
    slim = slim_ics(feed, day - SLACK, day + SLACK)
    assert "UID:near" in slim and "UID:live" in slim
    assert "UID:old" not in slim and "UID:ended" not in slim
    assert "SUMMARY" not in slim and "DTSTAMP" not in slim


# --- fetching: files and a local HTTP server -------------------------------------------------

FEED = cal(lines("UID:http-1", "DTSTART:20270104T100000Z", "DTEND:20270104T110000Z"))
WINDOW = iv(utc_at(2027, 1, 4), utc_at(2027, 1, 5))
EXPECTED = (iv(utc_at(2027, 1, 4, 10), utc_at(2027, 1, 4, 11)),)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        if self.path.startswith("/ok"):
            body = FEED.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/calendar")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/slow"):
            time.sleep(3)
            self.send_response(200)
            self.end_headers()
        elif self.path.startswith("/huge"):
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"BEGIN:VCALENDAR\r\n" + b"X" * 200_000)
        else:
            self.send_error(404)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_http_feed_ok(http_base: str) -> None:
    result = fetch_busy(
        source_for("ics", f"{http_base}/ok/cal.ics", zone=BERLIN, policy=LOOPBACK),
        WINDOW,
        label="Ana",
    )
    assert result.error is None and result.busy == EXPECTED


def test_http_404_is_an_error_result(http_base: str) -> None:
    result = fetch_busy(
        IcsSource(f"{http_base}/missing.ics", BERLIN, policy=LOOPBACK), WINDOW, label="Ana (feed)"
    )
    assert result.busy == ()
    assert (
        result.error
        == "Calendar of Ana (feed) could not be read: the server answered HTTP 404 Not Found"
    )


def test_http_timeout_is_an_error_result(http_base: str) -> None:
    started = time.monotonic()
    result = fetch_busy(
        IcsSource(f"{http_base}/slow", BERLIN, policy=LOOPBACK, timeout=0.5), WINDOW, label="Bo"
    )
    assert time.monotonic() - started < 2
    assert result.error == "Calendar of Bo could not be read: timed out after 0.5 s"


def test_body_over_the_size_limit_is_refused(http_base: str) -> None:
    result = fetch_busy(
        IcsSource(f"{http_base}/huge", BERLIN, policy=LOOPBACK, max_bytes=100_000),
        WINDOW,
        label="Cy",
    )
    assert result.error is not None and "larger than" in result.error


def test_unreachable_host_is_an_error_result() -> None:
    result = fetch_busy(
        IcsSource("http://127.0.0.1:9/x.ics", BERLIN, policy=LOOPBACK, timeout=1),
        WINDOW,
        label="Di",
    )
    assert result.error is not None and "could not be reached" in result.error


def test_fetch_many_returns_within_the_deadline(http_base: str) -> None:
    jobs = [
        ("Ana", IcsSource(f"{http_base}/ok", BERLIN, policy=LOOPBACK)),
        (
            "Bo",
            IcsSource(f"{http_base}/slow", BERLIN, policy=LOOPBACK, timeout=10),
        ),  # own timeout too generous
        ("Cy", IcsSource(f"{http_base}/nope", BERLIN, policy=LOOPBACK)),
    ]
    started = time.monotonic()
    results = fetch_many(jobs, WINDOW, timeout=1.0)
    elapsed = time.monotonic() - started
    assert elapsed < 1.8
    assert results["Ana"].busy == EXPECTED and results["Ana"].ok
    assert results["Bo"].error == "Calendar of Bo could not be read: timed out after 1 s"
    assert results["Cy"].error is not None and "404" in results["Cy"].error
    assert fetch_many([], WINDOW, timeout=1.0) == {}


def test_local_path_and_file_url(tmp_path: Path) -> None:
    path = tmp_path / "my cal.ics"
    path.write_text(FEED, encoding="utf-8")
    assert IcsSource(str(path), BERLIN).fetch(WINDOW) == EXPECTED
    assert IcsSource(path.as_uri(), BERLIN).fetch(WINDOW) == EXPECTED
    missing = fetch_busy(IcsSource(str(tmp_path / "nope.ics"), BERLIN), WINDOW, label="Ed")
    assert missing.error == "Calendar of Ed could not be read: the file does not exist"


def test_unsupported_scheme_and_unknown_kind() -> None:
    result = fetch_busy(IcsSource("ftp://example.com/a.ics", BERLIN), WINDOW, label="Fay")
    assert result.error is not None and "not supported" in result.error
    with pytest.raises(ValueError, match="Unknown calendar kind"):
        source_for("outlook", "", zone=BERLIN)


def test_fetch_busy_contains_unexpected_exceptions() -> None:
    class Broken:
        kind = "ics"

        def fetch(self, window: Interval) -> tuple[Interval, ...]:
            raise RuntimeError("boom")

    result = fetch_busy(Broken(), WINDOW, label="Gus")
    assert result.busy == () and result.error is not None
    assert result.error.startswith("Calendar of Gus could not be read: an unexpected error")


def test_redact_url_hides_secrets() -> None:
    secret = "https://user:pw@calendar.example.com/calendar/ical/ana%40x.com/private-abc123/basic.ics?token=1"
    assert redact_url(secret) == "https://calendar.example.com/calendar/…"
    assert "abc123" not in redact_url(secret) and "pw" not in redact_url(secret)


def test_busy_is_normalized() -> None:
    feed = _random_feed(random.Random(3), 40)
    busy = busy_from_ics(feed, iv(utc_at(2027, 1, 1), utc_at(2027, 2, 1)), BERLIN)
    assert busy == normalize(busy)
