"""Storage read path: a 6-person panel's windows and busy blocks over 30 days, from a SQLite
file holding 100,000 availability windows (and 100,000 busy blocks).

    python bench/bench_storage.py

Three rows, measured in the same run, so each ratio compares like with like:
- the product's read (`load_participants`: ORM, typed UTC instants, validated intervals);
- the same rows by the same SQL, bare (what the ORM and interval building cost on top);
- that same bare SQL with the range indexes disabled (`+` on the columns): what the indexes buy.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text  # noqa: E402

from scheduling.intervals import Interval  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.matching import load_participants  # noqa: E402
from storage.models import AvailabilityWindow, BusyBlock, Person  # noqa: E402
from storage.workspaces import ensure_workspace  # noqa: E402

UTC = UTC
PEOPLE, WINDOWS, BLOCKS = 1000, 100_000, 100_000
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def build(db: Database) -> None:
    rng = random.Random(7)
    with db.unit_of_work() as uow:
        ensure_workspace(uow.session, "bench", team_id="bench")
        uow.commit()
    with db.engine.begin() as conn:
        conn.execute(insert(Person), [{"workspace_id": "bench", "slack_user_id": f"U{i:06d}", "name": f"P{i}",
                                       "tz": "UTC", "is_guest": False, "created_at": T0} for i in range(PEOPLE)])
        ids = [r[0] for r in conn.execute(text("SELECT id FROM people"))]
        per = WINDOWS // PEOPLE
        windows = []
        for pid in ids:  # one non-overlapping window a few days apart, spread over ~a year
            cursor = T0
            for _ in range(per):
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


def timed(fn, runs: int = 30) -> list[float]:
    fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "storage.db"
    db = Database(f"sqlite:///{path}")
    db.create_schema()
    started = time.perf_counter()
    build(db)
    print(f"built {WINDOWS:,} windows and {BLOCKS:,} busy blocks for {PEOPLE} people "
          f"in {time.perf_counter() - started:.1f} s")
    with db.unit_of_work(write=False) as uow:
        panel = [uow.session.get(Person, pid) for pid in (11, 222, 333, 444, 555, 666)]
    span = Interval(datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC))

    def indexed() -> int:
        with db.unit_of_work(write=False) as uow:
            found = load_participants(uow.session, panel, span)
        return sum(len(p.windows) + len(p.busy) for p in found)

    ids = ",".join(str(p.id) for p in panel)

    def sql(plus: str) -> object:
        return text(
            f"SELECT person_id, start_at, end_at FROM availability_windows WHERE {plus}person_id IN ({ids}) "
            f"AND {plus}end_at > :a AND {plus}start_at < :b UNION ALL "
            f"SELECT person_id, start_at, end_at FROM busy_blocks WHERE {plus}person_id IN ({ids}) "
            f"AND {plus}end_at > :a AND {plus}start_at < :b")

    def bare(statement: object) -> Callable[[], int]:
        def read() -> int:
            with db.engine.connect() as conn:
                return len(conn.execute(statement, {"a": span.start.replace(tzinfo=None),
                                                    "b": span.end.replace(tzinfo=None)}).all())
        return read

    indexed_sql, full_scan = bare(sql("")), bare(sql("+"))
    rows = indexed()
    assert rows == indexed_sql() == full_scan(), "the three reads must return the same rows"
    product, raw, scan = timed(indexed), timed(indexed_sql), timed(full_scan, runs=10)
    med, raw_med, scan_med = (statistics.median(x) for x in (product, raw, scan))
    p90 = sorted(product)[int(0.9 * len(product))]
    print(f"\n{'case':<52} {'rows':>5} {'median ms':>10} {'p90 ms':>8}  ratio")
    print(f"{'product read (ORM), 6-person panel, 30 days':<52} {rows:>5} {med:>10.2f} {p90:>8.2f}  "
          f"{med / raw_med:.1f}x the same SQL bare; target < 20 ms: {'pass' if med < 20 else 'MISS'}")
    print(f"{'same SQL, bare':<52} {rows:>5} {raw_med:>10.2f}")
    print(f"{'same SQL, bare, indexes bypassed':<52} {rows:>5} {scan_med:>10.2f}  "
          f"{scan_med / raw_med:.0f}x the indexed SQL: what the indexes buy")


if __name__ == "__main__":
    main()
