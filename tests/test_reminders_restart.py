"""Restart safety with several real worker processes on one database (PostgreSQL when
configured, else a SQLite file): one of two workers is SIGKILLed between deliveries and a
replacement started; every reminder is sent exactly once, and the scheduler jobs the dead
process left in `apscheduler_jobs` cause no second message."""

from __future__ import annotations

import signal
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from scheduling.intervals import UTC
from storage.db import Database
from storage.models import Reminder, ReminderStatus
from tests.reminder_fixtures import start_worker
from tests.slack_fake import FakeSlack
from tests.test_reminders import booked_interview


def _sent_rows(db: Database) -> int:
    with db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(Reminder)
                                  .where(Reminder.status == ReminderStatus.sent)) or 0


def test_killing_one_of_two_workers_loses_and_doubles_nothing(db: Database) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    # Wave 1 due in ~2 s, wave 2 in ~12 s: the kill happens in the quiet gap between them, so the
    # dead worker holds no claim (a claim it held would wait for its lease, by design).
    for n in range(4):
        booked_interview(db, now + timedelta(seconds=62), now, offsets=(1,), suffix=f"a{n}")
        booked_interview(db, now + timedelta(seconds=72), now, offsets=(1,), suffix=f"b{n}")
    with FakeSlack() as fake:
        workers = [start_worker(fake, db.url) for _ in range(2)]
        try:
            fake.wait_for("chat.postMessage", count=8, timeout=30)
            deadline = time.monotonic() + 10
            while _sent_rows(db) < 8 and time.monotonic() < deadline:
                time.sleep(0.05)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(timeout=10)
            workers.append(start_worker(fake, db.url))
            fake.wait_for("chat.postMessage", count=16, timeout=40)
            time.sleep(2)  # more ticks and job runs: nothing may be sent twice
        finally:
            for w in workers[1:]:
                w.terminate()
            logs = [w.communicate(timeout=20)[0] for w in workers]
        messages = [(c.args["channel"], c.args["text"]) for c in fake.calls("chat.postMessage", ok=True)]
    assert workers[0].returncode == -signal.SIGKILL
    assert len(messages) == len(set(messages)) == 16, "\n".join(logs)
    assert _sent_rows(db) == 16
    assert all(w.returncode == 0 for w in workers[1:])  # SIGTERM stops them cleanly
