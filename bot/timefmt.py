"""Reading instants typed by operators, and showing slots to people in their zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.zones import describe, zone_label

from scheduling.errors import ParseError
from scheduling.intervals import UTC, Interval
from scheduling.slots import group_by_day


def parse_instant(text: str, *, end_of_day: bool = False) -> datetime:
    """ISO 8601 instant; `Z` or an offset names the zone, none means UTC. A bare date is its
    midnight UTC, or the next midnight when it ends a range (`--to 2026-12-05` includes the 5th)."""
    raw = text.strip()
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            moment = datetime.combine(day, time(0), UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ParseError(f"{text!r} is not an ISO 8601 date-time.", example="2026-12-02T10:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_heading(day: date) -> str:
    return f"{day:%a %-d %b %Y}"


def slot_lines(
    slots: Sequence[Interval], viewer: ZoneInfo, other: ZoneInfo | None = None, other_name: str = ""
) -> list[tuple[str, list[str]]]:
    """Slots grouped by the viewer's local day; each line optionally shows another person's time."""
    groups = []
    for day, day_slots in group_by_day(slots, viewer):
        lines = []
        for slot in day_slots:
            line = f"{slot.start.astimezone(viewer):%H:%M}–{slot.end.astimezone(viewer):%H:%M} {zone_label(viewer, slot.start)}"
            if other is not None and other != viewer:
                line += f"  ({other_name or 'their'} time: {describe(slot.start, other)})"
            lines.append(line)
        groups.append((day_heading(day), lines))
    return groups
