"""`/interview` for HR: the find-slots modal and its results, the text search, people lists.

Non-HR users get a polite refusal and no data, including from the select-menu option loaders.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, time, timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.blocks import slots as ui
from bot.blocks.common import (
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    bullet_chunks,
    clip,
    section,
    text_blocks,
    to_dicts,
)
from bot.context import BotContext
from bot.directory import ensure_person
from bot.listeners.after_ack import later, responder
from bot.listeners.booking import list_interviews, offer_slots
from bot.listeners.templates import template_command
from bot.mentions import parse_slots_query
from bot.terms import terms_for
from scheduling.errors import SchedulingError
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage import people as people_store
from storage.calendars import describe_link, links_of, refresh_calendars
from storage.matching import SearchOutcome, find_matches
from storage.models import InterviewTemplate, Person, Role
from storage.templates import list_templates

HELP = (
    "*/interview* (HR)\n"
    "• `/interview` — find slots in a form\n"
    "• `/interview slots @candidate @interviewer [@interviewer …] [60m] [from DATE] [to DATE]`\n"
    "• `/interview offer @candidate @interviewer [60m] [N]` — let the candidate pick one of N slots\n"
    "• `/interview list` — upcoming interviews (yours, or everyone's for HR)\n"
    "• `/interview template add|list|remove …` — panel interview templates (`/interview template` for help)\n"
    "• `/interview candidates` · `/interview interviewers`"
)
REFUSAL = "Sorry, only HR coordinators can find and book interviews."


def require_hr(person: Person) -> None:
    people_store.require_role(person, Role.hr, "find and book interviews")


def _day_start(day: str | None, zone) -> datetime | None:
    if not day:
        return None
    return datetime.combine(datetime.fromisoformat(day).date(), time(0), zone)


def run_search(ctx: BotContext, params: ui.SearchParams, team: str) -> SearchOutcome:
    """Resolve the ids in `params` (same workspace only), refresh stale calendars, search."""
    with ctx.db.unit_of_work(write=False) as uow:
        if params.template is not None and not params.interviewers:
            template = uow.session.get(InterviewTemplate, params.template)
            if template is None:
                raise SchedulingError("That interview template no longer exists.")
            params.interviewers = [m.person_id for m in template.panel]
        people = [uow.session.get(Person, pid) for pid in [params.candidate, *params.interviewers]]
        if any(p is None or p.workspace_id != team for p in people):
            raise SchedulingError("Someone in this search is no longer registered.")
    errors = refresh_for(ctx, people)  # type: ignore[arg-type]
    with ctx.db.unit_of_work(write=False) as uow:
        candidate, *interviewers = [uow.session.get(Person, p.id) for p in people]  # type: ignore[union-attr]
        zone = zone_of(candidate.tz)
        start = _day_start(params.start, zone)
        end = _day_start(params.end, zone)
        if end is not None:
            end += timedelta(days=1)  # the `to` day is included
        rules, policy = terms_for(ctx.settings, uow.session, params.template, params.duration)
        params.duration = int(rules.duration.total_seconds() // 60)
        outcome = find_matches(uow.session, candidate, interviewers, rules, ctx.now(), start, end, policy=policy)
    outcome.calendar_errors = errors
    return outcome


def refresh_for(ctx: BotContext, people: list[Person]) -> list[str]:
    settings, now = ctx.settings, ctx.now()
    return refresh_calendars(
        ctx.db, people, Interval(now, now + settings.rules().horizon + timedelta(days=1)), now,
        refresh_after=timedelta(minutes=settings.calendar_refresh_min),
        timeout=settings.calendar_timeout_s, mock=settings.busy_source == "mock",
    )


def _hr(ctx: BotContext, session: Session, client: WebClient, team: str, user: str) -> Person:
    """The acting person, who must be HR."""
    person = ensure_person(ctx, session, client, team, user)
    require_hr(person)
    return person


def text_search(ctx: BotContext, client: WebClient, command: dict, reply) -> None:
    team = command["team_id"]
    with ctx.db.unit_of_work() as uow:
        hr = _hr(ctx, uow.session, client, team, command["user_id"])
        zone = zone_of(hr.tz)
        query = parse_slots_query(command["text"].split(None, 1)[1] if " " in command["text"] else "",
                                  ctx.now().astimezone(zone).date())
        candidate = ensure_person(ctx, uow.session, client, team, query.candidate)
        interviewers = [ensure_person(ctx, uow.session, client, team, u) for u in query.interviewers]
        uow.commit()
        params = ui.SearchParams(
            candidate=candidate.id, interviewers=[p.id for p in interviewers],
            duration=query.duration_min or ctx.settings.duration_min,
            start=query.start.isoformat() if query.start else None,
            end=query.end.isoformat() if query.end else None, nonce=uuid.uuid4().hex[:12],
        )
    outcome = run_search(ctx, params, team)
    reply(f"{len(outcome.slots)} slot(s)", ui.slot_blocks(outcome, zone, params))


def people_list(ctx: BotContext, client: WebClient, command: dict, role: Role, reply) -> None:
    with ctx.db.unit_of_work() as uow:
        _hr(ctx, uow.session, client, command["team_id"], command["user_id"])
        uow.commit()
        found = people_store.people_with_role(uow.session, command["team_id"], role)
        links = links_of(uow.session, [p.id for p in found])
        lines = [
            f"• {_mention(p)} — {p.tz}" + (f" · {p.email}" if p.email else "")
            + "".join(f"\n    :calendar: {describe_link(ln)}" for ln in links[p.id])
            for p in found
        ]
        title = f"*{role.value.capitalize()}s* ({len(found)})"
        chunks = bullet_chunks([title, *lines] if lines else [title, "_Nobody yet._"])
        reply(title, to_dicts(section(c) for c in chunks[:50]))


def _mention(person: Person) -> str:
    return f"<@{person.slack_user_id}>" if person.slack_user_id else person.name


def open_search_modal(ctx: BotContext, client: WebClient, command: dict) -> None:
    opened = client.views_open(trigger_id=command["trigger_id"], view=ui.loading_modal())
    view_id = opened["view"]["id"]
    with ctx.db.unit_of_work() as uow:
        person = ensure_person(ctx, uow.session, client, command["team_id"], command["user_id"])
        uow.commit()
        if not person.has_role(Role.hr):
            client.views_update(view_id=view_id, view=ui.message_modal(REFUSAL))
            return
        zone = zone_of(person.tz)
        templates = template_choices(uow.session, command["team_id"])
    view = ui.search_modal(
        default_duration=ctx.settings.duration_min,
        today=ctx.now().astimezone(zone).date() + timedelta(days=1),
        templates=templates, metadata={"channel": command.get("channel_id")},
    )
    client.views_update(view_id=view_id, view=view)


def template_choices(session: Session, team: str) -> list[tuple[int, str]]:
    return [(t.id, f"{t.name} ({t.duration_min} min)") for t in list_templates(session, team)]


def options_for(ctx: BotContext, body: dict, role: Role) -> list[dict]:
    """Select-menu options: people with `role` whose name or email contains the typed text."""
    team, user = body["team"]["id"], body["user"]["id"]
    typed = (body.get("value") or "").strip().lower()
    with ctx.db.unit_of_work(write=False) as uow:
        asker = people_store.find_person(uow.session, team, user)
        if asker is None or not asker.has_role(Role.hr):
            return []
        found = people_store.people_with_role(uow.session, team, role)
        matches = [p for p in found if typed in p.name.lower() or typed in (p.email or "")]
        return [
            {"text": {"type": "plain_text", "text": clip(f"{p.name} ({p.tz})", MAX_OPTION_TEXT)}, "value": str(p.id)}
            for p in matches[:MAX_OPTIONS]
        ]


def _selected(values: dict, block: str, key: str):
    return values.get(block, {}).get(block, {}).get(key)


def validate_search(ctx: BotContext, values: dict) -> tuple[ui.SearchParams | None, dict[str, str]]:
    candidate = _selected(values, ui.CANDIDATE, "selected_option")
    interviewers = _selected(values, ui.INTERVIEWERS, "selected_options") or []
    template = _selected(values, ui.TEMPLATE, "selected_option")
    start = _selected(values, ui.FROM, "selected_date")
    end = _selected(values, ui.TO, "selected_date")
    duration = _selected(values, ui.DURATION, "selected_option")
    errors = {}
    if not candidate:
        errors[ui.CANDIDATE] = "Pick a candidate."
    if not interviewers and not template:
        errors[ui.INTERVIEWERS] = "Pick at least one interviewer."
    if start and end and end < start:
        errors[ui.TO] = "The end date is before the start date."
    if errors:
        return None, errors
    params = ui.SearchParams(
        candidate=int(candidate["value"]), interviewers=[int(o["value"]) for o in interviewers],
        duration=int(duration["value"]) if duration else ctx.settings.duration_min,
        start=start, end=end, template=int(template["value"]) if template else None,
        nonce=uuid.uuid4().hex[:12],
    )
    if params.candidate in params.interviewers:
        return None, {ui.INTERVIEWERS: "The candidate cannot also be an interviewer."}
    return params, {}


def results_view(outcome: SearchOutcome, viewer_zone, params: ui.SearchParams, metadata: dict) -> dict:
    from slack_sdk.models.views import View

    from bot.blocks.common import plain

    meta = {**metadata, "params": params.dumps()}
    return View(
        type="modal", callback_id="slots_results", title=plain("Interview slots"), close=plain("Done"),
        blocks=ui.slot_blocks(outcome, viewer_zone, params), private_metadata=json.dumps(meta),
    ).to_dict()


def register(app: App, ctx: BotContext) -> None:
    @app.command("/interview")
    def interview(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        reply = responder(respond)
        words = command.get("text", "").split()
        verb = words[0].lower() if words else ""

        def work() -> None:
            if verb == "":
                open_search_modal(ctx, client, command)
            elif verb == "slots":
                text_search(ctx, client, command, reply)
            elif verb in ("candidates", "interviewers"):
                people_list(ctx, client, command, Role(verb[:-1]), reply)
            elif verb == "list":
                list_interviews(ctx, client, command, reply)
            elif verb == "offer":
                offer_slots(ctx, client, command, reply)
            elif verb == "template":
                template_command(ctx, client, command, reply)
            else:
                reply("How to use /interview", text_blocks(HELP))

        later(ctx.background, reply, "/interview", work)

    @app.options(ui.CANDIDATE)
    def candidate_options(ack: Ack, body: dict) -> None:
        ack(options=options_for(ctx, body, Role.candidate))

    @app.options(ui.INTERVIEWERS)
    def interviewer_options(ack: Ack, body: dict) -> None:
        ack(options=options_for(ctx, body, Role.interviewer))

    @app.view(ui.SEARCH_CALLBACK)
    def search_submitted(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        params, errors = validate_search(ctx, view["state"]["values"])
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack(response_action="update", view=ui.loading_modal(text=":mag: Looking for common slots…"))
        team, user, view_id = body["team"]["id"], body["user"]["id"], view["id"]

        def show_error(text: str, blocks: list[dict]) -> None:
            client.views_update(view_id=view_id, view=ui.message_modal(f":warning: {text}"))

        def search() -> None:
            with ctx.db.unit_of_work() as uow:
                hr = _hr(ctx, uow.session, client, team, user)
                uow.commit()
            outcome = run_search(ctx, params, team)
            metadata = json.loads(view.get("private_metadata") or "{}")
            client.views_update(view_id=view_id, view=results_view(outcome, zone_of(hr.tz), params, metadata))

        later(ctx.background, show_error, "the slot search", search)

    @app.action(re.compile(f"^{ui.PAGE_ACTION}_(prev|next)$"))
    def page(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        params = ui.SearchParams.loads(action["value"])
        team, user = body["team"]["id"], body["user"]["id"]
        in_modal = body.get("container", {}).get("type") == "view"
        reply = responder(respond) if not in_modal else (
            lambda text, blocks: client.views_update(view_id=body["view"]["id"], view=ui.message_modal(text)))
        def turn_page() -> None:
            with ctx.db.unit_of_work(write=False) as uow:
                hr = people_store.get_person(uow.session, team, user)
                require_hr(hr)
            outcome = run_search(ctx, params, team)
            zone = zone_of(hr.tz)
            if in_modal:
                metadata = json.loads(body["view"].get("private_metadata") or "{}")
                client.views_update(view_id=body["view"]["id"], view=results_view(outcome, zone, params, metadata))
            else:
                respond(text=f"{len(outcome.slots)} slot(s)", blocks=ui.slot_blocks(outcome, zone, params),
                        replace_original=True, response_type="ephemeral")

        later(ctx.background, reply, "paging", turn_page)
