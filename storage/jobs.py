"""Durable jobs: deferred inside the caller's transaction, claimed for a lease, finished once.

Every state change after a claim is a conditional UPDATE on `claimed_by = worker`: a runner
whose lease ran out (and whose job another runner took over) changes nothing. PostgreSQL
claims with `FOR UPDATE SKIP LOCKED`, so concurrent runners never wait on each other's rows;
SQLite serialises claimers with its write lock (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.db import affected_rows, upsert_insert
from storage.models import Job, JobStatus

DEFAULT_LEASE = timedelta(seconds=60)
REQUESTS, DELIVERIES = "requests", "deliveries"


def defer(
    session: Session,
    *,
    kind: str,
    payload: Mapping[str, Any],
    run_at: datetime,
    queue: str = DELIVERIES,
    workspace_id: str | None = None,
    dedupe_key: str | None = None,
    deadline: datetime | None = None,
    claimed_by: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
) -> int | None:
    """Add a job to the caller's transaction; None when `dedupe_key` is already taken (a retry
    of the same request, a reminder already planned for that time). `claimed_by`: the job is
    born claimed by that runner, which runs it at once without claiming it (the first attempt)."""
    values = {"kind": kind, "payload": dict(payload), "run_at": run_at, "queue": queue,
              "workspace_id": workspace_id, "dedupe_key": dedupe_key, "deadline": deadline}
    if claimed_by is not None:
        values.update(claimed_by=claimed_by, claimed_until=run_at + lease, attempts=1)
    insert = upsert_insert(session, Job).values(**values)
    if dedupe_key is not None:
        insert = insert.on_conflict_do_nothing(index_elements=["dedupe_key"])
    return session.execute(insert.returning(Job.id)).scalar()


def adopted(session: Session, job_ids: Sequence[int], worker: str) -> list[Job]:
    """Jobs born claimed by `worker` (see `defer`), to run now."""
    if not job_ids:
        return []
    return list(session.scalars(select(Job).where(Job.id.in_(job_ids), Job.claimed_by == worker,
                                                  Job.status == JobStatus.pending)))


def _due(queue: str, now: datetime) -> list[Any]:
    return [Job.queue == queue, Job.status == JobStatus.pending, Job.run_at <= now,
            or_(Job.claimed_until.is_(None), Job.claimed_until < now)]


def any_due(session: Session, queue: str, now: datetime) -> bool:
    """A cheap read (no write lock) before claiming, so idle polling never queues up writers."""
    return session.scalar(select(Job.id).where(*_due(queue, now)).limit(1)) is not None


def claim(
    session: Session, queue: str, now: datetime, worker: str, *, limit: int, lease: timedelta = DEFAULT_LEASE
) -> list[Job]:
    """Lease up to `limit` due jobs of `queue`, earliest first, in one UPDATE … RETURNING; each
    claim counts as an attempt (so a job that keeps killing its process is given up on, not
    retried for ever)."""
    due = select(Job.id).where(*_due(queue, now)).order_by(Job.run_at, Job.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    statement = (update(Job).where(Job.id.in_(due.scalar_subquery()))
                 .values(claimed_by=worker, claimed_until=now + lease, attempts=Job.attempts + 1)
                 .returning(Job).execution_options(synchronize_session=False))
    return sorted(session.scalars(statement), key=lambda job: (job.run_at, job.id))


def _mine(job_id: int, worker: str) -> list[Any]:
    return [Job.id == job_id, Job.claimed_by == worker, Job.status == JobStatus.pending]


def _set(session: Session, job_id: int, worker: str, **values: Any) -> bool:
    statement = update(Job).where(*_mine(job_id, worker)).values(**values)
    return bool(affected_rows(session, statement.execution_options(synchronize_session=False)))


def complete(session: Session, job_id: int, worker: str, now: datetime,
             progress: Mapping[str, Any] | None = None) -> bool:
    """Mark done (keeping the handler's last progress); False when the job is no longer this
    worker's (its lease was taken over)."""
    values: dict[str, Any] = {"status": JobStatus.done, "finished_at": now, "claimed_until": None, "last_error": None}
    if progress is not None:
        values["progress"] = dict(progress)
    return _set(session, job_id, worker, **values)


def retry(session: Session, job_id: int, worker: str, run_at: datetime, error: str,
          progress: Mapping[str, Any] | None = None) -> bool:
    """Give the job back to run again at `run_at`, keeping why it failed and how far it got."""
    values: dict[str, Any] = {"run_at": run_at, "claimed_by": None, "claimed_until": None, "last_error": error[:1000]}
    if progress is not None:
        values["progress"] = dict(progress)
    return _set(session, job_id, worker, **values)


def fail(session: Session, job_id: int, worker: str, now: datetime, error: str) -> bool:
    """Stop for good, keeping why."""
    return _set(session, job_id, worker, status=JobStatus.failed, finished_at=now, claimed_until=None,
                last_error=error[:1000])


def save_progress(session: Session, job_id: int, worker: str, progress: Mapping[str, Any]) -> bool:
    """Record how far the handler got, so the next attempt resumes instead of repeating."""
    return _set(session, job_id, worker, progress=dict(progress))


def heartbeat(session: Session, job_ids: Sequence[int], worker: str, until: datetime) -> int:
    """Extend the leases of jobs this worker is still running."""
    if not job_ids:
        return 0
    statement = (update(Job).where(Job.id.in_(job_ids), Job.claimed_by == worker,
                                   Job.status == JobStatus.pending).values(claimed_until=until))
    return affected_rows(session, statement.execution_options(synchronize_session=False))


def cancel(session: Session, job_ids: Sequence[int], now: datetime) -> int:
    """Withdraw pending jobs (a cancelled interview's reminders); one a runner holds right now
    is left to finish (its handler sees what changed)."""
    if not job_ids:
        return 0
    statement = (update(Job).where(Job.id.in_(job_ids), Job.status == JobStatus.pending,
                                   or_(Job.claimed_until.is_(None), Job.claimed_until < now))
                 .values(status=JobStatus.cancelled, finished_at=now))
    return affected_rows(session, statement.execution_options(synchronize_session=False))


def next_run_at(session: Session, queue: str, after: datetime) -> datetime | None:
    """The earliest pending job of `queue` due after `after`, so a runner can wake exactly then."""
    return session.scalar(select(func.min(Job.run_at)).where(Job.queue == queue, Job.status == JobStatus.pending,
                                                             Job.run_at > after))
