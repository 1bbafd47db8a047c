"""Reminder delivery with an injected clock against the fake Slack: once, retried, never late."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.reminders import ReminderService
from bot.slack_client import make_client
from storage.booking import cancel
from storage.db import Database
from storage.models import Interview, InterviewStatus, Reminder, ReminderStatus
from storage.reminders import drop_reminders
from tests.factories import utc
from tests.reminder_fixtures import booked_interview
from tests.slack_fake import FakeSlack

NOW = utc("2026-12-01 08:00")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def _service(db: Database, fake: FakeSlack, clock: Clock, worker: str = "w1") -> ReminderService:
    client = make_client("xoxb-test", fake.base_url, timeout=5, max_retries=2)
    return ReminderService(db, client, clock=clock, worker=worker)


def _statuses(db: Database) -> dict[tuple[int, int], ReminderStatus]:
    with db.unit_of_work(write=False) as uow:
        return {(r.person_id, r.offset_min): r.status for r in uow.session.scalars(select(Reminder))}


def test_due_reminders_are_sent_once_in_each_persons_zone(db: Database, fake: FakeSlack) -> None:
    clock = Clock(NOW)
    booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(1440, 60))
    service = _service(db, fake, clock)
    assert service.deliver_due() == 0  # nothing due yet
    clock.at = utc("2026-12-01 15:00")  # 24 h before
    assert service.deliver_due() == 2
    texts = {c.args["channel"]: c.args["text"] for c in fake.calls("chat.postMessage")}
    assert "tomorrow — Wed 2 Dec 2026, 16:00–17:00 CET" in texts["UC"]
    assert "10:00–11:00 EST" in texts["UI"]
    assert service.deliver_due() == 0  # sent once
    clock.at = utc("2026-12-02 14:30")
    assert service.deliver_due() == 2
    clock.at = utc("2026-12-02 16:00")  # the interview ended: the interviewer's grade request
    assert service.deliver_due() == 1
    last = fake.calls("chat.postMessage")[-1].args
    assert last["channel"] == "UI" and "interview_grade_5" in str(last["blocks"])
    assert set(_statuses(db).values()) == {ReminderStatus.sent}
    with db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Interview.status)).one() is InterviewStatus.completed


def test_a_reminder_missed_past_the_start_is_skipped_and_logged(db: Database, fake: FakeSlack, caplog) -> None:
    booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,))
    service = _service(db, fake, Clock(utc("2026-12-02 15:05")))  # the bot was down until after the start
    with caplog.at_level("WARNING", logger="storage.reminders"):
        assert service.deliver_due() == 0
    assert "the interview began at 2026-12-02T15:00:00Z" in caplog.text
    assert fake.calls("chat.postMessage") == []
    statuses = _statuses(db)
    assert [s for (_, off), s in statuses.items() if off == 60] == [ReminderStatus.skipped] * 2


def test_offset_already_past_at_booking_is_never_sent_late(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, utc("2026-12-01 10:00"), NOW, offsets=(1440, 60))  # booked 2 h ahead
    statuses = _statuses(db)
    assert {s for (_, off), s in statuses.items() if off == 1440} == {ReminderStatus.skipped}
    assert {s for (_, off), s in statuses.items() if off == 60} == {ReminderStatus.pending}


@pytest.mark.parametrize("fault", [{"status": 429, "retry_after": 0}, {"status": 500}, "disconnect"])
def test_brief_slack_trouble_is_retried_by_the_client(db: Database, fake: FakeSlack, fault) -> None:
    booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,))
    if fault == "disconnect":
        fake.disconnect_next("chat.postMessage")
    else:
        fake.fail_next("chat.postMessage", **fault)
    assert _service(db, fake, Clock(utc("2026-12-02 14:00"))).deliver_due() == 2
    assert {s for (_, off), s in _statuses(db).items() if off == 60} == {ReminderStatus.sent}


def test_longer_outage_backs_off_and_sends_later(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,))
    clock = Clock(utc("2026-12-02 14:00"))
    service = _service(db, fake, clock)
    fake.fail_next("chat.postMessage", status=503, times=6)  # more than the client's own retries
    assert service.deliver_due() == 0
    with db.unit_of_work(write=False) as uow:
        rows = [r for r in uow.session.scalars(select(Reminder)) if r.offset_min == 60]
        assert all(r.status is ReminderStatus.pending and r.attempts == 1 and r.last_error for r in rows)
        assert all(r.next_attempt_at > clock.at for r in rows)
    assert service.deliver_due() == 0  # backing off: not due again yet
    clock.at += timedelta(seconds=30)
    assert service.deliver_due() == 2
    assert {s for (_, off), s in _statuses(db).items() if off == 60} == {ReminderStatus.sent}


def test_permanent_errors_give_up_after_a_few_attempts(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,))
    clock = Clock(utc("2026-12-02 14:00"))
    service = _service(db, fake, clock)
    fake.fail_next("chat.postMessage", error="channel_not_found", times=20)
    for _ in range(5):
        service.deliver_due()
        clock.at += timedelta(minutes=2)
    with db.unit_of_work(write=False) as uow:
        rows = [r for r in uow.session.scalars(select(Reminder)) if r.offset_min == 60]
        assert all(r.status is ReminderStatus.skipped and r.last_error == "channel_not_found" for r in rows)
        assert all(r.attempts == 3 for r in rows)


def test_people_without_slack_are_skipped_with_a_reason(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,), candidate_slack=False)
    clock = Clock(utc("2026-12-02 14:00"))
    service = _service(db, fake, clock)
    for _ in range(4):
        service.deliver_due()
        clock.at += timedelta(minutes=1)
    assert [c.args["channel"] for c in fake.calls("chat.postMessage")] == ["UI"]


def test_cancelled_interviews_send_nothing(db: Database, fake: FakeSlack) -> None:
    interview_id = booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,))
    with db.unit_of_work() as uow:
        cancel(uow.session, interview_id, by=None, now=NOW)
        drop_reminders(uow.session, interview_id)
        uow.commit()
    assert _service(db, fake, Clock(utc("2026-12-02 16:00"))).deliver_due() == 0
    assert fake.calls("chat.postMessage") == []


@pytest.mark.postgres
def test_two_workers_send_each_reminder_exactly_once(db: Database, fake: FakeSlack) -> None:
    if db.is_sqlite:
        pytest.skip("the concurrent claim test targets PostgreSQL's SKIP LOCKED")
    for n in range(50):  # 50 interviews × 2 people × 2 offsets = 200 reminders
        booked_interview(db, utc("2026-12-10 09:00") + timedelta(hours=n), NOW, offsets=(10000, 9000),
                         suffix=str(n))
    clock = Clock(utc("2026-12-08 00:00"))  # every reminder due, no interview begun
    workers = [_service(Database(db.url), fake, clock, worker=f"w{n}") for n in range(2)]
    for w in workers:
        w.batch = 7
    barrier = threading.Barrier(2)

    def run(service: ReminderService) -> None:
        barrier.wait()
        service.deliver_due()

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with db.unit_of_work(write=False) as uow:
        due = [r for r in uow.session.scalars(select(Reminder)) if r.due_at <= clock.at and r.offset_min > 0]
    sent = [(c.args["channel"], c.args["text"]) for c in fake.calls("chat.postMessage")]
    assert len(due) == 200
    assert len(sent) == len(due) == len(set(sent))
    with db.unit_of_work(write=False) as uow:
        by_worker = {r.claimed_by for r in uow.session.scalars(select(Reminder)) if r.offset_min > 0}
    assert by_worker == {"w0", "w1"}  # both took part
    assert {r.status for r in due} == {ReminderStatus.sent}
