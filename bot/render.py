"""Results and notices of the use cases, as Slack messages and views.

`reply(result, target)` renders for the surface the answer goes to (a message holds 50
blocks, a modal or the Home tab 100); `notice(n)` renders a DM (with its attachment). Every
piece of user-controlled text is escaped on its way into mrkdwn (bot.blocks.common.esc).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import singledispatch
from typing import Any
from zoneinfo import ZoneInfo

from bot.blocks import availability as availability_ui
from bot.blocks import interviews as interview_ui
from bot.blocks import slots as slots_ui
from bot.blocks.common import (
    MESSAGE_BLOCKS,
    VIEW_BLOCKS,
    bullet_chunks,
    context,
    error_text,
    esc,
    section,
    text_blocks,
    to_dicts,
)
from bot.blocks.home import home_view
from bot.blocks.pool_slots import pool_blocks
from bot.timefmt import span, when
from bot.usecases.availability import (
    AvailabilityAdded,
    AvailabilityCleared,
    AvailabilityListed,
    WindowRemoved,
)
from bot.usecases.booking import (
    Booked,
    Cancelled,
    Graded,
    InterviewList,
    InterviewNotice,
    LocationSet,
    MoveChoices,
    SlotGone,
)
from bot.usecases.calendars import CalendarLinked, CalendarsShown, CalendarsUnlinked
from bot.usecases.home import HomeView
from bot.usecases.offers import OfferNotice, OfferPicked, OfferSent, Picked
from bot.usecases.people import PeopleList, RegistrationDecided, RegistrationRequested, Said
from bot.usecases.pool_search import PoolSlotsFound
from bot.usecases.pools import PoolChanged, PoolList, PoolRemoved, PoolView
from bot.usecases.search import SlotsFound
from bot.usecases.templates import (
    SessionView,
    TemplateList,
    TemplateRemoved,
    TemplateSaved,
    TemplateView,
)
from storage.calendars import LINK_EXAMPLE

Message = dict[str, Any]


@dataclass(frozen=True)
class Problem:
    """Something the person can fix (or try again): the message and a correct example."""

    message: str
    example: str | None = None


@dataclass(frozen=True)
class Help:
    """A command's usage (text written here, already mrkdwn)."""

    text: str


def _text(mrkdwn: str) -> Message:
    return {"text": mrkdwn, "blocks": text_blocks(mrkdwn)}


@singledispatch
def message(result: object) -> Message:
    raise TypeError(f"no Slack rendering for {type(result).__name__}")


@message.register
def _(result: Problem) -> Message:
    return _text(error_text(result.message, result.example))


@message.register
def _(result: Help) -> Message:
    return _text(result.text)


@message.register
def _(result: Said) -> Message:
    return _text(esc(result.text))


@message.register
def _(result: AvailabilityAdded) -> Message:
    whose = "Your" if result.own else f"{esc(result.name)}'s"
    return {"text": f"{whose} availability was updated.",
            "blocks": availability_ui.added(result.windows, ZoneInfo(result.zone), name=result.name, own=result.own)}


@message.register
def _(result: AvailabilityListed) -> Message:
    whose = "Your" if result.own else f"{esc(result.name)}'s"
    return {"text": f"{whose} availability",
            "blocks": availability_ui.listing(result.windows, ZoneInfo(result.zone), name=result.name, own=result.own)}


@message.register
def _(result: WindowRemoved) -> Message:
    return _text(f":wastebasket: Removed window `#{result.window_id}`.")


@message.register
def _(result: AvailabilityCleared) -> Message:
    return _text(f":wastebasket: Cleared {result.count} upcoming window(s).")


@message.register
def _(result: CalendarsShown) -> Message:
    if not result.links:
        return _text(f"No calendar linked. Link one with `{LINK_EXAMPLE}`.")
    return _text("Linked calendars:\n" + "\n".join(f"• {esc(line)}" for line in result.links))


@message.register
def _(result: CalendarLinked) -> Message:
    if result.readable:
        return _text(f":calendar: Linked {esc(result.status)}. Its busy time now counts in searches.")
    return _text(f":warning: Linked {esc(result.status)}. It could not be read yet; searches will retry it.")


@message.register
def _(result: CalendarsUnlinked) -> Message:
    return _text(f"Unlinked {result.count} calendar(s); their busy time no longer counts.")


@message.register
def _(result: PeopleList) -> Message:
    lines = []
    for p in result.people:
        who = f"<@{p.slack_user_id}>" if p.slack_user_id else esc(p.name)
        line = f"• {who} — {p.tz}" + (f" · {esc(p.email)}" if p.email else "")
        lines.append(line + "".join(f"\n    :calendar: {esc(c)}" for c in p.calendars))
    title = f"*{result.role.value.capitalize()}s* ({len(result.people)})"
    chunks = bullet_chunks([title, *lines] if lines else [title, "_Nobody yet._"])
    return {"text": title, "blocks": to_dicts((section(c) for c in chunks[:MESSAGE_BLOCKS]), MESSAGE_BLOCKS)}


@message.register
def _(result: SlotsFound) -> Message:
    return {"text": f"{len(result.slots)} slot(s)", "blocks": slots_ui.slot_blocks(result, limit=MESSAGE_BLOCKS)}


@message.register
def _(result: PoolSlotsFound) -> Message:
    return {"text": f"{len(result.slots)} slot(s) with the pool {result.pool}",
            "blocks": pool_blocks(result, limit=MESSAGE_BLOCKS)}


@message.register
def _(result: SlotGone) -> Message:
    return {"text": esc(result.reason),
            "blocks": slots_ui.slot_blocks(result.fresh, limit=MESSAGE_BLOCKS, lead=[f":hourglass: {esc(result.reason)}"])}


@message.register
def _(result: Booked) -> Message:
    zone = ZoneInfo(result.tz)
    return {"text": f"{'Moved' if result.moved else 'Booked'} {span(result.when, zone)}",
            "blocks": interview_ui.booked_for_hr(result.interview_id, result.when, zone, result.others,
                                                 replayed=result.replayed, moved=result.moved,
                                                 unreachable=result.unreachable, location=result.location)}


@message.register
def _(result: Cancelled) -> Message:
    text = (f":x: Cancelled interview #{result.interview_id} ({span(result.when, ZoneInfo(result.tz))}); "
            "everyone was told.")
    if result.unreachable:
        text += " Could not notify: " + esc(", ".join(result.unreachable))
    return _text(text)


@message.register
def _(result: LocationSet) -> Message:
    text = (f":round_pushpin: Interview #{result.interview_id} is now at {esc(result.location)}" if result.location
            else f":round_pushpin: Interview #{result.interview_id} has no place any more") + "; everyone was told."
    if result.unreachable:
        text += " Could not notify: " + esc(", ".join(result.unreachable))
    return _text(text)


@message.register
def _(result: MoveChoices) -> Message:
    return {"text": "Pick a new time",
            "blocks": interview_ui.move_choices(result.interview_id, result.slots, ZoneInfo(result.tz))}


@message.register
def _(result: Graded) -> Message:
    return _text(f":white_check_mark: Thanks — you graded interview #{result.interview_id} {result.grade}/5.")


@message.register
def _(result: InterviewList) -> Message:
    title = "Upcoming interviews" if result.everyone else "Your upcoming interviews"
    rows = [(r.interview_id, r.when, r.others) for r in result.rows]
    return {"text": title, "blocks": interview_ui.listing(title, rows, ZoneInfo(result.tz), controls=result.everyone)}


@message.register
def _(result: OfferSent) -> Message:
    return _text(f":envelope: Offered {result.count} slot(s) to {esc(result.candidate)}; "
                 "the first valid pick books it.")


@message.register
def _(result: Picked) -> Message:
    lead = "Already booked" if result.replayed else "Booked"
    return _text(f":white_check_mark: {lead}: {span(result.when, ZoneInfo(result.tz))}. See you there!")


def _template_line(t: TemplateView) -> str:
    rules = [f"{t.duration_min} min on a {t.step_min}-min grid", f"{t.notice_min // 60} h notice"]
    if t.buffer_before_min or t.buffer_after_min:
        rules.append(f"buffers {t.buffer_before_min}/{t.buffer_after_min} min")
    if t.cap_per_day or t.cap_per_week:
        rules.append(f"caps {t.cap_per_day or '–'}/day, {t.cap_per_week or '–'}/week")
    if t.programme_max is not None:
        rules.append(f"programme rules (max {t.programme_max})")
    if t.sessions:  # a loop: `duration_min` is its whole length
        order = "any order" if t.order == "free" else "in order"
        sessions = ", ".join(f"{s.name} {s.duration_min} min ({', '.join(_who(s))})" for s in t.sessions)
        return (f"`#{t.template_id}` *{esc(t.name)}* — {', '.join(rules)}; loop {order}, {t.break_min} min breaks: "
                f"{esc(sessions)}")
    return f"`#{t.template_id}` *{esc(t.name)}* — {', '.join(rules)}; panel: {esc(', '.join(t.panel))}"


def _who(s: SessionView) -> list[str]:
    return [*s.people, *([f"{s.k} of {s.pool}"] if s.pool else [])]


@message.register
def _(result: TemplateSaved) -> Message:
    return _text(":white_check_mark: Template saved: " + _template_line(result.template))


@message.register
def _(result: TemplateList) -> Message:
    lines = [_template_line(t) for t in result.templates]
    chunks = bullet_chunks([f"*Interview templates* ({len(lines)})", *(lines or ["_None yet._"])])
    return {"text": "Interview templates", "blocks": to_dicts((section(c) for c in chunks[:45]), MESSAGE_BLOCKS)}


@message.register
def _(result: TemplateRemoved) -> Message:
    return _text(f":wastebasket: Removed template {esc(result.name)}.")


def _pool_line(pool: PoolView) -> str:
    members = esc(", ".join(pool.members)) if pool.members else "_nobody yet_"
    return f"*{esc(pool.name)}* ({len(pool.members)}): {members}"


@message.register
def _(result: PoolChanged) -> Message:
    if result.removed:
        head = f":wastebasket: Removed {esc(', '.join(result.removed))}."
    elif result.added:
        head = f":white_check_mark: Added {esc(', '.join(result.added))}."
    else:
        head = "Nothing changed: they were all in the pool already."
    return _text(f"{head} Pool {_pool_line(result.pool)}")


@message.register
def _(result: PoolList) -> Message:
    lines = [_pool_line(p) for p in result.pools]
    chunks = bullet_chunks([f"*Interviewer pools* ({len(lines)})", *(lines or ["_None yet._ `/interview pool add NAME @people`"])])
    return {"text": "Interviewer pools", "blocks": to_dicts((section(c) for c in chunks[:45]), MESSAGE_BLOCKS)}


@message.register
def _(result: PoolRemoved) -> Message:
    return _text(f":wastebasket: Removed the pool {esc(result.name)}.")


# -- replies ---------------------------------------------------------------------------------


def reply(result: object, target: dict[str, Any]) -> Message:
    """The job payload for answering `result` at `target` (see bot.jobs.deliver)."""
    kind = target["kind"]
    if kind == "home":  # the Home tab, or (a problem) what went wrong in its place
        view = home_view(result) if isinstance(result, HomeView) else {"type": "home", "blocks": message(result)["blocks"]}
        return {"view": view}
    if kind == "view":
        return {"view": modal(result, target.get("metadata")), **message(result)}
    return message(result)


def modal(result: object, metadata: dict[str, Any] | None = None) -> dict:
    """An answer shown in the modal it came from: slot lists get the modal's 100 blocks."""
    if isinstance(result, SlotsFound):
        meta = {**(metadata or {}), "params": result.query.dumps()}
        return slots_ui.modal("Interview slots", slots_ui.slot_blocks(result, limit=VIEW_BLOCKS),
                              callback_id="slots_results", private_metadata=json.dumps(meta))
    return slots_ui.modal("Interview scheduling", message(result)["blocks"][:VIEW_BLOCKS])


# -- notices (DMs) ---------------------------------------------------------------------------


@singledispatch
def notice(item: object) -> Message:
    raise TypeError(f"no Slack rendering for {type(item).__name__}")


@notice.register
def _(item: InterviewNotice) -> Message:
    text, blocks = interview_ui.participant_notice(item.kind, item.when, ZoneInfo(item.tz), item.others, item.by,
                                                   item.location, item.title)
    title = "Cancellation" if item.kind == "cancelled" else "Calendar invitation"
    return {"text": text, "blocks": blocks, "watcher": item.watcher,
            "file": {"content": item.invitation, "filename": f"interview-{item.interview_id}.ics", "title": title}}


@notice.register
def _(item: OfferNotice) -> Message:
    zone = ZoneInfo(item.tz)
    return {"text": f"Pick an interview time with {esc(item.interviewers)}", "watcher": item.watcher,
            "blocks": interview_ui.offer_message(item.offer_id, item.slots, zone, item.interviewers,
                                                 when(item.expires_at, zone))}


@notice.register
def _(item: OfferPicked) -> Message:
    booked = item.booked
    return {"text": f"{esc(item.candidate)} picked a slot",
            "blocks": [*to_dicts([context(f":tada: {esc(item.candidate)} picked a time.")]),
                       *interview_ui.booked_for_hr(booked.interview_id, booked.when, ZoneInfo(booked.tz),
                                                   booked.others, unreachable=booked.unreachable)]}


@notice.register
def _(item: RegistrationRequested) -> Message:
    return _text(f"<@{item.user_id}> ({esc(item.person)}) asks to register as {item.role.value}. "
                 f"`/interview-admin approve <@{item.user_id}>` or `reject`.")


@notice.register
def _(item: RegistrationDecided) -> Message:
    outcome = "approved" if item.approved else "declined"
    return _text(f"Your registration as {item.roles} was {outcome} by {esc(item.by)}.")


@notice.register
def _(item: Said) -> Message:
    return _text(esc(item.text))
