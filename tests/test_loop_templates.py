"""Loop templates at the command line, on SQLite and PostgreSQL: sessions from pools and named
people, a break and an order, listed with their sessions; every bad spec refused in one line
with nothing stored; a pool a template uses cannot be removed; single templates unchanged."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.usecases.templates import SessionDraft, parse_session
from scheduling.errors import ParseError
from storage import templates as ts
from storage.db import Database
from storage.models import InterviewTemplate, TemplateSession, TemplateSessionPerson

ONSITE = ["template", "add", "Onsite", "--session", "Coding:60:pool=backend",
          "--session", "System design: senior:45:pool=design*2;people=UANA", "--break", "15"]


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    people = [("C1", "Cara", "candidate"), ("UANA", "Ana", "interviewer"), ("UBO", "Bo", "interviewer"),
              *((f"U{i}", f"Member {i}", "interviewer") for i in range(4))]
    for handle, name, role in people:
        assert main(["people", "add", handle, "--name", name, "--tz", "UTC", "--role", role]) == 0
    assert main(["pool", "add", "backend", "--members", "U0,U1"]) == 0
    assert main(["pool", "add", "design", "--members", "U2,U3"]) == 0
    return db_url


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_session_reads_label_minutes_and_spec() -> None:
    assert parse_session("Coding:60:pool=backend") == SessionDraft("Coding", 60, (), "backend", 1)
    assert parse_session(" Design: senior : 45 : people=U1, ana+x@example.com ; pool=design*2") == SessionDraft(
        "Design: senior", 45, ("U1", "ana+x@example.com"), "design", 2)
    for bad, says in [("Coding60", "LABEL:MINUTES:SPEC"), (":60:pool=a", "LABEL:MINUTES:SPEC"),
                      ("Coding:sixty:pool=a", "not a whole number"), ("Coding:60:", "names nobody"),
                      ("Coding:60:pool=a;pool=b", "each at most once"), ("Coding:60:room=a", "is not pool="),
                      ("Coding:60:pool=a*0", "optionally *k (1–10)"), ("Coding:60:people=,", "names nobody")]:
        with pytest.raises(ParseError, match=re.escape(says)):
            parse_session(bad)


def test_add_and_list_a_loop(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *ONSITE, "--order", "free", "--cap-day", "2")
    assert (code, err) == (0, "")
    assert "Onsite: loop of 2 session(s) in any order with 15 min breaks, 120 min every 30 min" in out
    assert "sessions Coding 60 min (1 of pool backend), System design: senior 45 min (Ana, 2 of pool design)" in out
    assert run(capsys, "template", "add", "Screen", "--duration", "30", "--panel", "UBO")[0] == 0
    code, out, _ = run(capsys, "template", "list")
    assert "templates (2):" in out and "caps 2/day -/week; sessions Coding 60 min" in out
    assert "Screen: 30 min every 30 min" in out and "panel Bo" in out
    db = Database(cli)
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        loop = ts.get_template(s, "local", "onsite")
        assert (loop.duration_min, loop.break_min, loop.session_order.value, loop.panel) == (120, 15, "free", [])
        assert [(x.position, x.name, x.duration_min, x.pool_k) for x in loop.sessions] == [
            (0, "Coding", 60, 1), (1, "System design: senior", 45, 2)]
        assert [p.person.slack_user_id for p in loop.sessions[1].people] == ["UANA"]
        screen = ts.get_template(s, "local", "Screen")
        assert (screen.sessions, screen.break_min, screen.session_order.value) == ([], 0, "fixed")
    db.dispose()


REFUSALS = [
    (["--duration", "60"], "--session cannot be used with --duration or --panel"),
    (["--panel", "UBO"], "--session cannot be used with --duration or --panel"),
    (["--session", "Coding:30:pool=design"], "Two sessions have the same name"),
    (["--session", "Chat:30:people=UANA"], "Someone is named for two sessions"),
    (["--session", "Chat:30:people=UBO,UBO"], "Session 'Chat' names someone twice"),
    (["--session", "Chat:30:people=C1"], "Cara is not registered as an interviewer"),
    (["--session", "Chat:30:people=UNOBODY"], "Nobody is registered as UNOBODY"),
    (["--session", "Chat:30:pool=nope"], "There is no pool named 'nope'"),
    (["--session", "Chat:30:pool=backend*3"], "asks for 3 of the pool backend, which has 2 member(s)"),
    (["--session", "Chat:4:pool=backend"], "Session 'Chat' must last 5 to 480 minutes"),
    (["--session", "Chat:480:pool=backend", "--session", "Lunch:480:pool=backend", "--session", "Tea:480:people=UBO"],
     "A loop happens on one day"),
    (["--session", "Chat:30:pool=backend*11"], "optionally *k (1–10)"),
    (["--session", "Chat:30:pool=backend;people=UBO:oops"], "not a whole number"),
    (["--programme"], "Programme rules are for single interviews"),
    (["--break", "241"], "The break must be 0 to 240 minutes"),
    (["--step", "0"], "The step must be"),
]


def test_bad_loops_are_refused_in_one_line_and_store_nothing(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    for extra, says in REFUSALS:
        code, out, err = run(capsys, *ONSITE, *extra)
        assert code == 2 and out == "" and says in err and err.count("\n") == 1, (extra, err)
    db = Database(cli)
    with db.unit_of_work(write=False) as uow:
        for model in (InterviewTemplate, TemplateSession, TemplateSessionPerson):
            assert uow.session.scalar(select(func.count()).select_from(model)) == 0
    db.dispose()


def test_single_template_options_are_not_mixed_with_loops(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "template", "add", "Screen", "--duration", "30", "--break", "5", "--panel", "UBO")
    assert code == 2 and "--break and --order are for loops" in err
    code, _, err = run(capsys, "template", "add", "Screen", "--panel", "UBO")
    assert code == 2 and "Give --duration and --panel, or one --session per session" in err
    with pytest.raises(SystemExit):
        main(["template", "add", "Onsite", "--session", "Coding:60:pool=backend", "--order", "any"])
    assert "invalid choice: 'any'" in capsys.readouterr().err


def test_a_pool_a_loop_uses_cannot_be_removed(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *ONSITE)[0] == 0
    code, _, err = run(capsys, "pool", "remove", "design")
    assert code == 2 and "The pool 'design' is used by the template(s) Onsite; remove them first." in err
    assert "design (2)" in run(capsys, "pool", "list")[1]
    assert run(capsys, "template", "remove", "Onsite")[0] == 0
    assert run(capsys, "pool", "remove", "design")[1] == "Removed the pool design.\n"
    db = Database(cli)
    with db.unit_of_work(write=False) as uow:  # the template's sessions went with it
        assert uow.session.scalar(select(func.count()).select_from(TemplateSession)) == 0
    db.dispose()


def test_a_loops_length_and_people_are_its_sessions(cli: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, *ONSITE)[0] == 0
    db = Database(cli)
    with db.unit_of_work() as uow:
        loop = ts.get_template(uow.session, "local", "Onsite")
        with pytest.raises(ts.InvalidTemplate, match="Onsite is a loop: its sessions set its length"):
            ts.update_template(uow.session, loop, duration_min=30)
        ts.update_template(uow.session, loop, name="Onsite 2", rules=ts.TemplateRules(step_min=15))
        assert (loop.name, loop.step_min, loop.duration_min) == ("Onsite 2", 15, 120)
    db.dispose()
