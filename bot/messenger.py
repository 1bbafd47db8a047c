"""The use cases' Messenger, for Slack: answers and notices become delivery jobs, rendered now
and written in the caller's transaction (so they are sent if, and only if, it commits). Serving
a request, they are born claimed by its runner, which sends them as soon as it commits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot import render
from bot.usecases.context import Origin
from storage import jobs
from storage.models import Person

REPLY_JOB, DM_JOB = "slack.reply", "slack.dm"


class SlackMessenger:
    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock

    def reply(self, session: Session, workspace: str, origin: Origin, result: object) -> int | None:
        target = dict(origin.reply or {})
        return jobs.defer(session, kind=REPLY_JOB, payload={"target": target, **render.reply(result, target)},
                          run_at=self.clock(), workspace_id=workspace, claimed_by=origin.worker,
                          dedupe_key=f"reply:{origin.job_id}" if origin.job_id is not None else None)

    def notify(self, session: Session, workspace: str, person: Person, notice: object,
               origin: Origin) -> int | None:
        message = render.notice(notice)
        return jobs.defer(session, kind=DM_JOB, run_at=self.clock(), workspace_id=workspace,
                          claimed_by=origin.worker,
                          payload={"user": person.slack_user_id, "name": person.name, **message})
