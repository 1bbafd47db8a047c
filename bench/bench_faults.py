"""Crash and fault benchmark: real bot processes, real faults, counted per scenario.

    python bench/bench_faults.py [--quick] [--postgres URL]

Prints, per scenario, attempts / acknowledged / finished / answered / lost / duplicated, and
how many unknown outcomes were resolved by looking in Slack's history. Goal: 0 lost, 0
duplicated. The baseline row is slack_sdk's default client under the same lost replies.
The scenarios are those of tests/fault_scenarios.py, at full size.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text  # noqa: E402

from storage.db import Database  # noqa: E402
from tests.conftest import make_schema_url  # noqa: E402
from tests.fault_scenarios import (  # noqa: E402
    HEADER,
    Tally,
    blind_resend_baseline,
    crash_mid_burst,
    outage_during_booking,
    reminders_through_faults,
)


class Databases:
    """A fresh database per scenario: a SQLite file, or a new PostgreSQL schema."""

    def __init__(self, postgres: str | None) -> None:
        self.postgres, self.tmp = postgres, tempfile.TemporaryDirectory()

    def fresh(self) -> str:
        if not self.postgres:
            return f"sqlite:///{self.tmp.name}/{uuid.uuid4().hex}.db"
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = Database(self.postgres)
        with admin.engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        admin.dispose()
        return make_schema_url(schema, self.postgres)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller bursts, 8 s outages")
    parser.add_argument("--postgres", help="run on this PostgreSQL (e.g. postgresql://postgres@127.0.0.1/test)")
    args = parser.parse_args()
    dbs = Databases(args.postgres)
    outage = 8 if args.quick else 25
    clicks = 30 if args.quick else 60
    print(f"database: {'PostgreSQL' if args.postgres else 'SQLite file'}\n")
    print(HEADER)
    rows: list[Tally] = [blind_resend_baseline(10)]
    print(rows[-1].row(), flush=True)
    scenarios = [
        lambda: crash_mid_burst(dbs.fresh(), clicks=clicks, kill_after_acks=clicks // 3),
        *(lambda mode=mode: outage_during_booking(dbs.fresh(), mode, outage)
          for mode in ("500", "429", "disconnect", "lose_reply")),
        *(lambda fault=fault: reminders_through_faults(dbs.fresh(), fault, reminders=10)
          for fault in ("lose_reply", "slow_reply", "retry_after")),
    ]
    for scenario in scenarios:
        rows.append(scenario())
        print(rows[-1].row(), flush=True)
    ours = rows[1:]
    print(f"\nlost: {sum(r.lost for r in ours)}, duplicated: {sum(r.duplicated for r in ours)} "
          f"(baseline duplicated {rows[0].duplicated} of {rows[0].attempts})")
    return 0 if not any(r.lost or r.duplicated for r in ours) else 1


if __name__ == "__main__":
    sys.exit(main())
