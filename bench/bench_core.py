"""Benchmarks of the pure scheduling core (`scheduling.slots` / `scheduling.intervals`).

Run from the repository root: `python bench/bench_core.py [--runs N]`.

Prints one table: name, median and p90 wall time in ms, a baseline measured in the same run
(where one makes sense), the ratio, the target and pass/miss. Data are seeded, so runs compare.

* panel: 1 candidate + 5 interviewers, 30-day horizon, ~60 windows and ~500 busy blocks each,
  60-min slots on a 30-min grid; the baseline is the brute-force per-slot check of
  `tests/reference.py` (every grid start against every participant's intervals), and both
  must return the same slots.
* long-range: 10 people, 900 busy blocks each, weekday 09:00-17:00 availability, 300 days.
* panel, free time kept: the same panel searched over each person's kept free time
  (`scheduling.freetime`, what storage keeps between searches) against `find_slots`.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduling.freetime import FreeTime, find_slots_in  # noqa: E402
from scheduling.intervals import Interval  # noqa: E402
from scheduling.slots import Participant, SearchRules, find_slots  # noqa: E402
from tests.reference import reference_slots  # noqa: E402

NOW = datetime(2027, 1, 3, 8, 0, tzinfo=UTC)  # a Sunday morning
SEED = 20270103


@dataclass
class Row:
    name: str
    median_ms: float
    p90_ms: float
    baseline_ms: float | None = None
    target_ms: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline_ms is None or not self.median_ms:
            return None
        return self.baseline_ms / self.median_ms

    @property
    def verdict(self) -> str:
        if self.target_ms is None:
            return "-"
        return "pass" if self.median_ms < self.target_ms else "MISS"


def measure(fn: Callable[[], Any], runs: int, warmup: int = 2) -> tuple[float, float, Any]:
    """Median and p90 in ms over `runs` timed calls after `warmup` untimed ones."""
    result = None
    for _ in range(warmup):
        result = fn()
    times: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            result = fn()
            times.append((time.perf_counter() - t0) * 1000)
    finally:
        if gc_was_enabled:
            gc.enable()
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    return statistics.median(times), p90, result


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def random_person(
    rng: random.Random, key: str, days: int, n_windows: int, n_busy: int
) -> Participant:
    """About n_windows / days windows a day (a morning one from 08:00-09:30 and an afternoon
    one from 12:30-14:00, each 3-5 h, on the quarter hour) and busy blocks of 15-45 min
    anywhere in the day, like a calendar with early and late meetings."""
    first = NOW.replace(hour=0, minute=0)
    q = timedelta(minutes=15)
    windows = []
    for i in range(n_windows):
        day = first + timedelta(days=(i // 2) % days)
        s = day + timedelta(hours=8 if i % 2 == 0 else 12, minutes=30 * (i % 2))
        s += rng.randrange(7) * q
        windows.append(Interval(s, s + rng.randint(12, 20) * q))
    busy = []
    for _ in range(n_busy):
        s = first + rng.randrange(days * 96) * q
        busy.append(Interval(s, s + rng.randint(1, 3) * q))
    return Participant(key=key, windows=tuple(windows), busy=tuple(busy))


def weekday_person(rng: random.Random, key: str, days: int, n_busy: int) -> Participant:
    """Weekdays 09:00-17:00 UTC, busy blocks of 30 min - 2 h during working hours."""
    first = NOW.replace(hour=0, minute=0)
    windows = [
        Interval(d + timedelta(hours=9), d + timedelta(hours=17))
        for d in (first + timedelta(days=i) for i in range(days + 1))
        if d.weekday() < 5
    ]
    busy = []
    for _ in range(n_busy):
        day = first + timedelta(days=rng.randrange(days))
        s = day + timedelta(hours=8) + rng.randrange(40) * timedelta(minutes=15)
        busy.append(Interval(s, s + rng.randint(2, 8) * timedelta(minutes=15)))
    return Participant(key=key, windows=tuple(windows), busy=tuple(busy))


# --------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------


def bench_panel(runs: int) -> Row:
    rng = random.Random(SEED)
    days = 30
    panel = [random_person(rng, "candidate", days, 60, 500)] + [
        random_person(rng, f"interviewer{i}", days, 60, 500) for i in range(5)
    ]
    rules = SearchRules(horizon=timedelta(days=days))
    med, p90, slots = measure(lambda: find_slots(panel, rules, NOW), runs)
    base_med, _, base_slots = measure(lambda: reference_slots(panel, rules, NOW), 3, warmup=0)
    assert slots == base_slots, "find_slots and the per-slot check disagree"
    return Row("panel 1+5, 30 d, 60w/500b", med, p90, base_med, 5.0, f"{len(slots)} slots")


def bench_panel_kept(runs: int) -> Row:
    """The panel again, each person's free time kept (as storage keeps it between searches):
    the baseline is `find_slots` from the raw intervals, and both must agree."""
    rng = random.Random(SEED)
    days = 30
    panel = [random_person(rng, "candidate", days, 60, 500)] + [
        random_person(rng, f"interviewer{i}", days, 60, 500) for i in range(5)
    ]
    rules = SearchRules(horizon=timedelta(days=days))
    covers = Interval(NOW, NOW + timedelta(days=days + 2))
    kept = [FreeTime.of(p, rules, covers) for p in panel]
    med, p90, slots = measure(lambda: find_slots_in(kept, rules, NOW), runs * 5)
    base_med, _, base_slots = measure(lambda: find_slots(panel, rules, NOW), runs)
    assert slots == base_slots, "kept free time and find_slots disagree"
    return Row("panel 1+5, 30 d, free time kept", med, p90, base_med, 0.3, f"{len(slots)} slots")


def bench_panel_light(runs: int) -> Row:
    """The same shape with 100 busy blocks each: many slots, so the equality check bites."""
    rng = random.Random(SEED + 3)
    days = 30
    panel = [random_person(rng, f"p{i}", days, 60, 100) for i in range(6)]
    rules = SearchRules(horizon=timedelta(days=days))
    med, p90, slots = measure(lambda: find_slots(panel, rules, NOW), runs)
    base_med, _, base_slots = measure(lambda: reference_slots(panel, rules, NOW), 3, warmup=0)
    assert slots == base_slots, "find_slots and the per-slot check disagree"
    return Row("panel 1+5, 30 d, 60w/100b", med, p90, base_med, None, f"{len(slots)} slots")


def bench_long_range(runs: int) -> Row:
    rng = random.Random(SEED + 1)
    days = 300
    panel = [weekday_person(rng, f"p{i}", days, 900) for i in range(10)]
    rules = SearchRules(horizon=timedelta(days=days))
    med, p90, slots = measure(lambda: find_slots(panel, rules, NOW), runs)
    return Row("long range 10p, 300 d, 900b", med, p90, None, 10.0, f"{len(slots)} slots")


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per case (median)")
    parser.add_argument("--only", choices=["panel", "long"], default=None)
    args = parser.parse_args(argv)
    rows: list[Row] = []
    if args.only in (None, "panel"):
        rows.append(bench_panel(args.runs))
        rows.append(bench_panel_kept(args.runs))
        rows.append(bench_panel_light(args.runs))
    if args.only in (None, "long"):
        rows.append(bench_long_range(args.runs))
    header = (
        f"{'name':<32} {'median ms':>10} {'p90 ms':>9} {'baseline ms':>12} {'ratio':>8} "
        f"{'target':>8} {'':>5}  note"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        target = "-" if r.target_ms is None else f"<{r.target_ms:g}ms"
        ratio = "-" if r.ratio is None else f"x{r.ratio:.1f}"
        print(
            f"{r.name:<32} {fmt(r.median_ms):>10} {fmt(r.p90_ms):>9} {fmt(r.baseline_ms):>12} "
            f"{ratio:>8} {target:>8} {r.verdict:>5}  {r.note}"
        )
    print(
        "baseline: panel = brute-force per-slot check (tests/reference.py); "
        "free time kept = find_slots from the raw intervals"
    )
    return 0 if all(r.verdict != "MISS" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
