"""The command line as an operator uses it: real database file, real argument parsing."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main

NOW = "2026-11-23T09:00:00Z"


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run `interview-bot …` in-process against a migrated database; returns (code, out, err)."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)  # no stray .env is read

    assert main(["migrate"]) == 0


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _setup_pair(capsys) -> None:
    assert _run(capsys, "people", "add", "U1CAND", "--name", "Cara", "--tz", "Europe/Berlin", "--role", "candidate")[0] == 0
    assert _run(capsys, "people", "add", "ivan@example.com", "--name", "Ivan", "--tz", "America/New_York", "--role", "interviewer")[0] == 0


def test_slots_json_gives_the_overlap_in_utc(cli, capsys) -> None:
    _setup_pair(capsys)
    # Ivan 09:00–12:00 New York = 14:00–17:00Z; Cara 16:00–19:00 Berlin = 15:00–18:00Z
    assert _run(capsys, "availability", "add", "ivan@example.com", "2026-12-02 09:00-12:00", "--now", NOW)[0] == 0
    assert _run(capsys, "availability", "add", "U1CAND", "2026-12-02 16:00-19:00", "--now", NOW)[0] == 0
    code, out, err = _run(
        capsys, "slots", "--candidate", "U1CAND", "--interviewers", "ivan@example.com", "--now", NOW, "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["availableSlots"] == [
        {"start": "2026-12-02T15:00:00Z", "end": "2026-12-02T16:00:00Z"},
        {"start": "2026-12-02T15:30:00Z", "end": "2026-12-02T16:30:00Z"},
        {"start": "2026-12-02T16:00:00Z", "end": "2026-12-02T17:00:00Z"},
    ]


def test_slots_text_output_groups_by_day_with_zones(cli, capsys) -> None:
    _setup_pair(capsys)
    _run(capsys, "availability", "add", "ivan@example.com", "2026-12-02 09:00-12:00", "--now", NOW)
    _run(capsys, "availability", "add", "U1CAND", "2026-12-02 16:00-19:00", "--now", NOW)
    code, out, _ = _run(capsys, "slots", "--candidate", "U1CAND", "--interviewers", "ivan@example.com",
                        "--duration", "90", "--now", NOW)
    assert code == 0
    assert "Wed 2 Dec 2026" in out and "CET" in out and "EST" in out
    assert "16:00–17:30 CET" in out


def test_busy_block_removes_slots_and_from_to_bound_the_search(cli, capsys) -> None:
    _setup_pair(capsys)
    _run(capsys, "availability", "add", "ivan@example.com", "2026-12-02 09:00-12:00", "--now", NOW)
    _run(capsys, "availability", "add", "U1CAND", "2026-12-02 16:00-19:00", "--now", NOW)
    assert _run(capsys, "busy", "add", "ivan@example.com", "2026-12-02T15:00:00Z", "2026-12-02T15:30:00Z")[0] == 0
    code, out, _ = _run(capsys, "slots", "--candidate", "U1CAND", "--interviewers", "ivan@example.com",
                        "--now", NOW, "--json", "--to", "2026-12-02T16:45:00Z")
    assert json.loads(out)["availableSlots"] == [{"start": "2026-12-02T15:30:00Z", "end": "2026-12-02T16:30:00Z"}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["availability", "add", "U1CAND", "2026-12-02 14:00-10:00x", "--now", NOW], ""),
        (["availability", "add", "U1CAND", "2020-01-01 10:00-11:00", "--now", NOW], "past"),
        (["availability", "add", "NOBODY", "2026-12-02 10:00-11:00", "--now", NOW], "Nobody is registered"),
        (["people", "add", "U2", "--name", "X", "--tz", "Mars/Olympus", "--role", "candidate"], "Mars/Olympus"),
        (["busy", "add", "U1CAND", "2026-12-02T11:00:00Z", "2026-12-02T10:00:00Z"], "must be after"),
        (["busy", "add", "U1CAND", "yesterday", "2026-12-02T10:00:00Z"], "ISO 8601"),
        (["slots", "--candidate", "U1CAND", "--interviewers", "U1CAND", "--now", NOW], "cannot interview themselves"),
        (["slots", "--candidate", "U1CAND", "--interviewers", "ivan@example.com", "--duration", "0", "--now", NOW], "positive"),
        (["slots", "--candidate", "U1CAND", "--interviewers", "ivan@example.com", "--from", "2026-12-05", "--to", "2026-12-03",
          "--now", NOW], "not after its start"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_stores_nothing(cli, capsys, argv, message) -> None:
    _setup_pair(capsys)
    code, out, err = _run(capsys, *argv)
    assert code != 0
    assert err.startswith("interview-bot: ") and err.count("\n") == 1
    assert message.lower() in err.lower()
    assert "Traceback" not in err
    code, out, _ = _run(capsys, "availability", "list", "U1CAND", "--now", NOW)
    assert "0 window(s)" in out


def test_unmigrated_database_and_bad_settings_fail_cleanly(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    cmd = [sys.executable, "-m", "bot.cli", "people", "list"]
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
    assert proc.returncode != 0 and "interview-bot migrate" in proc.stderr
    proc = subprocess.run(cmd, env={**env, "HORIZON_DAYS": "soon"}, cwd=root, capture_output=True, text=True)
    assert proc.returncode != 0
    assert proc.stderr.strip() == "interview-bot: HORIZON_DAYS must be a whole number, got 'soon'."


def test_demo_runs_without_slack_and_prints_matches(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--database", db, "--now", NOW],
        cwd=root, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Interviewers (10)" in out and "Candidates (20)" in out
    assert "One candidate, one interviewer" in out and "a panel of three" in out
    assert "slot(s)" in out
    assert "Booked by" in out and "Scheduled reminders" in out and "grade request" in out
    assert "[pending]" in out and "[skipped]" not in out
    again = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--database", db, "--now", NOW],
        cwd=root, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"}, timeout=120,
    )
    assert again.stdout == out  # seeded: runs repeat, and the database is reused


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PORT": "70000"}, "PORT must be between 1 and 65535, got 70000."),
        ({"HORIZON_DAYS": "99999999999"}, "HORIZON_DAYS must be between 1 and 730, got 99999999999."),
        ({"DEFAULT_DURATION_MIN": "100000"}, "DEFAULT_DURATION_MIN must be between 5 and 480, got 100000."),
        ({"SLOT_STEP_MIN": "10000000"}, "SLOT_STEP_MIN must be between 5 and 480, got 10000000."),
        ({"REMINDER_OFFSETS": "999999h"}, "REMINDER_OFFSETS must be a list like"),
        ({"DATABASE_URL": "mysql://u@localhost/db"}, "DATABASE_URL must be a sqlite:/// or postgresql:// URL"),
        ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}, "cannot use the database: "),
    ],
)
def test_every_setting_is_checked_at_start_with_one_line_naming_it(tmp_path: Path, env: dict, message: str) -> None:
    base = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "people", "list"], env={**base, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and proc.stderr.startswith("interview-bot: " + message.split(":")[0]), proc.stderr
    assert message in proc.stderr and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert root  # run from elsewhere: the package is installed


def test_a_dotenv_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"HORIZON_DAYS=\xff\xfe30\n")
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "people", "list"], env={"PATH": "/usr/bin:/bin"},
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and proc.stderr.strip() == "interview-bot: .env is not valid UTF-8 text.", proc.stderr


def test_run_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    import socket

    from tests.slack_fake import FakeSlack

    with socket.socket() as taken, FakeSlack() as fake:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        db = f"sqlite:///{tmp_path / 'bot.db'}"
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": db, "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s",
               "SLACK_API_URL": fake.base_url}
        subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=env, cwd=tmp_path, check=True,
                       capture_output=True, timeout=60)
        proc = subprocess.run([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0, proc.stderr
    assert f"interview-bot: cannot listen on 127.0.0.1:{port}: " in proc.stderr and "Traceback" not in proc.stderr, \
        proc.stderr


def test_health_says_whether_the_job_runner_looked_for_work_lately(tmp_path: Path) -> None:
    """The container health check, in either mode: a live runner touches HEALTH_FILE."""
    from tests.slack_fake import FakeSlack

    alive = tmp_path / "alive"
    db = f"sqlite:///{tmp_path / 'bot.db'}"
    with FakeSlack() as fake:
        env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": db, "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_API_URL": fake.base_url,
               "HEALTH_FILE": str(alive)}
        health = [sys.executable, "-m", "bot.cli", "health", "--max-age", "5"]
        proc = subprocess.run(health, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and "no job runner has started" in proc.stderr, proc.stderr
        subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], env=env, cwd=tmp_path, check=True,
                       capture_output=True, timeout=60)
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, cwd=tmp_path,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 30
            while not alive.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            proc = subprocess.run(health, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0 and proc.stdout.startswith("healthy"), proc.stderr
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        old = time.time() - 30
        os.utime(alive, (old, old))  # a runner that stopped looking
        proc = subprocess.run(health, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
        # The command's own start-up counts too (seconds on a loaded machine): about 30 s.
        assert proc.returncode != 0 and re.search(r"last looked for work 3\d s ago", proc.stderr), proc.stderr
