"""Loop templates searched and booked, on SQLite and PostgreSQL: `slots --template` lists each
loop with its sessions (pools, breaks, fair choice, why), `book` writes one interview per
session in one transaction, once per request key, all or nothing, and twenty concurrent
bookers of one option make exactly one loop."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

import storage.loop_booking as loop_booking
from bot.cli import main
from bot.settings import Settings
from bot.usecases import booking, loops, search
from bot.usecases.context import Context
from scheduling.errors import SchedulingError
from scheduling.intervals import Interval
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import book
from storage.busy import add_busy
from storage.db import Database
from storage.loop_matching import LoopOutcome, cast_of, find_loop_matches
from storage.loop_templates import SessionDef, create_loop_template
from storage.models import Interview, InterviewParticipant, Person, Reminder, SessionOrder
from storage.pools import add_members
from storage.templates import TemplateRules, create_template, get_template, policy_for, rules_for
from tests.factories import add_person, utc
from tests.test_booking_concurrency import PeakConnections, race

NOW = utc("2026-11-30 08:00")  # a Monday
NOW_ARG = ["--now", "2026-11-30T08:00:00Z"]
DAY = Interval(utc("2026-12-02 09:00"), utc("2026-12-02 13:00"))
START = "2026-12-02T09:00:00Z"
HALF_HOUR = SearchRules(duration=timedelta(minutes=30), step=timedelta(minutes=15))
# Coding 60, break 15, Design 45, break 15, Values 30: 165 minutes from each start.
ONSITE = [SessionDef("Coding", 60, pool="backend", k=1), SessionDef("Design", 45, pool="design", k=2)]


def team(db: Database) -> dict[str, Person]:
    """Cara (the candidate), Ana (named for Values), pools backend (U0, U1) and design (U2–U4),
    all free 09:00–13:00 on Wednesday 2 December; U0 already interviews on Thursday."""
    people = {"C1": add_person(db, "C1", "candidate", name="Cara"), "C2": add_person(db, "C2", "candidate"),
              "UANA": add_person(db, "UANA", "interviewer", name="Ana")}
    people |= {f"U{i}": add_person(db, f"U{i}", "interviewer", name=f"Member {i}") for i in range(5)}
    thursday = Interval(utc("2026-12-03 09:00"), utc("2026-12-03 10:00"))
    with db.unit_of_work() as uow:
        s = uow.session
        got = {h: s.get(Person, p.id) for h, p in people.items()}
        for p in got.values():
            add_windows(s, p, [DAY, thursday])
        add_members(s, "local", "backend", [got["U0"], got["U1"]])
        add_members(s, "local", "design", [got["U2"], got["U3"], got["U4"]])
        create_loop_template(s, "local", "Onsite", [*ONSITE, SessionDef("Values", 30, people=(got["UANA"].id,))],
                             break_min=15)
        create_template(s, "local", "Screen", 30, [got["UANA"].id])
        book(s, candidate=got["C2"], interviewers=[got["U0"]], slot=thursday, rules=SearchRules(), now=NOW)
        uow.commit()
    return people


@pytest.fixture
def cli(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Person]:
    monkeypatch.setenv("DATABASE_URL", db.url)
    monkeypatch.chdir(tmp_path)
    return team(db)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([*argv, *NOW_ARG])
    out, err = capsys.readouterr()
    return code, out, err


def book_cli(capsys: pytest.CaptureFixture[str], start: str = START, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "book", "--candidate", "C1", "--template", "Onsite", "--start", start, *extra)


def count(db: Database, model: type) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


def hhmm(iso: str) -> str:
    return iso[11:16]


def context(db: Database) -> Context:
    settings = Settings.from_env({"DATABASE_URL": db.url}, dotenv=Path("/nonexistent/.env"))
    return Context(db=db, settings=settings, clock=lambda: NOW)


def test_slots_lists_each_loop_with_its_sessions(db: Database, cli: dict[str, Person], capsys) -> None:
    code, out, _ = run(capsys, "slots", "--candidate", "C1", "--template", "Onsite", "--json")
    options = json.loads(out)["availableSlots"]
    assert code == 0
    assert [(hhmm(o["start"]), hhmm(o["end"])) for o in options] == [("09:00", "11:45"), ("09:30", "12:15"),
                                                                      ("10:00", "12:45")]
    first = options[0]["sessions"]
    assert [(s["name"], hhmm(s["start"]), hhmm(s["end"]), s["interviewers"]) for s in first] == [
        ("Coding", "09:00", "10:00", ["U1"]),  # U0 has one interview this week already
        ("Design", "10:15", "11:00", ["U2", "U3"]),
        ("Values", "11:15", "11:45", ["UANA"])]
    assert first[0]["why"] == "Member 1: 0 this week, team median 0.5, 0 in 30 days, no interview yet"
    assert first[0]["others"] == ["U0"] and first[1]["others"] == ["U4"]
    assert first[2]["why"] == "named in the template" and all(s["shadows"] == [] for s in first)
    assert options[0]["start"] == START and first[-1]["end"] == options[0]["end"]
    code, out, _ = run(capsys, "slots", "--candidate", "C1", "--template", "Onsite", "--from", "2026-12-02T09:30:00Z")
    assert out.startswith("Cara with the loop Onsite: 2 option(s)\n  2026-12-02T09:30:00Z – 2026-12-02T12:15:00Z\n")
    assert "    2026-12-02T09:30:00Z  Coding: Member 1  (Member 1: 0 this week" in out
    code, out, _ = run(capsys, "slots", "--candidate", "C1", "--template", "Screen", "--json")  # as before
    assert json.loads(out)["availableSlots"][0] == {"start": START, "end": "2026-12-02T09:30:00Z"}


def test_book_writes_one_interview_per_session_once(db: Database, cli: dict[str, Person], capsys) -> None:
    code, out, err = book_cli(capsys)
    ids = json.loads(out)["interviews"]
    assert (code, err, len(ids)) == (0, "", 3)
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        onsite = get_template(s, "local", "Onsite")
        interviews = [s.get(Interview, i) for i in ids]
        assert [(hhmm(i.start_at.isoformat()), hhmm(i.end_at.isoformat())) for i in interviews] == [
            ("09:00", "10:00"), ("10:15", "11:00"), ("11:15", "11:45")]
        assert [sorted(p.person.handle for p in i.participants) for i in interviews] == [
            ["C1", "U1"], ["C1", "U2", "U3"], ["C1", "UANA"]]
        assert {i.template_id for i in interviews} == {onsite.id}
        key = f"loop:{onsite.id}:{cli['C1'].id}:{START}"
        assert [i.idempotency_key for i in interviews] == [f"{key}/0", f"{key}/1", f"{key}/2"]
        assert all(s.scalars(select(Reminder).where(Reminder.interview_id == i.id)).all() for i in interviews)
        assert [i.title for i in interviews] == [sess.name for sess in onsite.sessions]
        assert f"SUMMARY:{interviews[0].title}: Cara" in booking.invitation(interviews[0], "booked", None, utc(START[:16].replace("T", " ")))
    code, out, err = book_cli(capsys)  # the same option again: nothing new
    assert code == 0 and json.loads(out)["interviews"] == ids and "already booked" in err
    code, out, err = book_cli(capsys, START, "--key", "hr-second-try")
    assert code == 2 and out == ""
    assert "That loop cannot start then: someone just booked Cara at that time. Nearest options: none." in err
    assert count(db, Interview) == 4  # the loop's three and Thursday's


def test_a_session_whose_interviewer_became_busy_books_nothing(db: Database, cli: dict[str, Person], capsys) -> None:
    with db.unit_of_work() as uow:  # after the listing, Ana's Values session at 11:15 is gone
        add_busy(uow.session, uow.session.get(Person, cli["UANA"].id), Interval(utc("2026-12-02 11:15"),
                                                                                utc("2026-12-02 11:45")))
        uow.commit()
    code, out, err = book_cli(capsys)
    assert code == 2 and out == "" and "That loop cannot start then: the search does not list that start" in err
    assert "Nearest options: 2026-12-02T09:30:00Z, 2026-12-02T10:00:00Z." in err
    assert count(db, Interview) == 1 and count(db, Reminder) == 0


def test_a_chosen_member_who_became_busy_is_replaced_fairly(db: Database, cli: dict[str, Person], capsys) -> None:
    with db.unit_of_work() as uow:
        add_busy(uow.session, uow.session.get(Person, cli["U1"].id), Interval(utc("2026-12-02 09:00"),
                                                                              utc("2026-12-02 10:00")))
        uow.commit()
    ids = json.loads(book_cli(capsys)[1])["interviews"]
    with db.unit_of_work(write=False) as uow:
        coding = uow.session.get(Interview, ids[0])
        assert sorted(p.person.handle for p in coding.participants) == ["C1", "U0"]


def test_writes_are_all_or_nothing_under_the_constraint(db: Database, cli: dict[str, Person], monkeypatch) -> None:
    """The re-check is fooled (it sees the time before Ana was booked at 11:15): the Coding and
    Design interviews are written, the Values one hits the exclusion constraint, and the whole
    loop is undone."""
    if db.is_sqlite:
        pytest.skip("the exclusion constraint is PostgreSQL's; on SQLite the re-check is the guard")
    stale = _options(db)
    real = find_loop_matches
    monkeypatch.setattr(loop_booking, "find_loop_matches",
                        lambda s, t, cast, *a, **kw: LoopOutcome(list(stale), real(s, t, cast, *a, **kw).people))
    with db.unit_of_work() as uow:
        s = uow.session
        values = Interval(utc("2026-12-02 11:15"), utc("2026-12-02 11:45"))
        book(s, candidate=s.get(Person, cli["C2"].id), interviewers=[s.get(Person, cli["UANA"].id)], slot=values,
             rules=HALF_HOUR, now=NOW)
        uow.commit()
    result = loops.book_loop(context(db), loops.BookLoop("local", None, "C1", "Onsite", utc("2026-12-02 09:00")))
    assert isinstance(result, loops.LoopGone) and "That loop was just taken" in result.reason
    assert count(db, Interview) == 2 and count(db, InterviewParticipant) == 4


def _options(db: Database) -> list:
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        onsite = get_template(s, "local", "Onsite")
        cara = s.scalars(select(Person).where(Person.slack_user_id == "C1")).one()
        return find_loop_matches(s, onsite, cast_of(s, onsite, cara), rules_for(onsite), NOW,
                                 policy=policy_for(onsite)).options


def test_named_caps_and_free_order(db: Database, cli: dict[str, Person]) -> None:
    bo = add_person(db, "UBO", "interviewer", name="Bo")
    with db.unit_of_work() as uow:
        s = uow.session
        add_windows(s, s.get(Person, bo.id), [Interval(utc("2026-12-02 09:00"), utc("2026-12-02 10:00"))])
        sessions = [SessionDef("Coding", 60, pool="backend", k=1), SessionDef("Chat", 60, people=(bo.id,))]
        create_loop_template(s, "local", "Fixed", sessions)
        create_loop_template(s, "local", "Flex", sessions, order=SessionOrder.free)
        create_loop_template(s, "local", "Capped", [SessionDef("Values", 30, people=(cli["UANA"].id,))],
                             TemplateRules(cap_per_day=1))
        book(s, candidate=s.get(Person, cli["C2"].id), interviewers=[s.get(Person, cli["UANA"].id)],
             slot=Interval(utc("2026-12-02 12:30"), utc("2026-12-02 13:00")), rules=HALF_HOUR, now=NOW)
        uow.commit()
    ctx = context(db)
    assert loops.search_loop(ctx, loops.SearchLoop("local", None, "C1", "Fixed")).options == ()
    flex = loops.search_loop(ctx, loops.SearchLoop("local", None, "C1", "Flex")).options
    assert [(s.name, s.slot.start) for s in flex[0].sessions] == [("Chat", utc("2026-12-02 09:00")),
                                                                    ("Coding", utc("2026-12-02 10:00"))]
    booked = loops.book_loop(ctx, loops.BookLoop("local", None, "C1", "Flex", utc("2026-12-02 09:00")))
    assert isinstance(booked, loops.LoopBooked) and booked.sessions == tuple(s.slot for s in flex[0].sessions)
    capped = loops.search_loop(ctx, loops.SearchLoop("local", None, "C2", "Capped"))
    assert capped.options == () and "Ana already has 1 interview(s) on" in capped.notes[0]


def test_loops_stay_out_of_single_interview_paths(db: Database, cli: dict[str, Person], capsys) -> None:
    code, _, err = run(capsys, "slots", "--candidate", "C1", "--template", "Onsite", "--interviewers", "U0")
    assert code == 2 and "--interviewers cannot be used with a loop template" in err
    code, _, err = run(capsys, "book", "--candidate", "C1", "--template", "Screen", "--start", START)
    assert code == 2 and "The template 'Screen' is not a loop" in err
    with pytest.raises(SchedulingError, match="Onsite is a loop of 3 sessions"):
        search.search_slots(context(db), search.SearchSlots("local", None, "C1", (), template="Onsite"))


def test_a_loop_session_moves_under_the_loops_rules_at_its_own_length(db: Database, cli: dict[str, Person]) -> None:
    ctx = context(db)
    booked = loops.book_loop(ctx, loops.BookLoop("local", None, "C1", "Onsite", utc("2026-12-02 09:00")))
    assert isinstance(booked, loops.LoopBooked)
    moved = booking.move_interview(ctx, booking.Move("local", None, booked.interview_ids[2], utc("2026-12-02 12:00")))
    assert moved.when == Interval(utc("2026-12-02 12:00"), utc("2026-12-02 12:30"))


@pytest.fixture
def wide(db: Database) -> Iterator[Database]:
    """The same database with a pool of 25, so twenty racers really hold twenty connections."""
    database = Database(db.url, pool_size=25, max_overflow=0)
    yield database
    database.dispose()


def _race(wide: Database, keys: list[str | None]) -> tuple[list, list[BaseException], int]:
    ctx = context(wide)
    peak = PeakConnections(wide)
    jobs = [lambda key=key: loops.book_loop(ctx, loops.BookLoop("local", None, "C1", "Onsite", utc("2026-12-02 09:00"),
                                                                key)) for key in keys]
    results, errors = race(jobs)
    return results, errors, peak.peak


def _one_loop(db: Database) -> None:
    assert count(db, Interview) == 1 + 3 and count(db, InterviewParticipant) == 2 + 2 + 3 + 2
    with db.unit_of_work(write=False) as uow:
        keys = uow.session.scalars(select(Interview.idempotency_key).where(Interview.idempotency_key.is_not(None)))
        assert len({k.rsplit("/", 1)[0] for k in keys}) == 1  # the three sessions of one booking


def test_twenty_bookers_of_one_option_make_one_loop(db: Database, cli: dict[str, Person], wide: Database) -> None:
    results, errors, peak = _race(wide, [f"hr-{i}" for i in range(20)])
    assert errors == []
    won = [r for r in results if isinstance(r, loops.LoopBooked)]
    lost = [r for r in results if isinstance(r, loops.LoopGone)]
    assert len(won) == 1 and len(lost) == 19 and not won[0].replayed
    assert all("someone just booked Cara at that time" in r.reason for r in lost), lost
    _one_loop(db)
    assert peak >= 10, peak  # the racers held their units of work open at the same time


def test_twenty_retries_of_one_request_book_it_once(db: Database, cli: dict[str, Person], wide: Database) -> None:
    results, errors, _ = _race(wide, [None] * 20)
    assert errors == [] and all(isinstance(r, loops.LoopBooked) for r in results)
    assert len({r.interview_ids for r in results}) == 1 and sum(not r.replayed for r in results) == 1
    _one_loop(db)


def test_postgres_constraint_alone_keeps_loops_whole(db: Database, cli: dict[str, Person], wide: Database,
                                                     monkeypatch) -> None:
    """No locks and a re-check that always says yes: only the exclusion constraint decides, and
    still one whole loop is written; the losers' savepoints leave nothing behind."""
    if db.is_sqlite:
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite serialises writers instead")
    stale = _options(db)
    real = find_loop_matches
    monkeypatch.setattr(loop_booking, "lock_people", lambda *a, **kw: [])
    monkeypatch.setattr(loop_booking, "find_loop_matches",
                        lambda s, t, cast, *a, **kw: LoopOutcome(list(stale), real(s, t, cast, *a, **kw).people))
    results, errors, _ = _race(wide, [f"hr-{i}" for i in range(20)])
    assert errors == [] and sum(isinstance(r, loops.LoopBooked) for r in results) == 1
    assert all("That loop was just taken" in r.reason for r in results if isinstance(r, loops.LoopGone))
    _one_loop(db)


def test_a_sessions_notice_names_the_session_escaped() -> None:
    from zoneinfo import ZoneInfo

    from bot.blocks.interviews import participant_notice

    when = Interval(utc("2026-12-02 09:00"), utc("2026-12-02 10:00"))
    text, _ = participant_notice("booked", when, ZoneInfo("UTC"), "Ivan", "Hana", title="Coding <!channel>")
    assert text.startswith(":calendar: Coding &lt;!channel&gt; interview booked:")
    plain, _ = participant_notice("booked", when, ZoneInfo("UTC"), "Ivan", "Hana")
    assert plain.startswith(":calendar: Interview booked:")
