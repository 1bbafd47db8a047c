"""Benchmark: a 5,000-event iCalendar feed expanded over 90 days through the ICS source.

Run: `python bench/bench_ics.py [--events N] [--days D] [--runs R]`. Prints a table with the
median wall time, peak traced memory, and a parse-only baseline (`Calendar.from_ical`) from the
same run, so the ratio says how much the expansion costs on top of reading the file at all.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from icalendar import Calendar  # noqa: E402

from scheduling.intervals import Interval  # noqa: E402
from storage.freebusy.ics import IcsSource, clear_cache  # noqa: E402

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Tokyo", "Europe/London", "Australia/Sydney")
TARGET_S = 1.0


def _vtimezone(name: str) -> str:
    from icalendar import Timezone

    return Timezone.from_tzid(name, first_date=datetime(2026, 1, 1).date()).to_ical().decode()


def generate_feed(events: int, *, start: datetime, dense: bool = False, seed: int = 42) -> str:
    """`events` VEVENTs, 30% of them weekly series (some with EXDATE/COUNT/UNTIL), rest single.

    realistic: singles spread over three years of history and six months ahead, series started
    at any time and most of them finished (UNTIL/COUNT), as in a long-lived work calendar.
    dense: everything within a few months of `start` (a stress test: ~1,000 live series).
    """
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN"]
    for zone in ZONES:
        lines.extend(_vtimezone(zone).strip().split("\r\n"))
    history, ahead = (120, 200) if dense else (3 * 365, 180)
    for i in range(events):
        tz = ZONES[i % len(ZONES)]
        recurring = i % 10 < 3
        day = start + timedelta(days=rng.randint(-history, 60 if recurring else ahead))
        begin = day.replace(hour=rng.randint(7, 18), minute=rng.choice((0, 30)))
        end = begin + timedelta(minutes=rng.choice((30, 45, 60, 90, 120)))
        lines += ["BEGIN:VEVENT", f"UID:bench-{i}@example.com", "DTSTAMP:20260101T000000Z"]
        lines.append(f"SUMMARY:Meeting {i}")
        lines.append(f"DTSTART;TZID={tz}:{begin:%Y%m%dT%H%M%S}")
        lines.append(f"DTEND;TZID={tz}:{end:%Y%m%dT%H%M%S}")
        if recurring:
            rule = "FREQ=WEEKLY"
            kind = rng.random()
            if kind < (0.15 if dense else 0.6):
                until = begin + timedelta(weeks=rng.randint(4, 52))
                rule += f";UNTIL={until:%Y%m%dT000000Z}"
            elif kind < (0.3 if dense else 0.75):
                rule += f";COUNT={rng.randint(4, 40)}"
            lines.append(f"RRULE:{rule}")
            if i % 4 == 0:
                lines.append(f"EXDATE;TZID={tz}:{(begin + timedelta(weeks=2)):%Y%m%dT%H%M%S}")
        if i % 50 == 0:
            lines.append("TRANSP:TRANSPARENT")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(lines) + "\r\n"


def measure(
    fn: Callable[[], object], runs: int, before: Callable[[], None] = lambda: None
) -> tuple[float, float, object]:
    """Median wall seconds over `runs`, then peak MB from one extra traced run."""
    times = []
    result: object = None
    for _ in range(runs):
        before()
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    before()
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    start = datetime(2027, 1, 4, tzinfo=UTC)
    window = Interval(start, start + timedelta(days=args.days))
    print(
        f"{args.events} events per feed (30% weekly series, {len(ZONES)} TZIDs), window "
        f"{args.days} days, median of {args.runs} runs; peak = tracemalloc peak of one run"
    )
    print(f"{'feed':<10} {'step':<44} {'wall (s)':>9} {'peak MB':>8} {'x base':>7}")
    print("-" * 82)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for profile in ("realistic", "dense"):
            feed = generate_feed(args.events, start=start, dense=profile == "dense")
            path = Path(tmp) / f"{profile}.ics"
            path.write_text(feed, encoding="utf-8")
            raw = path.read_bytes()
            source = IcsSource(url=str(path), zone=ZoneInfo("Europe/Berlin"))
            base_t, base_mb, _ = measure(lambda raw=raw: Calendar.from_ical(raw), args.runs)
            cold_t, cold_mb, busy = measure(
                lambda source=source: source.fetch(window), args.runs, clear_cache
            )
            source.fetch(window)  # prime the parse cache
            warm_t, warm_mb, _ = measure(lambda source=source: source.fetch(window), args.runs)
            assert isinstance(busy, tuple)
            rows = [
                ("baseline: Calendar.from_ical only", base_t, base_mb),
                ("IcsSource.fetch cold (slim+parse+expand)", cold_t, cold_mb),
                ("IcsSource.fetch warm (parse cached)", warm_t, warm_mb),
            ]
            for name, seconds, mb in rows:
                print(
                    f"{profile:<10} {name:<44} {seconds:>9.3f} {mb:>8.1f} {seconds / base_t:>7.2f}"
                )
            print(f"{'':<10} ({len(raw) / 1e6:.2f} MB feed, {len(busy)} merged busy blocks)")
            if profile == "realistic":
                ok = cold_t < TARGET_S
    print(f"target: realistic cold fetch < {TARGET_S:g} s -> {'OK' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
