"""Kept free time is never stale: every write moves the version, in any process, and a search
answers exactly what a search from the rows answers, through any sequence of changes."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select, update

from scheduling.intervals import Interval
from scheduling.slots import SearchRules, find_slots
from storage.availability import add_windows, clear_windows
from storage.booking import SlotTaken, book, cancel, record_grade, reschedule
from storage.busy import add_busy, replace_source_blocks
from storage.db import Database
from storage.matching import find_matches, load_participants
from storage.models import BusyBlock, InterviewParticipant, Person, Role
from tests.factories import add_person, utc

NOW = utc("2026-12-01 08:00")
RULES = SearchRules(min_notice=timedelta(hours=1), horizon=timedelta(days=6), buffer_after=timedelta(minutes=15))


def version(db: Database, person: Person) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(Person.free_version).where(Person.id == person.id))


def changed(db: Database, person: Person, write) -> bool:
    """Does committing `write(session, person)` give the person a new version?"""
    before = version(db, person)
    with db.unit_of_work() as uow:
        write(uow.session, uow.session.get(Person, person.id))
        uow.commit()
    return version(db, person) != before


def test_every_write_that_moves_free_time_gives_a_new_version(db: Database) -> None:
    cand = add_person(db, "U1", Role.candidate)
    inter = add_person(db, "U2", Role.interviewer)
    day = Interval(utc("2026-12-02 09:00"), utc("2026-12-02 17:00"))
    slot = Interval(utc("2026-12-02 10:00"), utc("2026-12-02 11:00"))
    for p in (cand, inter):
        assert changed(db, p, lambda s, me: add_windows(s, me, [day]))
    assert changed(db, inter, lambda s, me: add_busy(s, me, Interval(utc("2026-12-02 15:00"), utc("2026-12-02 16:00"))))
    assert changed(db, inter, lambda s, me: s.execute(
        update(BusyBlock).where(BusyBlock.person_id == me.id).values(end_at=utc("2026-12-02 16:30"))))
    assert changed(db, inter, lambda s, me: replace_source_blocks(s, me, "manual", day, []))
    booked = {}

    def book_it(s, me) -> None:
        booked["id"] = book(s, candidate=s.get(Person, cand.id), interviewers=[me], slot=slot,
                            rules=RULES, now=NOW).interview.id

    assert changed(db, inter, book_it)
    moved = Interval(utc("2026-12-02 12:00"), utc("2026-12-02 13:00"))
    assert changed(db, cand, lambda s, me: reschedule(s, "local", booked["id"], moved, rules=RULES, now=NOW))
    with db.unit_of_work() as uow:  # a grade does not move anyone's time
        uow.session.execute(update(InterviewParticipant).values(grade=3))
        uow.commit()
    assert not changed(db, inter, lambda s, me: record_grade(
        s, booked["id"], interviewer=me, grade=4, now=utc("2026-12-03 09:00")))
    assert changed(db, inter, lambda s, me: cancel(s, "local", booked["id"], now=NOW))
    assert changed(db, cand, lambda s, me: clear_windows(s, me))


def test_a_version_seen_in_a_rolled_back_transaction_never_returns(db: Database) -> None:
    person = add_person(db, "U1", Role.interviewer)
    day = Interval(utc("2026-12-02 09:00"), utc("2026-12-02 17:00"))
    with db.unit_of_work() as uow:
        add_windows(uow.session, uow.session.get(Person, person.id), [day])
        seen = uow.session.scalar(select(Person.free_version).where(Person.id == person.id))
        # not committed
    for _ in range(5):
        with db.unit_of_work() as uow:
            add_busy(uow.session, uow.session.get(Person, person.id), Interval(day.start, day.start + timedelta(minutes=5)))
            uow.commit()
        assert version(db, person) != seen


def test_a_change_through_another_engine_is_seen(db_url: str) -> None:
    """Two processes sharing a database: a search in one sees a write made by the other."""
    first, second = Database(db_url), Database(db_url)
    first.create_schema()
    cand = add_person(first, "U1", Role.candidate)
    inter = add_person(first, "U2", Role.interviewer)
    day = Interval(utc("2026-12-02 09:00"), utc("2026-12-02 12:00"))
    with first.unit_of_work() as uow:
        for p in (cand, inter):
            add_windows(uow.session, uow.session.get(Person, p.id), [day])
        uow.commit()

    def slots(db: Database) -> list[Interval]:
        with db.unit_of_work(write=False) as uow:
            s = uow.session
            return find_matches(s, s.get(Person, cand.id), [s.get(Person, inter.id)], RULES, NOW).slots

    assert len(slots(first)) == 5
    with second.unit_of_work() as uow:
        add_busy(uow.session, uow.session.get(Person, inter.id), Interval(day.start, day.start + timedelta(hours=2)))
        uow.commit()
    assert slots(first) == [Interval(utc("2026-12-02 11:00"), utc("2026-12-02 12:00"))]
    first.dispose()
    second.dispose()


def test_kept_answers_equal_answers_from_the_rows_through_random_changes(db: Database) -> None:
    rng = random.Random(11)
    people = [add_person(db, "C", Role.candidate)] + [add_person(db, f"I{i}", Role.interviewer) for i in range(4)]
    interviews: list[int] = []
    start = utc("2026-12-02 00:00")

    def at(hours: int, minutes: int = 0) -> Interval:
        begin = start + timedelta(hours=hours)
        return Interval(begin, begin + timedelta(minutes=minutes or 30 * rng.randint(1, 8)))

    for step in range(120):
        with db.unit_of_work() as uow:
            s = uow.session
            who = s.get(Person, rng.choice(people).id)
            action = rng.randrange(6)
            try:
                if action == 0:
                    add_windows(s, who, [at(rng.randrange(0, 120), 60 * rng.randint(2, 9))])
                elif action == 1:
                    add_busy(s, who, at(rng.randrange(0, 120)))
                elif action == 2:
                    clear_windows(s, who, since=start + timedelta(hours=rng.randrange(0, 120)))
                elif action == 3:
                    panel = [s.get(Person, p.id) for p in rng.sample(people[1:], rng.randint(1, 2))]
                    found = find_matches(s, s.get(Person, people[0].id), panel, RULES, NOW).slots
                    if found:
                        interviews.append(book(s, candidate=s.get(Person, people[0].id), interviewers=panel,
                                               slot=rng.choice(found), rules=RULES, now=NOW).interview.id)
                elif action == 4 and interviews:
                    cancel(s, "local", interviews.pop(rng.randrange(len(interviews))), now=NOW)
                elif action == 5 and interviews:
                    reschedule(s, "local", rng.choice(interviews), at(rng.randrange(0, 120), 60),
                               rules=RULES, now=NOW)
            except SlotTaken:
                continue
            if rng.random() < 0.2:
                continue  # rolled back: the kept answers must not remember it
            uow.commit()
        with db.unit_of_work(write=False) as uow:
            s = uow.session
            everyone = [s.get(Person, p.id) for p in people]
            for panel in ([everyone[1]], everyone[1:3], everyone[1:]):
                kept = find_matches(s, everyone[0], panel, RULES, NOW).slots
                fresh = find_slots(load_participants(s, [everyone[0], *panel], Interval(NOW, NOW + timedelta(days=9))),
                                   RULES, NOW)
                assert kept == fresh, f"step {step}"


def test_only_people_whose_time_changed_are_read_again_and_the_cache_is_bounded(db: Database) -> None:
    from storage.freetime import FreeTimeCache

    people = [add_person(db, f"U{i}", Role.interviewer) for i in range(3)]
    read: list[str] = []

    def counting(session, who, span):
        read.extend(p.slack_user_id for p in who)
        return load_participants(session, who, span)

    cache, bounds = FreeTimeCache(size=3), Interval(NOW, NOW + timedelta(days=7))

    def look(*who: Person) -> None:
        with db.unit_of_work(write=False) as uow:
            cache.free_times(uow.session, [uow.session.get(Person, p.id) for p in who], RULES, bounds, counting)

    look(*people)
    look(*people)
    assert read == ["U0", "U1", "U2"]
    with db.unit_of_work() as uow:
        add_busy(uow.session, uow.session.get(Person, people[1].id), Interval(NOW, NOW + timedelta(hours=1)))
        uow.commit()
    look(*people)
    assert read[3:] == ["U1"]
    cache_small = FreeTimeCache(size=2)
    cache, read[:] = cache_small, []
    look(*people)  # three people, room for two: the first one read is the one forgotten
    look(people[2], people[1])
    look(people[0])
    assert read == ["U0", "U1", "U2", "U0"]
