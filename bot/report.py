"""Plain-text and JSON renderings of a search, for the CLI and the demo."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.timefmt import slot_lines
from bot.usecases.loops import LoopSlotsFound
from bot.usecases.pool_search import PoolSlotsFound
from bot.usecases.search import SlotsFound
from scheduling.intervals import Interval
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
    return _with_notes({"availableSlots": [
        {**s.slot.iso(), "sessions": [_session("Interview", s.slot, s.interviewers, s.why, s.others)]}
        for s in found.slots]}, found.notes, found.calendar_errors)


def loop_json(found: LoopSlotsFound) -> dict[str, Any]:
    """The `--json` shape of a loop template: each option's span and its sessions in time order."""
    return _with_notes({"availableSlots": [
        {**o.span.iso(), "sessions": [_session(s.name, s.slot, s.interviewers, s.why, s.others) for s in o.sessions]}
        for o in found.options]}, found.notes, found.calendar_errors)


def _session(name: str, slot: Interval, interviewers: Sequence[str], why: str, others: Sequence[str]) -> dict[str, Any]:
    return {"name": name, **slot.iso(), "interviewers": list(interviewers), "shadows": [], "why": why,
            "others": list(others)}


def _with_notes(data: dict[str, Any], notes: Sequence[str], errors: Sequence[str]) -> dict[str, Any]:
    if notes:
        data["notes"] = list(notes)
    if errors:
        data["calendarErrors"] = list(errors)
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
