"""Searching with "any k of a pool" on stored data: the fairest free members are chosen (load as
stored: this week, 30 days, last interview), caps are hard limits, named people always attend,
and the command line prints the documented JSON."""

from __future__ import annotations

import json
from datetime import timedelta

from bot.cli import main
from scheduling.intervals import Interval
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import book
from storage.db import Database
from storage.models import Person
from storage.pool_matching import find_pool_matches
from storage.pools import add_members, get_pool
from tests.factories import add_person, utc

NOW = utc("2026-11-30 08:00")  # a Monday
RULES = SearchRules(min_notice=timedelta(hours=1), horizon=timedelta(days=10))
DAY = Interval(utc("2026-12-02 09:00"), utc("2026-12-02 12:00"))


def _setup(db: Database, n: int = 3) -> tuple[Person, list[Person]]:
    cand = add_person(db, "C1", "candidate", name="Cara")
    members = [add_person(db, f"U{i}", "interviewer", name=f"Member {i}") for i in range(n)]
    with db.unit_of_work() as uow:
        s = uow.session
        for p in (cand, *members):
            add_windows(s, s.get(Person, p.id), [DAY, Interval(utc("2026-12-03 09:00"), utc("2026-12-03 12:00"))])
        add_members(s, "local", "backend", [s.get(Person, p.id) for p in members])
        uow.commit()
    return cand, members


def _search(db: Database, cand: Person, k: int = 1, named: tuple[Person, ...] = (), policy: Policy | None = None):
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        return find_pool_matches(s, s.get(Person, cand.id), [s.get(Person, p.id) for p in named],
                                 get_pool(s, "local", "backend"), k, RULES, NOW, policy=policy)


def _book(db: Database, cand: Person, who: Person, start: str) -> None:
    with db.unit_of_work() as uow:
        s = uow.session
        slot = Interval(utc(start), utc(start) + timedelta(hours=1))
        book(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, who.id)], slot=slot, rules=RULES, now=NOW)
        uow.commit()


def test_the_least_loaded_free_member_is_chosen_and_says_why(db: Database) -> None:
    cand, members = _setup(db)
    first = _search(db, cand).picks[0]
    assert first.chosen == ("U0",) and first.others == ("U1", "U2")  # all equal: the stable order
    _book(db, cand, members[0], "2026-12-03 09:00")  # U0 now has one this week
    _book(db, cand, members[1], "2026-12-03 10:00")
    after = _search(db, cand)
    monday = [p for p in after.picks if p.slot.start == utc("2026-12-02 09:00")][0]
    assert monday.chosen == ("U2",) and monday.others == ("U0", "U1")
    assert monday.why == ("Member 2: 0 this week, team median 1, 0 in 30 days, no interview yet",)
    # The candidate is busy where they were booked; U0 and U1 are too.
    assert not any(p.slot.start == utc("2026-12-03 09:00") for p in after.picks)


def test_k_members_named_people_and_hard_caps(db: Database) -> None:
    cand, members = _setup(db, n=4)
    two = _search(db, cand, k=2).picks[0]
    assert two.chosen == ("U0", "U1")
    with_named = _search(db, cand, k=1, named=(members[0],)).picks[0]
    assert with_named.chosen == ("U1",) and "U0" not in with_named.others  # named people are not chosen again
    _book(db, cand, members[0], "2026-12-03 09:00")
    capped = _search(db, cand, policy=Policy(cap_per_week=1))
    assert all("U0" not in p.chosen + p.others for p in capped.picks)


def test_a_pool_too_small_says_so(db: Database) -> None:
    cand, _ = _setup(db, n=1)
    outcome = _search(db, cand, k=2)
    assert outcome.picks == [] and "1 interviewer(s) to choose from; 2 asked" in outcome.notes[0]


def test_the_command_line_prints_sessions_with_who_and_why(tmp_path, monkeypatch, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["migrate"]) == 0
    db = Database(url)
    _setup(db, n=2)
    db.dispose()
    capsys.readouterr()
    assert main(["slots", "--candidate", "C1", "--pool", "backend*2", "--duration", "60", "--now", "2026-11-30T08:00:00Z",
                 "--json"]) == 0
    first = json.loads(capsys.readouterr().out)["availableSlots"][0]
    assert first["start"] == "2026-12-02T09:00:00Z" and first["end"] == "2026-12-02T10:00:00Z"
    session = first["sessions"][0]
    assert session["interviewers"] == ["U0", "U1"] and session["shadows"] == []
    assert session["start"] == first["start"] and "Member 0: 0 this week" in session["why"]
    assert main(["slots", "--candidate", "C1", "--pool", "nope", "--now", "2026-11-30T08:00:00Z"]) == 2
    assert "There is no pool named 'nope'" in capsys.readouterr().err
