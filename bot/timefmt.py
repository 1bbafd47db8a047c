"""Reading instants typed by operators, and showing times to people in their own zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from scheduling.errors import ParseError
from scheduling.intervals import UTC, Interval
from scheduling.slots import group_by_day
from scheduling.zones import day_name


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """ISO 8601 instant; `Z` or an offset names the zone, none means UTC. A bare date is its
    midnight UTC, or the next midnight when it ends a range (`--to 2026-12-05` includes the 5th)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            moment = datetime.combine(date.fromisoformat(raw), time(0), UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ParseError(f"{text!r} is not an ISO 8601 date-time.", example="2026-12-02T10:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def zone_name(zone: tzinfo, moment: datetime) -> str:
    """`CET`, or `UTC-03 America/Sao_Paulo` where the zone has no letters abbreviation."""
    local = moment.astimezone(zone)
    abbrev = local.tzname() or ""
    if abbrev.isalpha():
        return abbrev
    offset = local.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    label = f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    key = getattr(zone, "key", None)
    return f"{label} {key}" if key else label


def clock(moment: datetime, zone: tzinfo) -> str:
    """`10:00 CET`"""
    return f"{moment.astimezone(zone):%H:%M} {zone_name(zone, moment)}"


def when(moment: datetime, zone: tzinfo) -> str:
    """`Wed 2 Dec 2026, 10:00 CET`"""
    local = moment.astimezone(zone)
    return f"{day_name(local.date(), year=True)}, {local:%H:%M} {zone_name(zone, moment)}"


def span(interval: Interval, zone: tzinfo) -> str:
    """`Wed 2 Dec 2026, 10:00–11:00 CET` (end date shown when it differs; each end labelled
    when the clocks change inside: `Sun 29 Mar 2026, 01:30 CET–03:30 CEST`)."""
    start, end = interval.start.astimezone(zone), interval.end.astimezone(zone)
    end_text = f"{end:%H:%M}" if end.date() == start.date() else f"{day_name(end.date())} {end:%H:%M}"
    return f"{day_name(start.date(), year=True)}, {clock_span(interval, zone, end_text)}"


def clock_span(interval: Interval, zone: tzinfo, end_text: str | None = None) -> str:
    """`10:00–11:00 CET`, or `01:30 CET–03:30 CEST` across a change of the clocks."""
    start = interval.start.astimezone(zone)
    end_text = end_text or f"{interval.end.astimezone(zone):%H:%M}"
    first, last = zone_name(zone, interval.start), zone_name(zone, interval.end)
    if first == last:
        return f"{start:%H:%M}–{end_text} {first}"
    return f"{start:%H:%M} {first}–{end_text} {last}"


def day_heading(day: date) -> str:
    return day_name(day, year=True)


def slot_lines(
    slots: Sequence[Interval], viewer: ZoneInfo, other: tzinfo | None = None, other_name: str = ""
) -> list[tuple[str, list[str]]]:
    """Slots grouped by the viewer's local day; each line optionally shows another person's time."""
    groups = []
    for day, day_slots in group_by_day(slots, viewer):
        lines = []
        for slot in day_slots:
            line = clock_span(slot, viewer)
            if other is not None and other != viewer:
                line += f"  ({other_name or 'their'} time: {clock(slot.start, other)})"
            lines.append(line)
        groups.append((day_heading(day), lines))
    return groups
