"""The find-slots modal and the slot list (modal or message), paged, with Book buttons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, tzinfo
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    DatePickerElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import (
    MAX_OPTION_TEXT,
    BlockDict,
    actions,
    button,
    clip,
    context,
    esc,
    header,
    plain,
    section,
    to_dicts,
)
from bot.timefmt import clock, clock_span, day_heading
from bot.usecases.search import MAX_LOCATION, SearchQuery, SlotsFound
from scheduling.intervals import Interval, iso_z
from scheduling.slots import group_by_day

SEARCH_CALLBACK = "find_slots_modal"
CANDIDATE, INTERVIEWERS, TEMPLATE, DURATION, FROM, TO, LOCATION = (
    "candidate", "interviewers", "template", "duration", "from", "to", "location",
)
BOOK_ACTION, PAGE_ACTION = "book_slot", "slots_page"
PAGE_SIZE = 25
DURATIONS = (30, 45, 60, 75, 90, 120)


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=plain(clip(text, MAX_OPTION_TEXT)))


def search_modal(
    *, default_duration: int, today: date, templates: Sequence[tuple[int, str]], metadata: dict, zone: str
) -> dict:
    """Candidate, interviewers (or a template's panel), duration and date range."""
    durations = sorted({*DURATIONS, default_duration})
    blocks = [
        InputBlock(block_id=CANDIDATE, label=plain("Candidate"), element=ExternalDataSelectElement(
            action_id=CANDIDATE, placeholder=plain("Type a name"), min_query_length=0)),
    ]
    if templates:
        blocks.append(InputBlock(
            block_id=TEMPLATE, label=plain("Interview template"), optional=True,
            hint=plain("A template brings its panel, duration and rules."),
            element=StaticSelectElement(action_id=TEMPLATE, options=[
                _option(str(tid), name) for tid, name in templates[:100]])))
    blocks += [
        InputBlock(block_id=INTERVIEWERS, label=plain("Interviewers (one or a panel)"),
                   optional=bool(templates), element=ExternalDataMultiSelectElement(
                       action_id=INTERVIEWERS, placeholder=plain("Type a name"),
                       min_query_length=0, max_selected_items=10)),
        InputBlock(block_id=DURATION, label=plain("Duration"), element=StaticSelectElement(
            action_id=DURATION,
            options=[_option(str(m), f"{m} minutes") for m in durations],
            initial_option=_option(str(default_duration), f"{default_duration} minutes"))),
        InputBlock(block_id=FROM, label=plain("From"), optional=True,
                   hint=plain(f"Days in your time zone ({zone}); slots also show the candidate's time."),
                   element=DatePickerElement(action_id=FROM, initial_date=today.isoformat())),
        InputBlock(block_id=TO, label=plain("To"), optional=True, element=DatePickerElement(action_id=TO)),
        InputBlock(block_id=LOCATION, label=plain("Where"), optional=True,
                   hint=plain("A room, an address or a video link, for the invitation. It can be set later too."),
                   element=PlainTextInputElement(action_id=LOCATION, max_length=MAX_LOCATION,
                                                 placeholder=plain("https://meet.example.com/abc-defg-hij"))),
    ]
    return View(
        type="modal", callback_id=SEARCH_CALLBACK, title=plain("Find interview slots"),
        submit=plain("Find slots"), close=plain("Cancel"), blocks=blocks,
        private_metadata=json.dumps(metadata),
    ).to_dict()


def modal(title: str, blocks: list[BlockDict], **fields: str) -> dict:
    """A modal without inputs, as the Web API takes it (`fields`: callback_id, private_metadata…)."""
    return {"type": "modal", "title": {"type": "plain_text", "text": clip(title, 24), "emoji": True},
            "close": {"type": "plain_text", "text": "Close", "emoji": True}, "blocks": blocks, **fields}


def message_modal(text: str, title: str = "Interview slots") -> dict:
    """A modal showing one mrkdwn text the caller has escaped (a loading or error screen)."""
    return modal(title, [section(text)])


def book_query(query: SearchQuery) -> str:
    """The search as a Book button carries it (encoded once for a page of buttons)."""
    data = json.loads(query.dumps())
    data.pop("page", None)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def book_value(encoded_query: str, slot: Interval) -> str:
    """Everything the Book action needs; the nonce + start make the idempotency key."""
    return f'{{"p":{encoded_query},"s":"{iso_z(slot.start)}"}}'



def _slot_section(slot: Interval, viewer: tzinfo, cand_zone: tzinfo, cand_name: str, base: str | None) -> BlockDict:
    """One slot, with its Book button unless `base` (the encoded query) is None."""
    text = f"*{clock_span(slot, viewer)}*"
    if cand_zone != viewer:
        text += f"   ·   {esc(cand_name)}: {clock(slot.start, cand_zone)}"
    if base is None:
        return section(text)
    return section(text, accessory=button(BOOK_ACTION, "Book", book_value(base, slot), style="primary"))


def slot_blocks(found: SlotsFound, *, limit: int, lead: Sequence[str] = (), bookable: bool = True) -> list[dict]:
    """The page `found.query.page` of a result, grouped by the viewer's local day, within
    `limit` blocks (50 in a message, 100 in a modal); `lead` are escaped lines shown first."""
    viewer = ZoneInfo(found.viewer_tz)
    cand = found.candidate
    cand_zone = ZoneInfo(cand.tz)
    query = found.query
    base = book_query(query) if bookable else None
    names = ", ".join(p.name for p in found.interviewers)
    blocks = [section(line) for line in lead]
    blocks += [
        header(f"{query.duration} min with {cand.name}"),
        context(f"Interviewers: {esc(names)}. Times in your zone ({viewer.key}); "
                f"{esc(cand.name)}'s local time beside."),
    ]
    if found.slots:  # with none left, the rules that removed them are the reasons, said below
        blocks += [section(f":information_source: {esc(note)}") for note in found.notes[:5]]
    blocks += [section(f":warning: {esc(err)}") for err in found.calendar_errors[:5]]
    if not found.slots:
        return to_dicts(blocks + _no_slots(found, viewer, cand_zone, base), limit)
    page_size = min(PAGE_SIZE, (limit - len(blocks) - 3) // 2)
    pages = (len(found.slots) + page_size - 1) // page_size
    page = min(max(query.page, 0), pages - 1)
    blocks.append(context(f"{len(found.slots)} slot(s) · page {page + 1} of {pages}"))
    nav = []
    if page > 0:
        nav.append(button(f"{PAGE_ACTION}_prev", "◀ Earlier", _page_value(query, page - 1)))
    if page + 1 < pages:
        nav.append(button(f"{PAGE_ACTION}_next", "Later ▶", _page_value(query, page + 1)))
    room = limit - len(blocks) - (1 if nav else 0)
    for day, day_slots in group_by_day(found.slots[page * page_size:(page + 1) * page_size], viewer):
        if room < 2:
            break
        blocks.append(section(f"*{day_heading(day)}*"))
        shown = day_slots[:room - 1]
        blocks += [_slot_section(s, viewer, cand_zone, cand.name, base) for s in shown]
        room -= 1 + len(shown)
    if nav:
        blocks.append(actions("paging", nav))
    return to_dicts(blocks, limit)


def _page_value(query: SearchQuery, page: int) -> str:
    data = json.loads(query.dumps())
    data["page"] = page
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _no_slots(found: SlotsFound, viewer: tzinfo, cand_zone: tzinfo, base: str | None) -> list:
    blocks = [section(":no_entry: *No common slot.*")]
    if found.reasons:
        blocks.append(section("\n".join(f"• {esc(r)}" for r in found.reasons[:10])))
    if found.alternatives:
        blocks.append(section("*Nearest alternatives:*"))
        blocks += [_slot_section(s, viewer, cand_zone, found.candidate.name, base) for s in found.alternatives[:5]]
    return blocks
