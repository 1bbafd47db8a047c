"""Plain-text and JSON renderings of a search, for the CLI and the demo."""

from __future__ import annotations

from typing import Any

from scheduling.zones import zone_of

from bot.timefmt import slot_lines
from storage.matching import SearchOutcome


def search_json(outcome: SearchOutcome) -> dict[str, Any]:
    """The `--json` shape: `availableSlots` in ISO 8601 UTC, in time order."""
    data: dict[str, Any] = {"availableSlots": [s.iso() for s in outcome.slots]}
    if outcome.diagnosis is not None:
        data["reasons"] = outcome.diagnosis.reasons
        data["bottlenecks"] = outcome.diagnosis.bottlenecks
        data["alternatives"] = [s.iso() for s in outcome.diagnosis.alternatives]
    if outcome.calendar_errors:
        data["calendarErrors"] = outcome.calendar_errors
    return data


def render_outcome(outcome: SearchOutcome, limit_days: int | None = None) -> str:
    """Slots grouped by day in the candidate's zone, each interviewer's local time beside."""
    cand = outcome.candidate
    zone = zone_of(cand.tz)
    names = ", ".join(f"{p.name} ({p.tz})" for p in outcome.interviewers)
    lines = [f"Common {len(outcome.slots)} slot(s) for {cand.name} ({cand.tz}) with {names}:"]
    first = outcome.interviewers[0]
    groups = slot_lines(outcome.slots, zone, zone_of(first.tz), first.name)
    for heading, day_lines in groups[:limit_days] if limit_days else groups:
        lines.append(f"  {heading}")
        lines.extend(f"    {line}" for line in day_lines)
    if limit_days and len(groups) > limit_days:
        lines.append(f"  … and {len(groups) - limit_days} more day(s)")
    if outcome.diagnosis is not None:
        lines.extend(f"  Why none: {reason}" for reason in outcome.diagnosis.reasons)
        for heading, day_lines in slot_lines(outcome.diagnosis.alternatives, zone):
            lines.append(f"  Nearest alternative: {heading} {', '.join(day_lines)}")
    lines.extend(f"  Calendar not read: {err}" for err in outcome.calendar_errors)
    return "\n".join(lines)
