"""Sending reminders: APScheduler drives, the reminders table decides.

APScheduler 3 cannot share a job store between processes (duplicate or missed runs) and its
SQLAlchemyJobStore silently drops jobs it cannot unpickle. So jobs carry only a reminder id and
a textual reference to `deliver_job`, every run goes through a claim in the database (so a
duplicate run sends nothing twice), start-up re-creates a job for every pending reminder, and a
short ticker in memory claims whatever is due that no job delivered (missed runs, retries,
reminders planned by another process). Each process may run this; the table keeps it exactly-once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from datetime import datetime

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.context import system_clock
from bot.notify import grade_request, reminder_text
from scheduling.intervals import UTC
from storage import reminders as store
from storage.db import Database
from storage.models import Interview, Person, Reminder

log = logging.getLogger(__name__)
PERMANENT_ERRORS = {"channel_not_found", "user_not_found", "not_in_channel", "account_inactive",
                    "user_disabled", "cannot_dm_bot", "invalid_blocks"}
_services: dict[str, ReminderService] = {}


def deliver_job(reminder_id: int, service_key: str) -> None:
    """The scheduled job: a stable, importable reference holding only ids."""
    service = _services.get(service_key)
    if service is not None:
        service.deliver_due()


class ReminderService:
    def __init__(self, db: Database, client: WebClient, *, clock: Callable[[], datetime] = system_clock,
                 worker: str | None = None, tick_seconds: float = 1.0, batch: int = 200) -> None:
        self.db, self.client, self.clock = db, client, clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.tick_seconds, self.batch = tick_seconds, batch
        self._lock = threading.Lock()
        self.scheduler: BackgroundScheduler | None = None

    # -- delivery ------------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Skip what is too late, claim what is due, send it. Returns how many were sent."""
        if not self._lock.acquire(blocking=False):
            return 0  # a run is already going in this process; it will see these too
        try:
            sent = 0
            while True:
                now = self.clock()
                with self.db.unit_of_work() as uow:
                    store.skip_started(uow.session, now)
                    ids = store.claim_due(uow.session, now, self.worker, limit=self.batch)
                    uow.commit()
                if not ids:
                    return sent
                sent += sum(self._send(rid) for rid in ids)
        finally:
            self._lock.release()

    def _send(self, reminder_id: int) -> bool:
        with self.db.unit_of_work(write=False) as uow:
            reminder = uow.session.get(Reminder, reminder_id)
            interview = uow.session.get(Interview, reminder.interview_id)
            person = uow.session.get(Person, reminder.person_id)
            blocks = None
            if reminder.offset_min < 0:
                text, blocks = grade_request(interview, person)
            else:
                text = reminder_text(interview, person, reminder.offset_min)
            channel = person.slack_user_id
        if channel is None:
            self._fail(reminder_id, "the person has no Slack account", permanent=True)
            return False
        try:
            self.client.chat_postMessage(channel=channel, text=text, blocks=blocks)
        except SlackApiError as err:
            error = err.response.get("error") or f"HTTP {err.response.status_code}"
            self._fail(reminder_id, error, permanent=error in PERMANENT_ERRORS)
            return False
        except Exception as err:  # connection refused, timeouts: Slack briefly unreachable
            self._fail(reminder_id, f"{type(err).__name__}: {err}")
            return False
        with self.db.unit_of_work() as uow:
            ok = store.mark_sent(uow.session, reminder_id, self.worker, self.clock())
            uow.commit()
        if not ok:
            log.warning("reminder %s was sent but its lease had passed to another worker", reminder_id)
        return True

    def _fail(self, reminder_id: int, error: str, *, permanent: bool = False) -> None:
        with self.db.unit_of_work() as uow:
            store.mark_failed(uow.session, reminder_id, self.worker, self.clock(), error, permanent=permanent)
            uow.commit()

    # -- scheduling ----------------------------------------------------------------------

    def start(self) -> ReminderService:
        """Start APScheduler with a job store in the project's database, then reconcile."""
        _services[self.worker] = self
        self.scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.db.engine, tablename="apscheduler_jobs"),
                       "memory": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.scheduler.start()
        self.reconcile()
        self.scheduler.add_job(self.deliver_due, "interval", seconds=self.tick_seconds, id="reminder-ticker",
                               jobstore="memory", replace_existing=True, next_run_time=datetime.now(UTC))
        return self

    def reconcile(self) -> int:
        """Re-create a date job for every pending reminder the table holds."""
        with self.db.unit_of_work(write=False) as uow:
            due = store.pending(uow.session)
        self.schedule(due)
        return len(due)

    def schedule(self, reminders: Iterable[tuple[int, datetime]]) -> None:
        if self.scheduler is None:
            return
        now = datetime.now(UTC)
        for reminder_id, at in reminders:
            self.scheduler.add_job(
                "bot.reminders:deliver_job", "date", run_date=max(at, now), args=[reminder_id, self.worker],
                id=f"reminder-{reminder_id}", replace_existing=True,
            )

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        _services.pop(self.worker, None)


def run_worker(db: Database, client: WebClient, stop: threading.Event, tick_seconds: float = 1.0) -> None:
    """`interview-bot worker`: reminders only, until `stop` is set (SIGTERM/SIGINT)."""
    service = ReminderService(db, client, tick_seconds=tick_seconds).start()
    log.info("reminder worker %s started", service.worker)
    try:
        stop.wait()
    finally:
        service.stop()


