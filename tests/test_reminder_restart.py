"""Restart safety, for real: a worker process is SIGKILLed with reminders pending and started
again. Every reminder whose interview has not begun is sent, none twice; one missed past its
interview's start is skipped and logged."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta

from scheduling.intervals import UTC
from storage.db import Database
from tests.reminder_fixtures import booked_interview, start_worker
from tests.slack_fake import FakeSlack


def _messages(fake: FakeSlack) -> list[tuple[str, str]]:
    return [(c.args["channel"], c.args["text"]) for c in fake.calls("chat.postMessage", ok=True)]


def test_sigkill_and_restart_loses_nothing_and_sends_nothing_twice(sqlite_url: str) -> None:
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
            fake.wait_for("chat.postMessage", count=2, timeout=30)  # A's two reminders
        finally:
            first.send_signal(signal.SIGKILL)
            log_one, _ = first.communicate(timeout=10)
        assert first.returncode == -signal.SIGKILL
        sent_before = _messages(fake)
        assert {ch for ch, _ in sent_before} == {"UCA", "UIA"}
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
