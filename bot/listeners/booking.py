"""Buttons on interviews: Book (HR), Cancel and Reschedule and Move (HR), grades (interviewers),
and the candidate's pick from an offer. Each is recorded, acked, and run by the job runner;
who may press it is checked when it runs, whoever drew the button."""

from __future__ import annotations

import json
from datetime import UTC, datetime

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


def swap_picked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    """A pool slot's "book with someone else" menu: the option's value is the booking."""
    picked = {"value": (action.get("selected_option") or {}).get("value", "")}
    _accept(ack, body, picked, context, "book_swap")


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


def run_book_swap(ctx: Context, req: SlackRequest) -> None:
    """`candidate|ids|minutes|nonce|epoch`, as bot/blocks/pool_slots.py writes it."""
    parts = str(req.args["value"]).split("|")
    if len(parts) != 5:
        raise ParseError(STALE)
    candidate, minutes, epoch = _numbers([parts[0], parts[2], parts[4]])
    query = SearchQuery(candidate=candidate, interviewers=_numbers(parts[1].split(",")), duration=minutes,
                        nonce=parts[3][:40])
    booking.book(ctx, booking.Book(req.workspace, req.user, query, datetime.fromtimestamp(epoch, UTC)))


def _numbers(texts: list[str]) -> list[int]:
    found = [whole_number(text, 2**40) for text in texts]  # epoch seconds exceed an id's bound
    if any(n is None for n in found):
        raise ParseError(STALE)
    return [n for n in found if n is not None]


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


ROUTES = {"book": run_book, "book_swap": run_book_swap, "cancel": run_cancel, "reschedule": run_reschedule, "move": run_move,
          "grade": run_grade, "pick": run_pick}
