"""A pool search's slots as a message: by the viewer's day, each with who was chosen and why, a
Book button that books exactly those people (re-checked like any panel), and a menu of the other
free members to book instead, in one click."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.blocks.common import (
    MAX_OPTIONS,
    BlockDict,
    actions,
    button,
    context,
    esc,
    header,
    plain_text,
    section,
    to_dicts,
)
from bot.blocks.slots import BOOK_ACTION, book_query, book_value
from bot.timefmt import clock, clock_span, day_heading
from bot.usecases.pool_search import PoolSlot, PoolSlotsFound
from bot.usecases.search import SearchQuery
from scheduling.slots import group_by_day

SWAP_ACTION = "book_swap"


def swap_value(found: PoolSlotsFound, ids: tuple[int, ...], slot: PoolSlot) -> str:
    """A booking as a menu option carries it (150 characters at most, so not JSON):
    candidate | interviewer ids | minutes | nonce | start (epoch seconds)."""
    return (f"{found.candidate_id}|{','.join(map(str, ids))}|{found.duration}|{found.nonce}|"
            f"{int(slot.slot.start.timestamp())}")


def _slot(found: PoolSlotsFound, item: PoolSlot, index: int, viewer: ZoneInfo, cand_zone: ZoneInfo) -> list[BlockDict]:
    query = SearchQuery(candidate=found.candidate_id, interviewers=list(item.ids), duration=found.duration,
                        nonce=found.nonce)
    text = f"*{clock_span(item.slot, viewer)}*   ·   {esc(', '.join(item.names))}"
    if cand_zone != viewer:
        text += f"   ·   {esc(found.candidate)}: {clock(item.slot.start, cand_zone)}"
    elements = [button(BOOK_ACTION, "Book", book_value(book_query(query), item.slot), style="primary")]
    if item.other_ids:  # swap the least fair of those chosen for another free member
        keep = item.ids[:-1]
        elements.append({
            "type": "static_select", "action_id": SWAP_ACTION,
            "placeholder": plain_text(f"Book with someone else than {item.names[-1]}", 75),
            "options": [{"text": plain_text(name, 75), "value": swap_value(found, (*keep, other), item)}
                        for other, name in list(zip(item.other_ids, item.other_names, strict=True))[:MAX_OPTIONS]],
        })
    return [section(f"{text}\n{esc(item.why)}"), actions(f"pool_slot_{index}", elements)]


def pool_blocks(found: PoolSlotsFound, *, limit: int) -> list[dict]:
    """As many slots as fit in `limit` blocks (two each, a heading per day); the count says
    how many there are, so a narrower range (from/to) shows the rest."""
    viewer, cand_zone = ZoneInfo(found.viewer_tz), ZoneInfo(found.candidate_tz)
    blocks: list[BlockDict] = [
        header(f"{found.duration} min with {found.candidate}"),
        context(f"{found.k} from the pool {esc(found.pool)}, fairest first (fewest interviews this week, then in "
                f"30 days, then longest since the last). Times in your zone ({viewer.key})."),
    ]
    blocks += [section(f":information_source: {esc(note)}") for note in found.notes[:3]]
    blocks += [section(f":warning: {esc(err)}") for err in found.calendar_errors[:3]]
    if not found.slots:
        return to_dicts([*blocks, section(":no_entry: *No slot* where the candidate and enough of the pool are free.")],
                        limit)
    count_at = len(blocks)  # the count goes here once we know how many fit
    room, shown = limit - len(blocks) - 1, 0
    by_start = {s.slot: s for s in found.slots}
    for day, day_slots in group_by_day(list(by_start), viewer):
        if room < 3:
            break
        blocks.append(section(f"*{day_heading(day)}*"))
        room -= 1
        for slot in day_slots:
            if room < 2:
                break
            blocks += _slot(found, by_start[slot], shown, viewer, cand_zone)
            room, shown = room - 2, shown + 1
    more = f"; the first {shown} shown — narrow the range with `from`/`to` for the rest" if shown < len(found.slots) else ""
    blocks.insert(count_at, context(f"{len(found.slots)} slot(s){more}"))
    return to_dicts(blocks, limit)
