"""iCalendar feeds: fetch (HTTP(S) or file) with a deadline and size cap, then ICS → busy time.

The conversion is pure and shared with the CalDAV source so both read calendars the same way:
recurrences expanded only inside the window, EXDATE / RECURRENCE-ID overrides applied by
recurring-ical-events, cancelled and transparent events dropped, and dates and floating times
read in the person's zone (a calendar has no better idea of "local" than its owner's zone).
"""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

# It ships no stubs or py.typed; `unused-ignore` keeps this quiet under --ignore-missing-imports.
import recurring_ical_events  # type: ignore[import-untyped, unused-ignore]
from icalendar import Calendar, Component

from scheduling.intervals import Interval, clip
from storage.freebusy.base import (
    BadCalendarData,
    FeedTooLarge,
    SourceTimeout,
    SourceUnavailable,
)
from storage.freebusy.netguard import (
    STRICT,
    AddressPolicy,
    Resolver,
    guarded_opener,
    system_resolve,
)
from storage.freebusy.prefilter import SLACK, slim_ics

MAX_BYTES = 20_000_000
_CHUNK = 64 * 1024
_FREE_FBTYPES = {"FREE"}
_USER_AGENT = "interview-bot-freebusy/1.0"


@dataclass(frozen=True)
class IcsSource:
    """An iCalendar feed: `http(s)://`, `webcal://`, `file://` or a local path.

    HTTP connects only to addresses `policy` permits (see netguard); files are for the CLI and
    tests, the Slack path links http(s) and webcal URLs only.
    """

    url: str
    zone: ZoneInfo
    timeout: float = 5.0
    max_bytes: int = MAX_BYTES
    policy: AddressPolicy = STRICT
    resolve: Resolver = field(default=system_resolve, repr=False, compare=False)
    kind: str = field(default="ics", init=False)

    def fetch(self, window: Interval) -> tuple[Interval, ...]:
        body = read_feed(
            self.url, self.timeout, self.max_bytes, policy=self.policy, resolve=self.resolve
        )
        return busy_from_ics(body, window, self.zone)


# --- fetching -------------------------------------------------------------------------------


def read_feed(
    url: str,
    timeout: float,
    max_bytes: int = MAX_BYTES,
    *,
    policy: AddressPolicy = STRICT,
    resolve: Resolver = system_resolve,
) -> bytes:
    """The raw feed body; raises a `FreeBusyError` with a user-facing reason on failure."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "webcal":  # the calendar-app spelling of https
        url, scheme = "https" + url[len(parts.scheme) :], "https"
    if scheme in ("http", "https"):
        return _read_http(url, timeout, max_bytes, guarded_opener(policy, resolve))
    if scheme == "file":
        return _read_file(Path(unquote(parts.path)), max_bytes)
    if scheme == "" or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):  # path, or C:\ on Windows
        return _read_file(Path(url), max_bytes)
    raise SourceUnavailable(f"the address scheme {scheme!r} is not supported (use https or a file)")


def _read_file(path: Path, max_bytes: int) -> bytes:
    try:
        with path.open("rb") as fh:
            body = fh.read(max_bytes + 1)
    except FileNotFoundError:
        raise SourceUnavailable("the file does not exist") from None
    except OSError as exc:
        raise SourceUnavailable(f"the file could not be opened ({exc.strerror or exc})") from None
    if len(body) > max_bytes:
        raise FeedTooLarge(max_bytes)
    return body


def _read_http(
    url: str, timeout: float, max_bytes: int, opener: urllib.request.OpenerDirector
) -> bytes:
    """GET with one overall deadline: urllib's timeout is per socket call, not per request."""
    deadline = time.monotonic() + timeout
    request = urllib.request.Request(
        url, headers={"User-Agent": _USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    )
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FeedTooLarge(max_bytes)
            chunks: list[bytes] = []
            size = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SourceTimeout(timeout)
                _shrink_socket_timeout(response, remaining)
                chunk = response.read(_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FeedTooLarge(max_bytes)
                chunks.append(chunk)
    except urllib.error.HTTPError as exc:
        raise SourceUnavailable(f"the server answered HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise SourceTimeout(timeout) from None
        raise SourceUnavailable(f"the server could not be reached ({exc.reason})") from None
    except TimeoutError:
        raise SourceTimeout(timeout) from None
    except (ConnectionError, OSError) as exc:
        raise SourceUnavailable(f"the connection failed ({exc.strerror or exc})") from None
    return b"".join(chunks)


def _shrink_socket_timeout(response: object, seconds: float) -> None:
    """Make the next read respect the overall deadline, not a fresh per-call timeout.

    http.client exposes no public handle on the socket; if the private one moves, we degrade
    to urllib's per-call timeout and still check the deadline between chunks.
    """
    raw = getattr(getattr(response, "fp", None), "raw", None)
    sock = getattr(raw, "_sock", None)
    if isinstance(sock, socket.socket):
        sock.settimeout(max(seconds, 0.001))


# --- ICS → busy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Parsed:
    """A feed parsed for one date range: the recurrence queries and the free/busy calendars."""

    queries: tuple[recurring_ical_events.CalendarQuery, ...]
    calendars: tuple[Calendar, ...]


_CACHE_SIZE = 32
_cache: OrderedDict[tuple[bytes, date, date], _Parsed] = OrderedDict()
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget parsed feeds (tests and benchmarks measure the cold path)."""
    with _cache_lock:
        _cache.clear()


def parse_calendars(data: bytes | str) -> list[Calendar]:
    """Every VCALENDAR in `data` (some feeds concatenate several)."""
    text = _text(data)
    try:
        calendars = Calendar.from_ical(text, multiple=True)
    except Exception as exc:  # noqa: BLE001 - icalendar raises assorted types on garbage
        raise BadCalendarData(f"the iCalendar file is malformed ({_short(exc)})") from None
    return [c for c in calendars if c.name == "VCALENDAR"]


def _text(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if "BEGIN:VCALENDAR" not in data[:4096].upper():
        raise BadCalendarData("the address did not return an iCalendar (.ics) file")
    return data


def _parsed(text: str, window: Interval) -> _Parsed:
    """Parse once per (feed content, date range): repeated searches reuse the expansion setup."""
    keep_from, keep_to = window.start.date() - SLACK, window.end.date() + SLACK
    key = (hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest(), keep_from, keep_to)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    try:
        slim = slim_ics(text, keep_from, keep_to)
    except ValueError as exc:
        raise BadCalendarData(f"the iCalendar file is malformed ({exc})") from None
    calendars = parse_calendars(slim)
    try:
        queries = tuple(recurring_ical_events.of(c, skip_bad_series=True) for c in calendars)
    except Exception as exc:  # noqa: BLE001 - library raises assorted types on bad rules
        raise BadCalendarData(f"the recurring events could not be read ({_short(exc)})") from None
    parsed = _Parsed(queries, tuple(c for c in calendars if c.walk("VFREEBUSY")))
    with _cache_lock:
        _cache[key] = parsed
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return parsed


def busy_from_ics(data: bytes | str, window: Interval, zone: ZoneInfo) -> tuple[Interval, ...]:
    """Busy time in `window` from iCalendar text: VEVENTs (expanded) and any VFREEBUSY."""
    parsed = _parsed(_text(data), window)
    blocks: list[Interval] = []
    for query in parsed.queries:
        blocks.extend(_event_busy(query, window, zone))
    for calendar in parsed.calendars:
        blocks.extend(busy_from_vfreebusy(calendar, window))
    return clip(blocks, window)


def busy_from_calendars(
    calendars: Iterable[Calendar], window: Interval, zone: ZoneInfo
) -> tuple[Interval, ...]:
    """Busy time from already parsed calendars (CalDAV hands us objects, not one feed)."""
    blocks: list[Interval] = []
    for calendar in calendars:
        try:
            query = recurring_ical_events.of(calendar, skip_bad_series=True)
        except Exception as exc:  # noqa: BLE001
            raise BadCalendarData(
                f"the recurring events could not be read ({_short(exc)})"
            ) from None
        blocks.extend(_event_busy(query, window, zone))
        blocks.extend(busy_from_vfreebusy(calendar, window))
    return clip(blocks, window)


_Span = tuple["date | datetime", "date | datetime | timedelta", Component]


def _occurrences(
    query: recurring_ical_events.CalendarQuery, start: datetime, end: datetime
) -> Iterator[_Span]:
    """(start, end, source component) of each occurrence overlapping `[start, end)`.

    The public `between()` deep-copies a component per occurrence, which was most of the cost
    on big feeds; the internal occurrence list carries the same data without copies. If a
    future recurring-ical-events renames those internals we fall back to the public API
    (tests compare both paths).
    """
    internal = getattr(query, "_occurrences_between", None)
    occurrences = internal(start, end) if internal is not None else None
    if occurrences is None:
        yield from _public_occurrences(query, start, end)
        return
    for occ in occurrences:
        component = getattr(getattr(occ, "_adapter", None), "_component", None)
        if not isinstance(component, Component):
            component = occ.as_component(False)
        yield occ.start, occ.end, component


def _public_occurrences(
    query: recurring_ical_events.CalendarQuery, start: datetime, end: datetime
) -> Iterator[_Span]:
    for event in query.between(start, end):
        first, last = event.get("DTSTART"), event.get("DTEND")
        if first is None:
            continue
        yield first.dt, (last.dt if last is not None else first.dt), event


def _event_busy(
    query: recurring_ical_events.CalendarQuery, window: Interval, zone: ZoneInfo
) -> Iterator[Interval]:
    # Querying with bounds in the person's zone makes recurring-ical-events compare dates and
    # floating times as local times in that zone, which is exactly the meaning we want.
    start, end = window.start.astimezone(zone), window.end.astimezone(zone)
    try:
        spans = list(_occurrences(query, start, end))
    except Exception as exc:  # noqa: BLE001 - library raises assorted types on bad rules
        raise BadCalendarData(
            f"the recurring events could not be expanded ({_short(exc)})"
        ) from None
    for first, last, component in spans:
        if not _is_busy(component):
            continue
        begin = _instant(first, zone)
        finish = begin + last if isinstance(last, timedelta) else _instant(last, zone)
        if finish > begin:  # zero-length events (reminders) block nothing
            yield Interval(begin, finish)


def _is_busy(event: Component) -> bool:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return False
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    # Outlook exports "show as free" here even when TRANSP is missing.
    return str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() != "FREE"


def _instant(value: date | datetime, zone: ZoneInfo) -> datetime:
    """Dates are local midnights and floating times local times in `zone`; others keep theirs."""
    if not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=zone)
    return value


def busy_from_vfreebusy(calendar: Calendar, window: Interval) -> Iterator[Interval]:
    """FREEBUSY periods of VFREEBUSY components (CalDAV free-busy reports, `.ifb` files).

    Periods are UTC by RFC 5545; those typed FBTYPE=FREE are not busy.
    """
    for component in calendar.walk("VFREEBUSY"):
        values = component.get("FREEBUSY")
        if values is None:
            continue
        for prop in values if isinstance(values, list) else [values]:
            if str(prop.params.get("FBTYPE", "BUSY")).upper() in _FREE_FBTYPES:
                continue
            for period in _periods(prop):
                begin, finish = period
                if finish > begin and finish > window.start and begin < window.end:
                    yield Interval(begin, finish)


def _periods(prop: object) -> Iterator[tuple[datetime, datetime]]:
    raw = getattr(prop, "dt", prop)
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        item = getattr(item, "dt", item)
        if not isinstance(item, tuple) or len(item) != 2:
            continue
        begin, other = item
        finish = begin + other if isinstance(other, timedelta) else other
        if isinstance(begin, datetime) and isinstance(finish, datetime):
            yield _utc_if_naive(begin), _utc_if_naive(finish)


def _utc_if_naive(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=ZoneInfo("UTC"))


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."
