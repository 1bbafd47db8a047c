"""Time zones: parsing what people type, and turning local wall-clock times into UTC instants.

Pure: no clock reads. Rules the product documents:

* A local time skipped by a spring-forward gap does not exist and is an error
  (`NonexistentLocalTime`), never silently shifted.
* A local time that happens twice (fall-back overlap) means its FIRST occurrence
  (`fold=0`: the earlier instant, still on daylight time).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from scheduling.errors import NonexistentLocalTime, UnknownZone

__all__ = [
    "describe",
    "describe_span",
    "is_zone",
    "parse_zone",
    "resolve_local",
    "zone_label",
    "zone_of",
]

ZONE_EXAMPLE = "Europe/Berlin"
_UTC_NAMES = frozenset({"utc", "z", "gmt", "zulu", "etc/utc", "etc/gmt"})
# `+05:30`, `-0800`, `+5`, `UTC+2`, `GMT-03:00`. A bare offset needs its sign so that `14:00`
# is never read as a zone.
_OFFSET = re.compile(
    r"(?:(?:utc|gmt)\s*)?(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?", re.IGNORECASE
)
_MAX_EAST, _MAX_WEST = timedelta(hours=14), timedelta(hours=12)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@lru_cache(maxsize=1)
def _names_by_folded() -> dict[str, str]:
    """Case-insensitive index of the IANA database (built once: the scan is slow)."""
    return {name.casefold(): name for name in available_timezones()}


def _unknown(text: str) -> UnknownZone:
    return UnknownZone(
        f"I don't know the time zone {text.strip()!r}. Use an IANA name such as "
        f"{ZONE_EXAMPLE} or America/New_York, UTC, or an offset such as +05:30.",
        example=ZONE_EXAMPLE,
    )


def _offset_zone(text: str) -> tzinfo | None:
    """A fixed offset, or None when `text` is not offset-shaped; out-of-range is an error."""
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    hours, minutes = int(match["h"]), int(match["m"] or 0)
    if minutes >= 60:
        raise _unknown(text)
    offset = timedelta(hours=hours, minutes=minutes)
    if match["sign"] == "-":
        offset = -offset
    if offset > _MAX_EAST or offset < -_MAX_WEST:
        raise _unknown(text)
    return UTC if not offset else timezone(offset)


def parse_zone(text: str) -> tzinfo:
    """A zone as a person types it: IANA name (any case), `UTC`/`Z`/`GMT`, or a fixed offset.

    IANA names give DST-aware `ZoneInfo`; offsets give a fixed `timezone` (no DST, on purpose:
    that is what `+05:30` says)."""
    raw = text.strip()
    folded = raw.casefold()
    if folded in _UTC_NAMES:
        return UTC
    offset = _offset_zone(raw)
    if offset is not None:
        return offset
    name = _names_by_folded().get(folded)
    if name is None:
        raise _unknown(text)
    return ZoneInfo(name)


def is_zone(text: str) -> bool:
    """Whether `text` parses as a zone: for parsers that must tell a zone suffix from data."""
    try:
        parse_zone(text)
    except UnknownZone:
        return False
    return True


def zone_of(name: str) -> ZoneInfo:
    """A person's stored IANA zone (from Slack's profile). Offsets are not accepted here:
    people live in places, and only a place knows its DST rules."""
    canonical = _names_by_folded().get((name or "").strip().casefold())
    if canonical is None:
        raise _unknown(name or "")
    return ZoneInfo(canonical)


def _label_offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def zone_label(zone: tzinfo) -> str:
    """A stable name for a zone: the IANA key, `UTC`, or `UTC+05:30` for a fixed offset."""
    key = getattr(zone, "key", None)
    if key:
        return str(key)
    offset = zone.utcoffset(None)
    if offset is None:
        return str(zone)
    return "UTC" if not offset else _label_offset(offset)


def _abbreviation(local: datetime) -> str:
    """`CET`; zones whose database abbreviation is numeric (`-03`) show `UTC-03:00`."""
    name = local.tzname() or ""
    if name.isalpha():
        return name
    return _label_offset(local.utcoffset() or timedelta(0))


def weekday_name(day: date) -> str:
    """`Wed`, in English whatever the process locale (the text parser reads these names)."""
    return _DAYS[day.weekday()]


def day_name(day: date, *, year: bool = False) -> str:
    """`Wed 2 Dec` (`Wed 2 Dec 2026` with `year`), independent of the process locale."""
    text = f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


def describe(moment: datetime, zone: tzinfo, *, year: bool = False) -> str:
    """`Wed 2 Dec 10:00 CET` (`Wed 2 Dec 2026 10:00 CET` with `year`): an instant as a person
    in `zone` reads it, independent of the process locale."""
    local = moment.astimezone(zone)
    return f"{day_name(local.date(), year=year)} {local:%H:%M} {_abbreviation(local)}"


def _wall(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None, fold=0)


def _gap_bounds(naive: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """Local wall-clock start and end of the gap containing `naive` (binary search on UTC)."""
    before = naive.replace(tzinfo=zone, fold=1).utcoffset() or timedelta(0)
    after = naive.replace(tzinfo=zone, fold=0).utcoffset() or timedelta(0)
    # In a gap, fold=1 uses the offset after the jump and fold=0 the one before it.
    before, after = min(before, after), max(before, after)
    lo = (naive - after).replace(tzinfo=UTC)  # an instant before the transition
    hi = (naive - before).replace(tzinfo=UTC)  # an instant after it
    while hi - lo > timedelta(seconds=1):
        mid = lo + (hi - lo) / 2
        if mid.astimezone(zone).utcoffset() == lo.astimezone(zone).utcoffset():
            lo = mid
        else:
            hi = mid
    transition = hi.replace(microsecond=0)
    return _wall(transition.astimezone(zone) - (after - before)), _wall(transition.astimezone(zone))


def resolve_local(day: date, t: time, zone: tzinfo) -> datetime:
    """The UTC instant of wall-clock `t` on `day` in `zone`.

    A time inside a spring-forward gap raises `NonexistentLocalTime` (naming the jump and
    offering the first valid time after it). A time inside a fall-back overlap is resolved to
    its FIRST occurrence (fold=0: the earlier instant, still on daylight time), e.g.
    2027-11-07 01:30 in America/New_York is 05:30Z, not 06:30Z. This is the product's
    documented rule. Detection round-trips fold=0 through UTC: a wall time that does not come
    back unchanged does not exist."""
    naive = datetime.combine(day, t.replace(tzinfo=None, fold=0))
    first = naive.replace(tzinfo=zone, fold=0)
    if _wall(first.astimezone(UTC).astimezone(zone)) == naive:
        return first.astimezone(UTC)
    gap_start, gap_end = _gap_bounds(naive, zone)
    raise NonexistentLocalTime(
        f"{naive:%Y-%m-%d %H:%M} does not exist in {zone_label(zone)} (clocks jump forward "
        f"at {gap_start:%H:%M} to {gap_end:%H:%M}); pick a time outside the gap, such as "
        f"{gap_end:%H:%M}.",
        example=f"{gap_end:%Y-%m-%d %H:%M}",
    )


def describe_span(start: datetime, end: datetime, zone: tzinfo, *, year: bool = False) -> str:
    """`Wed 2 Dec 10:00–14:00 CET`; the end's day is repeated only when it differs, and its
    abbreviation only when DST changes inside the span, so a line stays short but exact."""
    first, last = start.astimezone(zone), end.astimezone(zone)
    head = describe(first, zone, year=year)
    first_abbr, last_abbr = _abbreviation(first), _abbreviation(last)
    tail = describe(last, zone)
    if first.date() == last.date():
        tail = f"{last:%H:%M}" + ("" if first_abbr == last_abbr else f" {last_abbr}")
        if first_abbr == last_abbr:
            return f"{head.removesuffix(' ' + first_abbr)}–{tail} {first_abbr}"
        return f"{head} – {tail}"
    if first_abbr == last_abbr:
        return f"{head.removesuffix(' ' + first_abbr)} – {tail}"
    return f"{head} – {tail}"
