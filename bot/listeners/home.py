"""`app_home_opened`: the Home tab is published by the job runner. The event is recorded before
Slack gets its 200; if it cannot be, the listener fails and Slack sends the event again."""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.listeners.requests import SlackRequest, record
from bot.usecases import home
from bot.usecases.context import Context


def home_opened(event: dict, body: dict, context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    record(context["bot"], context, route="home", args={}, reply={"kind": "home", "user": event["user"]},
           dedupe=f"event:{body['event_id']}")


def run_home(ctx: Context, req: SlackRequest) -> None:
    home.home(ctx, req.workspace, req.user)


ROUTES = {"home": run_home}
