"""Pure policy rules: caps in the interviewer's zone, programme verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduling.intervals import Interval
from scheduling.policies import (
    CandidateHistory,
    InterviewerLoad,
    InvalidPolicy,
    Policy,
    ProgrammeRules,
    apply_caps,
    programme_verdict,
)
from tests.factories import utc

HOUR = timedelta(hours=1)


def slot(text: str) -> Interval:
    return Interval(utc(text), utc(text) + HOUR)


def test_no_caps_keeps_everything() -> None:
    slots = [slot("2026-03-02 10:00")]
    assert apply_caps(slots, [InterviewerLoad("Ana", UTC, [utc("2026-03-02 08:00")])], Policy()).slots == slots


def test_day_cap_counts_the_interviewers_local_day() -> None:
    # Tokyo is UTC+9: 2026-03-02 20:00 UTC is already 3 March locally.
    tokyo = ZoneInfo("Asia/Tokyo")
    load = InterviewerLoad("Kenji", tokyo, [utc("2026-03-02 01:00")])  # 10:00 on 2 March local
    same_local_day = slot("2026-03-02 05:00")
    next_local_day = slot("2026-03-02 20:00")
    result = apply_caps([same_local_day, next_local_day], [load], Policy(cap_per_day=1))
    assert result.slots == [next_local_day]
    assert result.capped == ["Kenji"]
    assert result.notes == [
        "Kenji already has 1 interview(s) on Mon 2 Mar 2026 (cap per day): 1 slot(s) removed."
    ]


def test_week_cap_across_new_year_in_local_week() -> None:
    # ISO week 1 of 2026 is Mon 29 Dec 2025 – Sun 4 Jan 2026. In Auckland (UTC+13 in summer),
    # Sun 28 Dec 12:00 UTC is already Mon 29 Dec local, so it counts for that week.
    auckland = ZoneInfo("Pacific/Auckland")
    load = InterviewerLoad("Aroha", auckland, [utc("2025-12-28 12:00"), utc("2026-01-02 00:00")])
    in_week = slot("2026-01-03 20:00")  # Sun 4 Jan 09:00 local
    next_week = slot("2026-01-04 12:00")  # Mon 5 Jan 01:00 local
    result = apply_caps([in_week, next_week], [load], Policy(cap_per_week=2))
    assert result.slots == [next_week]
    assert "in the week of Mon 29 Dec 2025 (cap per week)" in result.notes[0]
    # In UTC the first booking is in the previous ISO week, so the cap is not reached.
    utc_load = InterviewerLoad("Aroha", UTC, load.starts)
    assert apply_caps([in_week], [utc_load], Policy(cap_per_week=2)).slots == [in_week]


def test_week_cap_in_a_dst_week() -> None:
    # Europe/Berlin switches to summer time on Sun 29 Mar 2026 at 01:00 UTC.
    berlin = ZoneInfo("Europe/Berlin")
    load = InterviewerLoad("Jonas", berlin, [utc("2026-03-23 08:00"), utc("2026-03-29 21:30")])
    # 29 Mar 21:30 UTC is Sun 23:30 CEST: same week. 29 Mar 22:00 UTC is Mon 30 Mar 00:00 CEST.
    last_of_week = slot("2026-03-29 20:00")
    first_of_next = slot("2026-03-29 22:00")
    result = apply_caps([last_of_week, first_of_next], [load], Policy(cap_per_week=2))
    assert result.slots == [first_of_next]


def test_a_panel_loses_a_slot_when_anyone_is_capped() -> None:
    loads = [
        InterviewerLoad("Ana", UTC, []),
        InterviewerLoad("Bo", UTC, [utc("2026-03-02 08:00"), utc("2026-03-02 09:00")]),
    ]
    result = apply_caps([slot("2026-03-02 12:00"), slot("2026-03-03 12:00")], loads, Policy(cap_per_day=2))
    assert result.slots == [slot("2026-03-03 12:00")]
    assert result.capped == ["Bo"]


def test_invalid_caps_are_refused() -> None:
    with pytest.raises(InvalidPolicy, match="at least 1"):
        Policy(cap_per_day=0)


starts = st.lists(
    st.integers(min_value=0, max_value=24 * 21).map(lambda h: utc("2026-03-16 00:00") + h * HOUR),
    max_size=12,
)
zones = st.sampled_from([UTC, ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Kolkata")])
caps = st.one_of(st.none(), st.integers(min_value=1, max_value=4))
loads = st.lists(st.tuples(zones, starts), min_size=1, max_size=3)


@given(booked=loads, offered=starts, day=caps, week=caps, data=st.data())
def test_caps_never_add_slots_and_ignore_booking_order(
    booked: list[tuple[ZoneInfo, list[datetime]]], offered: list[datetime], day: int | None,
    week: int | None, data: st.DataObject,
) -> None:
    slots = sorted({Interval(s, s + HOUR) for s in offered})
    policy = Policy(cap_per_day=day, cap_per_week=week)
    result = apply_caps(slots, [InterviewerLoad(f"X{i}", z, b) for i, (z, b) in enumerate(booked)], policy)
    assert set(result.slots) <= set(slots)
    assert result.slots == [s for s in slots if s in result.slots]  # order kept
    assert bool(result.notes) == (len(result.slots) < len(slots))  # every removal is explained
    shuffled = [
        InterviewerLoad(f"X{i}", z, data.draw(st.permutations(b))) for i, (z, b) in enumerate(booked)
    ]
    shuffled = data.draw(st.permutations(shuffled))
    assert apply_caps(slots, shuffled, policy).slots == result.slots


PANEL = {1: "Ana", 2: "Bo"}


def test_programme_allows_a_fresh_candidate() -> None:
    assert programme_verdict(ProgrammeRules(), CandidateHistory(), PANEL, "Cy").allowed


def test_programme_stops_after_max_completed() -> None:
    verdict = programme_verdict(ProgrammeRules(max_completed=3), CandidateHistory(completed=3), PANEL, "Cy")
    assert verdict.reasons == ("Cy has completed 3 interview(s); the programme allows 3.",)
    assert programme_verdict(
        ProgrammeRules(max_completed=3), CandidateHistory(completed=2), PANEL, "Cy"
    ).allowed


def test_programme_refuses_repeat_interviewers() -> None:
    verdict = programme_verdict(
        ProgrammeRules(), CandidateHistory(interviewed_by=frozenset({2, 9})), PANEL, "Cy"
    )
    assert verdict.blocked_by == ("Bo",)
    assert verdict.reasons == (
        "Bo already interviewed Cy; the programme needs interviewers who have not.",
    )


@pytest.mark.parametrize(
    ("grades", "allowed"),
    [((), True), ((0,), False), ((2,), True), ((1, 5, 2), True), ((5, 1), False), ((2, 2), True), ((1, 3), False)],
)
def test_programme_needs_last_two_grades_above_one(grades: tuple[int, ...], allowed: bool) -> None:
    verdict = programme_verdict(ProgrammeRules(), CandidateHistory(grades=grades), PANEL, "Cy")
    assert verdict.allowed is allowed
    if not allowed:
        assert "last grades" in verdict.reasons[0] and "not each above 1" in verdict.reasons[0]


def test_programme_reports_every_failed_rule() -> None:
    history = CandidateHistory(completed=15, grades=(3, 0), interviewed_by=frozenset({1}))
    verdict = programme_verdict(ProgrammeRules(), history, PANEL, "Cy")
    assert len(verdict.reasons) == 3
    assert verdict.blocked_by == ("Ana",)


def test_offered_slots_never_count_against_each_other() -> None:
    # They are alternatives: booking one re-runs the search, which then counts it.
    slots = [slot("2026-03-02 09:00"), slot("2026-03-02 10:00")]
    assert apply_caps(slots, [InterviewerLoad("Ana", UTC, [])], Policy(cap_per_day=1)).slots == slots
