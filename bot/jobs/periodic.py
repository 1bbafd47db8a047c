"""Periodic work, on APScheduler with its job store in the project's database: mark ended
interviews completed, close expired offers.

The jobs are textual references to the functions below (APScheduler's SQLAlchemyJobStore
silently drops jobs it cannot unpickle, so they hold no objects). Both are idempotent single
UPDATEs, so two processes sharing the job table may both run them: APScheduler 3 does not
coordinate processes, and nothing here needs it to.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from typing import Any

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.exc import DBAPIError

from bot.usecases import booking, offers

log = logging.getLogger(__name__)
EVERY_SECONDS = 60
_running: list[Any] = []  # the Bot of this process, once started


def mark_interviews_completed() -> None:
    for bot in _running[:1]:
        if count := booking.mark_interviews_completed(bot.ctx):
            log.info("marked %s interview(s) completed", count)


def expire_offers() -> None:
    for bot in _running[:1]:
        if count := offers.expire_offers(bot.ctx):
            log.info("closed %s expired offer(s)", count)


class SharedJobStore(SQLAlchemyJobStore):
    """SQLAlchemyJobStore that tolerates other processes using the same table."""

    def start(self, scheduler: BackgroundScheduler, alias: str) -> None:
        try:
            super().start(scheduler, alias)
        except DBAPIError:  # another process created the table at the same moment
            super().start(scheduler, alias)

    def remove_job(self, job_id: str) -> None:
        with contextlib.suppress(JobLookupError):  # another process ran and removed it
            super().remove_job(job_id)

    def update_job(self, job: Job) -> None:
        try:
            super().update_job(job)
        except JobLookupError:  # removed elsewhere between our add and update
            with contextlib.suppress(ConflictingIdError):
                super().add_job(job)


class Periodic:
    """Starts APScheduler with the periodic jobs for `bot`, and stops it."""

    def __init__(self, bot: Any, every_seconds: int = EVERY_SECONDS) -> None:
        self.bot, self.every = bot, every_seconds
        self.scheduler: BackgroundScheduler | None = None

    def start(self) -> Periodic:
        _running.append(self.bot)
        # Its transactions take the write lock up front, like ours: on SQLite a deferred one that
        # reads and then writes fails when another writer got in between.
        engine = self.bot.ctx.db.engine.execution_options(sqlite_begin_immediate=True)
        store = SharedJobStore(engine=engine, tablename="apscheduler_jobs")
        self.scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=UTC,
                                             job_defaults={"coalesce": True, "max_instances": 1,
                                                           "misfire_grace_time": None})
        self.scheduler.start()
        for name in ("mark_interviews_completed", "expire_offers"):
            self.scheduler.add_job(f"{__name__}:{name}", "interval", seconds=self.every, id=name.replace("_", "-"),
                                   replace_existing=True, next_run_time=datetime.now(UTC))
        return self

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        with contextlib.suppress(ValueError):
            _running.remove(self.bot)
