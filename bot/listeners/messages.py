"""Direct messages to the bot (its Messages tab is writable): answered with short help, since
everything is done with the commands. Recorded like any request, so Slack's retries of the
event answer once."""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.listeners.requests import SlackRequest, record
from bot.render import Help
from bot.usecases.context import Context, answer

DM_HELP = (
    "Hi! I schedule interviews, and I do not read messages here. Use the commands:\n"
    "• `/interview-register candidate` or `/interview-register interviewer` — sign up\n"
    "• `/availability` — when you can interview (a form; `/availability help` for the text forms)\n"
    "• `/interview` — (HR) find, book and list interviews; `/interview help` for more\n"
    "Your *Home* tab here shows your availability and upcoming interviews."
)


def direct_message(event: dict, body: dict, context: BoltContext) -> None:
    """A person's own new message in their DM with the bot; edits, joins and bots are ignored."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id") or not event.get("user"):
        return
    record(context["bot"], context, route="dm_help", args={},
           reply={"kind": "dm", "user": event["user"]}, dedupe=f"event:{body['event_id']}")


def run_dm_help(ctx: Context, req: SlackRequest) -> None:
    answer(ctx, req.workspace, Help(DM_HELP))


ROUTES = {"dm_help": run_dm_help}
