"""Reminders and grade requests: which are planned for an interview, and how each one ended.

Planning writes one row per participant and offset and defers one job per row at its due
time, in the booking's own transaction. A move plans again: a row due at a new time gets a
new job (the old one is withdrawn), so a reminder already sent for the old time is sent again
for the new one. The job runner does the sending.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import jobs
from storage.models import (
    Interview,
    InterviewParticipant,
    InterviewStatus,
    Person,
    Reminder,
    ReminderStatus,
    Role,
)

log = logging.getLogger(__name__)
NO_SLACK = "the person has no Slack account (email only)"
REMINDER_JOB = "reminder"


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
    planned, withdrawn = [], []
    for part in interview.participants:
        if not part.active:
            continue
        grade_request = [-duration] if part.role is Role.interviewer else []
        for offset in [*offsets_min, *grade_request]:
            row = existing.pop((part.person_id, offset), None)
            if row is None:
                row = Reminder(interview_id=interview.id, person_id=part.person_id, offset_min=offset)
                session.add(row)
            due = interview.start_at - timedelta(minutes=offset)
            if row.status is ReminderStatus.pending and row.due_at == due:
                planned.append(row)
                continue  # unchanged: keep its job
            withdrawn.append(row.job_id)
            _reset(row, due, now)
            if row.status is ReminderStatus.pending and part.person.slack_user_id is None:
                _skip_no_slack(row, part.person.handle)
            planned.append(row)
    for stale in existing.values():
        if stale.status is ReminderStatus.pending:
            stale.status = ReminderStatus.cancelled
            withdrawn.append(stale.job_id)
    jobs.cancel(session, [job for job in withdrawn if job is not None], now)
    session.flush()
    for row in planned:
        if row.status is ReminderStatus.pending and row.job_id is None:
            # No dedupe key: the row points at its one live job, and a move away and back again
            # must get a new job for a time an old (done or withdrawn) one had.
            row.job_id = jobs.defer(session, kind=REMINDER_JOB, payload={"reminder_id": row.id}, run_at=row.due_at,
                                    workspace_id=interview.workspace_id)
    session.flush()
    return planned


def _reset(row: Reminder, due: datetime, now: datetime) -> None:
    row.due_at, row.sent_at, row.job_id = due, None, None
    if due > now:
        row.status, row.last_error = ReminderStatus.pending, None
    else:
        row.status, row.last_error = ReminderStatus.skipped, "due before the interview was booked"


def _skip_no_slack(row: Reminder, handle: str) -> None:
    """Email-only people get no DM: kept as a skipped row (with why) so the gap is visible."""
    row.status, row.last_error = ReminderStatus.skipped, NO_SLACK
    log.info("reminder for %s (interview %s, %s min) skipped: %s", handle, row.interview_id, row.offset_min, NO_SLACK)


def drop_reminders(session: Session, interview_id: int, now: datetime) -> int:
    """After a cancel: pending reminders and their jobs are cancelled (one being sent right now
    still goes out: it was claimed before the cancel)."""
    rows = session.execute(select(Reminder.id, Reminder.job_id).where(
        Reminder.interview_id == interview_id, Reminder.status == ReminderStatus.pending)).all()
    jobs.cancel(session, [job for _, job in rows if job is not None], now)
    session.execute(update(Reminder).where(Reminder.id.in_([rid for rid, _ in rows]))
                    .values(status=ReminderStatus.cancelled))
    return len(rows)


def finish(session: Session, reminder_id: int, status: ReminderStatus, now: datetime, reason: str | None = None) -> None:
    """Record how a pending reminder ended (sent, or skipped with why)."""
    if status is ReminderStatus.skipped:
        log.warning("reminder %s skipped: %s", reminder_id, reason)
    session.execute(update(Reminder).where(Reminder.id == reminder_id, Reminder.status == ReminderStatus.pending)
                    .values(status=status, last_error=reason and reason[:500],
                            sent_at=now if status is ReminderStatus.sent else None)
                    .execution_options(synchronize_session=False))


@dataclass(frozen=True)
class Due:
    """What sending one reminder needs, read in two queries (a sender's hot path)."""

    reminder_id: int
    offset_min: int
    status: ReminderStatus
    job_id: int | None
    interview_id: int
    start: datetime
    end: datetime
    interview_status: InterviewStatus
    candidate: str
    recipient_id: int
    slack_user_id: str | None
    tz: str
    others: str
    location: str | None = None


def due_reminder(session: Session, reminder_id: int) -> Due | None:
    row = session.execute(
        select(Reminder.offset_min, Reminder.status, Reminder.job_id, Interview.id, Interview.start_at,
               Interview.end_at, Interview.status, Interview.candidate_id, Person.id, Person.slack_user_id, Person.tz,
               Interview.location)
        .join(Interview, Interview.id == Reminder.interview_id).join(Person, Person.id == Reminder.person_id)
        .where(Reminder.id == reminder_id)
    ).first()
    if row is None:
        return None
    (offset, status, job_id, interview_id, start, end, interview_status, candidate_id, person_id, slack_id, tz,
     location) = row
    names = dict(session.execute(
        select(InterviewParticipant.person_id, Person.name).join(Person, Person.id == InterviewParticipant.person_id)
        .where(InterviewParticipant.interview_id == interview_id).order_by(InterviewParticipant.person_id)
    ).all())
    others = ", ".join(name for pid, name in names.items() if pid != person_id) or "—"
    return Due(reminder_id, offset, status, job_id, interview_id, start, end, interview_status,
               names.get(candidate_id, ""), person_id, slack_id, tz, others, location)


def booker_of(session: Session, interview_id: int) -> str | None:
    """The Slack id of the person who booked the interview (told when its messages fail)."""
    return session.scalar(select(Person.slack_user_id).join(Interview, Interview.booked_by == Person.id)
                          .where(Interview.id == interview_id))
