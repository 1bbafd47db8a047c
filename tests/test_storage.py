"""Storage on a real SQLite file and (with TEST_DATABASE_URL) on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select

from scheduling.intervals import Interval
from scheduling.slots import SearchRules
from storage import people as people_store
from storage.availability import (
    UnknownWindow,
    add_windows,
    clear_windows,
    list_windows,
    remove_window,
    windows_between,
)
from storage.busy import add_busy, blocks_between
from storage.db import Database
from storage.matching import InvalidPanel, find_matches
from storage.migrate import HEAD, current, heads
from storage.models import AvailabilityWindow, Person, Role
from tests.factories import add_person, utc

NOW = utc("2026-11-23 09:00")


def test_migrations_reach_head_and_create_tables(db: Database) -> None:
    assert heads() == (HEAD,), "a new migration: set storage.migrate.HEAD to it"
    assert current(db) == HEAD
    names = set(inspect(db.engine).get_table_names())
    assert {"people", "availability_windows", "busy_blocks", "interviews", "reminders"} <= names


def test_the_migrations_build_exactly_the_models(db: Database) -> None:
    """Every model change has its migration: autogenerate finds nothing to add or drop."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    with db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_instants_round_trip_as_aware_utc(db: Database) -> None:
    ana = add_person(db, "U1", Role.candidate, tz="Europe/Berlin")
    with db.unit_of_work() as uow:
        person = uow.session.get(Person, ana.id)
        add_windows(uow.session, person, [Interval(utc("2026-12-02 10:00"), utc("2026-12-02 14:00"))])
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        window = uow.session.scalars(select(AvailabilityWindow)).one()
        assert window.start_at == utc("2026-12-02 10:00")
        assert window.start_at.utcoffset() == timedelta(0)


def test_unit_of_work_rolls_back_unless_committed(db: Database) -> None:
    with db.unit_of_work() as uow:
        people_store.upsert_person(uow.session, "local", "U9", name="Nobody")
    with db.unit_of_work(write=False) as uow:
        assert people_store.find_person(uow.session, "local", "U9") is None


def test_exception_inside_unit_of_work_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        people_store.upsert_person(uow.session, "local", "U9", name="Nobody")
        uow.flush()
        raise RuntimeError("boom")
    with db.unit_of_work(write=False) as uow:
        assert people_store.find_person(uow.session, "local", "U9") is None


def test_people_found_by_slack_id_or_email_and_roles_granted(db: Database) -> None:
    with db.unit_of_work() as uow:
        slack = people_store.upsert_person(uow.session, "T1", "u123", name="Ana", tz="Europe/Lisbon")
        mail = people_store.upsert_person(uow.session, "T1", "Bob@Example.com", name="Bob")
        assert people_store.grant(uow.session, slack, Role.hr)
        assert not people_store.grant(uow.session, slack, Role.hr)
        people_store.grant(uow.session, mail, Role.candidate)
        uow.commit()
    with db.unit_of_work() as uow:
        ana = people_store.get_person(uow.session, "T1", "U123")
        assert ana.role_names == {"hr"}
        assert people_store.get_person(uow.session, "T1", "bob@example.com").name == "Bob"
        assert people_store.find_person(uow.session, "T2", "U123") is None
        assert people_store.revoke(uow.session, ana, Role.hr)
        assert not people_store.revoke(uow.session, ana, Role.hr)
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        assert people_store.get_person(uow.session, "T1", "U123").role_names == set()
        with pytest.raises(people_store.UnknownPerson):
            people_store.get_person(uow.session, "T1", "U404")


def _windows(db: Database, person: Person) -> list[tuple[str, str]]:
    with db.unit_of_work(write=False) as uow:
        rows = list_windows(uow.session, uow.session.get(Person, person.id))
        return [(f"{w.start_at:%d %H:%M}", f"{w.end_at:%d %H:%M}") for w in rows]


def _add(db: Database, person: Person, *spans: tuple[str, str]) -> None:
    with db.unit_of_work() as uow:
        add_windows(
            uow.session,
            uow.session.get(Person, person.id),
            [Interval(utc(a), utc(b)) for a, b in spans],
        )
        uow.commit()


def test_windows_merge_overlapping_and_touching_but_not_separate(db: Database) -> None:
    ana = add_person(db, "U1", Role.candidate)
    _add(db, ana, ("2026-12-02 09:00", "2026-12-02 10:00"))
    _add(db, ana, ("2026-12-02 10:00", "2026-12-02 11:00"))  # touching
    _add(db, ana, ("2026-12-02 10:30", "2026-12-02 12:00"))  # overlapping
    _add(db, ana, ("2026-12-02 14:00", "2026-12-02 15:00"))  # separate
    _add(db, ana, ("2026-12-02 09:00", "2026-12-02 10:00"))  # duplicate
    assert _windows(db, ana) == [("02 09:00", "02 12:00"), ("02 14:00", "02 15:00")]
    _add(db, ana, ("2026-12-02 11:00", "2026-12-02 14:30"))  # bridges both
    assert _windows(db, ana) == [("02 09:00", "02 15:00")]


def test_windows_of_other_people_never_merge(db: Database) -> None:
    ana = add_person(db, "U1", Role.candidate)
    bob = add_person(db, "U2", Role.interviewer)
    _add(db, ana, ("2026-12-02 09:00", "2026-12-02 10:00"))
    _add(db, bob, ("2026-12-02 09:30", "2026-12-02 11:00"))
    assert _windows(db, ana) == [("02 09:00", "02 10:00")]
    assert _windows(db, bob) == [("02 09:30", "02 11:00")]


def test_remove_and_clear_windows(db: Database) -> None:
    ana = add_person(db, "U1", Role.candidate)
    bob = add_person(db, "U2", Role.candidate)
    _add(db, ana, ("2026-12-02 09:00", "2026-12-02 10:00"), ("2026-12-03 09:00", "2026-12-03 10:00"))
    _add(db, bob, ("2026-12-02 09:00", "2026-12-02 10:00"))
    with db.unit_of_work() as uow:
        person = uow.session.get(Person, ana.id)
        first = list_windows(uow.session, person)[0]
        other = list_windows(uow.session, uow.session.get(Person, bob.id))[0]
        with pytest.raises(UnknownWindow):
            remove_window(uow.session, person, other.id)  # not hers
        remove_window(uow.session, person, first.id)
        uow.commit()
    assert _windows(db, ana) == [("03 09:00", "03 10:00")]
    with db.unit_of_work() as uow:
        assert clear_windows(uow.session, uow.session.get(Person, ana.id)) == 1
        uow.commit()
    assert _windows(db, ana) == []
    assert _windows(db, bob) == [("02 09:00", "02 10:00")]


def test_range_queries_return_only_overlapping_rows(db: Database) -> None:
    ana = add_person(db, "U1", Role.candidate)
    _add(db, ana, ("2026-12-01 09:00", "2026-12-01 10:00"), ("2026-12-05 09:00", "2026-12-05 10:00"))
    with db.unit_of_work() as uow:
        person = uow.session.get(Person, ana.id)
        add_busy(uow.session, person, Interval(utc("2026-12-05 09:15"), utc("2026-12-05 09:45")))
        uow.commit()
        found = windows_between(uow.session, [ana.id], utc("2026-12-01 10:00"), utc("2026-12-06 00:00"))
        assert found == {ana.id: [Interval(utc("2026-12-05 09:00"), utc("2026-12-05 10:00"))]}
        busy = blocks_between(uow.session, [ana.id], utc("2026-12-05 00:00"), utc("2026-12-05 09:15"))
        assert busy == {ana.id: []}


def test_find_matches_on_stored_data(db: Database) -> None:
    cand = add_person(db, "U1", Role.candidate)
    inter = add_person(db, "U2", Role.interviewer)
    _add(db, inter, ("2026-12-02 09:00", "2026-12-02 12:00"))
    _add(db, cand, ("2026-12-02 11:00", "2026-12-02 14:00"))
    with db.unit_of_work(write=False) as uow:
        c, i = uow.session.get(Person, cand.id), uow.session.get(Person, inter.id)
        outcome = find_matches(uow.session, c, [i], SearchRules(), NOW)
        assert outcome.slots == [Interval(utc("2026-12-02 11:00"), utc("2026-12-02 12:00"))]
        with pytest.raises(InvalidPanel):
            find_matches(uow.session, c, [], SearchRules(), NOW)
        with pytest.raises(InvalidPanel):
            find_matches(uow.session, i, [c], SearchRules(), NOW)  # roles swapped


def test_busy_block_and_diagnosis(db: Database) -> None:
    cand = add_person(db, "U1", Role.candidate, name="Cara")
    inter = add_person(db, "U2", Role.interviewer, name="Ivan")
    _add(db, inter, ("2026-12-02 09:00", "2026-12-02 12:00"))
    _add(db, cand, ("2026-12-02 11:00", "2026-12-02 14:00"))
    with db.unit_of_work() as uow:
        add_busy(uow.session, uow.session.get(Person, inter.id), Interval(utc("2026-12-02 11:30"), utc("2026-12-02 12:00")))
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        c, i = uow.session.get(Person, cand.id), uow.session.get(Person, inter.id)
        outcome = find_matches(uow.session, c, [i], SearchRules(), NOW)
        assert outcome.slots == []
        assert outcome.diagnosis is not None and outcome.diagnosis.reasons
