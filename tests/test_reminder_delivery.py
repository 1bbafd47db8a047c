"""Reminder delivery through the job runner, on the test's clock, against the fake Slack: once,
in each person's zone, retried through trouble, never late, given up with a reason."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs.runner import JobRunner
from bot.runtime import KINDS
from bot.usecases.booking import mark_interviews_completed
from storage import jobs
from storage.booking import cancel
from storage.db import Database
from storage.models import Interview, InterviewStatus, Job, Person, Reminder, ReminderStatus
from storage.reminders import drop_reminders
from tests.factories import utc
from tests.reminder_fixtures import booked_interview, hand_driven_bot
from tests.slack_app import ManualClock
from tests.slack_fake import FakeSlack

NOW = utc("2026-12-01 08:00")
START = utc("2026-12-02 15:00")


def _send(bot, clock: ManualClock, at=None) -> int:
    if at is not None:
        clock.set(at)
    return bot.runner.run_pending(jobs.DELIVERIES)


def _statuses(db: Database) -> dict[tuple[int, int], ReminderStatus]:
    with db.unit_of_work(write=False) as uow:
        return {(r.person_id, r.offset_min): r.status for r in uow.session.scalars(select(Reminder))}


def _reminder_job(db: Database, offset: int = 60) -> Job:
    with db.unit_of_work(write=False) as uow:
        reminder = uow.session.scalars(select(Reminder).where(Reminder.offset_min == offset,
                                                              Reminder.job_id.is_not(None))).one()
        return uow.session.get(Job, reminder.job_id)


def _dms(fake_slack: FakeSlack) -> dict[str, str]:
    return {c.args["channel"]: c.args["text"] for c in fake_slack.calls("chat.postMessage", ok=True)}


def test_due_reminders_are_sent_once_in_each_persons_zone(db: Database, fake_slack: FakeSlack) -> None:
    clock = ManualClock(NOW)
    booked_interview(db, START, NOW, offsets=(1440, 60))
    bot = hand_driven_bot(fake_slack, db, clock)
    assert _send(bot, clock) == 0  # nothing due yet
    assert _send(bot, clock, utc("2026-12-01 15:00")) == 2  # 24 h before
    texts = _dms(fake_slack)
    assert "tomorrow — Wed 2 Dec 2026, 16:00–17:00 CET" in texts["UC"] and "Ivan" in texts["UC"]
    assert "10:00–11:00 EST" in texts["UI"] and "Cara" in texts["UI"]
    assert _send(bot, clock) == 0  # sent once
    assert _send(bot, clock, utc("2026-12-02 14:00")) == 2
    assert "in 60 min" in fake_slack.calls("chat.postMessage")[-1].args["text"]
    clock.set(utc("2026-12-02 16:00"))  # the interview ended: the interviewer's grade request
    assert mark_interviews_completed(bot.ctx) == 1
    assert _send(bot, clock) == 1
    last = fake_slack.calls("chat.postMessage")[-1].args
    assert last["channel"] == "UI" and "interview_grade_5" in str(last["blocks"])
    assert set(_statuses(db).values()) == {ReminderStatus.sent}
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Interview.status)).one() is InterviewStatus.completed


def test_a_late_reminder_says_how_far_off_the_interview_really_is(db: Database, fake_slack: FakeSlack) -> None:
    clock = ManualClock(NOW)
    booked_interview(db, START, NOW, offsets=(1440,))
    bot = hand_driven_bot(fake_slack, db, clock)
    _send(bot, clock, START - timedelta(minutes=40))  # the bot was down for most of a day
    assert all("in 40 min" in t and "tomorrow" not in t for t in _dms(fake_slack).values())


def test_a_span_across_a_change_of_the_clocks_labels_each_end(db: Database, fake_slack: FakeSlack) -> None:
    """New York springs forward at 02:00 on 14 Mar 2027: one hour from 01:30 ends at 03:30."""
    start = utc("2027-03-14 06:30")
    clock = ManualClock(NOW)
    booked_interview(db, start, NOW, offsets=(60,))
    bot = hand_driven_bot(fake_slack, db, clock)
    _send(bot, clock, start - timedelta(minutes=60))
    texts = _dms(fake_slack)
    assert "Sun 14 Mar 2027, 01:30 EST–03:30 EDT" in texts["UI"], texts["UI"]
    assert "Sun 14 Mar 2027, 07:30–08:30 CET" in texts["UC"], texts["UC"]


def test_a_reminder_missed_past_the_start_is_skipped_and_logged(db: Database, fake_slack: FakeSlack, caplog) -> None:
    clock = ManualClock(NOW)
    booked_interview(db, START, NOW, offsets=(60,))
    bot = hand_driven_bot(fake_slack, db, clock)
    with caplog.at_level("WARNING"):
        _send(bot, clock, utc("2026-12-02 15:05"))  # the bot was down until after the start
    assert "skipping reminder" in caplog.text and "the interview began at 2026-12-02T15:00:00Z" in caplog.text
    assert fake_slack.calls("chat.postMessage") == []
    assert [s for (_, off), s in _statuses(db).items() if off == 60] == [ReminderStatus.skipped] * 2


def test_slack_trouble_is_retried_after_a_backoff(db: Database, fake_slack: FakeSlack) -> None:
    clock = ManualClock(START - timedelta(hours=1))
    booked_interview(db, START, NOW, offsets=(60,), candidate_slack=False)  # one recipient
    bot = hand_driven_bot(fake_slack, db, clock)
    fake_slack.fail_next("chat.postMessage", status=503, times=2)
    assert _send(bot, clock) == 1
    job = _reminder_job(db)
    assert job.attempts == 1 and job.last_error and job.run_at > clock()
    assert _send(bot, clock) == 0  # backing off (an unknown outcome waits for Slack to settle)
    _send(bot, clock, clock() + timedelta(minutes=1))
    _send(bot, clock, clock() + timedelta(minutes=2))
    assert len(fake_slack.calls("chat.postMessage", ok=True)) == len(fake_slack.messages("UI")) == 1
    assert {s for (_, off), s in _statuses(db).items() if off == 60} == {ReminderStatus.sent, ReminderStatus.skipped}


def test_rate_limits_wait_for_retry_after(db: Database, fake_slack: FakeSlack) -> None:
    clock = ManualClock(START - timedelta(minutes=59))
    booked_interview(db, START, NOW, offsets=(60,), candidate_slack=False)
    bot = hand_driven_bot(fake_slack, db, clock)
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=120)
    _send(bot, clock)
    assert _reminder_job(db).run_at == clock() + timedelta(seconds=120)  # Retry-After beats the 5 s backoff
    _send(bot, clock, clock() + timedelta(seconds=121))
    assert len(fake_slack.calls("chat.postMessage", ok=True)) == 1


def test_permanent_errors_give_up_with_the_reason_kept(db: Database, fake_slack: FakeSlack) -> None:
    clock = ManualClock(START - timedelta(hours=1))
    booked_interview(db, START, NOW, offsets=(60,), candidate_slack=False)
    bot = hand_driven_bot(fake_slack, db, clock)
    fake_slack.fail_next("chat.postMessage", error="account_inactive")
    _send(bot, clock)
    with db.unit_of_work(write=False) as uow:
        row = uow.session.scalars(select(Reminder).where(Reminder.status != ReminderStatus.pending,
                                                         Reminder.last_error.contains("account_inactive"))).one()
        assert row.status is ReminderStatus.skipped
    assert len(fake_slack.calls("chat.postMessage")) == 1  # not retried


def test_a_recipient_who_lost_slack_is_skipped_at_once(db: Database, fake_slack: FakeSlack) -> None:
    clock = ManualClock(START - timedelta(minutes=59))
    booked_interview(db, START, NOW, offsets=(60,))
    with db.unit_of_work() as uow:  # the candidate's Slack account went away after booking
        person = uow.session.scalars(select(Person).where(Person.slack_user_id == "UC")).one()
        person.slack_user_id, person.email = None, "cara@example.com"
        uow.commit()
    bot = hand_driven_bot(fake_slack, db, clock)
    _send(bot, clock)
    assert list(_dms(fake_slack)) == ["UI"]
    with db.unit_of_work(write=False) as uow:
        skipped = uow.session.scalars(select(Reminder).where(Reminder.status == ReminderStatus.skipped)).one()
        assert "no Slack account" in skipped.last_error


def test_cancelled_interviews_send_nothing(db: Database, fake_slack: FakeSlack) -> None:
    interview_id = booked_interview(db, START, NOW, offsets=(60,))
    with db.unit_of_work() as uow:
        cancel(uow.session, "T0001", interview_id, now=NOW)
        drop_reminders(uow.session, interview_id, NOW)
        uow.commit()
    clock = ManualClock(utc("2026-12-02 16:00"))
    assert _send(hand_driven_bot(fake_slack, db, clock), clock) == 0
    assert fake_slack.calls("chat.postMessage") == []


@pytest.mark.postgres
def test_two_runners_send_each_reminder_exactly_once(db: Database, fake_slack: FakeSlack) -> None:
    if db.is_sqlite:
        pytest.skip("the concurrent claim test targets PostgreSQL's SKIP LOCKED")
    for n in range(50):  # 50 interviews × 2 people × 2 offsets = 200 reminders
        booked_interview(db, utc("2026-12-10 09:00") + timedelta(hours=n), NOW, offsets=(10000, 9000),
                         suffix=str(n))
    clock = ManualClock(utc("2026-12-08 00:00"))  # every reminder due, no interview begun
    bots = [hand_driven_bot(fake_slack, Database(db.url), clock, worker=f"w{n}") for n in range(2)]
    for bot in bots:
        bot.runner = JobRunner(bot.ctx.db, KINDS, bot, clock=clock, worker=bot.runner.worker,
                               workers={jobs.DELIVERIES: 4})
    barrier = threading.Barrier(2)

    def run(bot) -> None:
        barrier.wait()
        bot.runner.run_pending(jobs.DELIVERIES)

    threads = [threading.Thread(target=run, args=(b,)) for b in bots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sent = [c.args["metadata"]["event_payload"]["delivery_id"] for c in fake_slack.calls("chat.postMessage")]
    with db.unit_of_work(write=False) as uow:
        due = [r for r in uow.session.scalars(select(Reminder)) if r.due_at <= clock() and r.offset_min > 0]
        by_worker = {j.claimed_by for j in uow.session.scalars(select(Job).where(Job.run_at <= clock()))}
    assert len(due) == 200
    assert len(sent) == len(set(sent)) == 200
    assert {r.status for r in due} == {ReminderStatus.sent}
    assert by_worker == {"w0", "w1"}  # both took part
