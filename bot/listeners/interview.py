"""`/interview` for HR: the find-slots form and its results, the text search, paging, the
people lists, listings, offers and templates. Non-HR users get a refusal and no data,
including from the select-menu option loaders."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from slack_bolt import Ack, BoltContext
from sqlalchemy.exc import SQLAlchemyError

from bot.blocks import slots as ui
from bot.blocks.common import MAX_OPTION_TEXT, MAX_OPTIONS, clip, error_text
from bot.listeners.pools import run_pool
from bot.listeners.requests import (
    UNAVAILABLE,
    NotRecorded,
    SlackRequest,
    action_target,
    in_time,
    record,
    response_target,
    workspace_of,
)
from bot.listeners.templates import run_template
from bot.mentions import parse_location, parse_offer, parse_slots_query
from bot.render import Help
from bot.usecases import booking, offers, people, pool_search, search
from bot.usecases.context import Context, answer
from scheduling.errors import ParseError, SchedulingError
from scheduling.zones import zone_of
from storage.models import Role

log = logging.getLogger(__name__)
HELP = (
    "*/interview* (HR)\n"
    "• `/interview` — find slots in a form\n"
    "• `/interview slots @candidate @interviewer [@interviewer …] [pool:NAME*k] [60m] [from DATE] [to DATE]` — "
    "`pool:backend*2` adds the 2 fairest free members of the pool to each slot; the candidate "
    "may be an email (someone without Slack); "
    "days are yours (your Slack time zone); each slot also shows the candidate's time\n"
    "• `/interview offer @candidate @interviewer [60m] [3 slots]` — let the candidate pick one of up to 5 slots\n"
    "• `/interview list` — upcoming interviews (yours, or everyone's for HR)\n"
    "• `/interview location 12 https://meet.example.com/abc` — where interview #12 is (a room, an address or a "
    "video link; `clear` removes it); everyone gets the updated invitation\n"
    "• `/interview template add|list|remove …` — panel interview templates (`/interview template` for help)\n"
    "• `/interview pool add|list|remove …` — interviewer pools (`/interview pool` for help)\n"
    "• `/interview candidates` · `/interview interviewers`"
)


# -- Slack's side ------------------------------------------------------------------------------


def interview_command(ack: Ack, command: dict, context: BoltContext) -> None:
    bot = context["bot"]
    if not command.get("text", "").strip():
        ack()
        bot.open_form(open_search_form, workspace_of(context), command)
        return
    try:
        record(bot, context, route="interview", args={"text": command["text"]}, reply=response_target(command),
               dedupe=command["trigger_id"])
    except NotRecorded:
        ack(text=f":warning: {UNAVAILABLE}")
        return
    ack()


def open_search_form(bot: Any, workspace: str, command: dict) -> None:
    web = bot.clients.web(workspace)
    view_id = web.views_open(trigger_id=command["trigger_id"],
                             view=ui.message_modal(":hourglass: Working on it…"))["view"]["id"]
    try:
        form = search.search_form(bot.ctx, workspace, command["user_id"])
    except SchedulingError as err:
        web.views_update(view_id=view_id, view=ui.message_modal(error_text(str(err), err.example)))
        return
    web.views_update(view_id=view_id, view=ui.search_modal(
        default_duration=bot.ctx.settings.duration_min, today=form.today, templates=form.templates, zone=form.zone,
        metadata={"channel": command.get("channel_id")}))


def _options(ack: Ack, body: dict, context: BoltContext, role: Role) -> None:
    """Select-menu choices, answered at once from the bounded database; none when it fails."""
    bot = context["bot"]
    try:
        found = in_time(bot, people.people_options, bot.fast, workspace_of(context), body["user"]["id"], role,
                        body.get("value") or "", MAX_OPTIONS)
    except (TimeoutError, SQLAlchemyError):
        log.warning("loading %s options failed", role.value, exc_info=True)
        found = []
    ack(options=[{"text": {"type": "plain_text", "text": clip(p.label, MAX_OPTION_TEXT)}, "value": str(p.person_id)}
                 for p in found])


def candidate_options(ack: Ack, body: dict, context: BoltContext) -> None:
    _options(ack, body, context, Role.candidate)


def interviewer_options(ack: Ack, body: dict, context: BoltContext) -> None:
    _options(ack, body, context, Role.interviewer)


def _selected(values: dict, block: str, key: str) -> Any:
    return values.get(block, {}).get(block, {}).get(key)


def check_search(default_duration: int, values: dict) -> tuple[dict | None, dict[str, str]]:
    """The form's choices as request arguments, or errors keyed by field."""
    candidate = _selected(values, ui.CANDIDATE, "selected_option")
    interviewers = _selected(values, ui.INTERVIEWERS, "selected_options") or []
    template = _selected(values, ui.TEMPLATE, "selected_option")
    start = _selected(values, ui.FROM, "selected_date")
    end = _selected(values, ui.TO, "selected_date")
    duration = _selected(values, ui.DURATION, "selected_option")
    location = _selected(values, ui.LOCATION, "value")
    errors = {}
    if not candidate:
        errors[ui.CANDIDATE] = "Pick a candidate."
    if not interviewers and not template:
        errors[ui.INTERVIEWERS] = "Pick at least one interviewer."
    if start and end and end < start:
        errors[ui.TO] = "The end date is before the start date."
    if errors:
        return None, errors
    args = {"candidate": int(candidate["value"]), "interviewers": [int(o["value"]) for o in interviewers],
            "duration": int(duration["value"]) if duration else default_duration, "start": start, "end": end,
            "template": int(template["value"]) if template else None, "nonce": uuid.uuid4().hex[:12],
            "location": location}
    if args["candidate"] in args["interviewers"]:
        return None, {ui.INTERVIEWERS: "The candidate cannot also be an interviewer."}
    return args, {}


def search_submitted(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    bot = context["bot"]
    args, errors = check_search(bot.ctx.settings.duration_min, view["state"]["values"])
    if args is None:
        ack(response_action="errors", errors=errors)
        return
    reply = {"kind": "view", "view_id": view["id"], "user": body["user"]["id"], "metadata": _metadata(view)}
    try:
        record(bot, context, route="search_form", args=args, reply=reply, dedupe=f"view:{view['id']}:{view['hash']}")
    except NotRecorded:
        ack(response_action="errors", errors={ui.CANDIDATE: UNAVAILABLE})
        return
    ack(response_action="update", view=ui.message_modal(":mag: Looking for common slots…"))


def _metadata(view: dict) -> dict:
    import json

    meta = json.loads(view.get("private_metadata") or "{}")
    return {"channel": meta.get("channel")}


def page_clicked(ack: Ack, body: dict, action: dict, context: BoltContext) -> None:
    bot = context["bot"]
    reply = action_target(body)
    if reply["kind"] == "view":
        reply = {**reply, "dm_copy": False, "metadata": _metadata(body["view"])}
    try:
        record(bot, context, route="page", args={"query": action["value"]}, reply=reply, dedupe=body["trigger_id"])
    except NotRecorded:
        ack()
        bot.say_unavailable(workspace_of(context), body)
        return
    ack()


# -- the routes ----------------------------------------------------------------------------------


def run_interview(ctx: Context, req: SlackRequest) -> None:
    text = req.args["text"].strip()
    verb, _, rest = text.partition(" ")
    verb = verb.lower()
    if verb == "slots":
        _text_search(ctx, req, rest)
    elif verb in ("candidates", "interviewers"):
        people.list_people(ctx, people.ListPeople(req.workspace, req.user, Role(verb[:-1])))
    elif verb == "list":
        booking.list_interviews(ctx, booking.ListInterviews(req.workspace, req.user))
    elif verb == "offer":
        query = parse_offer(rest)
        offers.offer_slots(ctx, offers.OfferSlots(req.workspace, req.user, query.candidate,
                                                  tuple(query.interviewers), query.duration_min, query.count))
    elif verb == "location":
        interview_id, place = parse_location(rest)
        booking.set_location(ctx, booking.SetLocation(req.workspace, req.user, interview_id, place))
    elif verb == "template":
        run_template(ctx, req, rest)
    elif verb == "pool":
        run_pool(ctx, req, rest)
    else:
        answer(ctx, req.workspace, Help(HELP))


def _text_search(ctx: Context, req: SlackRequest, rest: str) -> None:
    people.refresh_profiles(ctx, req.workspace, [req.user])
    with ctx.reading() as uow:
        asker = people.person(ctx, uow.session, req.workspace, req.user)
        today = ctx.now().astimezone(zone_of(asker.tz)).date()
    query = parse_slots_query(rest, today)
    if query.pool is not None:
        name, k = pool_search.parse_pool(query.pool)
        pool_search.search_pool(ctx, pool_search.SearchPool(
            req.workspace, req.user, query.candidate, tuple(query.interviewers), name, k, query.duration_min,
            query.start, query.end, nonce=uuid.uuid4().hex[:12]))
        return
    search.search_slots(ctx, search.SearchSlots(
        req.workspace, req.user, query.candidate, tuple(query.interviewers), query.duration_min,
        query.start, query.end, nonce=uuid.uuid4().hex[:12]))


def run_search_form(ctx: Context, req: SlackRequest) -> None:
    a = req.args
    search.search_slots(ctx, search.SearchSlots(
        req.workspace, req.user, a["candidate"], tuple(a["interviewers"]), a["duration"],
        date.fromisoformat(a["start"]) if a.get("start") else None,
        date.fromisoformat(a["end"]) if a.get("end") else None, a.get("template"), a["nonce"],
        location=a.get("location")))


def run_page(ctx: Context, req: SlackRequest) -> None:
    try:
        query = search.SearchQuery.loads(req.args["query"])
    except (KeyError, TypeError, ValueError):
        raise ParseError("That button is out of date; run the search again.") from None
    search.search_slots(ctx, search.SearchSlots(
        req.workspace, req.user, query.candidate, tuple(query.interviewers), query.duration,
        search.bound_of(query.start), search.bound_of(query.end), query.template, query.nonce, query.page,
        query.location))


ROUTES = {"interview": run_interview, "search_form": run_search_form, "page": run_page}
