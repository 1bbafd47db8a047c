"""Messages about booked interviews: confirmations, HR controls, listings, grade prompts, offers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import tzinfo

from bot.blocks.common import (
    MESSAGE_BLOCKS,
    BlockDict,
    actions,
    bullet_chunks,
    button,
    confirm,
    context,
    esc,
    section,
    to_dicts,
)
from bot.timefmt import span
from scheduling.intervals import Interval

CANCEL_ACTION, RESCHEDULE_ACTION, MOVE_ACTION = "interview_cancel", "interview_reschedule", "interview_move"
GRADE_ACTION, OFFER_PICK_ACTION = "interview_grade", "offer_pick"


def hr_controls(interview_id: int) -> BlockDict:
    return actions(f"controls-{interview_id}", [
        button(RESCHEDULE_ACTION, "Reschedule", str(interview_id)),
        button(CANCEL_ACTION, "Cancel", str(interview_id), style="danger",
               confirm=confirm("Cancel the interview?", "Everyone will be told.", "Cancel it", "Keep it")),
    ])


def where(location: str | None) -> str:
    """`\nWhere: …` (escaped), or nothing."""
    return f"\nWhere: {esc(location)}" if location else ""


def booked_for_hr(interview_id: int, when: Interval, zone: tzinfo, who: str, *, replayed: bool = False,
                  moved: bool = False, unreachable: Sequence[str] = (), location: str | None = None) -> list[dict]:
    title = "Already booked" if replayed else "Moved" if moved else "Booked"
    blocks = [section(f":white_check_mark: *{title}:* {span(when, zone)}\n{esc(who)}{where(location)}"),
              hr_controls(interview_id)]
    if unreachable:
        blocks.append(context(":warning: Could not notify: " + esc(", ".join(unreachable))))
    return to_dicts(blocks, MESSAGE_BLOCKS)


def participant_notice(kind: str, when: Interval, zone: tzinfo, others: str, by: str,
                       location: str | None = None, title: str | None = None) -> tuple[str, list[dict]]:
    verb = {"booked": "booked", "moved": "moved", "updated": "has a new place", "cancelled": "cancelled"}[kind]
    icon = {"booked": ":calendar:", "moved": ":arrows_counterclockwise:", "updated": ":round_pushpin:",
            "cancelled": ":x:"}[kind]
    what = f"{esc(title)} interview" if title else "Interview"  # a loop's session says which one
    text = f"{icon} {what} {verb}: {span(when, zone)} with {esc(others)} (by {esc(by)})."
    if kind != "cancelled":
        text += where(location) if location else ("\nWhere: not set yet" if kind == "updated" else "")
    tail = "The invitation is attached." if kind != "cancelled" else "The calendar event is withdrawn."
    return text, to_dicts([section(text), context(tail)], MESSAGE_BLOCKS)


def listing(title: str, rows: Sequence[tuple[int, Interval, str]], zone: tzinfo, *, controls: bool) -> list[dict]:
    if not rows:
        return to_dicts([section(f"*{title}*\n_Nothing upcoming._")], MESSAGE_BLOCKS)
    if not controls:
        lines = [f"• {span(iv, zone)} — {esc(who)}" for _, iv, who in rows]
        return to_dicts((section(c) for c in bullet_chunks([f"*{title}*", *lines])[:45]), MESSAGE_BLOCKS)
    blocks = [section(f"*{title}* ({len(rows)})")]
    for interview_id, iv, who in rows[:24]:  # two blocks per row, within 50 per message
        blocks += [section(f"`#{interview_id}` {span(iv, zone)} — {esc(who)}"), hr_controls(interview_id)]
    if len(rows) > 24:
        blocks.append(context(f"… and {len(rows) - 24} more."))
    return to_dicts(blocks, MESSAGE_BLOCKS)


def grade_prompt(interview_id: int, when: Interval, zone: tzinfo, candidate: str) -> list[dict]:
    buttons = [button(f"{GRADE_ACTION}_{g}", str(g), json.dumps({"i": interview_id, "g": g})) for g in range(6)]
    return to_dicts([
        section(f":memo: How did *{esc(candidate)}* do? ({span(when, zone)})\nGrade 0 (poor) to 5 (excellent)."),
        actions(f"grade-{interview_id}", buttons),
    ], MESSAGE_BLOCKS)


def offer_message(offer_id: int, slots: Sequence[Interval], zone: tzinfo, who: str, expires: str) -> list[dict]:
    blocks = [section(f":wave: You are invited to an interview with {esc(who)}. Pick the time that suits you "
                      f"(first come, first served; the offer expires {expires}):")]
    blocks += [section(span(s, zone), accessory=button(f"{OFFER_PICK_ACTION}_{i}", "Pick",
                                                       json.dumps({"o": offer_id, "i": i}), style="primary"))
               for i, s in enumerate(slots)]
    return to_dicts(blocks, MESSAGE_BLOCKS)


def move_choices(interview_id: int, slots: Sequence[Interval], zone: tzinfo) -> list[dict]:
    """Where a booked interview can move to: the nearest free slots for everyone in it."""
    if not slots:
        return to_dicts([section(":no_entry: No other common slot for everyone in this interview.")], MESSAGE_BLOCKS)
    blocks = [section(f"*Move interview #{interview_id} to:*")]
    blocks += [section(span(s, zone), accessory=button(f"{MOVE_ACTION}_{n}", "Move here",
                                                       json.dumps({"i": interview_id, "s": s.iso()["start"]})))
               for n, s in enumerate(slots[:20])]
    return to_dicts(blocks, MESSAGE_BLOCKS)
