"""Pools (`scheduling.pools`): fair choice of k members per slot, checked against the
brute-force `reference_pool` (every grid start, every member asked directly), plus examples
of the explanations and the swap list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.freetime import FreeTime, find_slots_in
from scheduling.intervals import Interval
from scheduling.policies import Policy
from scheduling.pools import InvalidPool, Load, Member, load_of, pick_from_pool
from scheduling.slots import Participant, SearchRules
from tests.reference import over_cap, participant_free_for, reference_pool
from tests.test_freetime import UNIVERSE
from tests.test_slots import (
    DAY,
    LATTICE,
    PROPS,
    REFERENCE,
    SPAN,
    H,
    M,
    bound_st,
    lattice_intervals,
    now_st,
    rules_st,
    span,
)

ZONES = [UTC, ZoneInfo("Asia/Kolkata"), ZoneInfo("America/New_York"), ZoneInfo("Pacific/Auckland")]
OPEN = SearchRules(min_notice=timedelta(0), horizon=timedelta(days=3), step=30 * M)
IDLE = Load()


@dataclass(frozen=True)
class Raw:
    """A member before free time is worked out (that needs the rules' buffers)."""

    person: Participant
    load: Load
    zone: tzinfo
    booked: tuple[datetime, ...]

    def member(self, rules: SearchRules) -> Member:
        return Member(self.person.key, self.person.label, FreeTime.of(self.person, rules, UNIVERSE),
                      self.load, self.zone, self.booked)


# Small ranges, so ties on every part of the order happen often.
loads = st.builds(
    Load,
    this_week=st.integers(0, 2),
    last_30_days=st.integers(0, 2),
    last_at=st.none() | st.integers(-3, 0).map(lambda d: DAY + d * timedelta(days=1)),
)
booked_st = st.lists(st.integers(-96, SPAN).map(lambda q: DAY + q * LATTICE), max_size=6).map(tuple)
# Like `rules_st` (which `find_slots` is tested with), without the horizons that leave
# little or nothing to choose from.
pool_rules = st.builds(
    SearchRules,
    duration=st.sampled_from([15 * M, 30 * M, 60 * M, 90 * M]),
    step=st.sampled_from([15 * M, 30 * M, 60 * M, 20 * M]),
    min_notice=st.sampled_from([timedelta(0), 50 * M, 24 * H]),
    horizon=st.sampled_from([timedelta(days=1), timedelta(days=2), timedelta(days=90)]),
    buffer_before=st.sampled_from([timedelta(0), 15 * M, 10 * M]),
    buffer_after=st.sampled_from([timedelta(0), 15 * M]),
)
# `now` within a day of the universe's start; a range bound only now and then.
pool_now = st.integers(-24 * 12, 24 * 12).map(lambda k: DAY + k * 5 * M)
maybe_bound = st.one_of(st.just(None), st.just(None), bound_st)
policy_st = st.none() | st.builds(
    Policy, cap_per_day=st.none() | st.integers(1, 2), cap_per_week=st.none() | st.integers(1, 3))


# Longer windows than `participants` draws, so that pools often have someone free.
@st.composite
def people(draw: st.DrawFn, key: str) -> Participant:
    windows = draw(st.lists(lattice_intervals(SPAN // 2), min_size=1, max_size=3))
    busy = draw(st.lists(lattice_intervals(12), max_size=6))
    return Participant(key=key, windows=tuple(windows), busy=tuple(busy))


@st.composite
def raw_member(draw: st.DrawFn, key: str) -> Raw:
    return Raw(draw(people(key)), draw(loads), draw(st.sampled_from(ZONES)), draw(booked_st))


@st.composite
def raw_pools(draw: st.DrawFn, min_size: int = 1, max_size: int = 5) -> list[Raw]:
    n = draw(st.integers(min_size, max_size))
    return [draw(raw_member(f"m{i}")) for i in range(n)]


def kept(ps: Sequence[Participant], rules: SearchRules) -> list[FreeTime]:
    return [FreeTime.of(p, rules, UNIVERSE) for p in ps]


@REFERENCE
@given(st.lists(people("fixed"), max_size=2), raw_pools(), st.integers(1, 3), pool_rules,
       pool_now, maybe_bound, maybe_bound, policy_st)
def test_matches_brute_force_reference(
    fixed: list[Participant], raw: list[Raw], k: int, rules: SearchRules, now: datetime,
    start: datetime | None, end: datetime | None, policy: Policy | None,
) -> None:
    pool = [r.member(rules) for r in raw]
    got = pick_from_pool(kept(fixed, rules), pool, k, rules, now, start, end, policy)
    people = {r.person.key: r.person for r in raw}
    assert [(p.slot, p.chosen, p.others) for p in got] == \
        reference_pool(fixed, pool, people, k, rules, now, start, end, policy)


@PROPS
@given(st.lists(people("fixed"), max_size=2), raw_pools(0), rules_st | pool_rules, pool_now, maybe_bound, maybe_bound)
def test_without_caps_any_one_is_where_someone_joins_the_fixed_people(
    fixed: list[Participant], raw: list[Raw], rules: SearchRules, now: datetime,
    start: datetime | None, end: datetime | None,
) -> None:
    """With k = 1 and no caps, the slots are the union of the searches of fixed + one member."""
    pool = [r.member(rules) for r in raw]
    got = pick_from_pool(kept(fixed, rules), pool, 1, rules, now, start, end)
    frees = kept(fixed, rules)
    union = {s for m in pool for s in find_slots_in([*frees, m.free], rules, now, start, end)}
    assert [p.slot for p in got] == sorted(union)


@PROPS
@given(st.lists(people("fixed"), max_size=2), raw_pools(), st.integers(1, 3), pool_rules, pool_now, policy_st)
def test_every_pick_is_free_uncapped_and_explained(
    fixed: list[Participant], raw: list[Raw], k: int, rules: SearchRules, now: datetime,
    policy: Policy | None,
) -> None:
    pool = [r.member(rules) for r in raw]
    by_key = {r.person.key: r for r in raw}
    for pick in pick_from_pool(kept(fixed, rules), pool, k, rules, now, policy=policy):
        s, e = pick.slot.start, pick.slot.end
        assert len(pick.chosen) == len(pick.why) == k
        assert not set(pick.chosen) & set(pick.others)
        assert all(participant_free_for(p, s, e, rules) for p in fixed)
        for key in (*pick.chosen, *pick.others):
            assert participant_free_for(by_key[key].person, s, e, rules)
            assert not over_cap(by_key[key].member(rules), s, policy)
        for key, why in zip(pick.chosen, pick.why, strict=True):
            assert why.startswith(f"{key}: {by_key[key].load.this_week} this week")


# --------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------


@PROPS
@given(st.lists(st.integers(-60 * 24, 14 * 24).map(lambda h: DAY + h * H), max_size=12),
       st.sampled_from(ZONES), now_st)
def test_load_counts_like_a_calendar_would(starts: list[datetime], zone: tzinfo, now: datetime) -> None:
    local = now.astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    past = [s for s in starts if s < now]
    assert load_of(starts, zone, now) == Load(
        this_week=sum(monday <= s.astimezone(zone).date() < monday + timedelta(days=7) for s in starts),
        last_30_days=sum(s >= now - timedelta(days=30) for s in past),
        last_at=max(past, default=None),
    )


def test_this_week_is_the_interviewers_local_week() -> None:
    # Sunday 4 Jan 2027 20:00 UTC is already Monday in Tokyo: a new week there, not in UTC.
    now = DAY + 2 * H  # Monday 4 Jan 02:00 UTC
    sunday_evening = DAY - 4 * H
    assert load_of([sunday_evening], UTC, now).this_week == 0
    assert load_of([sunday_evening], ZoneInfo("Asia/Tokyo"), now).this_week == 1
    assert load_of([DAY + timedelta(days=3)], UTC, now) == Load(this_week=1)  # booked later this week


# --------------------------------------------------------------------------------------------
# Examples
# --------------------------------------------------------------------------------------------


def free_person(key: str, busy: Sequence[Interval] = (), windows: Sequence[Interval] = ()) -> Participant:
    return Participant(key, windows=tuple(windows) or (span("09:00", "17:00"),), busy=tuple(busy))


def member(key: str, label: str = "", busy: Sequence[Interval] = (), load: Load = IDLE, *,
           zone: tzinfo = UTC, booked: Sequence[datetime] = (), windows: Sequence[Interval] = ()) -> Member:
    person = free_person(key, busy, windows)
    return Member(key, label, FreeTime.of(person, OPEN, UNIVERSE), load, zone, tuple(booked))


NOW = DAY - timedelta(days=2)
CANDIDATE = FreeTime.of(free_person("cand", busy=[span("10:00", "16:00")]), OPEN, UNIVERSE)  # 09-10, 16-17


def test_fairest_free_member_is_chosen_with_the_others_for_a_swap() -> None:
    dana = member("dana", "Dana Ito", load=Load(2, 4, NOW - timedelta(days=12)))
    eli = member("eli", "Eli Moss", load=Load(2, 4, NOW - timedelta(days=3)))  # more recent
    fay = member("fay", "Fay Wu", load=Load(5, 9, NOW - timedelta(days=1)))
    gus = member("gus", "Gus", load=Load(3, 6, None), busy=[span("09:00", "10:00")])
    picks = pick_from_pool([CANDIDATE], [fay, gus, eli, dana], 1, OPEN, NOW, DAY, DAY + timedelta(days=1))
    assert [(p.slot.start.strftime("%H:%M"), p.chosen, p.others) for p in picks] == [
        ("09:00", ("dana",), ("eli", "fay")),  # gus is busy
        ("16:00", ("dana",), ("eli", "gus", "fay")),
    ]
    # The median is over the whole pool (2, 2, 3, 5), free or not.
    assert picks[0].why == ("Dana Ito: 2 this week, team median 2.5, 4 in 30 days, last interview 12 days ago",)


def test_why_for_several_and_for_someone_never_interviewed() -> None:
    new = member("new", "Noa", load=Load(0, 0, None))
    old = member("old", "Olu", load=Load(0, 0, NOW - timedelta(hours=5)))
    busy = member("busy", "Bea", load=Load(4, 7, NOW - timedelta(days=1)))
    [pick] = pick_from_pool([CANDIDATE], [old, busy, new], 2, OPEN, NOW, DAY, DAY + 10 * H)
    assert pick.chosen == ("new", "old") and pick.others == ("busy",)
    assert pick.why == (
        "Noa: 0 this week, team median 0, 0 in 30 days, no interview yet",
        "Olu: 0 this week, team median 0, 0 in 30 days, last interview less than a day ago",
    )


def test_caps_are_hard_and_counted_in_the_members_zone() -> None:
    # Ana is the fairest but already has an interview on Mon 4 Jan in Auckland (UTC+13), where
    # 09:00-11:00 UTC Monday is still Monday (22:00-24:00): Ben takes those, Ana the next day's.
    auckland = ZoneInfo("Pacific/Auckland")
    ana = member("ana", zone=auckland, booked=[DAY - 2 * H])  # Mon 4 Jan 11:00 local
    ben = member("ben", load=Load(1, 1, None))
    picks = pick_from_pool([], [ana, ben], 1, OPEN, NOW, DAY + 9 * H, DAY + 12 * H, Policy(cap_per_day=1))
    assert [p.chosen for p in picks] == [("ben",)] * 4 + [("ana",)]
    # In UTC that booking is on Sun 3 Jan, in ISO week 53 of 2026: a week cap bites until Monday.
    late = Interval(DAY - 4 * H, DAY + 2 * H)
    at_utc = member("ana", booked=[DAY - 2 * H], windows=[late])
    ben = member("ben", load=Load(1, 1, None), windows=[late])
    picks = pick_from_pool([], [at_utc, ben], 1, OPEN, NOW, DAY - 3 * H, DAY + H, Policy(cap_per_week=1))
    assert [(p.slot.start.strftime("%a %H:%M"), p.chosen, p.others) for p in picks] == [
        (f"Sun {hhmm}", ("ben",), ()) for hhmm in ("21:00", "21:30", "22:00", "22:30", "23:00", "23:30")
    ] + [("Mon 00:00", ("ana",), ("ben",))]


def test_a_cap_on_a_day_that_begins_at_a_dst_gap() -> None:
    # Chile springs forward at local midnight: Sun 6 Sep 2026 begins at 01:00 (04:00 UTC).
    santiago = ZoneInfo("America/Santiago")
    booked = [datetime(2026, 9, 6, 12, tzinfo=santiago)]
    person = Participant("ana", windows=(Interval(datetime(2026, 9, 5, tzinfo=UTC), datetime(2026, 9, 8, tzinfo=UTC)),))
    rules = SearchRules(duration=H, step=H, min_notice=timedelta(0), horizon=timedelta(days=10))
    covers = Interval(datetime(2026, 8, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    ana = Member("ana", "", FreeTime.of(person, rules, covers), zone=santiago, booked=tuple(booked))
    now = datetime(2026, 9, 1, tzinfo=UTC)
    policy = Policy(cap_per_day=1)
    got = pick_from_pool([], [ana], 1, rules, now, policy=policy)
    assert [(p.slot, p.chosen, p.others) for p in got] == reference_pool([], [ana], {"ana": person}, 1, rules, now, policy=policy)
    starts = {p.slot.start for p in got}
    assert datetime(2026, 9, 6, 3, tzinfo=UTC) in starts  # Sat 23:00 local
    assert datetime(2026, 9, 6, 4, tzinfo=UTC) not in starts  # Sun 01:00 local, the day's first hour
    assert datetime(2026, 9, 7, 3, tzinfo=UTC) in starts  # Mon 00:00 local


def test_fewer_free_than_asked_gives_no_slot() -> None:
    one = member("one")
    two = member("two", busy=[span("09:00", "10:00")])
    picks = pick_from_pool([CANDIDATE], [one, two], 2, OPEN, NOW, DAY, DAY + timedelta(days=1))
    assert [p.slot.start.strftime("%H:%M") for p in picks] == ["16:00"]


def test_bad_requests_are_refused() -> None:
    one = member("one")
    with pytest.raises(InvalidPool):
        pick_from_pool([], [one], 0, OPEN, NOW)
    with pytest.raises(InvalidPool, match="twice"):
        pick_from_pool([], [one, one], 1, OPEN, NOW)
    short = Member("s", "", FreeTime.of(free_person("s"), OPEN, span("00:00", "23:00")))
    with pytest.raises(ValueError, match="not over"):
        pick_from_pool([], [short], 1, OPEN, NOW)
    assert pick_from_pool([], [one], 2, OPEN, NOW) == []
