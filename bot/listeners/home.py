"""`app_home_opened`: publish the person's Home tab (slow work after the event is acked)."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from slack_bolt import App
from slack_sdk import WebClient
from storage.booking import interviews_on_day, upcoming_for

from bot.announce import names_except
from bot.blocks.home import home_view, interview_line
from bot.context import BotContext
from bot.directory import ensure_person
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage.availability import list_windows
from storage.models import Role

log = logging.getLogger(__name__)


def publish_home(ctx: BotContext, client: WebClient, team: str, user: str) -> None:
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        person = ensure_person(ctx, uow.session, client, team, user)
        uow.commit()
        zone = zone_of(person.tz)
        windows = [Interval(w.start_at, w.end_at) for w in list_windows(uow.session, person, since=now)]
        mine = [
            interview_line(Interval(i.start_at, i.end_at), zone, names_except(i, person.id))
            for i in upcoming_for(uow.session, person, now, limit=50)
        ]
        today = None
        if person.has_role(Role.hr):
            local = now.astimezone(zone)
            start = datetime.combine(local.date(), time(0), zone)
            day = interviews_on_day(uow.session, team, start, start + timedelta(days=1))
            today = [interview_line(Interval(i.start_at, i.end_at), zone, names_except(i, person.id)) for i in day]
        view = home_view(name=person.name, zone=zone, roles=person.role_names, windows=windows,
                         interviews=mine, today=today)
    client.views_publish(user_id=user, view=view)


def register(app: App, ctx: BotContext) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        team, user = body["team_id"], event["user"]
        ctx.background.submit(_publish_logged, ctx, client, team, user)


def _publish_logged(ctx: BotContext, client: WebClient, team: str, user: str) -> None:
    """The Home tab has no reply channel: a failure is logged with its traceback."""
    try:
        publish_home(ctx, client, team, user)
    except Exception:
        log.exception("publishing the Home tab of %s failed", user)
