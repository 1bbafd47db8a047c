"""Booking at the storage level, on SQLite and PostgreSQL: the happy path, every rejection,
idempotent retries, cancel/reschedule/grade rules, the listings, and that booking accepts
exactly what the search lists."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from scheduling.intervals import Interval
from scheduling.policies import Policy, ProgrammeRules
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import (
    Booking,
    BookingError,
    SlotTaken,
    book,
    cancel,
    complete_past,
    interviews_on_day,
    record_grade,
    reschedule,
    upcoming_all,
    upcoming_for,
)
from storage.busy import add_busy
from storage.db import Database
from storage.matching import find_matches
from storage.models import Interview, InterviewParticipant, InterviewStatus, Person, Role
from tests.factories import add_person, utc

NOW = utc("2026-11-23 09:00")
DAY = Interval(utc("2026-12-02 08:00"), utc("2026-12-02 18:00"))
AFTER_DAY = utc("2026-12-03 00:00")


def people(db: Database, n_interviewers: int = 1) -> tuple[Person, list[Person]]:
    """A candidate and interviewers, all available all of DAY."""
    cand = add_person(db, "UCAND", Role.candidate, name="Cara")
    ints = [add_person(db, f"UINT{i}", Role.interviewer, name=f"Ivan {i}") for i in range(n_interviewers)]
    with db.unit_of_work() as uow:
        for p in [cand, *ints]:
            add_windows(uow.session, uow.session.get(Person, p.id), [DAY])
        uow.commit()
    return cand, ints


def slot(hh_mm: str, minutes: int = 60, day: str = "2026-12-02") -> Interval:
    start = utc(f"{day} {hh_mm}")
    return Interval(start, start + timedelta(minutes=minutes))


def book_committed(db: Database, cand: Person, ints: Sequence[Person], at: Interval, **kw: Any) -> Booking:
    """Book in a unit of work of its own and commit, as a Slack handler does."""
    kw.setdefault("rules", SearchRules())
    kw.setdefault("now", NOW)
    with db.unit_of_work() as uow:
        s = uow.session
        result = book(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, i.id) for i in ints],
                      slot=at, **kw)
        uow.commit()
        return result


def count(db: Database, model: type) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def _busy(db: Database, person: Person, at: Interval) -> None:
    with db.unit_of_work() as uow:
        add_busy(uow.session, uow.session.get(Person, person.id), at)
        uow.commit()


def test_book_writes_the_interview_and_one_active_participant_per_person(db: Database) -> None:
    cand, ints = people(db, 2)
    rules = SearchRules(buffer_before=timedelta(minutes=10), buffer_after=timedelta(minutes=15))
    booking = book_committed(db, cand, ints, slot("10:00"), rules=rules, booked_by=ints[0])
    assert not booking.replayed
    with db.unit_of_work(write=False) as uow:
        interview = uow.session.get(Interview, booking.interview.id)
        assert interview.uid.endswith("@interview-bot") and interview.status is InterviewStatus.booked
        assert (interview.start_at, interview.end_at) == (slot("10:00").start, slot("10:00").end)
        assert (interview.buffer_before_min, interview.buffer_after_min) == (10, 15)
        assert interview.candidate_id == cand.id and interview.booked_by == ints[0].id
        assert interview.sequence == 0
        roles = {p.person.handle: p.role for p in interview.participants}
        assert roles == {"UCAND": Role.candidate, "UINT0": Role.interviewer, "UINT1": Role.interviewer}
        assert all(p.active and (p.start_at, p.end_at) == (interview.start_at, interview.end_at)
                   for p in interview.participants)


def test_book_flushes_but_leaves_the_commit_to_the_caller(db: Database) -> None:
    cand, ints = people(db)
    with db.unit_of_work() as uow:
        s = uow.session
        booking = book(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, ints[0].id)],
                       slot=slot("10:00"), rules=SearchRules(), now=NOW)
        assert booking.interview.id is not None  # flushed: callers can plan reminders on it
    assert count(db, Interview) == 0 and count(db, InterviewParticipant) == 0


REJECTIONS = {
    "busy": (slot("10:30"), SearchRules(), None, "11:00"),
    "buffer after reaches a busy block": (slot("10:00"), SearchRules(buffer_after=timedelta(minutes=15)),
                                          None, "11:00"),
    "buffer before reaches a busy block": (slot("12:00"), SearchRules(buffer_before=timedelta(minutes=30)),
                                           None, "11:00"),
    "inside the notice": (slot("10:00"), SearchRules(min_notice=timedelta(days=10)), None, None),
    "beyond the horizon": (slot("10:00"), SearchRules(horizon=timedelta(days=5)), None, None),
    "outside availability": (slot("17:30"), SearchRules(), None, None),
    "off the grid": (slot("10:10"), SearchRules(), None, None),
    "wrong duration": (slot("10:00", 45), SearchRules(), None, None),
    "cap per day": (slot("14:00"), SearchRules(), Policy(cap_per_day=1), "08:00 booked"),
    "programme: interviewer already interviewed": (
        slot("14:00"), SearchRules(), Policy(programme=ProgrammeRules()), "08:00 booked"),
}


@pytest.mark.parametrize("case", list(REJECTIONS))
def test_each_rule_rejects_and_nothing_is_written(db: Database, case: str) -> None:
    at, rules, policy, setup = REJECTIONS[case]
    cand, ints = people(db)
    if setup == "11:00":
        _busy(db, ints[0], slot("11:00"))
    elif setup:
        book_committed(db, cand, ints, slot("08:00"))
    before = count(db, Interview), count(db, InterviewParticipant)
    with pytest.raises(SlotTaken, match=r"^That slot was just taken: .+\.") as err:
        book_committed(db, cand, ints, at, rules=rules, policy=policy)
    assert (count(db, Interview), count(db, InterviewParticipant)) == before
    assert len(err.value.alternatives) <= 3


def test_a_taken_slot_offers_the_three_nearest_fresh_alternatives(db: Database) -> None:
    cand, ints = people(db)
    book_committed(db, cand, ints, slot("12:00"))
    with pytest.raises(SlotTaken) as err:
        book_committed(db, cand, ints, slot("12:30"))
    alternatives = err.value.alternatives
    assert alternatives == [slot("11:00"), slot("13:00"), slot("13:30")]  # a tie goes to the earlier
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        listed = find_matches(s, s.get(Person, cand.id), [s.get(Person, ints[0].id)], SearchRules(), NOW).slots
    assert set(alternatives) <= set(listed)


def test_idempotent_retry_returns_the_first_booking(db: Database) -> None:
    cand, ints = people(db)
    first = book_committed(db, cand, ints, slot("10:00"), idempotency_key="req-1")
    again = book_committed(db, cand, ints, slot("10:00"), idempotency_key="req-1")
    assert again.replayed and again.interview.id == first.interview.id
    assert count(db, Interview) == 1 and count(db, InterviewParticipant) == 2


def test_a_key_reused_for_another_slot_or_panel_is_an_error(db: Database) -> None:
    cand, ints = people(db, 2)
    book_committed(db, cand, ints[:1], slot("10:00"), idempotency_key="req-1")
    with pytest.raises(BookingError, match="already used"):
        book_committed(db, cand, ints[:1], slot("14:00"), idempotency_key="req-1")
    with pytest.raises(BookingError, match="already used"):
        book_committed(db, cand, ints, slot("10:00"), idempotency_key="req-1")
    assert count(db, Interview) == 1


def _cancel(db: Database, interview_id: int, now=NOW) -> Interview:
    with db.unit_of_work() as uow:
        result = cancel(uow.session, "local", interview_id, now=now)
        uow.commit()
        return result


def _move(db: Database, interview_id: int, to: Interval, rules: SearchRules | None = None) -> Interview:
    with db.unit_of_work() as uow:
        result = reschedule(uow.session, "local", interview_id, to, rules=rules or SearchRules(), now=NOW)
        uow.commit()
        return result


def test_cancel_deactivates_participants_bumps_sequence_and_frees_the_time(db: Database) -> None:
    cand, ints = people(db)
    interview = book_committed(db, cand, ints, slot("10:00")).interview
    cancelled = _cancel(db, interview.id)
    assert cancelled.status is InterviewStatus.cancelled and cancelled.sequence == 1
    assert not any(p.active for p in cancelled.participants)
    with pytest.raises(BookingError, match="already cancelled"):
        _cancel(db, interview.id)
    assert not book_committed(db, cand, ints, slot("10:00")).replayed


def test_cancel_refuses_past_and_unknown_interviews(db: Database) -> None:
    cand, ints = people(db)
    interview = book_committed(db, cand, ints, slot("10:00")).interview
    with pytest.raises(BookingError, match="already started"):
        _cancel(db, interview.id, now=AFTER_DAY)
    with pytest.raises(BookingError, match="no interview"):
        _cancel(db, interview.id + 100)


def test_reschedule_moves_interview_and_participants_and_frees_the_old_time(db: Database) -> None:
    cand, ints = people(db)
    interview = book_committed(db, cand, ints, slot("10:00")).interview
    moved = _move(db, interview.id, slot("10:30"))  # overlapping its own old time is fine
    assert moved.sequence == 1 and (moved.start_at, moved.end_at) == (slot("10:30").start, slot("10:30").end)
    assert {(p.start_at, p.end_at, p.active) for p in moved.participants} == {
        (slot("10:30").start, slot("10:30").end, True)}
    book_committed(db, cand, ints, slot("09:00"))
    assert count(db, Interview) == 2


def test_reschedule_into_a_taken_slot_is_refused_with_alternatives(db: Database) -> None:
    cand, ints = people(db)
    interview = book_committed(db, cand, ints, slot("10:00")).interview
    _busy(db, ints[0], slot("14:00"))
    with pytest.raises(SlotTaken, match="just taken") as err:
        _move(db, interview.id, slot("14:00"))
    assert err.value.alternatives
    _cancel(db, interview.id)
    with pytest.raises(BookingError, match="cancelled"):
        _move(db, interview.id, slot("15:00"))


def _grade(db: Database, interview_id: int, who: Person, grade: int, now=AFTER_DAY) -> None:
    with db.unit_of_work() as uow:
        s = uow.session
        record_grade(s, interview_id, interviewer=s.get(Person, who.id), grade=grade, now=now)
        uow.commit()


def test_grades_by_interviewers_after_the_end_and_regrading_overwrites(db: Database) -> None:
    cand, ints = people(db, 2)
    interview = book_committed(db, cand, ints[:1], slot("10:00")).interview
    with pytest.raises(BookingError, match="not ended"):
        _grade(db, interview.id, ints[0], 3, now=slot("10:30").start)
    with pytest.raises(BookingError, match="Only the interviewers"):
        _grade(db, interview.id, cand, 3)
    with pytest.raises(BookingError, match="Only the interviewers"):
        _grade(db, interview.id, ints[1], 3)
    for bad in (-1, 6):
        with pytest.raises(BookingError, match="0 to 5"):
            _grade(db, interview.id, ints[0], bad)
    _grade(db, interview.id, ints[0], 2)
    _grade(db, interview.id, ints[0], 5)
    with db.unit_of_work(write=False) as uow:
        row = uow.session.get(InterviewParticipant, (interview.id, ints[0].id))
        assert row.grade == 5 and row.graded_at == AFTER_DAY


def test_listings_and_completing_past_interviews(db: Database) -> None:
    cand, ints = people(db, 2)
    early = book_committed(db, cand, ints[:1], slot("09:00")).interview
    late = book_committed(db, cand, ints[1:], slot("15:00")).interview
    gone = book_committed(db, cand, ints[1:], slot("12:00")).interview
    _cancel(db, gone.id)
    with db.unit_of_work() as uow:
        s = uow.session
        assert [i.id for i in upcoming_for(s, s.get(Person, cand.id), NOW, 10)] == [early.id, late.id]
        assert [i.id for i in upcoming_for(s, s.get(Person, ints[1].id), NOW, 10)] == [late.id]
        assert [i.id for i in upcoming_for(s, s.get(Person, cand.id), NOW, 1)] == [early.id]
        assert [i.id for i in upcoming_all(s, "local", NOW, 10)] == [early.id, late.id]
        assert upcoming_all(s, "elsewhere", NOW, 10) == []
        listed = upcoming_all(s, "local", NOW, 10)[0]
        assert {p.person.handle for p in listed.participants} == {"UCAND", "UINT0"}
        assert complete_past(s, slot("11:00").start) == 1
        assert [i.id for i in upcoming_for(s, s.get(Person, cand.id), slot("11:00").start, 10)] == [late.id]
        on_day = interviews_on_day(s, "local", DAY.start, AFTER_DAY)
        assert [(i.id, i.status) for i in on_day] == [
            (early.id, InterviewStatus.completed), (late.id, InterviewStatus.booked)]
        assert interviews_on_day(s, "local", AFTER_DAY, AFTER_DAY + timedelta(days=1)) == []
        uow.commit()


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_book_succeeds_exactly_for_the_slots_the_search_lists(db: Database, seed: int) -> None:
    """For every grid start around the day, `book` (never committed) agrees with the listing."""
    rng = random.Random(seed)
    cand, ints = people(db, 2)
    with db.unit_of_work() as uow:
        for person in [cand, *ints]:
            for _ in range(rng.randrange(0, 3)):
                start = DAY.start + timedelta(minutes=15 * rng.randrange(0, 40))
                add_busy(uow.session, uow.session.get(Person, person.id),
                         Interval(start, start + timedelta(minutes=15 * rng.randrange(1, 5))))
        uow.commit()
    other = add_person(db, "UOTHER", Role.candidate)
    with db.unit_of_work() as uow:
        add_windows(uow.session, uow.session.get(Person, other.id), [DAY])
        uow.commit()
    listed_before = []
    for hh in ("08:00", "16:00"):  # existing bookings of an interviewer: their buffers count too
        try:
            book_committed(db, other, ints[:1], slot(hh))
            listed_before.append(hh)
        except SlotTaken:
            pass
    rules = SearchRules(buffer_before=timedelta(minutes=rng.choice([0, 15, 30])),
                        buffer_after=timedelta(minutes=rng.choice([0, 15])),
                        min_notice=timedelta(hours=rng.choice([24, 9 * 24 + 2])))
    policy = Policy(cap_per_day=rng.choice([None, 3]))  # the two bookings above count toward it
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        listed = set(find_matches(s, s.get(Person, cand.id), [s.get(Person, i.id) for i in ints], rules, NOW,
                                  policy=policy).slots)
    step = timedelta(minutes=15)
    grid = [Interval(DAY.start - timedelta(hours=1) + k * step, DAY.start - timedelta(hours=1) + k * step
                     + rules.duration) for k in range(48)]
    outcomes = []
    for at in grid:
        with db.unit_of_work() as uow:  # never committed: each try starts from the same data
            s = uow.session
            try:
                book(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, i.id) for i in ints],
                     slot=at, rules=rules, now=NOW, policy=policy)
                outcomes.append(True)
            except SlotTaken:
                outcomes.append(False)
        assert outcomes[-1] == (at in listed), at
    assert any(outcomes) and not all(outcomes)
    assert count(db, Interview) == len(listed_before)
