"""Sending reminders: APScheduler drives, the reminders table decides.

APScheduler 3 documents two limits this design works around:

* A job store must not be shared by several processes (duplicate or missed runs). Every bot
  process here uses the same `apscheduler_jobs` table anyway, because a job only *wakes* a
  sender: the sender claims due rows in the reminders table before sending, so a duplicate run
  sends nothing twice, and a short ticker in each process's memory store claims whatever is due
  that no job delivered (a missed run, a job removed by another process, a retry after backoff,
  a reminder planned by another process). `SharedJobStore` also tolerates a job vanishing under
  it, which stock APScheduler turns into an exception that ends its scheduler thread.
* SQLAlchemyJobStore silently deletes jobs it cannot unpickle. Jobs therefore hold only a
  reminder id and the textual reference "bot.reminders:deliver", and start-up re-creates a date
  job for every pending reminder the table holds that has none.

Clocks: the injected clock decides what is due (tests move it); APScheduler runs on real time.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.job import Job
from apscheduler.jobstores.base import ConflictingIdError, JobLookupError
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bot.context import system_clock
from bot.notify import grade_request, reminder_text
from scheduling.intervals import UTC
from storage import reminders as store
from storage.booking import complete_past
from storage.db import Database
from storage.models import Interview, Person, Reminder

log = logging.getLogger(__name__)
JOB_FUNC = "bot.reminders:deliver"
PERMANENT_ERRORS = frozenset({"channel_not_found", "user_not_found", "not_in_channel", "account_inactive",
                              "user_disabled", "cannot_dm_bot", "invalid_blocks", "no_text"})
# A claim is only used while at least this much of its lease is left: a Slack call (timeout and
# the client's retries) must finish before another worker may take the reminder over.
SEND_BUDGET = timedelta(seconds=60)
_running: list[ReminderService] = []


def deliver(reminder_id: int) -> None:
    """Target of every persistent job. Any started service in this process will do: the claim
    decides who sends, so the id only names the job."""
    if _running:
        _running[0].deliver_due()
    else:
        log.debug("no reminder service running here for reminder %s's job", reminder_id)


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

    def job_ids(self) -> set[str]:
        with self.engine.begin() as conn:
            return set(conn.scalars(select(self.jobs_t.c.id)))


class ReminderService:
    """Claims and sends due reminders; `start()` adds the APScheduler driver."""

    def __init__(self, db: Database, client: WebClient, *, clock: Callable[[], datetime] = system_clock,
                 worker: str | None = None, tick_seconds: float = 1.0, batch: int = 100, senders: int = 4,
                 lease: timedelta = store.DEFAULT_LEASE, backoff: store.Backoff = store.DEFAULT_BACKOFF) -> None:
        self.db, self.client, self.clock = db, client, clock
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.tick_seconds, self.batch, self.lease, self.backoff = tick_seconds, batch, lease, backoff
        self._senders = ThreadPoolExecutor(max_workers=senders, thread_name_prefix="reminder-send")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.scheduler: BackgroundScheduler | None = None
        self.jobstore: SharedJobStore | None = None

    # -- delivery ------------------------------------------------------------------------

    def deliver_due(self) -> int:
        """Skip what is too late, claim what is due, send it; then arrange to wake for the next.

        Returns how many were sent. A run already going in this process makes this one a no-op:
        that run claims until nothing is due, so it sees these reminders too.
        """
        if not self._lock.acquire(blocking=False):
            return 0
        try:
            sent, last_claim = self._drain()
        finally:
            self._lock.release()
        self._wake_after(last_claim)
        return sent

    def _drain(self) -> tuple[int, datetime]:
        sent, now = 0, self.clock()
        while not self._stopping.is_set():
            now = self.clock()
            with self.db.unit_of_work() as uow:
                complete_past(uow.session, now)  # ended interviews count for the programme rules
                store.skip_started(uow.session, now)
                claimed = store.claim_due(uow.session, now, self.worker, limit=self.batch, lease=self.lease)
                uow.commit()
            if not claimed:
                break
            sent += sum(self._senders.map(self._send, self._compose(claimed)))
        return sent, now

    def _compose(self, claimed: list[Reminder]) -> list[Outgoing]:
        """The messages for a claimed batch, read in one go: each in its recipient's zone."""
        with self.db.unit_of_work(write=False) as uow:
            s = uow.session
            interviews = {i.id: i for i in s.scalars(
                select(Interview).where(Interview.id.in_({r.interview_id for r in claimed})))}
            people = {p.id: p for p in s.scalars(select(Person).where(Person.id.in_({r.person_id for r in claimed})))}
            return [_message(r, interviews[r.interview_id], people[r.person_id]) for r in claimed]

    def _send(self, out: Outgoing) -> bool:
        reminder_id = out.reminder.id
        if self.clock() > out.reminder.claimed_until - SEND_BUDGET:
            self._release(reminder_id)  # too little lease left to send safely: someone retries
            return False
        if out.channel is None:  # lost their Slack id after planning: no retry can help
            self._skip(reminder_id, out.problem or store.NO_SLACK)
            return False
        if out.problem is not None:
            self._fail(reminder_id, out.problem)
            return False
        try:
            self.client.chat_postMessage(channel=out.channel, text=out.text, blocks=out.blocks)
        except SlackApiError as err:
            self._slack_failed(reminder_id, err)
            return False
        except Exception as err:  # connection refused, timeouts: Slack briefly unreachable
            log.debug("reminder %s send error", reminder_id, exc_info=True)
            self._fail(reminder_id, f"{type(err).__name__}: {err}")
            return False
        with self.db.unit_of_work() as uow:  # right after Slack's answer: the duplicate window
            ok = store.mark_sent(uow.session, reminder_id, self.worker, self.clock())
            uow.commit()
        if not ok:
            log.warning("reminder %s was sent, but its row had changed (lease lost or cancelled)", reminder_id)
        return True

    def _slack_failed(self, reminder_id: int, err: SlackApiError) -> None:
        response = err.response
        error = response.get("error") or f"HTTP {response.status_code}"
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        wait = timedelta(seconds=int(retry_after)) if str(retry_after or "").isdigit() else timedelta(0)
        self._fail(reminder_id, error, permanent=error in PERMANENT_ERRORS, not_before=wait)

    def _fail(self, reminder_id: int, error: str, *, permanent: bool = False,
              not_before: timedelta = timedelta(0)) -> None:
        with self.db.unit_of_work() as uow:
            store.mark_failed(uow.session, reminder_id, self.worker, self.clock(), error, permanent=permanent,
                              backoff=self.backoff, not_before=not_before)
            uow.commit()

    def _skip(self, reminder_id: int, reason: str) -> None:
        with self.db.unit_of_work() as uow:
            store.mark_skipped(uow.session, reminder_id, self.worker, reason)
            uow.commit()

    def _release(self, reminder_id: int) -> None:
        with self.db.unit_of_work() as uow:
            store.release(uow.session, [reminder_id], self.worker)
            uow.commit()

    # -- scheduling ----------------------------------------------------------------------

    def start(self) -> ReminderService:
        """Start APScheduler (job store in the project's database), the ticker, then reconcile."""
        _running.append(self)
        self.jobstore = SharedJobStore(engine=self.db.engine, tablename="apscheduler_jobs")
        self.scheduler = BackgroundScheduler(
            jobstores={"default": self.jobstore, "memory": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
            timezone=UTC,
        )
        self.scheduler.start()
        # max_instances > 1: a tick or wake due while a run is going must not log "skipped";
        # the extra instance returns at once (the run holds the lock).
        self.scheduler.add_job(self.deliver_due, "interval", seconds=self.tick_seconds, id="reminder-ticker",
                               jobstore="memory", max_instances=3, next_run_time=datetime.now(UTC))
        self.reconcile()
        return self

    def reconcile(self) -> int:
        """Give every pending reminder without a job in the store a date job; returns how many."""
        with self.db.unit_of_work(write=False) as uow:
            due = store.pending_ids(uow.session)
        have = self.jobstore.job_ids() if self.jobstore is not None else set()
        missing = [(rid, at) for rid, at in due.items() if _job_id(rid) not in have]
        self.schedule(missing)
        if missing:
            log.info("reconciled %s pending reminder(s) without a scheduler job", len(missing))
        return len(missing)

    def schedule(self, reminders: Iterable[tuple[int, datetime]]) -> None:
        """Date jobs for freshly planned or moved reminders (booking calls this after commit)."""
        if self.scheduler is None:
            return
        for reminder_id, at in reminders:
            self.scheduler.add_job(JOB_FUNC, "date", run_date=self._real_time(at), args=[reminder_id],
                                   id=_job_id(reminder_id), replace_existing=True)

    def _wake_after(self, last_claim: datetime) -> None:
        """Run again exactly when the next reminder falls due, if that is before the next tick."""
        if self.scheduler is None:
            return
        with self.db.unit_of_work(write=False) as uow:
            at = store.next_due(uow.session, last_claim)
        if at is not None and at - self.clock() < timedelta(seconds=self.tick_seconds):
            with contextlib.suppress(Exception):  # shutting down: nothing left to wake
                self.scheduler.add_job(self.deliver_due, "date", run_date=self._real_time(at), id="reminder-wake",
                                       jobstore="memory", max_instances=3, replace_existing=True)

    def _real_time(self, at: datetime) -> datetime:
        """The wall-clock moment when the injected clock will read `at`."""
        return datetime.now(UTC) + (at - self.clock())

    def stop(self) -> None:
        """Finish the sends under way (a run claims no new batch), then shut the scheduler down."""
        self._stopping.set()
        if self.scheduler is not None:
            self.scheduler.shutdown(wait=True)
            self.scheduler = None
        self._senders.shutdown(wait=True)
        with contextlib.suppress(ValueError):
            _running.remove(self)


@dataclass(frozen=True)
class Outgoing:
    """One claimed reminder, ready to send, or the reason it cannot be."""

    reminder: Reminder
    channel: str | None
    text: str = ""
    blocks: list[dict] | None = None
    problem: str | None = None


def _message(reminder: Reminder, interview: Interview, person: Person) -> Outgoing:
    if person.slack_user_id is None:
        return Outgoing(reminder, None, problem=store.NO_SLACK)
    try:
        if reminder.offset_min < 0:
            text, blocks = grade_request(interview, person)
            return Outgoing(reminder, person.slack_user_id, text, blocks)
        return Outgoing(reminder, person.slack_user_id, reminder_text(interview, person, reminder.offset_min))
    except Exception as err:  # a rendering bug: logged, retried with backoff, never silently lost
        log.exception("cannot compose reminder %s", reminder.id)
        return Outgoing(reminder, person.slack_user_id, problem=f"cannot compose: {type(err).__name__}: {err}")


def _job_id(reminder_id: int) -> str:
    return f"reminder-{reminder_id}"


def run_worker(db: Database, client: WebClient, stop: threading.Event, tick_seconds: float = 1.0) -> None:
    """`interview-bot worker`: reminders only, until `stop` is set (SIGTERM/SIGINT)."""
    service = ReminderService(db, client, tick_seconds=tick_seconds).start()
    log.info("reminder worker %s started", service.worker)
    try:
        stop.wait()
    finally:
        service.stop()
        log.info("reminder worker %s stopped", service.worker)
