"""Reminders: the storage contract (plan, replan, drop, claims and leases, backoff) and the
APScheduler driver (textual jobs only, reconcile, a job store shared by several services)."""

from __future__ import annotations

import pickle
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select

from bot.reminders import JOB_FUNC, ReminderService, SharedJobStore
from bot.slack_client import make_client
from scheduling.intervals import UTC
from storage import reminders as store
from storage.db import Database
from storage.models import Interview, InterviewParticipant, Person, Reminder, ReminderStatus, Role
from tests.factories import add_person, utc
from tests.slack_fake import FakeSlack

NOW = utc("2026-12-01 08:00")
START = utc("2026-12-02 15:00")


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def booked_interview(db: Database, start: datetime, now: datetime, *, offsets: tuple[int, ...] = (60,),
                     suffix: str = "", candidate_slack: bool = True) -> int:
    """A 60-minute interview at `start` (candidate in Berlin, interviewer in New York), stored as
    rows directly (not through booking, which has its own tests), with its reminders planned."""
    cand = add_person(db, f"UC{suffix}" if candidate_slack else f"c{suffix}@example.com", Role.candidate,
                      tz="Europe/Berlin", name=f"Cara {suffix}")
    intv = add_person(db, f"UI{suffix}", Role.interviewer, tz="America/New_York", name=f"Ivan {suffix}")
    end = start + timedelta(hours=1)
    with db.unit_of_work() as uow:
        interview = Interview(uid=f"rem-{suffix}-{cand.id}@test", candidate_id=cand.id, start_at=start, end_at=end)
        interview.participants = [
            InterviewParticipant(person_id=cand.id, role=Role.candidate, start_at=start, end_at=end),
            InterviewParticipant(person_id=intv.id, role=Role.interviewer, start_at=start, end_at=end),
        ]
        uow.session.add(interview)
        uow.session.flush()
        for part in interview.participants:
            part.person = uow.session.get(Person, part.person_id)
        store.plan_reminders(uow.session, interview, offsets, now)
        uow.commit()
        return interview.id


def _rows(db: Database) -> list[Reminder]:
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Reminder).where(Reminder.offset_min > 0).order_by(Reminder.id)))


def _service(db: Database, fake: FakeSlack, clock=None, **kw) -> ReminderService:
    client = make_client("xoxb-test", fake.base_url, timeout=5, max_retries=kw.pop("max_retries", 2))
    return ReminderService(db, client, **({"clock": clock} if clock else {}), **kw)


# -- storage ------------------------------------------------------------------------------


def test_replan_moves_the_same_rows_back_to_pending_and_cancels_unwanted_offsets(db: Database) -> None:
    interview_id = booked_interview(db, START, NOW, offsets=(1440, 60))
    with db.unit_of_work() as uow:  # the 24 h reminders went out
        for row in uow.session.scalars(select(Reminder).where(Reminder.offset_min == 1440)):
            row.status, row.attempts = ReminderStatus.sent, 1
        uow.commit()
    before = {(r.person_id, r.offset_min): r.id for r in _rows(db)}
    moved = START + timedelta(days=2)
    with db.unit_of_work() as uow:
        interview = uow.session.get(Interview, interview_id)
        interview.start_at, interview.end_at = moved, moved + timedelta(hours=1)
        store.replan_reminders(uow.session, interview, [1440, 30], NOW)  # offsets changed meanwhile
        uow.commit()
    after = {(r.person_id, r.offset_min): r for r in _rows(db)}
    for key, row_id in before.items():
        assert after[key].id == row_id  # updated in place: the unique key holds
    assert {(k[1], r.status) for k, r in after.items()} == {
        (1440, ReminderStatus.pending), (60, ReminderStatus.cancelled), (30, ReminderStatus.pending)}
    day_before = [r for k, r in after.items() if k[1] == 1440]
    assert all(r.attempts == 0 and r.due_at == moved - timedelta(days=1) for r in day_before)


def test_drop_cancels_only_pending(db: Database) -> None:
    interview_id = booked_interview(db, START, NOW, offsets=(1440, 60))
    with db.unit_of_work() as uow:
        first = uow.session.scalars(select(Reminder).where(Reminder.offset_min == 1440)).first()
        first.status = ReminderStatus.sent
        assert store.drop_reminders(uow.session, interview_id) == 4  # 3 reminders + 1 grade request
        uow.commit()
    assert sorted(r.status.value for r in _rows(db)) == ["cancelled", "cancelled", "cancelled", "sent"]


def test_a_claim_is_a_lease_another_worker_takes_over_only_when_it_expires(db: Database) -> None:
    booked_interview(db, START, NOW, offsets=(60,))
    at = START - timedelta(minutes=30)
    lease = timedelta(minutes=2)
    with db.unit_of_work() as uow:
        claimed = store.claim_due(uow.session, at, "w1", limit=10, lease=lease)
        uow.commit()
    assert len(claimed) == 2 and {r.claimed_by for r in claimed} == {"w1"}
    with db.unit_of_work() as uow:
        assert store.claim_due(uow.session, at + lease - timedelta(seconds=1), "w2", lease=lease) == []
        taken = store.claim_due(uow.session, at + lease + timedelta(seconds=1), "w2", lease=lease)
        uow.commit()
    assert [r.id for r in taken] == [r.id for r in claimed]
    with db.unit_of_work() as uow:  # w1 woke up late: its mark does not count, w2's does
        assert not store.mark_sent(uow.session, claimed[0].id, "w1", at)
        assert store.mark_sent(uow.session, claimed[0].id, "w2", at)
        uow.commit()


def test_backoff_is_exponential_capped_and_honours_retry_after() -> None:
    policy = store.Backoff(base=timedelta(seconds=5), cap=timedelta(minutes=1))
    assert [policy.delay(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_pending_ids_and_next_due(db: Database) -> None:
    booked_interview(db, START, NOW, offsets=(1440, 60))
    with db.unit_of_work(write=False) as uow:
        pending = store.pending_ids(uow.session)
        assert len(pending) == 5 and min(pending.values()) == START - timedelta(days=1)
        assert store.next_due(uow.session, START - timedelta(minutes=61)) == START - timedelta(hours=1)
        assert store.next_due(uow.session, START + timedelta(hours=2)) is None


# -- sending ------------------------------------------------------------------------------


def test_rate_limit_beyond_the_clients_retries_waits_for_retry_after(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, START, NOW, offsets=(60,), candidate_slack=False)  # one recipient
    at = START - timedelta(minutes=59)
    fake.fail_next("chat.postMessage", status=429, retry_after=120)
    service = _service(db, fake, lambda: at, max_retries=0)
    assert service.deliver_due() == 0
    [row] = [r for r in _rows(db) if r.last_error == "ratelimited"]
    assert row.status is ReminderStatus.pending and row.attempts == 1
    assert row.next_attempt_at == at + timedelta(seconds=120)  # Retry-After beats the 5 s backoff
    service.stop()


# -- APScheduler driver --------------------------------------------------------------------


def _wait(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _job_rows(db: Database, service: ReminderService) -> dict[str, bytes]:
    with db.engine.begin() as conn:
        return dict(conn.execute(select(service.jobstore.jobs_t.c.id, service.jobstore.jobs_t.c.job_state)).all())


def test_jobs_hold_only_ids_and_a_textual_reference_and_reconcile_recreates_lost_ones(
        db: Database, fake: FakeSlack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    booked_interview(db, now + timedelta(days=3), now, offsets=(1440, 60))
    service = _service(db, fake).start()
    try:
        jobs = _job_rows(db, service)
        assert len(jobs) == 5
        for state in map(pickle.loads, jobs.values()):
            assert state["func"] == JOB_FUNC and all(isinstance(a, int) for a in state["args"])
        with db.engine.begin() as conn:  # what SQLAlchemyJobStore does to a job it cannot unpickle
            conn.execute(delete(service.jobstore.jobs_t))
        assert service.reconcile() == 5
        assert _job_rows(db, service).keys() == jobs.keys()
        assert service.reconcile() == 0  # nothing missing: nothing rewritten
    finally:
        service.stop()


def test_a_due_reminder_is_sent_on_time_without_waiting_for_the_ticker(
        db: Database, fake: FakeSlack) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    booked_interview(db, now + timedelta(seconds=62), now, offsets=(1,))  # due in 2 s
    service = _service(db, fake, tick_seconds=60).start()  # the ticker runs once, at start
    try:
        calls = fake.wait_for("chat.postMessage", count=2, timeout=10)
        lag = max(c.time for c in calls) - (now + timedelta(seconds=2)).timestamp()
        assert lag < 1.0
    finally:
        service.stop()
    assert {r.status for r in _rows(db)} == {ReminderStatus.sent}


def test_several_services_sharing_one_job_store_send_each_reminder_once(db_url: str, fake: FakeSlack) -> None:
    """Two 'processes' (own Database, own scheduler, one `apscheduler_jobs` table) both hold a job
    for every reminder: each job may run twice, each reminder is still sent once, and neither
    scheduler thread dies when the other removed a job first."""
    setup = Database(db_url)
    setup.create_schema()
    now = datetime.now(UTC).replace(microsecond=0)
    for n in range(10):
        booked_interview(setup, now + timedelta(seconds=62 + n // 3), now, offsets=(1,), suffix=str(n))
    services = [_service(Database(db_url), fake, worker=f"p{n}", tick_seconds=0.5).start() for n in range(2)]
    try:
        for service in services:
            with service.db.unit_of_work(write=False) as uow:
                service.schedule(store.pending_ids(uow.session).items())
        fake.wait_for("chat.postMessage", count=20, timeout=20)
        time.sleep(1.5)
        assert all(s.scheduler is not None and s.scheduler._thread.is_alive() for s in services)
    finally:
        for service in services:
            service.stop()
            service.db.dispose()
    sent = [(c.args["channel"], c.args["text"]) for c in fake.calls("chat.postMessage")]
    assert len(sent) == len(set(sent)) == 20
    assert {r.status for r in _rows(setup)} == {ReminderStatus.sent}
    setup.dispose()


def test_shared_job_store_tolerates_jobs_vanishing_under_it(db: Database, fake: FakeSlack) -> None:
    service = _service(db, fake).start()
    try:
        service.schedule([(999, datetime.now(UTC) + timedelta(hours=1))])
        store_: SharedJobStore = service.jobstore
        job = store_.lookup_job("reminder-999")
        store_.remove_job("reminder-999")
        store_.remove_job("reminder-999")  # stock APScheduler raises JobLookupError here
        store_.update_job(job)  # re-added, not an error
        assert store_.job_ids() == {"reminder-999"}
    finally:
        service.stop()


def test_email_only_people_are_skipped_at_planning_with_a_reason(db: Database, caplog) -> None:
    with caplog.at_level("INFO", logger="storage.reminders"):
        booked_interview(db, START, NOW, offsets=(1440, 60), candidate_slack=False)
    rows = _rows(db)
    email_only = [r for r in rows if r.last_error == store.NO_SLACK]
    assert len(email_only) == 2 and {r.status for r in email_only} == {ReminderStatus.skipped}
    assert {r.status for r in rows if r not in email_only} == {ReminderStatus.pending}
    assert "has no Slack account" in caplog.text


def test_a_recipient_who_lost_slack_is_skipped_at_once_not_retried(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, START, NOW, offsets=(60,))
    with db.unit_of_work() as uow:  # the candidate's Slack account went away after booking
        person = uow.session.scalars(select(Person).where(Person.slack_user_id == "UC")).one()
        person.slack_user_id, person.email = None, "cara@example.com"
        uow.commit()
    service = _service(db, fake, lambda: START - timedelta(minutes=59))
    assert service.deliver_due() == 1
    service.stop()
    assert [c.args["channel"] for c in fake.calls("chat.postMessage")] == ["UI"]
    skipped = [r for r in _rows(db) if r.status is ReminderStatus.skipped]
    assert len(skipped) == 1 and skipped[0].attempts == 0 and skipped[0].last_error == store.NO_SLACK


def test_dm_names_the_others_and_uses_the_recipients_zone(db: Database, fake: FakeSlack) -> None:
    booked_interview(db, START, NOW, offsets=(60,), suffix="Z")
    service = _service(db, fake, lambda: START - timedelta(minutes=59))
    assert service.deliver_due() == 2
    service.stop()
    texts = {c.args["channel"]: c.args["text"] for c in fake.calls("chat.postMessage")}
    assert "16:00–17:00 CET" in texts["UCZ"] and "Ivan Z" in texts["UCZ"]
    assert "10:00–11:00 EST" in texts["UIZ"] and "Cara Z" in texts["UIZ"]


def test_a_started_service_runs_its_scheduler_and_stops(db: Database, fake: FakeSlack) -> None:
    service = ReminderService(db, make_client("xoxb-test", fake.base_url)).start()
    try:
        assert service.scheduler is not None and service.scheduler.running
    finally:
        service.stop()
    assert service.scheduler is None
