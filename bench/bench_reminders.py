"""Reminder delivery under load: lag after the due time, duplicates and losses.

Schedules 10,000 reminders due within one minute (``--quick``: 1,000 over 10 s) and lets real
`interview-bot worker` processes send them to a fake Slack Web API on 127.0.0.1, which records
when each message arrived. Runs on PostgreSQL with 2 processes (needs BENCH_DATABASE_URL or
TEST_DATABASE_URL; a fresh schema is created and dropped) and on a SQLite file with 1 process.

The reminders (a row and a job each) are inserted while the workers already run, as a booking
in another process would plan them, so this measures the path every process relies on: the job
table, claims, the dispatcher's tick, and the once-only DM. Targets: lag p99 < 2 s, 0
duplicates, 0 lost.

    python bench/bench_reminders.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from scheduling.intervals import UTC, iso_z  # noqa: E402
from storage import jobs  # noqa: E402
from storage.db import Database, normalize_url  # noqa: E402
from storage.models import Interview, InterviewParticipant, Person, Reminder, ReminderStatus, Role  # noqa: E402
from storage.workspaces import ensure_workspace  # noqa: E402
from tests.slack_fake import TEAM_ID, FakeSlack  # noqa: E402

LEAD = 5.0  # seconds from inserting the reminders to the first one falling due


@dataclass
class Result:
    label: str
    reminders: int
    lags: list[float]
    duplicates: int
    lost: int
    unsent_rows: int

    def row(self) -> str:
        q = statistics.quantiles(self.lags, n=100) if len(self.lags) > 1 else [0.0] * 99
        return (f"{self.label:<26} {self.reminders:>9} {q[49] * 1000:>9.0f} {q[98] * 1000:>9.0f} "
                f"{max(self.lags, default=0) * 1000:>9.0f} {self.duplicates:>6} {self.lost:>5} {self.unsent_rows:>7}")


def _seed_interviews(db: Database, pairs: int) -> list[int]:
    """`pairs` interviews two hours ahead, each with a candidate and an interviewer; returns person ids."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=2)
    people = [{"workspace_id": TEAM_ID, "slack_user_id": f"U{n:07d}", "name": f"Person {n}",
               "tz": ("Europe/Berlin", "Asia/Tokyo")[n % 2]} for n in range(2 * pairs)]
    with db.unit_of_work() as uow:
        s = uow.session
        ensure_workspace(s, TEAM_ID, team_id=TEAM_ID)
        s.execute(insert(Person), people)
        ids = list(s.scalars(select(Person.id).order_by(Person.id)))
        s.execute(insert(Interview), [{"workspace_id": TEAM_ID, "uid": f"bench-{n}", "candidate_id": ids[2 * n],
                                       "start_at": start, "end_at": start + timedelta(hours=1)}
                                      for n in range(pairs)])
        interview_ids = list(s.scalars(select(Interview.id).order_by(Interview.id)))
        s.execute(insert(InterviewParticipant), [
            {"interview_id": iid, "person_id": ids[2 * n + k], "role": (Role.candidate, Role.interviewer)[k],
             "start_at": start, "end_at": start + timedelta(hours=1)}
            for n, iid in enumerate(interview_ids) for k in (0, 1)])
        uow.commit()
    return interview_ids


def _plan(db: Database, interview_ids: list[int], spread: float, batch: int = 500) -> dict[str, datetime]:
    """One reminder per participant, due times evenly over `spread` seconds, planned in batches
    (as bookings would, each well before its first reminder falls due: the time to write them is
    not counted as lag); returns Slack id -> due."""
    with db.unit_of_work(write=False) as uow:
        parts = uow.session.execute(select(InterviewParticipant.interview_id, InterviewParticipant.person_id,
                                           Person.slack_user_id).join(Person).order_by(Person.id)).all()
    first = datetime.now(UTC) + timedelta(seconds=LEAD)
    due = {slack: first + timedelta(seconds=spread * n / len(parts)) for n, (_, _, slack) in enumerate(parts)}
    for k in range(0, len(parts), batch):
        with db.unit_of_work() as uow:
            s = uow.session
            rows = [Reminder(interview_id=iid, person_id=pid, offset_min=60, due_at=due[slack])
                    for iid, pid, slack in parts[k:k + batch]]
            s.add_all(rows)
            s.flush()
            for row in rows:
                row.job_id = jobs.defer(s, kind="reminder", payload={"reminder_id": row.id}, run_at=row.due_at,
                                        workspace_id=TEAM_ID, dedupe_key=f"reminder:{row.id}:{iso_z(row.due_at)}")
            uow.commit()
        late = datetime.now(UTC) - due[parts[k][2]]
        if late > timedelta(0):
            print(f"warning: batch {k // batch} was written {late.total_seconds():.1f} s after it fell due")
    return due


def _start_worker(db_url: str, fake: FakeSlack, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": fake.base_url}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def _wait_started(logs: list[Path], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not all("job runner" in p.read_text(errors="replace") for p in logs):
        if time.monotonic() > deadline:
            raise SystemExit("workers did not start:\n" + "\n".join(p.read_text() for p in logs))
        time.sleep(0.1)


def run(label: str, db_url: str, processes: int, count: int, spread: float, workdir: Path) -> Result:
    db = Database(db_url)
    db.create_schema()
    interview_ids = _seed_interviews(db, count // 2)
    with FakeSlack(strict=False) as fake:
        logs = [workdir / f"{label.split()[0]}-{n}.log" for n in range(processes)]
        workers = [_start_worker(db_url, fake, log) for log in logs]
        try:
            _wait_started(logs)
            due = _plan(db, interview_ids, spread)
            _wait_sent(fake, len(due), timeout=LEAD + spread + 60)
            time.sleep(3)  # let any duplicate arrive
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            for w in workers:
                w.wait(timeout=30)
        calls = fake.calls("chat.postMessage", ok=True)
    per_channel = Counter(c.args["channel"] for c in calls)  # posted to the user id
    lags = sorted(c.time - due[c.args["channel"]].timestamp() for c in calls)
    with db.unit_of_work(write=False) as uow:
        unsent = uow.session.scalar(select(func.count()).select_from(Reminder)
                                    .where(Reminder.status != ReminderStatus.sent))
    db.dispose()
    return Result(label, len(due), lags, sum(n - 1 for n in per_channel.values()),
                  len(set(due) - set(per_channel)), unsent or 0)


def _wait_sent(fake: FakeSlack, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while len(fake.calls("chat.postMessage", ok=True)) < count and time.monotonic() < deadline:
        time.sleep(0.5)


@contextmanager
def pg_schema(base_url: str) -> Iterator[str]:
    """A fresh PostgreSQL schema for one run, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(base_url)
    with admin.engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalize_url(base_url)).update_query_dict({"options": f"-csearch_path={schema},public"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 reminders over 10 s")
    args = parser.parse_args()
    count, spread = (1_000, 10.0) if args.quick else (10_000, 60.0)
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if pg_url:
            with pg_schema(pg_url) as url:
                results.append(run("PostgreSQL, 2 processes", url, 2, count, spread, workdir))
        else:
            print("PostgreSQL run skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL")
        results.append(run("SQLite, 1 process", f"sqlite:///{workdir / 'bench.db'}", 1, count, spread, workdir))
    print(f"\n{count:,} reminders due evenly over {spread:.0f} s; lag = arrival at Slack - due time\n")
    print(f"{'run':<26} {'reminders':>9} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9} {'dupes':>6} {'lost':>5} "
          f"{'unsent':>7}")
    for r in results:
        print(r.row())
    ok = all(r.duplicates == 0 and r.lost == 0 and r.lags and r.lags[int(0.99 * (len(r.lags) - 1))] < 2.0
             for r in results)
    print("\ntargets (p99 < 2 s, 0 duplicates, 0 lost):", "met" if ok else "NOT met")


if __name__ == "__main__":
    main()
