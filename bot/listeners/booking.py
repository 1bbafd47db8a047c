"""Buttons on interviews: Book (HR), Cancel and Reschedule and Move (HR), grades (interviewers),
and the candidate's pick from an offer. Each is recorded, acked, and run by the job runner;
who may press it is checked when it runs, whoever drew the button."""

from __future__ import annotations

import json
from datetime import datetime

from slack_bolt import Ack, BoltContext

from bot.listeners.requests import NotRecorded, SlackRequest, action_target, record, workspace_of
from bot.mentions import whole_number
from bot.usecases import booking, offers
from bot.usecases.context import Context
from bot.usecases.search import SearchQuery
from scheduling.errors import ParseError


def _accept(ack: Ack, body: dict, action: dict, context: BoltContext, route: str) -> None:
    bot = context["bot"]
    try:
        record(bot, context, route=route, args={"value": action.get("value", "")}, reply=action_target(body),
               dedupe=body["trigger_id"])
    except NotRecorded:
        ack()
        bot.say_unavailable(workspace_of(context), body)
        return
    ack()


def book_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    _accept(ack, body, action, context, "book")


def cancel_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    _accept(ack, body, action, context, "cancel")


def reschedule_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    _accept(ack, body, action, context, "reschedule")


def move_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    _accept(ack, body, action, context, "move")


def grade_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    _accept(ack, body, action, context, "grade")


def pick_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    _accept(ack, body, action, context, "pick")


# -- the routes ----------------------------------------------------------------------------------


STALE = "That button is out of date; run the command again."


def _json(value: str, *keys: str) -> dict:
    """A button's value as we wrote it; anything else (forged, from an old version) is refused."""
    try:
        data = json.loads(value)
    except json.JSONDecodeError:
        raise ParseError(STALE) from None
    if not isinstance(data, dict) or any(key not in data for key in keys):
        raise ParseError(STALE)
    return data


def _id(value: str) -> int:
    if (number := whole_number(value)) is None:
        raise ParseError(STALE)
    return number


def _instant(text: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(text))
    except ValueError:
        raise ParseError(STALE) from None
    if moment.tzinfo is None:
        raise ParseError(STALE)
    return moment


def run_book(ctx: Context, req: SlackRequest) -> None:
    data = _json(req.args["value"], "p", "s")
    try:
        query = SearchQuery.loads(json.dumps(data["p"]))
    except (KeyError, TypeError, ValueError):
        raise ParseError(STALE) from None
    booking.book(ctx, booking.Book(req.workspace, req.user, query, _instant(data["s"])))


def run_cancel(ctx: Context, req: SlackRequest) -> None:
    booking.cancel_interview(ctx, booking.ChangeInterview(req.workspace, req.user, _id(req.args["value"])))


def run_reschedule(ctx: Context, req: SlackRequest) -> None:
    booking.reschedule_choices(ctx, booking.ChangeInterview(req.workspace, req.user, _id(req.args["value"])))


def _int(value: object) -> int:
    number = whole_number(str(value)) if isinstance(value, int | str) and not isinstance(value, bool) else None
    if number is None:
        raise ParseError(STALE)
    return number


def run_move(ctx: Context, req: SlackRequest) -> None:
    data = _json(req.args["value"], "i", "s")
    booking.move_interview(ctx, booking.Move(req.workspace, req.user, _int(data["i"]), _instant(data["s"])))


def run_grade(ctx: Context, req: SlackRequest) -> None:
    data = _json(req.args["value"], "i", "g")
    booking.grade(ctx, booking.Grade(req.workspace, req.user, _int(data["i"]), _int(data["g"])))


def run_pick(ctx: Context, req: SlackRequest) -> None:
    data = _json(req.args["value"], "o", "i")
    offers.pick_offer(ctx, offers.PickOffer(req.workspace, req.user, _int(data["o"]), _int(data["i"])))


ROUTES = {"book": run_book, "cancel": run_cancel, "reschedule": run_reschedule, "move": run_move,
          "grade": run_grade, "pick": run_pick}
