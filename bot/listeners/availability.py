"""`/availability`: the form, the quick text forms, list/remove/clear, linked calendars (and HR
acting for someone else with `/availability for <email|@user> …`)."""

from __future__ import annotations

import json
import logging
import time
from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks import availability as ui
from bot.blocks.common import error_text, esc
from bot.blocks.slots import message_modal
from bot.listeners.requests import (
    ACK_BUDGET_S,
    UNAVAILABLE,
    NotRecorded,
    SlackRequest,
    in_time,
    record,
    response_target,
    workspace_of,
)
from bot.mentions import named_people, unescape, whole_number
from bot.render import Help
from bot.timefmt import zone_name
from bot.usecases import availability as usecase
from bot.usecases import calendars
from bot.usecases.context import Context, answer
from scheduling.errors import (
    BeyondHorizon,
    InvalidInterval,
    NonexistentLocalTime,
    ParseError,
    PastTime,
    SchedulingError,
    TooManyWindows,
)
from scheduling.intervals import Interval
from scheduling.zones import weekday_name, zone_of

log = logging.getLogger(__name__)


# -- Slack's side: record, ack ------------------------------------------------------------------


def availability_command(ack: Ack, command: dict, context: BoltContext) -> None:
    bot = context["bot"]
    if not command.get("text", "").strip():
        ack()
        bot.open_form(open_form, workspace_of(context), command)
        return
    try:
        record(bot, context, route="availability", args={"text": command["text"]},
               reply=response_target(command), dedupe=command["trigger_id"])
    except NotRecorded:
        ack(text=f":warning: {UNAVAILABLE}")
        return
    ack()


def open_form(bot: Any, workspace: str, command: dict) -> None:
    """Open a loading modal at once (the trigger id lives 3 s), then fill it in."""
    web = bot.clients.web(workspace)
    view_id = web.views_open(trigger_id=command["trigger_id"], view=message_modal(":hourglass: Working on it…",
                                                                                  "Availability"))["view"]["id"]
    try:
        defaults = usecase.form_defaults(bot.ctx, workspace, command["user_id"])
    except SchedulingError as err:
        web.views_update(view_id=view_id, view=message_modal(error_text(str(err), err.example), "Availability"))
        return
    zone = zone_of(defaults.zone)
    label = f"{zone.key} ({zone_name(zone, bot.ctx.now())})"
    web.views_update(view_id=view_id, view=ui.modal(date.fromisoformat(defaults.today), label,
                                                    {"channel": command.get("channel_id")}))


ERROR_BLOCK = {
    NonexistentLocalTime: ui.START,
    PastTime: ui.DATE,
    BeyondHorizon: ui.DATE,
    TooManyWindows: ui.UNTIL,
    usecase.RepeatBeforeStart: ui.UNTIL,
}


def modal_text(values: dict) -> tuple[str, date | None]:
    """The form's fields as availability text in the one grammar, plus the first date."""
    day = values[ui.DATE][ui.DATE].get("selected_date")
    start = values[ui.START][ui.START].get("selected_time")
    end = values[ui.END][ui.END].get("selected_time")
    weekly = bool(values.get(ui.REPEAT, {}).get(ui.REPEAT, {}).get("selected_options"))
    until = values.get(ui.UNTIL, {}).get(ui.UNTIL, {}).get("selected_date")
    first = date.fromisoformat(day)
    if weekly:
        return f"{weekday_name(first).lower()} {start}-{end} weekly until {until}", first
    return f"{day} {start}-{end}", None


def check_form(ctx: Context, workspace: str, user: str, values: dict) -> tuple[list[Interval], dict[str, str]]:
    """Windows to store, or errors keyed by input block id (Slack shows them under the field)."""
    weekly = bool(values.get(ui.REPEAT, {}).get(ui.REPEAT, {}).get("selected_options"))
    if weekly and not values.get(ui.UNTIL, {}).get(ui.UNTIL, {}).get("selected_date"):
        return [], {ui.UNTIL: "Pick the last date of the weekly repeat."}
    text, first = modal_text(values)
    try:
        return usecase.form_windows(ctx, workspace, user, text, first), {}
    except InvalidInterval as err:
        return [], {ui.END: str(err)}
    except SchedulingError as err:
        return [], {ERROR_BLOCK.get(type(err), ui.DATE): str(err)}


def form_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    bot = context["bot"]
    workspace, user = workspace_of(context), body["user"]["id"]
    started = time.monotonic()
    try:
        windows, errors = in_time(bot, check_form, bot.fast, workspace, user, view["state"]["values"])
    except (TimeoutError, SQLAlchemyError):
        log.warning("checking the availability form failed", exc_info=True)
        ack(response_action="errors", errors={ui.DATE: UNAVAILABLE})
        return
    if errors:
        ack(response_action="errors", errors=errors)
        return
    channel = json.loads(view.get("private_metadata") or "{}").get("channel")
    reply = {"kind": "ephemeral", "channel": channel, "user": user} if channel else {"kind": "dm", "user": user}
    try:
        record(bot, context, route="availability_form", reply=reply, dedupe=f"view:{view['id']}:{view['hash']}",
               args={"windows": [w.iso() for w in windows]},
               budget=ACK_BUDGET_S - (time.monotonic() - started))  # one budget for the check and the record
    except NotRecorded:
        ack(response_action="errors", errors={ui.DATE: UNAVAILABLE})
        return
    ack()


# -- the routes: parse, call -------------------------------------------------------------------


def run_text(ctx: Context, req: SlackRequest) -> None:
    words = req.args["text"].split()
    target = None
    if len(words) >= 2 and words[0].lower() == "for":
        target, words = (named_people(words[1]) or [words[1]])[0], words[2:]
    who = usecase.Whose(req.workspace, req.user, target)
    verb, rest = (words[0].lower(), " ".join(words[1:])) if words else ("help", "")
    if verb == "add":
        usecase.add_text(ctx, usecase.AddAvailability(who, rest))
    elif verb == "list":
        usecase.list_availability(ctx, who)
    elif verb == "remove":
        number = whole_number(rest.strip().lstrip("#"))
        if number is None:
            raise ParseError("Give the number of the window to remove.", example="/availability remove 12")
        usecase.remove_window(ctx, usecase.RemoveWindow(who, number))
    elif verb == "clear":
        usecase.clear_availability(ctx, who)
    elif verb == "calendar":
        calendar_command(ctx, who, rest.split())
    else:
        answer(ctx, req.workspace, Help(ui.HELP))


def calendar_command(ctx: Context, who: usecase.Whose, words: list[str]) -> None:
    """`calendar` (show) · `calendar <url>` · `calendar ics|caldav <url>` · `calendar remove`."""
    if not words:
        calendars.show_calendars(ctx, who)
    elif words[0].lower() == "remove":
        calendars.unlink_calendars(ctx, who)
    else:
        kind = words[0].lower() if words[0].lower() in ("ics", "caldav") else None
        urls = words[1:] if kind else words
        if len(urls) != 1:
            raise ParseError("Give one calendar URL.", example=f"/availability calendar {esc('https://…/basic.ics')}")
        calendars.link_calendar(ctx, calendars.LinkCalendar(who, unescape(urls[0]), kind))


def run_form(ctx: Context, req: SlackRequest) -> None:
    windows = tuple(Interval.from_iso(w) for w in req.args["windows"])
    usecase.add_windows(ctx, usecase.AddWindows(usecase.Whose(req.workspace, req.user), windows))


ROUTES = {"availability": run_text, "availability_form": run_form}
