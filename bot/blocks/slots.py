"""The find-slots modal and the slot list (modal or message), paged, with Book buttons."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, tzinfo
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DatePickerElement,
    ExternalDataMultiSelectElement,
    ExternalDataSelectElement,
    InputBlock,
    Option,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.common import MAX_OPTION_TEXT, clip, context, header, plain, section, to_dicts
from bot.timefmt import clock, day_heading
from scheduling.intervals import Interval, iso_z
from scheduling.slots import group_by_day
from storage.matching import SearchOutcome

SEARCH_CALLBACK = "find_slots_modal"
CANDIDATE, INTERVIEWERS, TEMPLATE, DURATION, FROM, TO = (
    "candidate", "interviewers", "template", "duration", "from", "to",
)
BOOK_ACTION, PAGE_ACTION = "book_slot", "slots_page"
PAGE_SIZE = 25
DURATIONS = (30, 45, 60, 75, 90, 120)


@dataclass
class SearchParams:
    """A search as carried in private_metadata and buttons (ids, not names)."""

    candidate: int
    interviewers: list[int]
    duration: int
    start: str | None = None
    end: str | None = None
    template: int | None = None
    nonce: str = ""
    page: int = 0
    extra: dict = field(default_factory=dict)

    def dumps(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v not in (None, {}, "")}
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> SearchParams:
        return cls(**json.loads(text))


def _option(value: str, text: str) -> Option:
    return Option(value=value, text=plain(clip(text, MAX_OPTION_TEXT)))


def search_modal(
    *, default_duration: int, today: date, templates: Sequence[tuple[int, str]], metadata: dict
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
                   element=DatePickerElement(action_id=FROM, initial_date=today.isoformat())),
        InputBlock(block_id=TO, label=plain("To"), optional=True, element=DatePickerElement(action_id=TO)),
    ]
    return View(
        type="modal", callback_id=SEARCH_CALLBACK, title=plain("Find interview slots"),
        submit=plain("Find slots"), close=plain("Cancel"), blocks=blocks,
        private_metadata=json.dumps(metadata),
    ).to_dict()


def loading_modal(title: str = "Interview slots", text: str = ":hourglass: Working on it…") -> dict:
    return View(type="modal", title=plain(title), close=plain("Close"), blocks=[section(text)]).to_dict()


def message_modal(text: str, title: str = "Interview slots") -> dict:
    return View(type="modal", title=plain(title), close=plain("Close"), blocks=[section(text)]).to_dict()


def book_value(params: SearchParams, slot: Interval) -> str:
    """Everything the Book action needs; the nonce + start make the idempotency key."""
    data = {"p": json.loads(params.dumps()), "s": iso_z(slot.start)}
    data["p"].pop("page", None)
    return json.dumps(data, separators=(",", ":"))


def _slot_section(slot: Interval, viewer: tzinfo, cand_zone: tzinfo, cand_name: str,
                  params: SearchParams, bookable: bool):
    text = f"*{slot.start.astimezone(viewer):%H:%M}–{clock(slot.end, viewer)}*"
    if cand_zone != viewer:
        text += f"   ·   {cand_name}: {clock(slot.start, cand_zone)}"
    accessory = ButtonElement(
        action_id=BOOK_ACTION, text=plain("Book"), style="primary", value=book_value(params, slot)
    ) if bookable else None
    return section(text, accessory=accessory) if accessory else section(text)


def slot_blocks(outcome: SearchOutcome, viewer: tzinfo, params: SearchParams, *, bookable: bool = True) -> list[dict]:
    """The page `params.page` of the result, grouped by the viewer's local day."""
    cand = outcome.candidate
    cand_zone = ZoneInfo(cand.tz)
    names = ", ".join(p.name for p in outcome.interviewers)
    total = len(outcome.slots)
    blocks = [
        header(f"{params.duration} min with {cand.name}"),
        context(f"Interviewers: {names}. Times in your zone ({getattr(viewer, 'key', viewer)}); "
                f"{cand.name}'s local time beside."),
    ]
    blocks += [section(f":information_source: {note}") for note in outcome.notes[:5]]
    blocks += [section(f":warning: {err}") for err in outcome.calendar_errors[:5]]
    if not total:
        return to_dicts(blocks + _no_slots(outcome, viewer, cand_zone, params, bookable))
    pages = (total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(params.page, 0), pages - 1)
    chunk = outcome.slots[page * PAGE_SIZE:(page + 1) * PAGE_SIZE]
    blocks.append(context(f"{total} slot(s) · page {page + 1} of {pages}"))
    for day, day_slots in group_by_day(chunk, viewer):  # type: ignore[arg-type]
        blocks.append(section(f"*{day_heading(day)}*"))
        blocks += [_slot_section(s, viewer, cand_zone, cand.name, params, bookable) for s in day_slots]
    nav = []
    if page > 0:
        nav.append(ButtonElement(action_id=f"{PAGE_ACTION}_prev", text=plain("◀ Earlier"),
                                 value=_page_value(params, page - 1)))
    if page + 1 < pages:
        nav.append(ButtonElement(action_id=f"{PAGE_ACTION}_next", text=plain("Later ▶"),
                                 value=_page_value(params, page + 1)))
    if nav:
        blocks.append(ActionsBlock(block_id="paging", elements=nav))
    return to_dicts(blocks)


def _page_value(params: SearchParams, page: int) -> str:
    data = json.loads(params.dumps())
    data["page"] = page
    return json.dumps(data, separators=(",", ":"))


def _no_slots(outcome: SearchOutcome, viewer: tzinfo, cand_zone: tzinfo, params: SearchParams,
              bookable: bool) -> list:
    blocks = [section(":no_entry: *No common slot.*")]
    diagnosis = outcome.diagnosis
    if diagnosis is None:
        return blocks
    if diagnosis.reasons:
        blocks.append(section("\n".join(f"• {r}" for r in diagnosis.reasons[:10])))
    if diagnosis.alternatives:
        blocks.append(section("*Nearest alternatives:*"))
        blocks += [_slot_section(s, viewer, cand_zone, outcome.candidate.name, params, bookable)
                   for s in diagnosis.alternatives[:5]]
    return blocks

