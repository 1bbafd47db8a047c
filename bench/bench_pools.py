"""Benchmarks of pools and loops (`scheduling.pools`, `scheduling.loops`).

Run from the repository root: `python bench/bench_pools.py [--runs N]`.

Prints one table: median and p90 wall time in ms, a baseline measured in the same run, the
ratio, the targets (time, and ratio where one is set) and pass/MISS. Data are seeded; every
baseline must give the same answer as the code it is compared with.

* pool: any 1 of a pool of 200 over 14 days, with a candidate, day and week caps; the
  baseline asks per slot, per member: one `find_slots_in` for that member over that slot,
  then `apply_caps`.
* loop: 4 sessions (45, 60, 45, 30 min, 15 min breaks), each "1 from a pool of 20" drawn from a
  team of 40, 14 days, 200 busy blocks per person, same caps. The baseline tries every
  assignment per start: per grid start the candidate is free for, the product of the ranked
  pools in fairness order, each assignment checked whole, until one holds (its answer is also
  checked against `tests/reference.py`'s `reference_loops`). The free-order row runs the same
  loop in any order against `reference_loops` itself (which asks each member once per
  session before trying assignments, so it is a far faster baseline); it has no target, nor
  has the last row: a candidate with 50 busy blocks, so that many more starts are bookable.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Literal

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_core import fmt, measure  # noqa: E402
from scheduling.freetime import FreeTime, find_slots_in  # noqa: E402
from scheduling.intervals import Interval  # noqa: E402
from scheduling.loops import LoopSpec, SessionSpec, find_loops  # noqa: E402
from scheduling.policies import InterviewerLoad, Policy, apply_caps  # noqa: E402
from scheduling.pools import Member, fairness_key, load_of, pick_from_pool  # noqa: E402
from scheduling.slots import Participant, SearchRules, grid_ceil, search_bounds  # noqa: E402
from scheduling.zones import zone_of  # noqa: E402
from tests.reference import LoopAnswer, over_cap, participant_free_for, reference_loops  # noqa: E402

NOW = datetime(2027, 1, 3, 8, 0, tzinfo=UTC)  # a Sunday morning
SEED = 20270103
DAYS = 14
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"]
POLICY = Policy(cap_per_day=2, cap_per_week=6)
Q = timedelta(minutes=15)
TICK = timedelta(microseconds=1)


@dataclass
class Row:
    name: str
    median_ms: float
    p90_ms: float
    baseline_ms: float
    target_ms: float | None
    min_ratio: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.baseline_ms / self.median_ms if self.median_ms else float("inf")

    @property
    def verdict(self) -> str:
        if self.target_ms is None and self.min_ratio is None:
            return "-"
        fast = self.target_ms is None or self.median_ms < self.target_ms
        return "pass" if fast and (self.min_ratio is None or self.ratio >= self.min_ratio) else "MISS"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def calendar(rng: random.Random, key: str, n_busy: int) -> Participant:
    """Weekdays 09:00-17:00 UTC for the next DAYS days; busy blocks of 15-60 min anywhere in
    the day (a third or so land in working hours), like a calendar with early and late calls."""
    first = NOW.replace(hour=0)
    windows = [Interval(d + timedelta(hours=9), d + timedelta(hours=17))
               for d in (first + timedelta(days=i) for i in range(DAYS + 2)) if d.weekday() < 5]
    busy = []
    for _ in range(n_busy):
        s = first + rng.randrange((DAYS + 1) * 96) * Q
        busy.append(Interval(s, s + rng.randint(1, 4) * Q))
    return Participant(key, tuple(windows), tuple(busy), label=key.title())


def team(rng: random.Random, n: int, n_busy: int, rules: SearchRules, covers: Interval) -> tuple[list[Member], dict[str, Participant]]:
    """Members with a history of bookings over the last 60 days and the next 14 (their load)."""
    members, calendars = [], {}
    for i in range(n):
        person = calendar(rng, f"interviewer{i:03d}", n_busy)
        zone = zone_of(rng.choice(ZONES))
        booked = tuple(sorted(NOW + timedelta(hours=rng.randrange(-60 * 24, DAYS * 24))
                              for _ in range(rng.randrange(12))))
        members.append(Member(person.key, person.label, FreeTime.of(person, rules, covers),
                              load_of(booked, zone, NOW), zone, booked))
        calendars[person.key] = person
    return members, calendars


# --------------------------------------------------------------------------------------------
# Benchmarks
# --------------------------------------------------------------------------------------------


def per_slot_per_member(candidate: FreeTime, pool: Sequence[Member], k: int, rules: SearchRules,
                        policy: Policy) -> list[tuple[Interval, tuple[str, ...], tuple[str, ...]]]:
    """The baseline: for each slot the candidate has, ask every member in turn."""
    out = []
    ranked = sorted(pool, key=fairness_key)
    for slot in find_slots_in([candidate], rules, NOW):
        free = [m.key for m in ranked
                if find_slots_in([m.free], rules, NOW, slot.start, slot.end)
                and apply_caps([slot], [InterviewerLoad(m.key, m.zone, m.booked)], policy).slots]
        if len(free) >= k:
            out.append((slot, tuple(free[:k]), tuple(free[k:])))
    return out


def every_assignment(cand: Participant, loop: LoopSpec, calendars: dict[str, Participant],
                     rules: SearchRules, policy: Policy) -> list[LoopAnswer]:
    """The naive baseline for a fixed-order loop of "1 from a pool" sessions: per grid start
    the candidate is free for, try every assignment in fairness order (the product of the
    ranked pools), each checked whole, until one holds."""
    length, n = loop.length, len(loop.sessions)
    bounds = search_bounds(replace(rules, duration=length), NOW)
    assert bounds is not None
    ranked = [sorted(s.pool, key=fairness_key) for s in loop.sessions]
    out: list[LoopAnswer] = []
    t = grid_ceil(bounds.start, rules.step)
    while t + length <= bounds.end:
        if participant_free_for(cand, t, t + length, rules) and t.date() == (t + length - TICK).date():
            slots, at = [], t
            for s in loop.sessions:
                slots.append(Interval(at, at + s.duration))
                at += s.duration + loop.break_between

            def seated(m: Member, slot: Interval) -> bool:
                return participant_free_for(calendars[m.key], slot.start, slot.end, rules) and not over_cap(m, slot.start, policy)

            for assignment in product(*ranked):
                if len({m.key for m in assignment}) == n and all(map(seated, assignment, slots)):
                    used = {m.key for m in assignment}
                    out.append((t, tuple(
                        (s.name, slot, (m.key,), tuple(o.key for o in pool if o.key not in used and seated(o, slot)))
                        for s, slot, m, pool in zip(loop.sessions, slots, assignment, ranked, strict=True))))
                    break
        t += rules.step
    return out


def bench_pool(runs: int) -> Row:
    rng = random.Random(SEED)
    rules = SearchRules(horizon=timedelta(days=DAYS))
    covers = Interval(NOW, NOW + timedelta(days=DAYS + 2))
    candidate = FreeTime.of(calendar(rng, "candidate", 100), rules, covers)
    pool, _ = team(rng, 200, 100, rules, covers)
    med, p90, picks = measure(lambda: pick_from_pool([candidate], pool, 1, rules, NOW, policy=POLICY), runs)
    base, _, expected = measure(lambda: per_slot_per_member(candidate, pool, 1, rules, POLICY), 3, warmup=0)
    assert [(p.slot, p.chosen, p.others) for p in picks] == expected, "pool pick and baseline disagree"
    chosen = len({p.chosen for p in picks})
    return Row("pool: any 1 of 200, 14 d", med, p90, base, 20.0,
               note=f"{len(picks)} slots, {chosen} different choices")


def bench_loop(runs: int, order: Literal["fixed", "free"], candidate_busy: int = 200) -> Row:
    rng = random.Random(SEED + 1)
    rules = SearchRules(horizon=timedelta(days=DAYS))
    covers = Interval(NOW, NOW + timedelta(days=DAYS + 2))
    cand = calendar(rng, "candidate", candidate_busy)
    members, calendars = team(rng, 40, 200, rules, covers)
    sessions = tuple(
        SessionSpec(name, timedelta(minutes=minutes), pool=tuple(rng.sample(members, 20)), k=1)
        for name, minutes in [("intro", 45), ("coding", 60), ("design", 45), ("culture", 30)]
    )
    loop = LoopSpec(sessions, order=order, break_between=Q)
    kept = FreeTime.of(cand, rules, covers)
    med, p90, options = measure(lambda: find_loops(kept, {}, loop, rules, NOW, policy=POLICY), runs)
    naive = order == "fixed" and candidate_busy == 200  # the case with targets
    if naive:
        base, _, expected = measure(lambda: every_assignment(cand, loop, calendars, rules, POLICY), 3, warmup=0)
        assert expected == reference_loops(cand, {}, loop, calendars, rules, NOW, policy=POLICY)
    else:
        base, _, expected = measure(lambda: reference_loops(cand, {}, loop, calendars, rules, NOW, policy=POLICY), 3, warmup=0)
    got = [(o.start, tuple((p.name, p.slot, p.interviewers, p.others) for p in o.sessions)) for o in options]
    assert got == expected, "find_loops and the brute force disagree"
    return Row(f"loop: 4 x pool 20, {order}, cand {candidate_busy}b", med, p90, base,
               50.0 if naive else None, 10.0 if naive else None, f"{len(options)} starts")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=21, help="timed runs per case (median)")
    args = parser.parse_args(argv)
    rows = [bench_pool(args.runs), bench_loop(args.runs, "fixed"), bench_loop(args.runs, "free"),
            bench_loop(args.runs, "fixed", candidate_busy=50)]
    header = (f"{'name':<34} {'median ms':>10} {'p90 ms':>9} {'baseline ms':>12} {'ratio':>8} "
              f"{'target':>14} {'':>5}  note")
    print(header)
    print("-" * len(header))
    for r in rows:
        target = " ".join(t for t in (
            None if r.target_ms is None else f"<{r.target_ms:g}ms",
            None if r.min_ratio is None else f">=x{r.min_ratio:g}") if t) or "-"
        print(f"{r.name:<34} {fmt(r.median_ms):>10} {fmt(r.p90_ms):>9} {fmt(r.baseline_ms):>12} "
              f"{'x' + format(r.ratio, '.1f'):>8} {target:>14} {r.verdict:>5}  {r.note}")
    print("baseline: pool = per slot, per member find_slots_in + apply_caps; loop fixed = every "
          "assignment per start; loop free = reference_loops (tests/reference.py)")
    return 0 if all(r.verdict != "MISS" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
