"""One process's bot: the use cases' context wired to Slack, the job runner and its handlers.

`run` and `worker` build one of these; tests build them the same way against a fake Slack.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.webhook import WebhookClient

from bot.blocks.common import error_text, text_blocks
from bot.blocks.slots import message_modal
from bot.directory import SlackDirectory
from bot.jobs.deliver import deliver_dm, deliver_reply, dm_gave_up, reply_gave_up
from bot.jobs.reminders import reminder_gave_up, send_reminder
from bot.jobs.runner import JobRunner, Kind
from bot.listeners import ROUTES
from bot.listeners.requests import REQUEST_JOB, UNAVAILABLE, Route, request_gave_up, run_request
from bot.messenger import DM_JOB, REPLY_JOB, SlackMessenger
from bot.settings import Settings
from bot.slack_client import Clients, Installation
from bot.usecases.context import Context, system_clock
from scheduling.errors import SchedulingError
from storage import jobs
from storage.db import Database
from storage.reminders import REMINDER_JOB

log = logging.getLogger(__name__)

KINDS = {
    REQUEST_JOB: Kind(run_request, queue=jobs.REQUESTS, max_attempts=5, gave_up=request_gave_up),
    REPLY_JOB: Kind(deliver_reply, max_attempts=12, retry_for=timedelta(minutes=30), gave_up=reply_gave_up),
    DM_JOB: Kind(deliver_dm, max_attempts=40, retry_for=timedelta(hours=6), gave_up=dm_gave_up),
    REMINDER_JOB: Kind(send_reminder, max_attempts=40, retry_for=timedelta(days=2), gave_up=reminder_gave_up),
}


@dataclass
class Bot:
    """Everything a listener or a job handler of this process needs."""

    ctx: Context  # the use cases, on the normal database
    fast: Context  # the same on a database whose every wait is bounded (acks, select menus)
    clients: Clients
    job_clock: Callable[[], datetime]
    routes: dict[str, Route] = field(default_factory=lambda: dict(ROUTES))
    runner: JobRunner | None = None
    ack_pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="ack-db"))
    forms: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=4, thread_name_prefix="forms"))

    @property
    def messenger(self) -> SlackMessenger:
        return self.ctx.messenger  # type: ignore[return-value]

    def open_form(self, opener: Callable[..., None], workspace: str, command: dict) -> None:
        """Open a modal now, on a pool of its own (a trigger lives 3 s: it never waits behind
        other work); a failure is logged and told through the command's response_url."""
        def run() -> None:
            try:
                opener(self, workspace, command)
            except Exception as err:
                log.exception("opening a form for %s failed", command.get("user_id"))
                message = str(err) if isinstance(err, SchedulingError) else "The form could not be opened."
                _post(command.get("response_url"), error_text(f"{message} Please try again."))

        self.forms.submit(run)

    def say_unavailable(self, workspace: str, body: dict) -> None:
        """A click that could not be recorded: tell the person, after the ack and off its thread,
        where they clicked (a message's response_url, or the modal); nothing was done."""
        text = f":warning: {UNAVAILABLE}"
        view_id = (body.get("view") or {}).get("id") if (body.get("container") or {}).get("type") == "view" else None

        def tell() -> None:
            if view_id is None:
                _post(body.get("response_url"), text)
                return
            try:
                self.clients.web(workspace).views_update(view_id=view_id, view=message_modal(text, "Interview scheduling"))
            except Exception:
                log.warning("could not show a modal that the click was not taken", exc_info=True)

        self.forms.submit(tell)

    def start(self, **runner_options: Any) -> Bot:
        runner_options.setdefault("lease", timedelta(seconds=self.ctx.settings.job_lease_s))
        if self.ctx.settings.health_file:
            runner_options.setdefault("alive_file", Path(self.ctx.settings.health_file))
        self.runner = JobRunner(self.ctx.db, KINDS, self, clock=self.job_clock, **runner_options).start()
        return self

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        self.forms.shutdown(wait=True)
        self.ack_pool.shutdown(wait=True)


def _post(url: str | None, text: str) -> None:
    if not url:
        return
    try:
        WebhookClient(url, timeout=5, retry_handlers=[]).send(text=text, blocks=text_blocks(text),
                                                              response_type="ephemeral")
    except Exception:
        log.warning("could not post to a response_url", exc_info=True)


def build_bot(
    settings: Settings,
    db: Database,
    installations: Iterable[Installation],
    *,
    clock: Callable[[], datetime] = system_clock,
    job_clock: Callable[[], datetime] | None = None,
    hr_workspace: str | None = None,
) -> Bot:
    """The bot for these installations; HR_USER_IDS apply in `hr_workspace` (the first one)."""
    installations = list(installations)
    clients = Clients(installations, settings.slack_api_url, timeout=settings.slack_timeout_s)
    job_clock = job_clock or clock
    ctx = Context(db=db, settings=settings, clock=clock, directory=SlackDirectory(clients),
                  messenger=SlackMessenger(job_clock),
                  hr_workspace=hr_workspace or (installations[0].key if installations else None))
    fast = replace(ctx, db=Database(db.url, interactive=True))
    return Bot(ctx=ctx, fast=fast, clients=clients, job_clock=job_clock)

