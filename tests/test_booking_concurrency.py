"""No double booking under real concurrency: threads with their own units of work released
together by a barrier, on SQLite (BEGIN IMMEDIATE) and PostgreSQL (row locks + exclusion)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

import storage.booking as booking_module
from scheduling.intervals import Interval
from scheduling.slots import SearchRules
from storage.booking import SlotTaken, reschedule
from storage.db import Database
from storage.migrate import alembic_config, current, heads, upgrade
from storage.models import Interview, InterviewParticipant
from tests.test_booking import NOW, book_committed, count, people, slot


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


class PeakConnections:
    """Counts connections checked out of an engine's pool at once: proof the race overlapped."""

    def __init__(self, database: Database) -> None:
        self.now = self.peak = 0
        self._lock = threading.Lock()
        event.listen(database.engine, "checkout", self._out)
        event.listen(database.engine, "checkin", self._in)

    def _out(self, *_: Any) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def _in(self, *_: Any) -> None:
        with self._lock:
            self.now -= 1


@pytest.fixture
def wide(db: Database) -> Iterator[Database]:
    """The same database with a pool of 25, so twenty racers really hold twenty connections."""
    database = Database(db.url, pool_size=25, max_overflow=0)
    yield database
    database.dispose()


def _no_overlap_per_person(db: Database) -> None:
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(
            select(InterviewParticipant.person_id, InterviewParticipant.start_at, InterviewParticipant.end_at)
            .where(InterviewParticipant.active.is_(True))
        ).all()
    for person in {r[0] for r in rows}:
        spans = sorted(Interval(s, e) for p, s, e in rows if p == person)
        assert all(not a.overlaps(b) for a, b in zip(spans, spans[1:], strict=False)), person


def _twenty_racers(db: Database, wide: Database) -> tuple[list[Any], list[BaseException], int]:
    """Twenty bookers for one panel: four groups in separate two-hour blocks, within a group
    every slot overlaps every other (three on hh:00, two on hh:30), so one per group can win."""
    cand, ints = people(db, 2)
    slots = [slot(f"{hh}:{mm}") for hh in ("08", "10", "12", "14") for mm in ("00", "00", "00", "30", "30")]
    peak = PeakConnections(wide)
    wins, errors = race([lambda at=at: book_committed(wide, cand, ints, at) for at in slots])
    return wins, errors, peak.peak


def _exactly_one_winner_per_group(db: Database, wins: list[Any], errors: list[BaseException]) -> None:
    assert len(wins) == 4 and len(errors) == 16, errors
    assert all(isinstance(e, SlotTaken) and "just taken" in str(e) for e in errors), errors
    assert all(e.alternatives for e in errors if isinstance(e, SlotTaken))
    won = sorted(Interval(w.interview.start_at, w.interview.end_at) for w in wins)
    assert [w.start.hour for w in won] == [8, 10, 12, 14]
    assert count(db, Interview) == 4 and count(db, InterviewParticipant) == 4 * 3
    _no_overlap_per_person(db)


def test_twenty_bookers_on_same_and_overlapping_slots_exactly_four_win(db: Database, wide: Database) -> None:
    wins, errors, peak = _twenty_racers(db, wide)
    _exactly_one_winner_per_group(db, wins, errors)
    assert peak >= 10, peak  # the racers held their units of work open at the same time


def test_postgres_constraint_alone_stops_the_race(db: Database, wide: Database, monkeypatch) -> None:
    """No people locks and no re-check: only the exclusion constraint decides, and still one
    booking per group wins; the losers get SlotTaken with alternatives."""
    if db.is_sqlite:
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite serialises writers instead")
    monkeypatch.setattr(booking_module, "lock_people", lambda *a, **kw: [])
    monkeypatch.setattr(booking_module, "check_bookable", lambda *a, **kw: None)
    wins, errors, _ = _twenty_racers(db, wide)
    _exactly_one_winner_per_group(db, wins, errors)


def test_ten_concurrent_retries_of_one_request_book_once(db: Database, wide: Database) -> None:
    cand, ints = people(db)
    jobs = [lambda: book_committed(wide, cand, ints, slot("10:00"), idempotency_key="slack:req-7")] * 10
    results, errors = race(jobs)
    assert errors == []
    assert len({r.interview.id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert count(db, Interview) == 1 and count(db, InterviewParticipant) == 2


def test_a_retry_that_loses_the_insert_race_replays_the_winner(db: Database, monkeypatch) -> None:
    """The unique key, not the look-up, is the last word: a retry that missed the first booking
    in both look-ups hits the unique constraint inside its savepoint and still replays."""
    cand, ints = people(db)
    first = book_committed(db, cand, ints, slot("10:00"), idempotency_key="slack:req-9")
    real, calls = booking_module._existing, []

    def blind_twice(session: Any, key: str) -> Interview | None:
        calls.append(key)
        return None if len(calls) <= 2 else real(session, key)

    monkeypatch.setattr(booking_module, "_existing", blind_twice)
    monkeypatch.setattr(booking_module, "check_bookable", lambda *a, **kw: None)
    again = book_committed(db, cand, ints, slot("10:00"), idempotency_key="slack:req-9")
    assert again.replayed and again.interview.id == first.interview.id and len(calls) == 3
    assert count(db, Interview) == 1


def test_exclusion_violation_from_the_database_becomes_slot_taken(db: Database, monkeypatch) -> None:
    """With the application re-check bypassed, PostgreSQL's constraint still refuses the overlap,
    and the loser's transaction stays usable for fresh alternatives."""
    if db.is_sqlite:
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite relies on the re-check")
    cand, ints = people(db)
    book_committed(db, cand, ints, slot("10:00"))
    moved = book_committed(db, cand, ints, slot("14:00")).interview
    monkeypatch.setattr(booking_module, "check_bookable", lambda *a, **kw: None)
    with pytest.raises(SlotTaken, match="just taken") as err:
        book_committed(db, cand, ints, slot("10:30"))
    assert err.value.alternatives == [slot("09:00"), slot("11:00"), slot("11:30")]
    with pytest.raises(SlotTaken, match="just taken") as err, db.unit_of_work() as uow:
        reschedule(uow.session, "local", moved.id, slot("09:30"), rules=SearchRules(), now=NOW)
    assert err.value.alternatives
    assert count(db, Interview) == 2
    with db.unit_of_work(write=False) as uow:
        assert uow.session.get(Interview, moved.id).start_at == slot("14:00").start


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
