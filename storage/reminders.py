"""Reminders: the table is the source of truth; senders claim rows before sending.

A claim is a lease: `claimed_by`/`claimed_until` set in one transaction (PostgreSQL takes the
rows `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same row; SQLite's write
lock serialises claimers). A reminder is marked sent right after Slack accepts it. If a process
dies between Slack accepting and that commit, the lease expires and the reminder is sent again:
the only duplicate window, one Slack round-trip wide. Everything else is exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Interview, InterviewStatus, Reminder, ReminderStatus, Role

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=15)
PERMANENT_ATTEMPTS = 3


def plan_reminders(session: Session, interview: Interview, offsets_min: Sequence[int], now: datetime) -> list[Reminder]:
    """One reminder per participant and offset; one already past at booking is skipped, never late.

    Each interviewer also gets a grade request when the interview ends: a row whose offset is
    minus the duration (due at the end), so it shares the reminders' delivery guarantees.
    """
    existing = {(r.person_id, r.offset_min): r for r in session.scalars(
        select(Reminder).where(Reminder.interview_id == interview.id))}
    planned = []
    duration = int((interview.end_at - interview.start_at).total_seconds() // 60)
    for part in interview.participants:
        if not part.active:
            continue
        grade_request = [-duration] if part.role is Role.interviewer else []
        for offset in [*offsets_min, *grade_request]:
            due = interview.start_at - timedelta(minutes=offset)
            row = existing.get((part.person_id, offset))
            if row is None:
                row = Reminder(interview_id=interview.id, person_id=part.person_id, offset_min=offset)
                session.add(row)
            row.due_at = row.next_attempt_at = due
            row.status = ReminderStatus.pending if due > now else ReminderStatus.skipped
            row.attempts, row.claimed_by, row.claimed_until, row.sent_at, row.last_error = 0, None, None, None, None
            if due <= now:
                row.last_error = "due before the interview was booked"
            planned.append(row)
    session.flush()
    return planned


def replan_reminders(session: Session, interview: Interview, offsets_min: Sequence[int], now: datetime) -> list[Reminder]:
    """After a move: the same rows, back to pending at the new due times."""
    return plan_reminders(session, interview, offsets_min, now)


def drop_reminders(session: Session, interview_id: int) -> int:
    """After a cancel: pending reminders are cancelled."""
    return session.execute(
        update(Reminder).where(Reminder.interview_id == interview_id, Reminder.status == ReminderStatus.pending)
        .values(status=ReminderStatus.cancelled)
    ).rowcount or 0


def skip_started(session: Session, now: datetime) -> list[int]:
    """Pending reminders whose interview has begun (or was cancelled) are skipped, and logged.
    Grade requests (negative offsets) are due after the start and only skipped on cancel."""
    rows = session.execute(
        select(Reminder.id, Interview.id, Interview.start_at, Interview.status)
        .join(Interview, Interview.id == Reminder.interview_id)
        .where(Reminder.status == ReminderStatus.pending,
               or_(and_(Reminder.offset_min > 0, Interview.start_at <= now),
                   Interview.status == InterviewStatus.cancelled))
    ).all()
    for reminder_id, interview_id, start, status in rows:
        why = "the interview was cancelled" if status == InterviewStatus.cancelled else \
            f"the interview began at {start:%Y-%m-%dT%H:%M:%SZ}"
        log.warning("skipping reminder %s for interview %s: %s", reminder_id, interview_id, why)
    ids = [r[0] for r in rows]
    if ids:
        session.execute(update(Reminder).where(Reminder.id.in_(ids))
                        .values(status=ReminderStatus.skipped, last_error="missed: interview already began"))
    return ids


def claim_due(session: Session, now: datetime, worker: str, *, limit: int = 100,
              lease: timedelta = timedelta(seconds=60)) -> list[int]:
    """Lease up to `limit` due reminders to `worker`; returns their ids, earliest first."""
    query = (
        select(Reminder.id)
        .where(Reminder.status == ReminderStatus.pending, Reminder.next_attempt_at <= now,
               or_(Reminder.claimed_until.is_(None), Reminder.claimed_until < now))
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(session.scalars(query))
    if ids:
        session.execute(update(Reminder).where(Reminder.id.in_(ids))
                        .values(claimed_by=worker, claimed_until=now + lease))
    return ids


def mark_sent(session: Session, reminder_id: int, worker: str, now: datetime) -> bool:
    """Record delivery; False if our lease was lost (another worker took over)."""
    return bool(session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.claimed_by == worker, Reminder.status == ReminderStatus.pending)
        .values(status=ReminderStatus.sent, sent_at=now, attempts=Reminder.attempts + 1,
                claimed_until=None, last_error=None)
    ).rowcount)


def mark_failed(session: Session, reminder_id: int, worker: str, now: datetime, error: str,
                *, permanent: bool = False) -> None:
    """Back off and retry later; a permanent error gives up after a few attempts (kept in last_error)."""
    row = session.get(Reminder, reminder_id)
    if row is None or row.claimed_by != worker or row.status is not ReminderStatus.pending:
        return
    row.attempts += 1
    row.last_error = error[:500]
    row.claimed_until = None
    if permanent and row.attempts >= PERMANENT_ATTEMPTS:
        row.status = ReminderStatus.skipped
        log.error("giving up on reminder %s after %s attempts: %s", reminder_id, row.attempts, error)
        return
    row.next_attempt_at = now + min(timedelta(seconds=5 * 2 ** (row.attempts - 1)), MAX_BACKOFF)
    log.warning("reminder %s failed (attempt %s), retrying at %s: %s", reminder_id, row.attempts,
                row.next_attempt_at, error)


def pending(session: Session) -> list[tuple[int, datetime]]:
    """(id, next attempt) of every pending reminder: what the scheduler must have a job for."""
    return list(session.execute(
        select(Reminder.id, Reminder.next_attempt_at).where(Reminder.status == ReminderStatus.pending)
    ).tuples())
