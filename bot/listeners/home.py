"""`app_home_opened`: publish the person's Home tab (slow work after the event is acked)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from scheduling.zones import zone_of
from slack_bolt import App
from slack_sdk import WebClient
from storage.booking import interviews_on_day, upcoming_for

from bot.blocks.home import home_view, interview_line
from bot.context import BotContext
from bot.directory import ensure_person
from scheduling.intervals import Interval
from storage.availability import list_windows
from storage.models import Interview, Person, Role


def _others(interview: Interview, viewer: Person) -> str:
    names = [p.person.name for p in interview.participants if p.person_id != viewer.id]
    return ", ".join(names) or "—"


def publish_home(ctx: BotContext, client: WebClient, team: str, user: str) -> None:
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        person = ensure_person(ctx, uow.session, client, team, user)
        uow.commit()
        zone = zone_of(person.tz)
        windows = [Interval(w.start_at, w.end_at) for w in list_windows(uow.session, person, since=now)]
        mine = [
            interview_line(Interval(i.start_at, i.end_at), zone, _others(i, person))
            for i in upcoming_for(uow.session, person, now, limit=50)
        ]
        today = None
        if person.has_role(Role.hr):
            local = now.astimezone(zone)
            start = datetime.combine(local.date(), time(0), zone)
            day = interviews_on_day(uow.session, team, start, start + timedelta(days=1))
            today = [interview_line(Interval(i.start_at, i.end_at), zone, _others(i, person)) for i in day]
        view = home_view(name=person.name, zone=zone, roles=person.role_names, windows=windows,
                         interviews=mine, today=today)
    client.views_publish(user_id=user, view=view)


def register(app: App, ctx: BotContext) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict, body: dict, client: WebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        publish_home(ctx, client, body["team_id"], event["user"])
