"""Plain-text and JSON renderings of a search, for the CLI and the demo."""

from __future__ import annotations

from typing import Any

from bot.timefmt import slot_lines
from bot.usecases.pool_search import PoolSlotsFound
from bot.usecases.search import SlotsFound
from scheduling.zones import zone_of


def search_json(found: SlotsFound) -> dict[str, Any]:
    """The `--json` shape: `availableSlots` in ISO 8601 UTC, in time order."""
    data: dict[str, Any] = {"availableSlots": [s.iso() for s in found.slots]}
    if not found.slots:
        data["reasons"] = list(found.reasons)
        data["bottlenecks"] = list(found.bottlenecks)
        data["alternatives"] = [s.iso() for s in found.alternatives]
    if found.calendar_errors:
        data["calendarErrors"] = list(found.calendar_errors)
    if found.notes:
        data["notes"] = list(found.notes)
    return data


def pool_json(found: PoolSlotsFound) -> dict[str, Any]:
    """The `--json` shape of a pool search: each slot as one session, with who and why."""
    data: dict[str, Any] = {"availableSlots": [
        {**s.slot.iso(), "sessions": [{"name": "Interview", **s.slot.iso(), "interviewers": list(s.interviewers),
                                       "shadows": [], "why": s.why, "others": list(s.others)}]}
        for s in found.slots]}
    if found.notes:
        data["notes"] = list(found.notes)
    if found.calendar_errors:
        data["calendarErrors"] = list(found.calendar_errors)
    return data


def render_found(found: SlotsFound, limit_days: int | None = None) -> str:
    """Slots grouped by day in the candidate's zone, the first interviewer's local time beside."""
    cand = found.candidate
    zone = zone_of(cand.tz)
    names = ", ".join(f"{p.name} ({p.tz})" for p in found.interviewers)
    lines = [f"Common {len(found.slots)} slot(s) for {cand.name} ({cand.tz}) with {names}:"]
    first = found.interviewers[0]
    groups = slot_lines(found.slots, zone, zone_of(first.tz), first.name)
    for heading, day_lines in groups[:limit_days] if limit_days else groups:
        lines.append(f"  {heading}")
        lines.extend(f"    {line}" for line in day_lines)
    if limit_days and len(groups) > limit_days:
        lines.append(f"  … and {len(groups) - limit_days} more day(s)")
    if not found.slots:
        lines.extend(f"  Why none: {reason}" for reason in found.reasons)
        for heading, day_lines in slot_lines(found.alternatives, zone):
            lines.append(f"  Nearest alternative: {heading} {', '.join(day_lines)}")
    else:
        lines.extend(f"  Rule: {note}" for note in found.notes)
    lines.extend(f"  Calendar not read: {err}" for err in found.calendar_errors)
    return "\n".join(lines)
