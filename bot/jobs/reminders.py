"""Sending a reminder or a grade request when its job falls due.

The reminder row decides: one that is no longer pending, or whose job is not this one (the
interview moved: a newer job exists), is a no-op. A reminder whose interview has begun is
skipped and logged (also after downtime); otherwise it goes out once, like any DM, and is
marked sent in the same transaction that finishes its job.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.blocks.common import esc, text_blocks
from bot.blocks.interviews import grade_prompt, where
from bot.jobs.deliver import defer_note, post_once
from bot.jobs.runner import JobRun
from bot.timefmt import span
from scheduling.intervals import Interval
from storage import reminders as store
from storage.models import InterviewStatus, ReminderStatus

log = logging.getLogger(__name__)


def lead_time(start: datetime, now: datetime, zone: ZoneInfo) -> str:
    """How far off the interview is, from the real lead (a late reminder never says 'tomorrow'
    forty minutes before)."""
    minutes = max(0, round((start - now).total_seconds() / 60))
    if minutes < 90:
        return f"in {minutes} min"
    days = (start.astimezone(zone).date() - now.astimezone(zone).date()).days
    if days == 0:
        return f"in {round(minutes / 60)} h"
    return "tomorrow" if days == 1 else f"in {days} days"


def compose(due: store.Due, now: datetime) -> dict[str, Any]:
    zone = ZoneInfo(due.tz)
    when = Interval(due.start, due.end)
    if due.offset_min < 0:  # a grade request, when the interview ends
        return {"text": f"How did {esc(due.candidate)} do?",
                "blocks": grade_prompt(due.interview_id, when, zone, due.candidate)}
    text = (f":alarm_clock: Reminder: interview {lead_time(due.start, now, zone)} — {span(when, zone)}, "
            f"with {esc(due.others)}.{where(due.location)}")
    return {"text": text, "blocks": text_blocks(text)}


def send_reminder(run: JobRun, bot: Any) -> None:
    now = bot.ctx.now()
    with bot.ctx.reading() as uow:
        due = store.due_reminder(uow.session, run.payload["reminder_id"])
    if due is None or due.status is not ReminderStatus.pending or due.job_id != run.job_id:
        return
    why_not = _why_not(due, now)
    if why_not is not None:
        log.warning("skipping reminder %s for interview %s: %s", due.reminder_id, due.interview_id, why_not)
        _finish(run, bot, ReminderStatus.skipped, why_not)
        return
    assert due.slack_user_id is not None  # _why_not skips those without Slack
    post_once(run, bot.clients.delivery(run.workspace), due.slack_user_id, compose(due, now))
    _finish(run, bot, ReminderStatus.sent)


def _why_not(due: store.Due, now: datetime) -> str | None:
    if due.interview_status is InterviewStatus.cancelled:
        return "the interview was cancelled"
    if due.slack_user_id is None:
        return store.NO_SLACK
    if due.offset_min > 0 and due.start <= now:
        return f"missed: the interview began at {due.start:%Y-%m-%dT%H:%M:%SZ}"
    return None


def _finish(run: JobRun, bot: Any, status: ReminderStatus, reason: str | None = None) -> None:
    with bot.ctx.db.unit_of_work() as uow:
        store.finish(uow.session, run.payload["reminder_id"], status, bot.ctx.now(), reason)
        run.complete(uow.session)
        uow.commit()


def reminder_gave_up(run: JobRun, bot: Any, session: Session, reason: str) -> None:
    """Kept on the reminder row, and the HR who booked the interview is told."""
    store.finish(session, run.payload["reminder_id"], ReminderStatus.skipped, bot.ctx.now(),
                 f"could not be delivered: {reason}")
    due = store.due_reminder(session, run.payload["reminder_id"])
    booker = store.booker_of(session, due.interview_id) if due else None
    if due is not None and booker is not None:
        what = "the grade request" if due.offset_min < 0 else "the reminder"
        defer_note(session, run.workspace, booker, bot.job_clock(),
                   f":warning: Could not send {what} for interview #{due.interview_id} to a participant: {esc(reason)}.")
