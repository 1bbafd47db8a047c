"""The availability modal and the replies to `/availability` text commands."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, tzinfo

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    DatePickerElement,
    InputBlock,
    Option,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MESSAGE_BLOCKS,
    BlockDict,
    bullet_chunks,
    context,
    esc,
    plain,
    section,
    to_dicts,
)
from bot.timefmt import span
from scheduling.intervals import Interval

CALLBACK = "availability_modal"
DATE, START, END, REPEAT, UNTIL = "date", "start", "end", "repeat", "until"
HELP = (
    "*Add availability* (times in your Slack zone unless you name one):\n"
    "• `/availability add 2026-12-02 10:00-14:00`\n"
    "• `/availability add tomorrow 9am-12pm`\n"
    "• `/availability add next tue 14:00-17:30 Europe/Berlin`\n"
    "• `/availability add mon-fri 09:00-17:00 weekly until 2027-01-31`\n"
    "• `/availability add 2026-12-02 09:00, 2026-12-02 10:00` (one-hour slots)\n"
    "*Manage:* `/availability list` · `/availability remove <id>` · `/availability clear`\n"
    "*Busy calendar (interviewers):* `/availability calendar <ics or caldav url>` · "
    "`/availability calendar` · `/availability calendar remove`\n"
    "Or just `/availability` for a form."
)


def modal(today: date, zone_label: str, metadata: dict) -> dict:
    """Date, start, end, optional weekly repeat until a date."""
    blocks: list[BlockDict | Block] = [
        context(f"Times are in your Slack time zone: *{zone_label}*."),
        InputBlock(block_id=DATE, label=plain("Date"),
                   element=DatePickerElement(action_id=DATE, initial_date=today.isoformat())),
        InputBlock(block_id=START, label=plain("From"),
                   element=TimePickerElement(action_id=START, initial_time="09:00")),
        InputBlock(block_id=END, label=plain("To"),
                   element=TimePickerElement(action_id=END, initial_time="17:00")),
        InputBlock(block_id=REPEAT, label=plain("Repeat"), optional=True,
                   element=CheckboxesElement(action_id=REPEAT, options=[
                       Option(value="weekly", text=plain("Every week on this weekday"))])),
        InputBlock(block_id=UNTIL, label=plain("Repeat until"), optional=True,
                   element=DatePickerElement(action_id=UNTIL)),
    ]
    view = View(
        type="modal", callback_id=CALLBACK, title=plain("Availability"),
        submit=plain("Save"), close=plain("Cancel"), blocks=blocks,
        private_metadata=json.dumps(metadata),
    )
    return view.to_dict()


def _whose(name: str, own: bool) -> str:
    return "Your" if own else f"{esc(name)}'s"


def added(windows: Sequence[Interval], zone: tzinfo, *, name: str = "", own: bool = True) -> list[dict]:
    lines = [f"• {span(w, zone)}" for w in windows]
    title = f":white_check_mark: {_whose(name, own)} availability now includes {len(windows)} window(s):"
    chunks = bullet_chunks([title, *lines])
    blocks = [section(chunk) for chunk in chunks[:MESSAGE_BLOCKS - 1]]
    if len(chunks) > MESSAGE_BLOCKS - 1:
        blocks.append(context("List shortened; see `/availability list`."))
    return to_dicts(blocks, MESSAGE_BLOCKS)


def listing(rows: Sequence[tuple[int, Interval]], zone: tzinfo, *, name: str = "", own: bool = True) -> list[dict]:
    if not rows:
        lead = "You have" if own else f"{esc(name)} has"
        return to_dicts([section(f"{lead} no upcoming availability. " + HELP)], MESSAGE_BLOCKS)
    lines = [f"`#{wid}` {span(iv, zone)}" for wid, iv in rows]
    chunks = bullet_chunks([f"*{_whose(name, own)} upcoming availability* ({len(rows)} window(s)):", *lines])
    blocks = [section(chunk) for chunk in chunks[:45]]
    if len(chunks) > 45:
        blocks.append(context("List shortened; remove old windows or use `/availability clear`."))
    blocks.append(context("Remove one with `/availability remove <id>`."))
    return to_dicts(blocks, MESSAGE_BLOCKS)
