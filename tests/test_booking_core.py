"""Booking at the storage level: one rule path with the search, and no double booking under
real concurrency, on SQLite and on PostgreSQL."""

from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from scheduling.intervals import Interval
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import BookingError, SlotTaken, book, cancel, record_grade, reschedule
from storage.busy import add_busy
from storage.db import Database
from storage.matching import find_matches
from storage.models import Interview, InterviewParticipant, Person, Role
from tests.factories import add_person, utc

NOW = utc("2026-11-23 09:00")
DAY = Interval(utc("2026-12-02 08:00"), utc("2026-12-02 18:00"))


def _people(db: Database, n_interviewers: int = 1) -> tuple[Person, list[Person]]:
    cand = add_person(db, "UCAND", Role.candidate, name="Cara")
    ints = [add_person(db, f"UINT{i}", Role.interviewer, name=f"Ivan {i}") for i in range(n_interviewers)]
    with db.unit_of_work() as uow:
        for p in [cand, *ints]:
            add_windows(uow.session, uow.session.get(Person, p.id), [DAY])
        uow.commit()
    return cand, ints


def _slot(hh_mm: str, minutes: int = 60) -> Interval:
    start = utc(f"2026-12-02 {hh_mm}")
    return Interval(start, start + timedelta(minutes=minutes))


def _book(db: Database, cand: Person, ints: list[Person], slot: Interval, rules: SearchRules | None = None, **kw):
    with db.unit_of_work() as uow:
        s = uow.session
        result = book(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, i.id) for i in ints],
                      slot=slot, rules=rules or SearchRules(), now=NOW, **kw)
        uow.commit()
        return result


def _count(db: Database, model) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def test_book_then_overlap_is_taken_with_alternatives(db: Database) -> None:
    cand, ints = _people(db)
    booking = _book(db, cand, ints, _slot("10:00"))
    assert not booking.replayed and booking.interview.sequence == 0
    with pytest.raises(SlotTaken) as err:
        _book(db, cand, ints, _slot("10:30"))
    assert "just taken" in str(err.value)
    assert err.value.alternatives and all(not a.overlaps(_slot("10:00")) for a in err.value.alternatives)
    assert _count(db, Interview) == 1 and _count(db, InterviewParticipant) == 2


def test_idempotency_key_books_once_and_refuses_reuse_for_another_slot(db: Database) -> None:
    cand, ints = _people(db)
    first = _book(db, cand, ints, _slot("10:00"), idempotency_key="view-1:10")
    again = _book(db, cand, ints, _slot("10:00"), idempotency_key="view-1:10")
    assert again.replayed and again.interview.id == first.interview.id
    with pytest.raises(BookingError):
        _book(db, cand, ints, _slot("12:00"), idempotency_key="view-1:10")
    assert _count(db, Interview) == 1


def test_cancel_frees_the_time_and_reschedule_moves_it(db: Database) -> None:
    cand, ints = _people(db)
    interview = _book(db, cand, ints, _slot("10:00")).interview
    with db.unit_of_work() as uow:
        moved = reschedule(uow.session, interview.id, _slot("11:00"), rules=SearchRules(), now=NOW, by=None)
        assert moved.sequence == 1 and {p.start_at for p in moved.participants} == {_slot("11:00").start}
        uow.commit()
    _book(db, cand, ints, _slot("09:00"))  # the old time is free again
    with db.unit_of_work() as uow:
        cancel(uow.session, interview.id, by=None, now=NOW)
        uow.commit()
    with db.unit_of_work() as uow, pytest.raises(BookingError):
        cancel(uow.session, interview.id, by=None, now=NOW)
    _book(db, cand, ints, _slot("11:00"))  # and so is the cancelled one


def test_grades_only_after_the_end_by_its_interviewers(db: Database) -> None:
    cand, ints = _people(db)
    interview = _book(db, cand, ints, _slot("10:00")).interview
    with db.unit_of_work() as uow:
        s = uow.session
        with pytest.raises(BookingError, match="not ended"):
            record_grade(s, interview.id, interviewer=s.get(Person, ints[0].id), grade=3, now=NOW)
        with pytest.raises(BookingError, match="Only the interviewers"):
            record_grade(s, interview.id, interviewer=s.get(Person, cand.id), grade=3, now=utc("2026-12-03 00:00"))
        with pytest.raises(BookingError, match="0 to 5"):
            record_grade(s, interview.id, interviewer=s.get(Person, ints[0].id), grade=6, now=utc("2026-12-03 00:00"))
        record_grade(s, interview.id, interviewer=s.get(Person, ints[0].id), grade=4, now=utc("2026-12-03 00:00"))
        uow.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_slot_the_search_lists_can_be_booked_and_nothing_else(db: Database, seed: int) -> None:
    """Listing and booking share one rule path: buffers, notice, caps included."""
    rng = random.Random(seed)
    cand, ints = _people(db, 2)
    with db.unit_of_work() as uow:
        for person in ints:
            for _ in range(3):
                start = DAY.start + timedelta(minutes=15 * rng.randrange(0, 36))
                add_busy(uow.session, uow.session.get(Person, person.id),
                         Interval(start, start + timedelta(minutes=15 * rng.randrange(1, 6))))
        uow.commit()
    _book(db, cand, ints[:1], _slot("17:00"))  # an existing booking: its buffers matter too
    rules = SearchRules(buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=15),
                        min_notice=timedelta(hours=rng.choice([24, 220])))
    policy = Policy(cap_per_day=rng.choice([None, 1, 2]))
    now = NOW
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        listed = set(find_matches(s, s.get(Person, cand.id), [s.get(Person, i.id) for i in ints], rules, now,
                                  policy=policy).slots)
    grid = [Interval(DAY.start - timedelta(hours=2) + timedelta(minutes=30 * k),
                     DAY.start - timedelta(hours=2) + timedelta(minutes=30 * k + 60)) for k in range(26)]
    for slot in grid:
        with db.unit_of_work() as uow:  # never committed: each try starts from the same data
            s = uow.session
            try:
                book(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, i.id) for i in ints],
                     slot=slot, rules=rules, now=now, policy=policy)
                booked = True
            except SlotTaken:
                booked = False
        assert booked == (slot in listed), slot


def _race(db: Database, cand: Person, ints: list[Person], slots: list[Interval]) -> tuple[list, list]:
    """Each slot booked by its own thread and unit of work, all released at once."""
    barrier = threading.Barrier(len(slots))
    wins, losses = [], []
    lock = threading.Lock()

    def worker(slot: Interval) -> None:
        barrier.wait()
        try:
            result = _book(db, cand, ints, slot)
            with lock:
                wins.append((slot, result.interview.id))
        except SlotTaken as err:
            with lock:
                losses.append((slot, err))

    threads = [threading.Thread(target=worker, args=(slot,)) for slot in slots]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return wins, losses


def test_twenty_concurrent_bookers_exactly_the_non_conflicting_win(db: Database) -> None:
    cand, ints = _people(db, 2)
    distinct = [_slot(t) for t in ("09:00", "11:00", "13:00", "15:00")]
    slots = [distinct[i % 4] for i in range(16)] + [_slot(t) for t in ("09:30", "11:30", "13:30", "15:30")]
    wins, losses = _race(db, cand, ints, slots)
    assert len(wins) == 4 and len(losses) == 16
    won = sorted(slot for slot, _ in wins)
    assert all(not a.overlaps(b) for a, b in zip(won, won[1:], strict=False))
    assert all("just taken" in str(err) for _, err in losses)
    assert _count(db, Interview) == 4 and _count(db, InterviewParticipant) == 4 * 3
    with db.unit_of_work(write=False) as uow:
        rows = uow.session.execute(select(InterviewParticipant.person_id, InterviewParticipant.start_at,
                                          InterviewParticipant.end_at)).all()
    for person in {r[0] for r in rows}:
        spans = sorted(Interval(s, e) for p, s, e in rows if p == person)
        assert all(not a.overlaps(b) for a, b in zip(spans, spans[1:], strict=False))


def test_postgres_exclusion_constraint_rejects_overlap_even_without_the_app(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("an exclusion constraint is a PostgreSQL feature")
    cand, ints = _people(db)
    interview = _book(db, cand, ints, _slot("10:00")).interview
    with db.engine.connect() as conn:
        conn.execute(text("INSERT INTO interviews (workspace_id, uid, candidate_id, start_at, end_at, "
                          "buffer_before_min, buffer_after_min, status, sequence, created_at, updated_at) "
                          "VALUES ('local', 'raw@x', :c, :s, :e, 0, 0, 'booked', 0, now(), now())"),
                     {"c": cand.id, "s": _slot("10:30").start, "e": _slot("10:30").end})
        raw_id = conn.execute(text("SELECT id FROM interviews WHERE uid = 'raw@x'")).scalar_one()
        with pytest.raises(Exception, match="ex_participants_no_overlap"):
            conn.execute(text("INSERT INTO interview_participants (interview_id, person_id, role, start_at, "
                              "end_at, active) VALUES (:i, :p, 'interviewer', :s, :e, true)"),
                         {"i": raw_id, "p": ints[0].id, "s": _slot("10:30").start, "e": _slot("10:30").end})
        conn.rollback()
    assert interview.id
