"""`/interview pool …` (HR): interviewer pools in Slack.

    /interview pool add backend @ana @ben     (creates the pool on first use)
    /interview pool remove backend @ben       (takes people out; without mentions, removes the pool)
    /interview pool list
"""

from __future__ import annotations

from bot.listeners.requests import SlackRequest
from bot.mentions import PERSON, named_people
from bot.render import Help
from bot.usecases import pools
from bot.usecases.context import Context, answer
from scheduling.errors import ParseError
from storage.pools import EXAMPLE


def _name_and_people(text: str, action: str) -> tuple[str, tuple[str, ...]]:
    words = PERSON.sub(" ", text).split()
    if len(words) != 1:
        raise ParseError(f"Name one pool to {action}, then mention the people.", example=EXAMPLE)
    return words[0], tuple(named_people(text))


def run_pool(ctx: Context, req: SlackRequest, text: str) -> None:
    action, _, args = text.strip().partition(" ")
    action = action.lower()
    if action == "add":
        name, members = _name_and_people(args, "add to")
        pools.change_pool(ctx, pools.ChangePool(req.workspace, req.user, name, members))
    elif action == "remove":
        name, members = _name_and_people(args, "remove from")
        if members:
            pools.change_pool(ctx, pools.ChangePool(req.workspace, req.user, name, members, remove=True))
        else:
            pools.remove_pool(ctx, req.workspace, req.user, name)
    elif action == "list":
        pools.list_pools(ctx, req.workspace, req.user)
    else:
        answer(ctx, req.workspace, Help(__doc__.split("\n\n")[1]))
