"""Storage read path: a 6-person panel (a candidate and five interviewers) over 30 days, from a
database holding 100,000 availability windows and 100,000 busy blocks of 1,000 people.

    python bench/bench_storage.py [--postgres URL]

SQLite (a file) always; PostgreSQL too with `--postgres` (or $TEST_DATABASE_URL). Each ratio
compares rows measured in the same run:
- `find_matches` cold (no kept free time): its time against its own SQL run bare (the very
  statements it sent, replayed on the driver's cursor): what the ORM, decoding and search add;
- `find_matches` warm (free time kept, storage/freetime.py): one version read and the search;
- the rows `load_participants` reads, by the ORM, by the same SQL bare, and by that SQL with the
  range indexes bypassed (`+` on the columns, SQLite only): what the indexes buy.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import event, insert, text  # noqa: E402

from scheduling.intervals import Interval  # noqa: E402
from scheduling.slots import SearchRules  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.freetime import CACHE  # noqa: E402
from storage.matching import find_matches, load_participants  # noqa: E402
from storage.models import AvailabilityWindow, BusyBlock, Person, PersonRole, Role  # noqa: E402
from storage.workspaces import ensure_workspace  # noqa: E402

PEOPLE, WINDOWS, BLOCKS = 1000, 100_000, 100_000
PANEL = 6
T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, tzinfo=UTC)
RULES = SearchRules(horizon=timedelta(days=30))


def build(db: Database) -> list[int]:
    """The panel has working-day windows all year; everyone else a window every few days."""
    rng = random.Random(7)
    with db.unit_of_work() as uow:
        ensure_workspace(uow.session, "bench", team_id="bench")
        uow.commit()
    with db.engine.begin() as conn:
        conn.execute(insert(Person), [{"workspace_id": "bench", "slack_user_id": f"U{i:06d}", "name": f"P{i}",
                                       "tz": "UTC", "is_guest": False, "created_at": T0} for i in range(PEOPLE)])
        ids = [r[0] for r in conn.execute(text("SELECT id FROM people ORDER BY id"))]
        panel = ids[11:11 + 111 * PANEL:111]
        conn.execute(insert(PersonRole), [{"person_id": pid, "role": Role.candidate if n == 0 else Role.interviewer,
                                           "granted_at": T0} for n, pid in enumerate(panel)])
        windows = []
        for pid in ids:
            if pid in panel:
                days = (T0 + timedelta(days=d) for d in range(365))
                windows += [{"person_id": pid, "start_at": d + timedelta(hours=9), "end_at": d + timedelta(hours=17),
                             "created_at": T0} for d in days if d.weekday() < 5]
                continue
            cursor = T0
            for _ in range((WINDOWS - 261 * PANEL) // (PEOPLE - PANEL)):
                cursor += timedelta(days=rng.randint(2, 5), hours=rng.randint(0, 3))
                windows.append({"person_id": pid, "start_at": cursor, "end_at": cursor + timedelta(hours=8),
                                "created_at": T0})
        conn.execute(insert(AvailabilityWindow), windows)
        blocks = []
        for _ in range(BLOCKS):
            start = T0 + timedelta(minutes=30 * rng.randrange(0, 365 * 48))
            blocks.append({"person_id": rng.choice(ids), "start_at": start,
                           "end_at": start + timedelta(minutes=30 * rng.randint(1, 4)), "source": "bench",
                           "created_at": T0})
        conn.execute(insert(BusyBlock), blocks)
        conn.execute(text("ANALYZE"))
    return panel


def timed(fn: Callable[[], Any], runs: int) -> float:
    """Median milliseconds of `runs` calls after one warm-up."""
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return statistics.median(out)


def sql_sent(db: Database, fn: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The statements and parameters `fn` sends to the driver."""
    sent: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return sent


def replay(db: Database, sent: list[tuple[str, Any]]) -> Callable[[], int]:
    """Run those statements on one driver connection, fetching every row (in a transaction, as
    the product's read unit of work does)."""
    raw = db.engine.raw_connection()

    def run() -> int:
        cursor, rows = raw.cursor(), 0
        for statement, parameters in sent:
            cursor.execute(statement, parameters)
            rows += len(cursor.fetchall()) if cursor.description else 0
        raw.rollback()
        return rows
    return run


def measure(db: Database, panel_ids: list[int], runs: int) -> list[tuple[str, float, str]]:
    with db.unit_of_work(write=False) as uow:
        panel = [uow.session.get(Person, pid) for pid in panel_ids]
        for p in panel:
            _ = p.roles
        uow.session.expunge_all()

    def search() -> int:
        with db.unit_of_work(write=False) as uow:
            outcome = find_matches(uow.session, panel[0], panel[1:], RULES, NOW)
        assert outcome.slots, "the panel must have common slots, or this measures a diagnosis"
        return len(outcome.slots)

    def cold() -> int:
        CACHE.clear()
        return search()

    span = Interval(NOW, NOW + timedelta(days=31))

    def rows_by_orm() -> int:
        with db.unit_of_work(write=False) as uow:
            found = load_participants(uow.session, panel, span)
        return sum(len(p.windows) + len(p.busy) for p in found)

    cold_sql, warm_sql = replay(db, sql_sent(db, cold)), replay(db, sql_sent(db, search))
    rows_sql = replay(db, sql_sent(db, rows_by_orm))
    slots = search()
    t_cold, t_cold_sql = timed(cold, runs), timed(cold_sql, runs)
    t_warm, t_warm_sql = timed(search, runs * 3), timed(warm_sql, runs * 3)
    t_orm, t_rows_sql = timed(rows_by_orm, runs), timed(rows_sql, runs)
    out = [
        (f"find_matches cold, {slots} slots", t_cold,
         f"{t_cold / t_cold_sql:.1f}x its SQL bare; target <= 2x: {'pass' if t_cold <= 2 * t_cold_sql else 'MISS'}"),
        ("  its SQL, bare", t_cold_sql, ""),
        ("find_matches warm (free time kept)", t_warm,
         f"{t_cold / t_warm:.1f}x faster than cold; target < 0.3 ms: {'pass' if t_warm < 0.3 else 'MISS'}"),
        ("  its SQL, bare (the version read)", t_warm_sql, ""),
        (f"load_participants (ORM), {rows_by_orm()} rows", t_orm, f"{t_orm / t_rows_sql:.1f}x the same SQL bare"),
        ("  same SQL, bare", t_rows_sql, ""),
    ]
    if db.engine.dialect.name == "sqlite":
        bypass = replay(db, [(re.sub(r"([\w.]*(person_id IN|end_at >|start_at <))", r"+\1", s), p)
                             for s, p in sql_sent(db, rows_by_orm)])
        assert bypass() == rows_sql()
        t_scan = timed(bypass, max(3, runs // 3))
        out.append(("  same SQL, bare, indexes bypassed", t_scan, f"{t_scan / t_rows_sql:.0f}x: what the indexes buy"))
    return out


def database(name: str, url: str | None) -> tuple[Database, Callable[[], None]]:
    if name == "SQLite":
        db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'storage.db'}")
        return db, db.dispose
    from sqlalchemy.engine import make_url

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = Database(url)
    with admin.engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    db = Database(str(make_url(url).update_query_dict({"options": f"-csearch_path={schema},public"})))

    def drop() -> None:
        db.dispose()
        with admin.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return db, drop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"), help="PostgreSQL URL")
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args(argv)
    targets = [("SQLite", None)] + ([("PostgreSQL", args.postgres)] if args.postgres else [])
    for name, url in targets:
        db, done = database(name, url)
        try:
            db.create_schema()
            started = time.perf_counter()
            panel = build(db)
            print(f"\n{name}: {WINDOWS:,} windows and {BLOCKS:,} busy blocks for {PEOPLE} people, "
                  f"built in {time.perf_counter() - started:.1f} s")
            print(f"{'case':<46} {'median ms':>10}  ratio")
            for label, ms, note in measure(db, panel, args.runs):
                print(f"{label:<46} {ms:>10.3f}  {note}")
        finally:
            done()
    return 0


if __name__ == "__main__":
    sys.exit(main())
