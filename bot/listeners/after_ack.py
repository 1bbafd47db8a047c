"""Running the slow part of a request after `ack()`, with failures shown, not swallowed.

A `SchedulingError` is the user's to fix: its message (and example) goes back to them. Anything
else is our fault: it is logged with a short reference and the user is told it failed, with that
reference, so nobody waits on a reply that never comes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager

from slack_sdk.errors import SlackApiError

from bot.blocks.common import error_blocks
from scheduling.errors import SchedulingError

log = logging.getLogger("bot.listeners")
Reply = Callable[[str, list[dict]], None]


@contextmanager
def reported(reply: Reply, what: str) -> Iterator[None]:
    try:
        yield
    except SchedulingError as err:
        reply(str(err), error_blocks(str(err), err.example))
    except Exception as err:
        ref = uuid.uuid4().hex[:8]
        log.exception("%s failed (ref %s)", what, ref)
        detail = err.response.get("error") if isinstance(err, SlackApiError) else type(err).__name__
        text = f"Sorry, {what} failed on our side ({detail}, ref {ref}). Please try again."
        try:
            reply(text, error_blocks(text))
        except Exception:
            log.exception("could not tell the user about failure %s", ref)


def later(background: Executor, reply: Reply, what: str, work: Callable[[], None]) -> None:
    """Run `work` on the after-ack pool, reporting its failures to the user through `reply`."""

    def run() -> None:
        with reported(reply, what):
            work()

    background.submit(run)


def responder(respond: Callable[..., object]) -> Reply:
    """A Reply that answers a slash command or button ephemerally via its response_url."""

    def reply(text: str, blocks: list[dict]) -> None:
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    return reply


def dm_responder(client, user_id: str, channel_id: str | None = None) -> Reply:
    """A Reply for view submissions (no response_url): ephemeral in the channel, else a DM."""

    def reply(text: str, blocks: list[dict]) -> None:
        if channel_id and not channel_id.startswith("D"):
            try:
                client.chat_postEphemeral(channel=channel_id, user=user_id, text=text, blocks=blocks)
                return
            except SlackApiError as err:
                log.info("ephemeral to %s failed (%s); sending a DM", channel_id, err.response.get("error"))
        client.chat_postMessage(channel=user_id, text=text, blocks=blocks)

    return reply
