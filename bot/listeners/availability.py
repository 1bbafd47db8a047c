"""`/availability`: the modal, the quick text forms, list/remove/clear (and HR acting for an
email-only candidate with `/availability for <email> add …`)."""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.blocks import availability as ui
from bot.blocks.common import text_blocks
from bot.blocks.slots import loading_modal
from bot.context import BotContext
from bot.directory import ensure_person
from bot.listeners.after_ack import dm_responder, later, responder
from bot.mentions import mentioned_users
from bot.timefmt import zone_name
from scheduling.availability_text import parse_availability
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
from scheduling.zones import zone_of
from storage import people as people_store
from storage.availability import add_windows, clear_windows, list_windows, remove_window
from storage.calendars import (
    LINK_EXAMPLE,
    describe_link,
    link_calendar,
    links_of,
    refresh_calendars,
    unlink_calendars,
)
from storage.models import CalendarLink, Person, Role
from storage.people import PermissionDenied

log = logging.getLogger(__name__)
USAGE = "/availability add 2026-12-02 10:00-14:00"


def parse_for(ctx: BotContext, person: Person, text: str) -> list[Interval]:
    """The one path from text to windows: the person's zone, the horizon, the window cap."""
    return parse_availability(
        text, zone=zone_of(person.tz), now=ctx.now(), horizon=ctx.settings.rules().horizon,
        max_windows=ctx.settings.max_windows_per_message,
    )


def _target(session: Session, ctx: BotContext, actor: Person, words: list[str], team: str) -> tuple[Person, list[str]]:
    """`for <email|@user> …` lets HR manage someone else's availability."""
    if len(words) >= 2 and words[0].lower() == "for":
        people_store.require_role(actor, Role.hr, "manage someone else's availability")
        handle = (mentioned_users(words[1]) or [words[1]])[0]
        return people_store.get_person(session, team, handle), words[2:]
    if not (actor.has_role(Role.candidate) or actor.has_role(Role.interviewer) or actor.has_role(Role.hr)):
        raise PermissionDenied(
            "Register first so HR can match you.", example="/interview-register candidate"
        )
    return actor, words


def handle_text(ctx: BotContext, client: WebClient, command: dict, reply) -> None:
    team, user = command["team_id"], command["user_id"]
    with ctx.db.unit_of_work() as uow:
        actor = ensure_person(ctx, uow.session, client, team, user)
        person, words = _target(uow.session, ctx, actor, command.get("text", "").split(), team)
        verb, rest = (words[0].lower(), " ".join(words[1:])) if words else ("help", "")
        zone = zone_of(person.tz)
        whose = "Your" if person.id == actor.id else f"{person.name}'s"
        if verb == "add":
            if not rest.strip():
                raise ParseError("Tell me when you are free.", example=USAGE)
            windows = parse_for(ctx, person, rest)
            stored = add_windows(uow.session, person, windows, note=rest[:300])
            uow.commit()
            reply(f"{whose} availability was updated.", ui.added([Interval(w.start_at, w.end_at) for w in stored], zone))
        elif verb == "list":
            rows = [(w.id, Interval(w.start_at, w.end_at)) for w in list_windows(uow.session, person, since=ctx.now())]
            uow.commit()
            reply(f"{whose} availability", ui.listing(rows, zone))
        elif verb == "remove":
            if not rest.strip().lstrip("#").isdigit():
                raise ParseError("Give the number of the window to remove.", example="/availability remove 12")
            window = remove_window(uow.session, person, int(rest.strip().lstrip("#")))
            uow.commit()
            text = f":wastebasket: Removed window `#{window.id}`."
            reply(text, text_blocks(text))
        elif verb == "calendar":
            uow.commit()
            text = calendar_command(ctx, person, rest.split())
            reply(text, text_blocks(text))
        elif verb == "clear":
            count = clear_windows(uow.session, person, since=ctx.now())
            uow.commit()
            text = f":wastebasket: Cleared {count} upcoming window(s)."
            reply(text, text_blocks(text))
        else:
            uow.commit()
            reply("How to use /availability", text_blocks(ui.HELP))


def calendar_command(ctx: BotContext, person: Person, words: list[str]) -> str:
    """`calendar` (show) · `calendar <url>` · `calendar caldav <url>` · `calendar remove`."""
    with ctx.db.unit_of_work() as uow:
        person = uow.session.get(Person, person.id)
        if not words:
            links = links_of(uow.session, [person.id])[person.id]
            if not links:
                return "No calendar linked. Link one with `" + LINK_EXAMPLE + "`."
            return "Linked calendars:\n" + "\n".join(f"• {describe_link(ln)}" for ln in links)
        if words[0].lower() == "remove":
            count = unlink_calendars(uow.session, person)
            uow.commit()
            return f"Unlinked {count} calendar(s); their busy time no longer counts."
        people_store.require_role(person, Role.interviewer, "link a busy calendar")
        kind = words[0].lower() if words[0].lower() in ("ics", "caldav") else None
        url_words = words[1:] if kind else words
        if len(url_words) != 1:
            raise ParseError("Give one calendar URL.", example=LINK_EXAMPLE)
        link = link_calendar(uow.session, person, url_words[0], kind)
        uow.commit()
        link_id = link.id
    now = ctx.now()
    errors = refresh_calendars(
        ctx.db, [person], Interval(now, now + ctx.settings.rules().horizon), now,
        refresh_after=timedelta(0), timeout=ctx.settings.calendar_timeout_s,
    )
    with ctx.db.unit_of_work(write=False) as uow:
        link = uow.session.get(CalendarLink, link_id)
        status = describe_link(link)
    if errors:
        return f":warning: Linked {status}. It could not be read yet; searches will retry it."
    return f":calendar: Linked {status}. Its busy time now counts in searches."


def open_modal(ctx: BotContext, client: WebClient, command: dict) -> None:
    """Open a loading modal at once (the trigger id lives 3 s), then fill it in."""
    opened = client.views_open(trigger_id=command["trigger_id"], view=_loading())
    view_id = opened["view"]["id"]
    with ctx.db.unit_of_work() as uow:
        person = ensure_person(ctx, uow.session, client, command["team_id"], command["user_id"])
        uow.commit()
        zone = zone_of(person.tz)
    today = ctx.now().astimezone(zone).date()
    metadata = {"channel": command.get("channel_id")}
    client.views_update(view_id=view_id, view=ui.modal(today, f"{zone.key} ({zone_name(zone, ctx.now())})", metadata))


def _loading() -> dict:
    return loading_modal("Availability")


ERROR_BLOCK = {
    NonexistentLocalTime: ui.START,
    PastTime: ui.DATE,
    BeyondHorizon: ui.DATE,
    TooManyWindows: ui.UNTIL,
}


def modal_text(values: dict) -> tuple[str, date | None]:
    """The modal's fields as availability text in the one grammar, plus the first date."""
    day = values[ui.DATE][ui.DATE].get("selected_date")
    start = values[ui.START][ui.START].get("selected_time")
    end = values[ui.END][ui.END].get("selected_time")
    weekly = bool(values.get(ui.REPEAT, {}).get(ui.REPEAT, {}).get("selected_options"))
    until = values.get(ui.UNTIL, {}).get(ui.UNTIL, {}).get("selected_date")
    first = date.fromisoformat(day)
    if weekly:
        weekday = first.strftime("%a").lower()
        return f"{weekday} {start}-{end} weekly until {until}", first
    return f"{day} {start}-{end}", None


def validate_modal(ctx: BotContext, person: Person, values: dict) -> tuple[list[Interval], dict[str, str]]:
    """Windows to store, or errors keyed by input block id (Slack shows them under the field)."""
    weekly = bool(values.get(ui.REPEAT, {}).get(ui.REPEAT, {}).get("selected_options"))
    until = values.get(ui.UNTIL, {}).get(ui.UNTIL, {}).get("selected_date")
    if weekly and not until:
        return [], {ui.UNTIL: "Pick the last date of the weekly repeat."}
    text, first = modal_text(values)
    try:
        windows = parse_for(ctx, person, text)
    except InvalidInterval as err:
        return [], {ui.END: str(err)}
    except SchedulingError as err:
        return [], {ERROR_BLOCK.get(type(err), ui.DATE): str(err)}
    if first is not None:
        zone = zone_of(person.tz)
        windows = [w for w in windows if w.start.astimezone(zone).date() >= first]
        if not windows:
            return [], {ui.UNTIL: "The repeat ends before the first date."}
    return windows, {}


def register(app: App, ctx: BotContext) -> None:
    @app.command("/availability")
    def availability(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        reply = responder(respond)
        if not command.get("text", "").strip():
            later(ctx.background, reply, "opening the availability form",
                  lambda: open_modal(ctx, client, command))
            return
        later(ctx.background, reply, "/availability", lambda: handle_text(ctx, client, command, reply))

    @app.view(ui.CALLBACK)
    def submitted(ack: Ack, body: dict, client: WebClient, view: dict) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        with ctx.db.unit_of_work(write=False) as uow:
            person = people_store.find_person(uow.session, team, user)
        if person is None:
            ack(response_action="errors", errors={ui.DATE: "Open the form again with /availability."})
            return
        windows, errors = validate_modal(ctx, person, view["state"]["values"])
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        metadata = json.loads(view.get("private_metadata") or "{}")
        reply = dm_responder(client, user, metadata.get("channel"))

        def save() -> None:
            with ctx.db.unit_of_work() as uow:
                fresh = uow.session.get(Person, person.id)
                stored = add_windows(uow.session, fresh, windows, note="modal")
                uow.commit()
                zone = zone_of(fresh.tz)
                reply("Availability saved.", ui.added([Interval(w.start_at, w.end_at) for w in stored], zone))

        later(ctx.background, reply, "saving your availability", save)

