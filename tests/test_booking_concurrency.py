"""No double booking under real concurrency: threads with their own units of work released
together by a barrier, on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row locks + exclusion)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from alembic import command
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

import storage.booking as booking_module
from scheduling.intervals import Interval
from storage.booking import SlotTaken
from storage.db import Database
from storage.migrate import alembic_config, current, heads, upgrade
from storage.models import Interview, InterviewParticipant
from tests.test_booking import book_committed, count, people, slot


def race(jobs: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run each job in its own thread, all released at once; results and errors."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(job: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcome = job()
        except BaseException as err:  # noqa: BLE001 - collected and asserted on by the test
            with lock:
                errors.append(err)
        else:
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results, errors


def _no_overlap_per_person(db: Database) -> None:
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(InterviewParticipant.person_id, InterviewParticipant.start_at, InterviewParticipant.end_at)
            .where(InterviewParticipant.active.is_(True))
        ).all()
    for person in {r[0] for r in rows}:
        spans = sorted(Interval(s, e) for p, s, e in rows if p == person)
        assert all(not a.overlaps(b) for a, b in zip(spans, spans[1:], strict=False)), person


def test_twenty_bookers_on_same_and_overlapping_slots_exactly_four_win(db: Database) -> None:
    cand, ints = people(db, 2)
    # Four groups in separate two-hour blocks; within a group every slot overlaps every other
    # (three bookers on hh:00, two on hh:30), so exactly one per group can win.
    slots = [slot(f"{hh}:{mm}") for hh in ("08", "10", "12", "14") for mm in ("00", "00", "00", "30", "30")]
    jobs = [lambda at=at: book_committed(db, cand, ints, at) for at in slots]
    wins, errors = race(jobs)
    assert len(wins) == 4 and len(errors) == 16
    assert all(isinstance(e, SlotTaken) and "just taken" in str(e) for e in errors), errors
    assert all(e.alternatives for e in errors if isinstance(e, SlotTaken))
    won = sorted(Interval(w.interview.start_at, w.interview.end_at) for w in wins)
    assert [w.start.hour for w in won] == [8, 10, 12, 14]  # one winner per group
    assert all(not a.overlaps(b) for a, b in zip(won, won[1:], strict=False))
    assert count(db, Interview) == 4 and count(db, InterviewParticipant) == 4 * 3
    _no_overlap_per_person(db)


def test_ten_concurrent_retries_of_one_request_book_once(db: Database) -> None:
    cand, ints = people(db)
    jobs = [lambda: book_committed(db, cand, ints, slot("10:00"), idempotency_key="slack:req-7")] * 10
    results, errors = race(jobs)
    assert errors == []
    assert len({r.interview.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert count(db, Interview) == 1 and count(db, InterviewParticipant) == 2


def test_exclusion_violation_from_the_database_becomes_slot_taken(db: Database, monkeypatch) -> None:
    """With the application re-check bypassed, PostgreSQL's constraint still refuses the overlap."""
    if db.is_sqlite:
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on the re-check")
    cand, ints = people(db)
    book_committed(db, cand, ints, slot("10:00"))
    monkeypatch.setattr(booking_module, "check_bookable", lambda *a, **kw: None)
    with pytest.raises(SlotTaken, match="just taken"):
        book_committed(db, cand, ints, slot("10:30"))
    assert count(db, Interview) == 1


def test_postgres_exclusion_constraint_rejects_an_overlapping_raw_insert(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("an exclusion constraint is a PostgreSQL feature")
    cand, ints = people(db)
    book_committed(db, cand, ints, slot("10:00"))
    insert_interview = text(
        "INSERT INTO interviews (workspace_id, uid, candidate_id, start_at, end_at, buffer_before_min, "
        "buffer_after_min, status, sequence, created_at, updated_at) "
        "VALUES ('local', :uid, :c, :s, :e, 0, 0, 'booked', 0, now(), now()) RETURNING id")
    insert_part = text(
        "INSERT INTO interview_participants (interview_id, person_id, role, start_at, end_at, active) "
        "VALUES (:i, :p, 'interviewer', :s, :e, :active)")
    at = slot("10:30")
    with db.engine.connect() as conn:
        raw_id = conn.execute(insert_interview, {"uid": "raw@x", "c": cand.id, "s": at.start, "e": at.end}).scalar()
        with pytest.raises(IntegrityError, match="ex_participants_no_overlap") as err:
            conn.execute(insert_part, {"i": raw_id, "p": ints[0].id, "s": at.start, "e": at.end, "active": True})
        assert err.value.orig.sqlstate == "23P01"
        conn.rollback()
    with db.engine.connect() as conn:  # inactive rows and touching ranges are allowed
        raw_id = conn.execute(insert_interview, {"uid": "raw@y", "c": cand.id, "s": at.start, "e": at.end}).scalar()
        conn.execute(insert_part, {"i": raw_id, "p": ints[0].id, "s": at.start, "e": at.end, "active": False})
        conn.execute(insert_part, {"i": raw_id, "p": cand.id, "s": slot("11:00").start, "e": slot("11:00").end,
                                   "active": True})
        conn.rollback()


def _has_constraint(db: Database) -> bool:
    with db.engine.connect() as conn:
        return bool(conn.execute(text(
            "SELECT count(*) FROM pg_constraint WHERE conname = 'ex_participants_no_overlap' "
            "AND connamespace = current_schema()::regnamespace")).scalar())


def test_migration_0002_downgrades_and_upgrades_the_constraint(db: Database) -> None:
    with db.engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    assert current(db) == "0001"
    if not db.is_sqlite:
        assert not _has_constraint(db)
    upgrade(db)
    assert current(db) in heads()
    if not db.is_sqlite:
        assert _has_constraint(db)
