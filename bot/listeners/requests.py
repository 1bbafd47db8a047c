"""Recording a Slack request durably before acknowledging it, and running it later.

A listener only records: the request becomes a job (deduplicated by Slack's trigger or event
id, so Slack's retries and replays are one request) in a transaction bounded to answer within
Slack's 3 s, and then it acks. When the database cannot take the record in time the ack says
so (or an event is refused, so Slack sends it again): nothing is acknowledged that is not on
disk. Any process's job runner then runs the request's route: parse, call the use case,
which answers through its unit of work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from slack_bolt import BoltContext
from sqlalchemy import or_, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bot.jobs.runner import GiveUp, JobRun
from bot.render import Problem
from bot.usecases.context import Context, Origin, answer
from scheduling.errors import SchedulingError
from storage import jobs
from storage.models import Job, JobStatus
from storage.workspaces import ensure_workspace, workspace_key

log = logging.getLogger(__name__)
REQUEST_JOB = "slack.request"
ACK_BUDGET_S = 2.0  # of Slack's 3 s: the rest is the network
UNAVAILABLE = "The scheduler cannot take requests right now (its database is not answering). " \
              "Nothing was saved; please try again in a minute."


@dataclass(frozen=True)
class SlackRequest:
    """A recorded request as its route sees it."""

    route: str
    workspace: str
    user: str
    args: dict[str, Any]


Route = Callable[[Context, SlackRequest], None]


class NotRecorded(Exception):
    """The request could not be stored in time; it must not be acknowledged as accepted."""


def workspace_of(context: BoltContext) -> str:
    return workspace_key(context.team_id, context.enterprise_id, bool(context.is_enterprise_install))


def in_time(bot: Any, work: Callable[..., Any], *args: Any, budget: float = ACK_BUDGET_S) -> Any:
    """Run database work for an answer Slack is waiting for; TimeoutError past `budget` (the work
    may go on in its thread, but nobody waits for it)."""
    try:
        return bot.ack_pool.submit(work, *args).result(timeout=budget)
    except FutureTimeout:
        raise TimeoutError(f"{getattr(work, '__name__', 'work')} took longer than {budget:.1f} s") from None


def record(bot: Any, context: BoltContext, *, route: str, args: Mapping[str, Any], reply: Mapping[str, Any],
           dedupe: str, budget: float = ACK_BUDGET_S) -> None:
    """Store the request as a job and hand it to a runner; raises NotRecorded past `budget`
    seconds (what is left of ACK_BUDGET_S when the listener has already used some)."""
    key = workspace_of(context)
    now = bot.job_clock()
    dedupe_key = f"request:{key}:{dedupe}"
    runner = bot.runner if bot.runner is not None and bot.runner.has_room(jobs.REQUESTS) else None

    def write() -> int | None:
        with bot.fast.db.unit_of_work() as uow:
            ensure_workspace(uow.session, key, team_id=context.team_id, enterprise_id=context.enterprise_id,
                             is_enterprise_install=bool(context.is_enterprise_install))
            job_id = jobs.defer(
                uow.session, kind=REQUEST_JOB, queue=jobs.REQUESTS, workspace_id=key, run_at=now,
                deadline=now + timedelta(seconds=bot.ctx.settings.request_deadline_s), dedupe_key=dedupe_key,
                claimed_by=runner.worker if runner else None, lease=runner.lease if runner else jobs.DEFAULT_LEASE,
                payload={"route": route, "user": context.user_id, "args": dict(args), "reply": dict(reply)})
            uow.commit()
            return job_id

    future = bot.ack_pool.submit(write)
    try:
        job_id = future.result(timeout=max(budget, 0.2))
    except FutureTimeout:
        future.add_done_callback(lambda done: _withdraw_if_written(bot, done, dedupe_key, runner))
        log.warning("recording %s took longer than %.1f s; told the user to try again", route, budget)
        raise NotRecorded from None
    except SQLAlchemyError as err:
        log.warning("recording %s failed: %s", route, err)
        raise NotRecorded from None
    except Exception:
        log.exception("recording %s failed", route)
        raise NotRecorded from None
    if runner is not None and job_id is not None:
        runner.adopt([job_id])  # born claimed by this process's runner: it starts now
    elif bot.runner is not None:
        bot.runner.poke(jobs.REQUESTS)


def _withdraw_if_written(bot: Any, done: Any, dedupe_key: str, runner: Any) -> None:
    """A record that landed after the user was told it did not: withdraw it, unless a runner
    already started it (then it is answered as usual), and free its key, so that Slack's retry
    or the person's second try is a request of its own."""
    if done.exception() is not None:
        return
    unstarted = Job.claimed_by.is_(None) if runner is None else or_(Job.claimed_by.is_(None),
                                                                      Job.claimed_by == runner.worker)
    with bot.fast.db.unit_of_work() as uow:
        uow.session.execute(update(Job).where(Job.dedupe_key == dedupe_key, Job.status == JobStatus.pending,
                                              unstarted).values(status=JobStatus.cancelled, dedupe_key=None))
        uow.commit()


def response_target(body: Mapping[str, Any], *, replace: bool = False) -> dict[str, Any]:
    """Answer through the response_url Slack gave (valid 30 minutes, five times)."""
    user = (body.get("user") or {}).get("id") if isinstance(body.get("user"), dict) else body.get("user_id")
    return {"kind": "response_url", "url": body["response_url"], "user": user, "replace": replace}


def action_target(body: Mapping[str, Any]) -> dict[str, Any]:
    """Where a button's answer goes: in place in its message, or into its modal (plus a DM, so
    controls such as Cancel stay at hand once the modal is closed)."""
    if (body.get("container") or {}).get("type") == "view":
        return {"kind": "view", "view_id": body["view"]["id"], "user": body["user"]["id"], "dm_copy": True}
    return response_target(body, replace=True)


# -- running -----------------------------------------------------------------------------------

ROUTE_NAMES = {
    "availability": "/availability", "availability_form": "saving your availability", "interview": "/interview",
    "search_form": "the slot search", "page": "paging", "book": "booking", "cancel": "cancelling",
    "reschedule": "rescheduling", "move": "moving the interview", "grade": "grading", "pick": "booking your pick",
    "admin": "/interview-admin", "register": "/interview-register", "home": "the Home tab",
}


def run_request(run: JobRun, bot: Any) -> None:
    """Job handler: the recorded request's route, answered through the use case (or, for a
    mistake of the asker's, with what is wrong and an example)."""
    payload = run.payload

    def finished(deliveries: list[int]) -> None:
        run.completed = True  # the use case's commit finished the job: nothing left to write
        run.runner.adopt(deliveries)  # its answer and messages, born claimed by this runner

    ctx = bot.ctx.serving(Origin(job_id=run.job_id, worker=run.worker, reply=payload["reply"], finished=finished))
    if run.deadline is not None and run.now() > run.deadline:
        raise GiveUp("it waited too long to be started")
    request = SlackRequest(payload["route"], run.workspace or "", payload["user"], payload["args"])
    try:
        bot.routes[request.route](ctx, request)
    except SchedulingError as err:
        answer(ctx, request.workspace, Problem(str(err), err.example))


def request_gave_up(run: JobRun, bot: Any, session: Session, reason: str) -> None:
    """Whoever asked hears that it could not be finished, instead of waiting for nothing."""
    what = ROUTE_NAMES.get(run.payload.get("route", ""), "your request")
    origin = Origin(job_id=run.job_id, reply=run.payload["reply"])  # any runner may send it
    bot.messenger.reply(session, run.workspace or "", origin,
                        Problem(f"Sorry, I could not finish {what}. Please try again (reference: job {run.job_id})."))
