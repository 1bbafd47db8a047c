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

from bot.blocks.common import esc, text_blocks
from bot.blocks.interviews import grade_prompt
from bot.jobs.deliver import open_dm, post_once
from bot.jobs.runner import JobRun
from bot.timefmt import span
from bot.usecases.booking import others_of
from scheduling.intervals import Interval
from storage import reminders as store
from storage.models import Interview, InterviewStatus, Person, Reminder, ReminderStatus

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


def compose(reminder: Reminder, interview: Interview, person: Person, now: datetime) -> dict[str, Any]:
    zone = ZoneInfo(person.tz)
    when = Interval(interview.start_at, interview.end_at)
    if reminder.offset_min < 0:  # a grade request, when the interview ends
        candidate = next(p.person for p in interview.participants if p.person_id == interview.candidate_id)
        return {"text": f"How did {esc(candidate.name)} do?",
                "blocks": grade_prompt(interview.id, when, zone, candidate.name)}
    text = (f":alarm_clock: Reminder: interview {lead_time(interview.start_at, now, zone)} — {span(when, zone)}, "
            f"with {esc(others_of(interview, person.id))}.")
    return {"text": text, "blocks": text_blocks(text)}


def send_reminder(run: JobRun, bot: Any) -> None:
    now = bot.ctx.now()
    with bot.ctx.reading() as uow:
        reminder = uow.session.get(Reminder, run.payload["reminder_id"])
        if reminder is None or reminder.status is not ReminderStatus.pending or reminder.job_id != run.job_id:
            return
        interview = uow.session.get(Interview, reminder.interview_id)
        person = uow.session.get(Person, reminder.person_id)
        why_not = _why_not(reminder, interview, person, now)
        message = compose(reminder, interview, person, now) if why_not is None else None
    if why_not is not None:
        log.warning("skipping reminder %s for interview %s: %s", reminder.id, interview.id, why_not)
        _finish(run, bot, ReminderStatus.skipped, why_not)
        return
    client = bot.clients.delivery(run.workspace)
    post_once(run, client, open_dm(run, client, person.slack_user_id), message)
    _finish(run, bot, ReminderStatus.sent)


def _why_not(reminder: Reminder, interview: Interview, person: Person, now: datetime) -> str | None:
    if interview.status is InterviewStatus.cancelled:
        return "the interview was cancelled"
    if person.slack_user_id is None:
        return store.NO_SLACK
    if reminder.offset_min > 0 and interview.start_at <= now:
        return f"missed: the interview began at {interview.start_at:%Y-%m-%dT%H:%M:%SZ}"
    return None


def _finish(run: JobRun, bot: Any, status: ReminderStatus, reason: str | None = None) -> None:
    with bot.ctx.db.unit_of_work() as uow:
        store.finish(uow.session, run.payload["reminder_id"], status, bot.ctx.now(), reason)
        run.complete(uow.session)
        uow.commit()


def reminder_gave_up(run: JobRun, bot: Any, session: Any, reason: str) -> None:
    """Kept on the reminder row too, so HR can see why a reminder never arrived."""
    store.finish(session, run.payload["reminder_id"], ReminderStatus.skipped, bot.ctx.now(),
                 f"could not be delivered: {reason}")

