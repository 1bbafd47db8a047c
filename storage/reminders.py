"""Reminders: the table is the source of truth; senders claim rows before sending.

A claim is a lease: `claimed_by`/`claimed_until` are set in one transaction (PostgreSQL takes
the rows `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same row; SQLite's
write lock, BEGIN IMMEDIATE, serialises claimers). A claim whose lease has run out can be taken
again, which is how a crashed worker's reminders are recovered.

The one duplicate window, stated honestly: a reminder is marked sent in its own short
transaction right after Slack accepts it. If the process dies (or loses the database) between
Slack's answer and that commit, the lease expires and the reminder is sent again. So delivery
is at least once, with a window one Slack round-trip plus one commit wide; everywhere else a
reminder is sent exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from storage.models import Interview, InterviewStatus, Reminder, ReminderStatus, Role

log = logging.getLogger(__name__)
DEFAULT_LEASE = timedelta(minutes=2)
NO_SLACK = "the person has no Slack account (email only)"


@dataclass(frozen=True)
class Backoff:
    """Retry policy: exponential delay from `base`, capped; permanent errors stop after `give_up_after`."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=15)
    give_up_after: int = 3

    def delay(self, attempts: int) -> timedelta:
        return min(self.base * 2 ** max(attempts - 1, 0), self.cap)


DEFAULT_BACKOFF = Backoff()


def plan_reminders(session: Session, interview: Interview, offsets_min: Sequence[int], now: datetime) -> list[Reminder]:
    """One reminder per active participant and offset; one already past is skipped, never sent late.

    Rows are updated in place (the unique key is interview, person, offset), so planning again
    after a move resets them. A pending row no longer wanted (a participant left the panel, the
    offsets changed) is cancelled. Each interviewer also gets a grade request when the interview
    ends: a row with offset minus the duration, sharing the reminders' delivery guarantees.
    """
    existing = {(r.person_id, r.offset_min): r for r in session.scalars(
        select(Reminder).where(Reminder.interview_id == interview.id))}
    duration = int((interview.end_at - interview.start_at).total_seconds() // 60)
    planned = []
    for part in interview.participants:
        if not part.active:
            continue
        grade_request = [-duration] if part.role is Role.interviewer else []
        for offset in [*offsets_min, *grade_request]:
            row = existing.pop((part.person_id, offset), None)
            if row is None:
                row = Reminder(interview_id=interview.id, person_id=part.person_id, offset_min=offset)
                session.add(row)
            _reset(row, interview.start_at - timedelta(minutes=offset), now)
            if row.status is ReminderStatus.pending and part.person.slack_user_id is None:
                _skip_no_slack(row, part.person.handle)
            planned.append(row)
    for stale in existing.values():
        if stale.status is ReminderStatus.pending:
            stale.status = ReminderStatus.cancelled
    session.flush()
    return planned


def _reset(row: Reminder, due: datetime, now: datetime) -> None:
    row.due_at = row.next_attempt_at = due
    row.attempts, row.claimed_by, row.claimed_until, row.sent_at = 0, None, None, None
    if due > now:
        row.status, row.last_error = ReminderStatus.pending, None
    else:
        row.status, row.last_error = ReminderStatus.skipped, "due before the interview was booked"


def _skip_no_slack(row: Reminder, handle: str) -> None:
    """Email-only people get no DM: kept as a skipped row (with why) so the gap is visible."""
    row.status, row.last_error = ReminderStatus.skipped, NO_SLACK
    log.info("reminder for %s (interview %s, %s min) skipped: %s", handle, row.interview_id, row.offset_min, NO_SLACK)


def replan_reminders(session: Session, interview: Interview, offsets_min: Sequence[int], now: datetime) -> list[Reminder]:
    """After a reschedule: the same rows, back to pending at the new due times, attempts reset."""
    return plan_reminders(session, interview, offsets_min, now)


def drop_reminders(session: Session, interview_id: int) -> int:
    """After a cancel: pending reminders are cancelled (a claimed one in flight may still go out)."""
    return session.execute(
        update(Reminder).where(Reminder.interview_id == interview_id, Reminder.status == ReminderStatus.pending)
        .values(status=ReminderStatus.cancelled)
    ).rowcount or 0


def skip_started(session: Session, now: datetime) -> list[int]:
    """Pending reminders whose interview has begun (or was cancelled) are skipped, and logged.

    Grade requests (negative offsets) are due after the start, so only a cancel skips them.
    """
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
              lease: timedelta = DEFAULT_LEASE) -> list[Reminder]:
    """Lease up to `limit` due, unclaimed (or lease-expired) reminders to `worker`, earliest first."""
    query = (
        select(Reminder)
        .where(Reminder.status == ReminderStatus.pending, Reminder.next_attempt_at <= now,
               or_(Reminder.claimed_until.is_(None), Reminder.claimed_until < now))
        .order_by(Reminder.next_attempt_at, Reminder.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.claimed_by, row.claimed_until = worker, now + lease
    session.flush()
    return rows


def release(session: Session, reminder_ids: Sequence[int], worker: str) -> None:
    """Give back claims this worker will not attempt (shutting down, lease too short to use)."""
    session.execute(update(Reminder).where(Reminder.id.in_(reminder_ids), Reminder.claimed_by == worker,
                                           Reminder.status == ReminderStatus.pending)
                    .values(claimed_until=None))


def mark_sent(session: Session, reminder_id: int, worker: str, now: datetime) -> bool:
    """Record delivery; False if the row was no longer ours (lease lost, or cancelled meanwhile)."""
    return bool(session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.claimed_by == worker, Reminder.status == ReminderStatus.pending)
        .values(status=ReminderStatus.sent, sent_at=now, attempts=Reminder.attempts + 1,
                claimed_until=None, last_error=None)
        .execution_options(synchronize_session=False)  # nothing loaded to keep in step: cheaper
    ).rowcount)


def mark_skipped(session: Session, reminder_id: int, worker: str, reason: str) -> bool:
    """Give up at once on a reminder that can never be delivered (e.g. the recipient has no Slack id)."""
    done = session.execute(
        update(Reminder)
        .where(Reminder.id == reminder_id, Reminder.claimed_by == worker, Reminder.status == ReminderStatus.pending)
        .values(status=ReminderStatus.skipped, claimed_until=None, last_error=reason[:500])
        .execution_options(synchronize_session=False)
    ).rowcount
    if done:
        log.warning("reminder %s skipped: %s", reminder_id, reason)
    return bool(done)


def mark_failed(session: Session, reminder_id: int, worker: str, now: datetime, error: str, *,
                permanent: bool = False, backoff: Backoff = DEFAULT_BACKOFF,
                not_before: timedelta = timedelta(0)) -> None:
    """Keep the reminder pending and retry later (exponential, capped, at least `not_before`,
    e.g. Slack's Retry-After); a permanent error gives up after a few attempts. `last_error` keeps why."""
    row = session.get(Reminder, reminder_id)
    if row is None or row.claimed_by != worker or row.status is not ReminderStatus.pending:
        return
    row.attempts += 1
    row.last_error = error[:500]
    row.claimed_until = None
    if permanent and row.attempts >= backoff.give_up_after:
        row.status = ReminderStatus.skipped
        log.error("giving up on reminder %s after %s attempts: %s", reminder_id, row.attempts, error)
        return
    row.next_attempt_at = now + max(backoff.delay(row.attempts), not_before)
    log.warning("reminder %s failed (attempt %s), retrying at %s: %s", reminder_id, row.attempts,
                f"{row.next_attempt_at:%Y-%m-%dT%H:%M:%SZ}", error)


def pending_ids(session: Session) -> dict[int, datetime]:
    """Every pending reminder's id and next attempt: what the scheduler must hold a job for."""
    return dict(session.execute(
        select(Reminder.id, Reminder.next_attempt_at).where(Reminder.status == ReminderStatus.pending)
    ).all())


def next_due(session: Session, after: datetime) -> datetime | None:
    """The earliest pending attempt after `after`, so a sender can wake exactly then."""
    return session.scalar(select(func.min(Reminder.next_attempt_at))
                          .where(Reminder.status == ReminderStatus.pending, Reminder.next_attempt_at > after))
