"""Interview templates: validation, lookup, rules and policy, panel searches and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.cli import main
from scheduling.intervals import Interval
from scheduling.policies import Policy, ProgrammeRules
from storage import templates as ts
from storage.availability import add_windows
from storage.busy import add_busy
from storage.db import Database
from storage.models import Person, Role
from tests.factories import add_person, utc

NOW = utc("2026-03-01 00:00")
HORIZON = timedelta(days=90)


def team(db: Database, n: int) -> tuple[Person, list[Person]]:
    """A candidate and n interviewers; interviewer i is free (09:00 + 30i min)–(12+i):00 on 2 March."""
    cand = add_person(db, "C1", Role.candidate, name="Cy")
    panel = [add_person(db, f"I{i}", Role.interviewer, name=f"Int{i}") for i in range(n)]
    with db.unit_of_work() as uow:
        s = uow.session
        add_windows(s, s.get(Person, cand.id), [Interval(utc("2026-03-02 08:00"), utc("2026-03-02 18:00"))])
        for i, p in enumerate(panel):
            opens = utc("2026-03-02 09:00") + timedelta(minutes=30 * i)
            add_windows(s, s.get(Person, p.id), [Interval(opens, utc(f"2026-03-02 {12 + i}:00"))])
        uow.commit()
    return cand, panel


def test_defaults_match_the_product(db: Database) -> None:
    _, panel = team(db, 1)
    with db.unit_of_work() as uow:
        t = ts.create_template(uow.session, "local", "Screen", 45, [panel[0].id])
        rules = ts.rules_for(t, HORIZON)
        assert (rules.duration, rules.step, rules.min_notice) == (
            timedelta(minutes=45), timedelta(minutes=30), timedelta(hours=24)
        )
        assert rules.buffer_before == rules.buffer_after == timedelta(0)
        assert ts.policy_for(t) == Policy()
        assert ts.policy_for(t, Policy(cap_per_day=3)) == Policy(cap_per_day=3)


def test_create_get_list_update_remove(db: Database) -> None:
    _, panel = team(db, 3)
    ids = [p.id for p in panel]
    with db.unit_of_work() as uow:
        s = uow.session
        rules = ts.TemplateRules(cap_per_week=4, programme=True, programme_max=10)
        t = ts.create_template(s, "local", "Panel", 90, ids[:2], rules)
        ts.create_template(s, "local", "Alpha", 30, ids[2:])
        uow.commit()
        tid = t.id
    with db.unit_of_work() as uow:
        s = uow.session
        assert ts.get_template(s, "local", tid).name == "Panel"
        assert ts.get_template(s, "local", "panel").id == tid
        assert [x.name for x in ts.list_templates(s, "local")] == ["Alpha", "Panel"]
        t = ts.get_template(s, "local", str(tid))
        assert ts.policy_for(t) == Policy(cap_per_week=4, programme=ProgrammeRules(max_completed=10))
        ts.update_template(s, t, name="Big panel", panel_ids=[ids[2], ids[0]])
        uow.commit()
    with db.unit_of_work() as uow:
        s = uow.session
        t = ts.get_template(s, "local", "big panel")
        assert [p.name for p in ts.panel_of(s, t)] == ["Int2", "Int0"]
        assert ts.remove_template(s, "local", tid) == "Big panel"
        uow.commit()
    with db.unit_of_work() as uow, pytest.raises(ts.UnknownTemplate, match="No interview template"):
        ts.get_template(uow.session, "local", tid)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " "}, "needs a name"),
        ({"name": "123"}, "only digits"),
        ({"name": "screen"}, "already exists"),
        ({"duration_min": 4}, "5 to 480 minutes"),
        ({"duration_min": 481}, "5 to 480 minutes"),
        ({"panel_ids": []}, "at least one interviewer"),
        ({"panel_ids": "dup"}, "on the panel twice"),
        ({"panel_ids": "candidate"}, "is not registered as an interviewer"),
        ({"panel_ids": [999_999]}, "does not exist"),
        ({"rules": ts.TemplateRules(step_min=0)}, "step"),
        ({"rules": ts.TemplateRules(cap_per_day=0)}, "cap"),
        ({"rules": ts.TemplateRules(buffer_after_min=-5)}, "Buffers"),
    ],
)
def test_validation_errors(db: Database, kwargs: dict, message: str) -> None:
    cand, panel = team(db, 1)
    args = {"name": "Other", "duration_min": 60, "panel_ids": [panel[0].id]} | kwargs
    if args["panel_ids"] == "dup":
        args["panel_ids"] = [panel[0].id, panel[0].id]
    elif args["panel_ids"] == "candidate":
        args["panel_ids"] = [cand.id]
    with db.unit_of_work() as uow:
        ts.create_template(uow.session, "local", "Screen", 60, [panel[0].id])
        with pytest.raises(ts.InvalidTemplate, match=message):
            ts.create_template(uow.session, "local", **args)


def test_panel_must_be_in_the_workspace(db: Database) -> None:
    stranger = add_person(db, "X1", Role.interviewer, workspace="other")
    with db.unit_of_work() as uow, pytest.raises(ts.InvalidTemplate, match="does not exist"):
        ts.create_template(uow.session, "local", "Screen", 60, [stranger.id])


@pytest.mark.parametrize(
    ("size", "expected"),
    [(2, ["09:30", "10:00", "10:30", "11:00"]), (3, ["10:00", "10:30", "11:00"]), (5, ["11:00"])],
)
def test_template_search_needs_the_whole_panel(db: Database, size: int, expected: list[str]) -> None:
    # Everyone is free together from the latest opening (Int{size-1}) to Int0's 12:00.
    cand, panel = team(db, size)
    with db.unit_of_work() as uow:
        s = uow.session
        t = ts.create_template(s, "local", "Panel", 60, [p.id for p in panel])
        outcome = ts.find_template_matches(s, t, s.get(Person, cand.id), NOW, horizon=HORIZON)
        assert [x.start.strftime("%H:%M") for x in outcome.slots] == expected
        assert [p.name for p in outcome.interviewers] == [f"Int{i}" for i in range(size)]


def test_template_search_window_and_other_interviewers(db: Database) -> None:
    cand, panel = team(db, 3)
    with db.unit_of_work() as uow:
        s = uow.session
        t = ts.create_template(s, "local", "Panel", 30, [panel[0].id])
        c = s.get(Person, cand.id)
        outcome = ts.find_template_matches(
            s, t, c, NOW, utc("2026-03-02 10:00"), utc("2026-03-02 11:00"), horizon=HORIZON
        )
        assert [x.start.strftime("%H:%M") for x in outcome.slots] == ["10:00", "10:30"]
        wider = ts.find_template_matches(s, t, c, NOW, horizon=HORIZON, interviewers=[s.get(Person, panel[2].id)])
        assert wider.slots[-1].start == utc("2026-03-02 13:30")


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        (ts.TemplateRules(step_min=15), ["09:30", "09:45", "10:00", "11:00", "11:15", "11:30"]),
        (ts.TemplateRules(step_min=60), ["10:00", "11:00"]),
        (ts.TemplateRules(step_min=15, notice_min=34 * 60), ["10:00", "11:00", "11:15", "11:30"]),
        (ts.TemplateRules(step_min=15, buffer_after_min=15), ["09:30", "09:45", "11:00", "11:15", "11:30"]),
        (ts.TemplateRules(step_min=15, buffer_before_min=15), ["09:30", "09:45", "10:00", "11:15", "11:30"]),
    ],
)
def test_template_rules_reach_the_search(db: Database, rules: ts.TemplateRules, expected: list[str]) -> None:
    # Both free 09:30–12:00, Int1 busy 10:30–11:00; 30-minute interviews.
    cand, panel = team(db, 2)
    with db.unit_of_work() as uow:
        s = uow.session
        add_busy(s, s.get(Person, panel[1].id), Interval(utc("2026-03-02 10:30"), utc("2026-03-02 11:00")))
        t = ts.create_template(s, "local", "Pair", 30, [p.id for p in panel], rules)
        outcome = ts.find_template_matches(s, t, s.get(Person, cand.id), NOW)
        assert [x.start.strftime("%H:%M") for x in outcome.slots] == expected


def test_rules_for_defaults_to_the_product_horizon(db: Database) -> None:
    _, panel = team(db, 1)
    with db.unit_of_work() as uow:
        t = ts.create_template(uow.session, "local", "Screen", 60, [panel[0].id])
        assert ts.rules_for(t).horizon == timedelta(days=90)
        assert ts.rules_for(t, timedelta(days=30)).horizon == timedelta(days=30)


def test_a_concurrent_create_of_the_same_name_is_a_clear_error(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other create commits between this one's name check and its insert.
    _, panel = team(db, 1)
    with db.unit_of_work() as uow:
        ts.create_template(uow.session, "local", "Screen", 60, [panel[0].id])
        uow.commit()
    check = ts._check_name
    calls: list[str] = []

    def late_check(session: Session, workspace_id: str, name: str, own_id: int | None) -> str:
        calls.append(name)
        return name if len(calls) == 1 else check(session, workspace_id, name, own_id)

    monkeypatch.setattr(ts, "_check_name", late_check)
    with db.unit_of_work() as uow, pytest.raises(ts.InvalidTemplate, match="already exists"):
        ts.create_template(uow.session, "local", "Screen", 30, [panel[0].id])


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_template_lifecycle_and_slots(cli: None, capsys: pytest.CaptureFixture[str]) -> None:
    for handle, role in [("U1CAND", "candidate"), ("U1ANA", "interviewer"), ("U1BO", "interviewer")]:
        assert run(capsys, "people", "add", handle, "--name", handle[2:].title(), "--tz", "UTC", "--role", role)[0] == 0
    for handle in ("U1CAND", "U1ANA", "U1BO"):
        assert run(capsys, "availability", "add", handle, "2026-03-02 09:00-11:00", "--now", "2026-03-01T00:00:00Z")[0] == 0
    code, out, _ = run(capsys, "template", "add", "Pair", "--duration", "60", "--panel", "U1ANA,U1BO", "--step", "60", "--cap-day", "2")
    assert code == 0 and "Pair: 60 min every 60 min" in out and "panel Ana, Bo" in out
    code, _, err = run(capsys, "template", "add", "pair", "--duration", "60", "--panel", "U1ANA")
    assert code == 2 and "already exists" in err
    code, out, _ = run(capsys, "template", "list")
    assert "templates (1):" in out and "caps 2/day -/week" in out
    code, out, _ = run(capsys, "slots", "--template", "Pair", "--candidate", "U1CAND", "--now", "2026-03-01T00:00:00Z", "--json")
    assert code == 0
    assert [s["start"] for s in json.loads(out)["availableSlots"]] == ["2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z"]
    code, _, err = run(capsys, "slots", "--candidate", "U1CAND")
    assert code == 2 and "--interviewers" in err and "--template" in err
    code, _, err = run(capsys, "slots", "--template", "Pair", "--candidate", "U1CAND", "--duration", "30")
    assert code == 2 and "the template sets the duration" in err
    code, out, _ = run(capsys, "slots", "--template", "pair", "--candidate", "U1CAND", "--interviewers", "U1ANA",
                       "--from", "2026-03-02T10:00:00Z", "--now", "2026-03-01T00:00:00Z", "--json")
    assert [s["start"] for s in json.loads(out)["availableSlots"]] == ["2026-03-02T10:00:00Z"]
    code, out, _ = run(capsys, "template", "add", "Quick", "--duration", "30", "--panel", "U1ANA", "--notice-hours", "1.5")
    assert code == 0 and "notice 1.5 h" in out
    assert run(capsys, "template", "remove", "pair")[1] == "Removed template Pair.\n"
    assert "templates (1):" in run(capsys, "template", "list")[1]
    code, _, err = run(capsys, "template", "remove", "Pair")
    assert code == 2 and "No interview template 'Pair'" in err
