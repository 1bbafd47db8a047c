"""Restart safety with real `interview-bot worker` processes on one database (PostgreSQL when
configured, else a SQLite file): SIGKILL one, start another; every reminder is sent once, and
one whose interview began while nobody ran is skipped and logged."""

from __future__ import annotations

import signal
import subprocess
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from scheduling.intervals import UTC
from storage.db import Database
from storage.models import Reminder, ReminderStatus
from tests.reminder_fixtures import booked_interview, start_worker
from tests.slack_fake import FakeSlack


def _sent_rows(db: Database) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(Reminder)
                                  .where(Reminder.status == ReminderStatus.sent)) or 0


def _messages(fake: FakeSlack) -> list[tuple[str, str]]:
    return [(c.args["channel"], c.args["text"]) for c in fake.calls("chat.postMessage", ok=True)]


def _wait_quietly(fake: FakeSlack, count: int, timeout: float = 30, *procs: subprocess.Popen[str]) -> bool:
    """Whether `count` messages arrived; if not, the workers dump their threads' stacks into
    their logs (SIGUSR1), so the failure shows what they were doing."""
    try:
        fake.wait_for("chat.postMessage", count=count, timeout=timeout)
    except AssertionError:
        for proc in procs:
            proc.send_signal(signal.SIGUSR1)
        time.sleep(1)
        return False
    return True


def test_killing_one_of_two_workers_loses_and_doubles_nothing(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # Wave 1 due in ~2 s, wave 2 in ~12 s: the kill comes between them.
    for n in range(4):
        booked_interview(db, now + timedelta(seconds=62), now, offsets=(1,), suffix=f"a{n}")
        booked_interview(db, now + timedelta(seconds=72), now, offsets=(1,), suffix=f"b{n}")
    with FakeSlack() as fake:
        workers = [start_worker(fake, db.url) for _ in range(2)]
        try:
            assert _wait_quietly(fake, 8, 30, *workers), "the first wave did not arrive"
            deadline = time.monotonic() + 10
            while _sent_rows(db) < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            workers.append(start_worker(fake, db.url))
            fake.wait_for("chat.postMessage", count=16, timeout=40)
            time.sleep(2)  # more ticks: nothing may be sent twice
        finally:
            for w in workers[1:]:
                w.terminate()
            logs = [w.communicate(timeout=20)[0] for w in workers]
            print("\n".join(logs))  # shown when the test fails
        messages = _messages(fake)
    assert workers[0].returncode == -signal.SIGKILL
    assert len(messages) == len(set(messages)) == 16, "\n".join(logs)
    assert _sent_rows(db) == 16
    assert all(w.returncode == 0 for w in workers[1:])  # SIGTERM stops them cleanly


def test_sigkill_and_restart_sends_what_is_due_and_skips_what_began(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    db.create_schema()
    now = datetime.now(UTC).replace(microsecond=0)
    # A: due in ~2 s; B: due in ~12 s; C: its interview began 10 s ago, reminder never sent.
    booked_interview(db, now + timedelta(seconds=62), now, offsets=(1,), suffix="A")
    booked_interview(db, now + timedelta(seconds=72), now, offsets=(1,), suffix="B")
    booked_interview(db, now - timedelta(seconds=10), now - timedelta(hours=2), offsets=(60,), suffix="C")
    with FakeSlack() as fake:
        first = start_worker(fake, sqlite_url)
        try:
            arrived = _wait_quietly(fake, 2, 30, first)  # A's two (C is skipped at once)
        finally:
            first.send_signal(signal.SIGKILL)
            log_one, _ = first.communicate(timeout=10)
        assert arrived and first.returncode == -signal.SIGKILL, log_one
        assert {ch for ch, _ in _messages(fake)} == {"UCA", "UIA"}
        second = start_worker(fake, sqlite_url)
        try:
            fake.wait_for("chat.postMessage", count=4, timeout=40)  # B's two, after the restart
            time.sleep(2)  # a few more ticks: nothing may be sent twice
        finally:
            second.terminate()
            log_two, _ = second.communicate(timeout=15)
        messages = _messages(fake)
    assert sorted(ch for ch, _ in messages) == ["UCA", "UCB", "UIA", "UIB"]
    assert len(messages) == len(set(messages)) == 4
    assert "skipping reminder" in log_one + log_two and "the interview began at" in log_one + log_two
    assert second.returncode == 0  # SIGTERM stops it cleanly
