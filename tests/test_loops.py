"""Loops (`scheduling.loops`): several sessions in a row, checked against the brute-force
`reference_loops` (every grid start, every order, every assignment), plus examples of the
backtracking, free order, breaks and the one-local-day rule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.freetime import FreeTime
from scheduling.intervals import Interval
from scheduling.loops import InvalidLoop, LoopOption, LoopSpec, SessionSpec, find_loops
from scheduling.policies import Policy
from scheduling.pools import Load, Member
from scheduling.slots import EPOCH, Participant, SearchRules
from tests.reference import over_cap, participant_free_for, reference_loops
from tests.test_freetime import UNIVERSE
from tests.test_pools import (
    ZONES,
    Raw,
    booked_st,
    loads,
    maybe_bound,
    people,
    policy_st,
    pool_now,
    pool_rules,
)
from tests.test_slots import DAY, LATTICE, PROPS, REFERENCE, SPAN, H, M, lattice_intervals, span


@dataclass(frozen=True)
class Session:
    """A session before free time is worked out: member indices instead of members."""

    name: str
    duration: timedelta
    people: tuple[str, ...]
    pool: tuple[int, ...]
    k: int


@dataclass(frozen=True)
class Case:
    candidate: Participant
    named: dict[str, Participant]
    raw: list[Raw]
    sessions: list[Session]
    order: Literal["fixed", "free"]
    gap: timedelta
    across_days: bool
    zone: tzinfo

    def loop(self, rules: SearchRules) -> LoopSpec:
        members = [r.member(rules) for r in self.raw]
        sessions = tuple(SessionSpec(s.name, s.duration, s.people, tuple(members[i] for i in s.pool), s.k)
                         for s in self.sessions)
        return LoopSpec(sessions, self.order, self.gap, self.across_days)

    def search(self, rules: SearchRules, now: datetime, start: datetime | None = None,
               end: datetime | None = None, policy: Policy | None = None) -> list[LoopOption]:
        named = {k: FreeTime.of(p, rules, UNIVERSE) for k, p in self.named.items()}
        return find_loops(FreeTime.of(self.candidate, rules, UNIVERSE), named, self.loop(rules), rules,
                          now, start, end, policy, self.zone)

    @property
    def calendars(self) -> dict[str, Participant]:
        return {r.person.key: r.person for r in self.raw} | self.named


@st.composite
def sessions_st(draw: st.DrawFn, named: Sequence[str], n_members: int, least: int = 1) -> list[Session]:
    n = draw(st.integers(least, 3))
    seat = {key: draw(st.integers(-1, n - 1)) for key in named}  # -1: in no session
    out = []
    for i in range(n):
        pool = tuple(draw(st.lists(st.integers(0, n_members - 1), unique=True, max_size=n_members)))
        out.append(Session(
            name=f"s{i}",
            duration=draw(st.sampled_from([15 * M, 30 * M, 45 * M, 60 * M])),
            people=tuple(k for k in named if seat[k] == i),
            pool=pool,
            k=draw(st.integers(min(1, len(pool)), min(2, len(pool)))),
        ))
    return out


@st.composite
def mostly_free(draw: st.DrawFn, key: str) -> Participant:
    """Free all three days but for a few short blocks."""
    busy = draw(st.lists(lattice_intervals(6), max_size=3))
    return Participant(key, windows=(Interval(DAY, DAY + SPAN * LATTICE),), busy=tuple(busy))


@st.composite
def cases(draw: st.DrawFn, crowded: bool = False) -> Case:
    """`crowded`: people mostly free and several sessions drawing on a few members, so
    who sits which session is what decides (and greedy choice would go wrong)."""
    calendar = mostly_free if crowded else people
    named = {f"n{i}": draw(calendar(f"n{i}")) for i in range(draw(st.integers(0, 2)))}
    raw = [Raw(draw(calendar(f"m{i}")), draw(loads), draw(st.sampled_from(ZONES)), draw(booked_st))
           for i in range(draw(st.integers(1, 4)))]
    return Case(
        candidate=draw(calendar("cand")),
        named=named,
        raw=raw,
        sessions=draw(sessions_st(list(named), len(raw), 2 if crowded else 1)),
        order=draw(st.sampled_from(["fixed", "free"])),
        gap=draw(st.sampled_from([timedelta(0), 10 * M, 15 * M, 30 * M])),
        across_days=draw(st.booleans()),
        zone=draw(st.sampled_from(ZONES)),
    )


def answers(options: Sequence[LoopOption]) -> list[tuple[datetime, tuple[tuple[str, Interval, tuple[str, ...], tuple[str, ...]], ...]]]:
    return [(o.start, tuple((p.name, p.slot, p.interviewers, p.others) for p in o.sessions)) for o in options]


@REFERENCE
@given(cases() | cases(crowded=True), pool_rules, pool_now, maybe_bound, maybe_bound, policy_st)
def test_matches_brute_force_reference(
    case: Case, rules: SearchRules, now: datetime, start: datetime | None, end: datetime | None,
    policy: Policy | None,
) -> None:
    got = case.search(rules, now, start, end, policy)
    assert answers(got) == reference_loops(case.candidate, case.named, case.loop(rules), case.calendars,
                                           rules, now, start, end, policy, case.zone)


@PROPS
@given(cases() | cases(crowded=True), pool_rules, pool_now, policy_st)
def test_every_option_is_bookable(case: Case, rules: SearchRules, now: datetime, policy: Policy | None) -> None:
    loop = case.loop(rules)
    options = case.search(rules, now, policy=policy)
    assert [o.start for o in options] == sorted({o.start for o in options})
    by_key = {m.key: m for s in loop.sessions for m in s.pool}
    calendars = case.calendars
    for o in options:
        assert (o.start - EPOCH) % rules.step == timedelta(0)
        assert o.start >= now + rules.min_notice and o.start <= now + rules.horizon
        assert o.end - o.start == loop.length
        assert participant_free_for(case.candidate, o.start, o.end, rules)  # breaks included
        if not case.across_days:
            assert o.start.astimezone(case.zone).date() == (o.end - M).astimezone(case.zone).date()
        names = [p.name for p in o.sessions]
        assert sorted(names) == sorted(s.name for s in loop.sessions)
        if loop.order == "fixed":
            assert names == [s.name for s in loop.sessions]
        assert o.sessions[0].slot.start == o.start and o.sessions[-1].slot.end == o.end
        for a, b in zip(o.sessions, o.sessions[1:], strict=False):
            assert b.slot.start == a.slot.end + loop.break_between
        everyone = [key for p in o.sessions for key in p.interviewers]
        assert len(everyone) == len(set(everyone))  # nobody sits two sessions
        specs = {s.name: s for s in loop.sessions}
        for p in o.sessions:
            spec = specs[p.name]
            assert p.slot.duration == spec.duration
            chosen = p.interviewers[len(spec.people):]
            assert p.interviewers[:len(spec.people)] == spec.people and len(chosen) == len(p.why) == spec.k
            for key in p.interviewers:
                assert participant_free_for(calendars[key], p.slot.start, p.slot.end, rules)
            for key in chosen:
                assert not over_cap(by_key[key], p.slot.start, policy)
            assert not set(p.others) & set(everyone)


# --------------------------------------------------------------------------------------------
# Examples: Monday 4 Jan 2027, everyone 09:00-17:00 UTC unless said otherwise
# --------------------------------------------------------------------------------------------


RULES = SearchRules(min_notice=timedelta(0), horizon=timedelta(days=2), step=60 * M)
NOW = DAY - timedelta(days=1)
IDLE = Load()


def free(key: str, busy: Sequence[Interval] = (), windows: Sequence[Interval] = ()) -> FreeTime:
    person = Participant(key, tuple(windows) or (span("09:00", "17:00"),), tuple(busy))
    return FreeTime.of(person, RULES, UNIVERSE)


def member(key: str, load: Load = IDLE, busy: Sequence[Interval] = (), *, label: str = "",
           booked: Sequence[datetime] = ()) -> Member:
    return Member(key, label, free(key, busy), load, booked=tuple(booked))


def session(name: str, minutes: int, people: tuple[str, ...] = (), pool: Sequence[Member] = (),
            k: int = 0) -> SessionSpec:
    return SessionSpec(name, minutes * M, people, tuple(pool), k)


def search(loop: LoopSpec, named: Mapping[str, FreeTime] | None = None, candidate: FreeTime | None = None,
           *, end: str = "17:00", policy: Policy | None = None, zone: tzinfo = UTC) -> list[LoopOption]:
    return find_loops(candidate or free("cand"), named or {}, loop, RULES, NOW, DAY, at(end),
                      policy, zone)


def at(hhmm: str) -> datetime:
    return span(hhmm, "23:59").start


def table(options: Sequence[LoopOption]) -> list[tuple[str, list[tuple[str, str, tuple[str, ...]]]]]:
    return [(o.start.strftime("%H:%M"),
             [(p.name, p.slot.start.strftime("%H:%M"), p.interviewers) for p in o.sessions])
            for o in options]


def test_backtracks_when_the_fairest_choice_starves_a_later_session() -> None:
    xi = member("xi", Load(0, 0, None))
    yo = member("yo", Load(3, 3, None))
    loop = LoopSpec((session("tech", 60, pool=[xi, yo], k=1), session("culture", 60, pool=[xi], k=1)))
    [first, *_] = search(loop, end="11:00")
    assert table([first]) == [("09:00", [("tech", "09:00", ("yo",)), ("culture", "10:00", ("xi",))])]
    assert first.sessions[0].others == ()  # xi is free then, but sits the next session


def test_sessions_start_back_to_back_with_breaks_and_named_people() -> None:
    loop = LoopSpec((session("intro", 30, ("hm",)), session("code", 45, pool=[member("zed")], k=1)),
                    break_between=15 * M)
    options = search(loop, {"hm": free("hm")}, end="11:30")
    assert table(options) == [
        ("09:00", [("intro", "09:00", ("hm",)), ("code", "09:45", ("zed",))]),
        ("10:00", [("intro", "10:00", ("hm",)), ("code", "10:45", ("zed",))]),
    ]
    assert options[0].end == at("10:30")


def test_the_candidate_sits_the_breaks_but_interviewers_need_not_be_free_then() -> None:
    loop = LoopSpec((session("a", 60, ("ana",)), session("b", 60, ("bo",))), break_between=15 * M)
    named = {"ana": free("ana"), "bo": free("bo", busy=[span("10:00", "10:15")])}
    assert [o.start for o in search(loop, named, end="12:00")] == [at("09:00")]
    busy_in_break = free("cand", busy=[span("10:00", "10:15")])
    assert search(loop, named, busy_in_break, end="12:00") == []


def test_free_order_tries_the_given_order_first_then_others() -> None:
    a = session("a", 60, ("ana",))
    b = session("b", 60, ("bo",))
    named = {"ana": free("ana", busy=[span("09:00", "10:00")]), "bo": free("bo")}
    assert search(LoopSpec((a, b)), named, end="11:00") == []
    options = search(LoopSpec((a, b), order="free"), named, end="12:00")
    assert table(options) == [
        ("09:00", [("b", "09:00", ("bo",)), ("a", "10:00", ("ana",))]),
        ("10:00", [("a", "10:00", ("ana",)), ("b", "11:00", ("bo",))]),
    ]


def test_one_local_day_of_the_candidate_unless_across_days() -> None:
    # New York is UTC-5: 04:00-06:00 UTC is 23:00-01:00 local, across midnight.
    night = [Interval(DAY + 3 * H, DAY + 7 * H)]
    cand = free("cand", windows=night)
    owl = Member("owl", "", free("owl", windows=night))
    loop = LoopSpec((session("a", 60, pool=[owl], k=1), session("b", 60)))
    ny = ZoneInfo("America/New_York")
    starts = [o.start.hour for o in find_loops(cand, {}, loop, RULES, NOW, candidate_zone=ny)]
    assert starts == [3, 5]  # 22:00-24:00 and 00:00-02:00 local
    across = LoopSpec(loop.sessions, across_days=True)
    assert [o.start.hour for o in find_loops(cand, {}, across, RULES, NOW, candidate_zone=ny)] == [3, 4, 5]


def test_caps_hold_in_loops_and_the_why_uses_the_sessions_pool() -> None:
    ana = member("ana", Load(0, 0, None), label="Ana", booked=[span("08:00", "09:00").start])
    ben = member("ben", Load(1, 2, NOW - timedelta(days=2)), label="Ben")
    cy = member("cy", Load(4, 8, NOW - timedelta(days=1)), label="Cy")
    loop = LoopSpec((session("tech", 60, pool=[ana, ben, cy], k=1),))
    [opt] = search(loop, end="10:00", policy=Policy(cap_per_day=1))
    [tech] = opt.sessions
    assert tech.interviewers == ("ben",) and tech.others == ("cy",)
    assert tech.why == ("Ben: 1 this week, team median 1, 2 in 30 days, last interview 2 days ago",)


def test_loop_templates_that_cannot_work_are_refused() -> None:
    one = member("one")
    with pytest.raises(InvalidLoop, match="from a pool of 1"):
        session("a", 60, pool=[one], k=2)
    with pytest.raises(InvalidLoop, match="positive"):
        session("a", 0)
    with pytest.raises(InvalidLoop, match="twice"):
        session("a", 60, pool=[one, one], k=1)
    with pytest.raises(InvalidLoop, match="two sessions"):
        LoopSpec((session("a", 60, ("hm",)), session("b", 60, ("hm",))))
    with pytest.raises(InvalidLoop, match="same name"):
        LoopSpec((session("a", 60), session("a", 30)))
    with pytest.raises(InvalidLoop, match="at most"):
        LoopSpec(tuple(session(f"s{i}", 30) for i in range(6)), order="free")
    with pytest.raises(InvalidLoop, match="at least one"):
        LoopSpec(())
    with pytest.raises(InvalidLoop, match="No free time known for hm"):
        search(LoopSpec((session("a", 60, ("hm",)),)))


def test_a_loop_the_pool_cannot_fill_is_answered_without_trying_every_assignment() -> None:
    # Four sessions of 3 from one pool of 11, everyone free all day: 12 seats, 11 people.
    # Backtracking alone would try some 10^5 choices per start before giving up.
    team = [member(f"p{i:02d}", Load(i % 3, i, None)) for i in range(11)]
    loop = LoopSpec(tuple(session(f"s{i}", 60, pool=team, k=3) for i in range(4)))
    assert search(loop) == []
    fits = LoopSpec(loop.sessions[:3])  # 9 seats: the fairest nine, fairest first in time
    [first, *_] = search(fits)
    assert [p.interviewers for p in first.sessions] == [
        ("p00", "p03", "p06"), ("p09", "p01", "p04"), ("p07", "p10", "p02")]
