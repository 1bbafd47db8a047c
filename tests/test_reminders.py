"""Reminders as planned in storage: one row and one job per recipient and offset, moved and
withdrawn with the interview; and the periodic work's shared APScheduler job store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.jobs.periodic import SharedJobStore
from storage import reminders as store
from storage.db import Database
from storage.models import Interview, Job, JobStatus, Reminder, ReminderStatus
from tests.factories import utc
from tests.reminder_fixtures import booked_interview

NOW = utc("2026-12-01 08:00")
START = utc("2026-12-02 15:00")


def _rows(db: Database) -> list[Reminder]:
    with db.unit_of_work(write=False) as uow:
        return list(uow.session.scalars(select(Reminder).where(Reminder.offset_min > 0).order_by(Reminder.id)))


def _job(db: Database, job_id: int | None) -> Job | None:
    with db.unit_of_work(write=False) as uow:
        return uow.session.get(Job, job_id) if job_id is not None else None


def test_each_reminder_has_a_job_due_at_its_time(db: Database) -> None:
    booked_interview(db, START, NOW, offsets=(1440, 60))
    with db.unit_of_work(write=False) as uow:
        rows = list(uow.session.scalars(select(Reminder)))
        assert len(rows) == 5  # 2 people × 2 offsets + the interviewer's grade request
        for row in rows:
            job = uow.session.get(Job, row.job_id)
            assert job.kind == "reminder" and job.payload == {"reminder_id": row.id}
            assert job.run_at == row.due_at and job.status is JobStatus.pending and job.workspace_id == "T0001"


def test_replanning_after_a_move_resends_at_the_new_time_and_withdraws_old_jobs(db: Database) -> None:
    interview_id = booked_interview(db, START, NOW, offsets=(1440, 60))
    with db.unit_of_work() as uow:  # the 24 h reminders went out
        for row in uow.session.scalars(select(Reminder).where(Reminder.offset_min == 1440)):
            row.status = ReminderStatus.sent
        uow.commit()
    before = {(r.person_id, r.offset_min): r for r in _rows(db)}
    moved = START + timedelta(days=2)
    with db.unit_of_work() as uow:
        interview = uow.session.get(Interview, interview_id)
        interview.start_at, interview.end_at = moved, moved + timedelta(hours=1)
        store.plan_reminders(uow.session, interview, [1440, 30], NOW)  # offsets changed meanwhile
        uow.commit()
    after = {(r.person_id, r.offset_min): r for r in _rows(db)}
    for key, row in before.items():
        assert after[key].id == row.id  # updated in place: the unique key holds
    assert {(k[1], r.status) for k, r in after.items()} == {
        (1440, ReminderStatus.pending), (60, ReminderStatus.cancelled), (30, ReminderStatus.pending)}
    for key, row in after.items():
        if key[1] == 1440:  # sent for the old time, so due again for the new one: a new job
            assert row.due_at == moved - timedelta(days=1) and row.job_id != before[key].job_id
            assert _job(db, row.job_id).run_at == row.due_at
        if key[1] == 60:  # no longer wanted: its job is withdrawn
            assert _job(db, before[key].job_id).status is JobStatus.cancelled


def test_replanning_an_unchanged_interview_keeps_its_jobs(db: Database) -> None:
    interview_id = booked_interview(db, START, NOW, offsets=(60,))
    jobs_before = {r.id: r.job_id for r in _rows(db)}
    with db.unit_of_work() as uow:
        store.plan_reminders(uow.session, uow.session.get(Interview, interview_id), [60], NOW)
        uow.commit()
    assert {r.id: r.job_id for r in _rows(db)} == jobs_before


def test_drop_cancels_only_pending_and_their_jobs(db: Database) -> None:
    interview_id = booked_interview(db, START, NOW, offsets=(1440, 60))
    with db.unit_of_work() as uow:
        first = uow.session.scalars(select(Reminder).where(Reminder.offset_min == 1440)).first()
        first.status = ReminderStatus.sent
        assert store.drop_reminders(uow.session, interview_id, NOW) == 4  # 3 reminders + 1 grade request
        uow.commit()
    assert sorted(r.status.value for r in _rows(db)) == ["cancelled", "cancelled", "cancelled", "sent"]
    with db.unit_of_work(write=False) as uow:
        statuses = {j.status for j in uow.session.scalars(select(Job))}
    assert statuses == {JobStatus.cancelled, JobStatus.pending}  # the sent one's job is left alone


def test_offset_already_past_at_booking_is_never_sent_late(db: Database) -> None:
    booked_interview(db, utc("2026-12-01 10:00"), NOW, offsets=(1440, 60))  # booked 2 h ahead
    rows = _rows(db)
    assert {r.status for r in rows if r.offset_min == 1440} == {ReminderStatus.skipped}
    assert {r.status for r in rows if r.offset_min == 60} == {ReminderStatus.pending}
    assert all(r.job_id is None for r in rows if r.status is ReminderStatus.skipped)


def test_email_only_people_are_skipped_at_planning_with_a_reason(db: Database, caplog) -> None:
    with caplog.at_level("INFO", logger="storage.reminders"):
        booked_interview(db, START, NOW, offsets=(1440, 60), candidate_slack=False)
    rows = _rows(db)
    email_only = [r for r in rows if r.last_error == store.NO_SLACK]
    assert len(email_only) == 2 and {r.status for r in email_only} == {ReminderStatus.skipped}
    assert {r.status for r in rows if r not in email_only} == {ReminderStatus.pending}
    assert "has no Slack account" in caplog.text


def test_shared_job_store_tolerates_jobs_vanishing_under_it(db: Database) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(jobstores={"default": SharedJobStore(engine=db.engine)}, timezone=UTC)
    scheduler.start()
    try:
        scheduler.add_job("bot.jobs.periodic:expire_offers", "date", id="vanishing",
                          run_date=datetime.now(UTC) + timedelta(hours=1))
        store_: SharedJobStore = scheduler._lookup_jobstore("default")
        job = store_.lookup_job("vanishing")
        store_.remove_job("vanishing")
        store_.remove_job("vanishing")  # stock APScheduler raises JobLookupError here
        store_.update_job(job)  # re-added, not an error
        assert store_.lookup_job("vanishing") is not None
    finally:
        scheduler.shutdown(wait=False)



def test_an_interview_moved_away_and_back_gets_its_reminders_again(db: Database) -> None:
    """The job of the first plan is withdrawn by the move; moving back needs a job of its own."""
    interview_id = booked_interview(db, START, NOW, offsets=(60,))
    for start in (START + timedelta(days=1), START):
        with db.unit_of_work() as uow:
            interview = uow.session.get(Interview, interview_id)
            interview.start_at, interview.end_at = start, start + timedelta(hours=1)
            store.plan_reminders(uow.session, interview, [60], NOW)
            uow.commit()
    for row in _rows(db):
        job = _job(db, row.job_id)
        assert row.status is ReminderStatus.pending and row.due_at == START - timedelta(hours=1)
        assert job is not None and job.status is JobStatus.pending and job.run_at == row.due_at
