"""Runs durable jobs: claims due rows of each queue, runs their handler, retries or gives up.

One dispatcher thread per queue claims at most as many jobs as it has free workers (so work
waits in the database, not in memory), hands each to the queue's pool, and is woken at once
by `poke()` (a request recorded in this process) or by a tick (work from other processes,
retries falling due). A heartbeat thread keeps the leases of running jobs alive, however long
a handler waits on Slack; a runner that dies stops beating and its jobs are taken over after
the lease. Handlers are idempotent per job: they keep what they have done in `progress`.
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from bot.usecases.context import LeaseLost
from storage import jobs as store
from storage.db import Database
from storage.models import Job, JobStatus

log = logging.getLogger(__name__)

# Slack answered, so nothing was done, and trying again cannot help.
PERMANENT_SLACK_ERRORS = frozenset({
    "channel_not_found", "user_not_found", "users_not_found", "not_in_channel", "account_inactive",
    "user_disabled", "cannot_dm_bot", "invalid_blocks", "no_text", "invalid_metadata_format", "invalid_auth",
    "token_revoked", "not_authed", "missing_scope", "is_archived", "msg_too_long", "invalid_arguments",
})


class Retry(Exception):
    """Try again later: at least `after` from now; `unknown` when the outcome is not known (the
    next attempt must first find out, so it waits for Slack to settle)."""

    def __init__(self, reason: str, *, after: timedelta = timedelta(0), unknown: bool = False) -> None:
        super().__init__(reason)
        self.after, self.unknown = after, unknown


class GiveUp(Exception):
    """Stop for good; `str()` says why (kept on the job, told to whoever is waiting)."""


@dataclass(frozen=True)
class Backoff:
    """Exponential retry delays from `base`, capped; `settle` is the least wait after an
    unknown outcome (longer than Slack's slowest answer, so a late message is visible)."""

    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=5)
    settle: timedelta = timedelta(seconds=25)

    def delay(self, attempts: int) -> timedelta:
        return min(self.base * 2 ** max(attempts - 1, 0), self.cap)


class Handler(Protocol):
    def __call__(self, run: JobRun, deps: Any, /) -> None: ...


class GiveUpHook(Protocol):
    def __call__(self, run: JobRun, deps: Any, session: Session, reason: str, /) -> None: ...


@dataclass(frozen=True)
class Kind:
    """How to run one kind of job, and when to stop trying."""

    handle: Handler
    queue: str = store.DELIVERIES
    max_attempts: int = 10
    retry_for: timedelta | None = None  # give up once the job is this old
    gave_up: GiveUpHook | None = None  # told (in the failing transaction) when it stops for good


@dataclass
class JobRun:
    """One attempt at a job, as its handler sees it."""

    job_id: int
    kind: str
    workspace: str | None
    payload: dict[str, Any]
    progress: dict[str, Any]
    attempts: int
    created_at: datetime
    deadline: datetime | None
    runner: JobRunner = field(repr=False)
    completed: bool = False

    @property
    def worker(self) -> str:
        return self.runner.worker

    def now(self) -> datetime:
        return self.runner.clock()

    def save(self, **changes: Any) -> None:
        """Record progress before the step that depends on it (e.g. "about to post")."""
        self.progress.update(changes)
        with self.runner.db.unit_of_work() as uow:
            if not store.save_progress(uow.session, self.job_id, self.worker, self.progress):
                raise LeaseLost(f"job {self.job_id} is no longer ours")
            uow.commit()

    def complete(self, session: Session) -> None:
        """Finish inside the caller's transaction (with the handler's own final writes)."""
        if not store.complete(session, self.job_id, self.worker, self.now(), self.progress):
            raise LeaseLost(f"job {self.job_id} is no longer ours")
        self.completed = True


def is_transient(err: BaseException) -> bool:
    """Worth another try: the database or Slack was briefly unavailable."""
    if isinstance(err, OperationalError | OSError | http.client.HTTPException):  # OSError: timeouts, connections
        return True
    if isinstance(err, DBAPIError):
        return bool(err.connection_invalidated)
    if isinstance(err, SlackApiError):
        return err.response.get("error") not in PERMANENT_SLACK_ERRORS
    return False


class JobRunner:
    def __init__(
        self,
        db: Database,
        kinds: Mapping[str, Kind],
        deps: Any,
        *,
        clock: Callable[[], datetime],
        workers: Mapping[str, int] | None = None,
        lease: timedelta = store.DEFAULT_LEASE,
        backoff: Backoff = Backoff(),
        tick_seconds: float = 1.0,
        worker: str | None = None,
        alive_file: Path | None = None,
    ) -> None:
        self.db, self.kinds, self.deps, self.clock = db, kinds, deps, clock
        # Deliveries mostly wait on Slack, so they get more threads than requests (which use the CPU).
        self.workers = dict(workers or {store.REQUESTS: 2, store.DELIVERIES: 8})
        self.lease, self.backoff, self.tick_seconds = lease, backoff, tick_seconds
        self.alive_file = alive_file  # touched whenever a look for due jobs succeeds: the health check
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._pools = {q: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"job-{q}")
                       for q, n in self.workers.items()}
        self._wake = {q: threading.Event() for q in self.workers}
        self._running: dict[int, str] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> JobRunner:
        for queue in self.workers:
            self._spawn(f"dispatch-{queue}", self._dispatch, queue)
        self._spawn("job-heartbeat", self._heartbeat)
        log.info("job runner %s started (%s)", self.worker,
                 ", ".join(f"{q}: {n} workers" for q, n in self.workers.items()))
        return self

    def _spawn(self, name: str, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def has_room(self, queue: str) -> bool:
        """Whether this runner can take one more job of `queue` now (else it stays for anyone)."""
        return not self._stopping.is_set() and self._free(queue) > 0

    def adopt(self, job_ids: list[int]) -> None:
        """Run jobs this process wrote claimed by this runner: no claim, no wait for a tick."""
        if not job_ids:
            return
        with self.db.unit_of_work(write=False) as uow:
            jobs = store.adopted(uow.session, job_ids, self.worker)
        for job in jobs:
            queue = self.kinds[job.kind].queue if job.kind in self.kinds else store.DELIVERIES
            with self._lock:
                self._running[job.id] = queue  # heartbeats keep its lease while it waits
            self._pools[queue].submit(self._execute, job)

    def poke(self, queue: str = store.REQUESTS) -> None:
        """New work in `queue` (recorded by this process): look now, not at the next tick."""
        if queue in self._wake:
            self._wake[queue].set()

    def poke_all(self) -> None:
        for event in self._wake.values():
            event.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Claim nothing more; let running jobs finish (their leases are kept alive meanwhile)."""
        self._stopping.set()
        self.poke_all()
        for thread in self._threads:
            if thread.name.startswith("dispatch-"):
                thread.join(timeout)
        for pool in self._pools.values():
            pool.shutdown(wait=True)
        for thread in self._threads:
            thread.join(timeout)
        log.info("job runner %s stopped", self.worker)

    def _alive(self) -> None:
        if self.alive_file is not None:
            try:
                self.alive_file.touch()
            except OSError:
                log.warning("cannot touch the health file %s", self.alive_file, exc_info=True)

    # -- claiming --------------------------------------------------------------------------

    def _free(self, queue: str) -> int:
        with self._lock:
            return self.workers[queue] - sum(1 for q in self._running.values() if q == queue)

    def _dispatch(self, queue: str) -> None:
        """Claim as many due jobs as there are free workers; when the queue is drained, sleep
        until the next job falls due (at most a tick) or until poked."""
        wake = self._wake[queue]
        poked = True
        while not self._stopping.is_set():
            free = self._free(queue)
            if free <= 0:  # every worker busy: a finishing one wakes us
                wake.wait(self.tick_seconds)
                wake.clear()
                continue
            try:
                claimed = self.claim(queue, free, look_first=not poked)
            except Exception:  # the database is away: keep trying, never die
                log.warning("claiming %s jobs failed; retrying", queue, exc_info=True)
                claimed = []
            else:
                self._alive()
            for job in claimed:
                self._pools[queue].submit(self._execute, job)
            poked = len(claimed) == free  # a full batch: there may be more right away
            if not poked:
                poked = wake.wait(self._idle_wait(queue) if not claimed else self.tick_seconds)
                wake.clear()

    def _idle_wait(self, queue: str) -> float:
        """Until the next job of `queue` falls due, at most a tick (jobs from other processes)."""
        try:
            now = self.clock()
            with self.db.unit_of_work(write=False) as uow:
                at = store.next_run_at(uow.session, queue, now)
        except Exception:
            return self.tick_seconds
        return self.tick_seconds if at is None else min(self.tick_seconds, max(0.0, (at - now).total_seconds()))

    def claim(self, queue: str, limit: int, *, look_first: bool = True) -> list[Job]:
        """Claim up to `limit` due jobs; `look_first` checks with a read (no write lock) whether
        there is anything at all, which idle polling should (a poke says there is)."""
        if limit <= 0:
            return []
        now = self.clock()
        if look_first:
            with self.db.unit_of_work(write=False) as uow:
                if not store.any_due(uow.session, queue, now):
                    return []
        with self.db.unit_of_work() as uow:
            claimed = store.claim(uow.session, queue, now, self.worker, limit=limit, lease=self.lease)
            uow.commit()
        with self._lock:
            self._running.update({job.id: queue for job in claimed})
        return claimed

    def run_pending(self, queue: str) -> int:
        """Run every due job of `queue` here and now, one by one (for the CLI and tests)."""
        done = 0
        while claimed := self.claim(queue, 1):
            self._execute(claimed[0])
            done += 1
        return done

    def _heartbeat(self) -> None:
        interval = self.lease.total_seconds() / 4
        while True:
            if self._stopping.is_set():
                time.sleep(min(interval, 1.0))  # stopping: beat on while jobs finish
            else:
                self._stopping.wait(interval)
            with self._lock:
                ids = list(self._running)
            if not ids:
                if self._stopping.is_set():
                    return
                continue
            try:
                with self.db.unit_of_work() as uow:
                    store.heartbeat(uow.session, ids, self.worker, self.clock() + self.lease)
                    uow.commit()
            except Exception:
                log.warning("job heartbeat failed", exc_info=True)

    # -- running ---------------------------------------------------------------------------

    def _execute(self, job: Job) -> None:
        run = JobRun(job.id, job.kind, job.workspace_id, dict(job.payload), dict(job.progress or {}),
                     job.attempts, job.created_at, job.deadline, self)
        kind = self.kinds.get(job.kind)
        try:
            self._attempt(run, kind)
        except Exception:  # recording the outcome failed too (the database is away): the lease runs out
            log.exception("could not record the outcome of job %s (%s)", job.id, job.kind)
        finally:
            with self._lock:
                queue = self._running.pop(job.id, None)
            if queue is not None:
                self._wake[queue].set()  # a worker is free again

    def _attempt(self, run: JobRun, kind: Kind | None) -> None:
        try:
            if kind is None:
                raise GiveUp(f"no handler for job kind {run.kind!r}")
            if run.attempts > kind.max_attempts:  # e.g. it killed its process every time
                raise GiveUp(f"started {run.attempts} times without finishing")
            kind.handle(run, self.deps)
        except LeaseLost:
            log.warning("job %s (%s) was taken over by another runner; dropping this attempt", run.job_id, run.kind)
        except Retry as err:
            self._again(run, kind, str(err), after=max(err.after, self.backoff.settle if err.unknown else err.after))
        except GiveUp as err:
            self._give_up(run, kind, str(err))
        except Exception as err:
            if is_transient(err):
                log.info("job %s (%s) attempt %s failed: %r", run.job_id, run.kind, run.attempts, err)
                self._again(run, kind, f"{type(err).__name__}: {err}", after=retry_after(err))
            else:
                log.exception("job %s (%s) failed", run.job_id, run.kind)
                self._give_up(run, kind, f"{type(err).__name__}: {err}")
        else:
            if not run.completed:
                self._finish(run)

    def _finish(self, run: JobRun) -> None:
        """Record that the handler succeeded. Its work is done (a message sent), so a database
        that fails now is tried again here rather than the handler run again."""
        for pause in (0.2, 0.5, 1.0, 2.0, 4.0, None):
            try:
                with self.db.unit_of_work() as uow:
                    if store.complete(uow.session, run.job_id, self.worker, self.clock(), run.progress):
                        uow.commit()
                        return
                    status = uow.session.get(Job, run.job_id)
                    if status is None or status.status is not JobStatus.done:
                        log.warning("job %s (%s) finished after another runner took it over", run.job_id, run.kind)
                    return
            except Exception as err:
                if pause is None or not is_transient(err):
                    raise
                time.sleep(pause)

    def _again(self, run: JobRun, kind: Kind | None, reason: str, *, after: timedelta) -> None:
        now = self.clock()
        too_old = kind is not None and kind.retry_for is not None and now - run.created_at > kind.retry_for
        if kind is None or run.attempts >= kind.max_attempts or too_old:
            self._give_up(run, kind, f"still failing after {run.attempts} attempt(s): {reason}")
            return
        at = now + max(self.backoff.delay(run.attempts), after)
        with self.db.unit_of_work() as uow:
            store.retry(uow.session, run.job_id, self.worker, at, reason, run.progress)
            uow.commit()

    def _give_up(self, run: JobRun, kind: Kind | None, reason: str) -> None:
        """Stop for good and tell whoever waits (the hook); a hook that fails is logged and the
        job is failed without it, so it cannot be retried for ever."""
        log.error("giving up on job %s (%s): %s", run.job_id, run.kind, reason)
        try:
            with self.db.unit_of_work() as uow:
                if store.fail(uow.session, run.job_id, self.worker, self.clock(), reason) and kind and kind.gave_up:
                    kind.gave_up(run, self.deps, uow.session, reason)
                uow.commit()
            self.poke(store.DELIVERIES)  # whoever waits is told now
            return
        except Exception:
            log.exception("telling about the failure of job %s failed; failing it without", run.job_id)
        with self.db.unit_of_work() as uow:
            store.fail(uow.session, run.job_id, self.worker, self.clock(), reason)
            uow.commit()


def retry_after(err: BaseException) -> timedelta:
    """Slack's Retry-After, when it sent one."""
    if isinstance(err, SlackApiError):
        value = err.response.headers.get("Retry-After") or err.response.headers.get("retry-after")
        if str(value or "").isdigit():
            return timedelta(seconds=int(value))
    return timedelta(0)
