"""find_matches with a Policy: caps and programme rules on stored data (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from scheduling.intervals import Interval
from scheduling.policies import Policy, ProgrammeRules
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.db import Database
from storage.matching import SearchOutcome, find_matches
from storage.models import Interview, InterviewParticipant, InterviewStatus, Person, Role
from tests.factories import add_person, utc

NOW = utc("2026-03-01 00:00")  # a Sunday
RULES = SearchRules()
HOUR = timedelta(hours=1)


def people(db: Database, n: int, tz: str = "UTC") -> tuple[Person, list[Person]]:
    cand = add_person(db, "C1", Role.candidate, name="Cy")
    team = [add_person(db, f"I{i}", Role.interviewer, name=f"Int{i}", tz=tz) for i in range(n)]
    with db.unit_of_work() as uow:
        for p in [cand, *team]:
            add_windows(
                uow.session,
                uow.session.get(Person, p.id),
                [Interval(utc(f"2026-03-{d:02d} 09:00"), utc(f"2026-03-{d:02d} 12:00")) for d in range(2, 9)],
            )
        uow.commit()
    return cand, team


def book(
    db: Database, cand: Person, team: Sequence[Person], start: datetime, *,
    status: InterviewStatus = InterviewStatus.booked, grades: Sequence[int | None] = (),
    buffers: tuple[int, int] = (0, 0),
) -> int:
    """Insert an interview directly, as booking would store it (buffers in minutes)."""
    with db.unit_of_work() as uow:
        interview = Interview(
            workspace_id=cand.workspace_id, uid=uuid.uuid4().hex, candidate_id=cand.id, start_at=start, end_at=start + HOUR, status=status,
            buffer_before_min=buffers[0], buffer_after_min=buffers[1],
        )
        active = status is not InterviewStatus.cancelled
        interview.participants = [
            InterviewParticipant(person_id=cand.id, role=Role.candidate, start_at=start, end_at=start + HOUR, active=active)
        ] + [
            InterviewParticipant(
                person_id=p.id, role=Role.interviewer, start_at=start, end_at=start + HOUR, active=active,
                grade=grades[i] if i < len(grades) else None,
            )
            for i, p in enumerate(team)
        ]
        uow.session.add(interview)
        uow.commit()
        return interview.id


def search(
    db: Database, cand: Person, team: Sequence[Person], policy: Policy | None = None,
    rules: SearchRules = RULES, start: datetime | None = None, end: datetime | None = None,
    exclude: int | None = None, now: datetime = NOW,
) -> SearchOutcome:
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        return find_matches(
            s, s.get(Person, cand.id), [s.get(Person, p.id) for p in team], rules, now, start, end,
            exclude_interview=exclude, policy=policy,
        )


def starts(outcome: SearchOutcome) -> list[datetime]:
    return [s.start for s in outcome.slots]


def test_no_policy_and_empty_policy_change_nothing(db: Database) -> None:
    cand, team = people(db, 2)
    book(db, cand, team, utc("2026-03-02 15:00"))
    plain = search(db, cand, team)
    assert starts(plain) == starts(search(db, cand, team, Policy()))
    assert len(plain.slots) == 7 * 5 and not plain.notes


def test_day_cap_in_interviewer_zone(db: Database) -> None:
    # Tokyo (UTC+9): a booking at 2026-03-02 20:00 UTC is 3 March locally, so 3 March is full,
    # while 2 March (UTC and local) stays open.
    cand, team = people(db, 1, tz="Asia/Tokyo")
    other = add_person(db, "C2", Role.candidate)
    book(db, other, team, utc("2026-03-02 20:00"))
    outcome = search(db, cand, team, Policy(cap_per_day=1))
    days = {s.date() for s in starts(outcome)}
    assert utc("2026-03-02 09:00").date() in days and utc("2026-03-03 09:00").date() not in days
    assert outcome.notes == ["Int0 already has 1 interview(s) on Tue 3 Mar 2026 (cap per day): 5 slot(s) removed."]


def test_cancelled_and_rescheduled_interviews_do_not_count(db: Database) -> None:
    cand, team = people(db, 1)
    other = add_person(db, "C2", Role.candidate)
    book(db, other, team, utc("2026-03-02 15:00"), status=InterviewStatus.cancelled)
    assert len(search(db, cand, team, Policy(cap_per_day=1)).slots) == 35
    moved = book(db, other, team, utc("2026-03-02 16:00"))
    assert len(search(db, cand, team, Policy(cap_per_day=1)).slots) == 30
    assert len(search(db, cand, team, Policy(cap_per_day=1), exclude=moved).slots) == 35


def test_week_cap_and_explanation_when_nothing_remains(db: Database) -> None:
    cand, team = people(db, 2)
    other = add_person(db, "C2", Role.candidate)
    book(db, other, team[1:], utc("2026-03-02 15:00"))
    book(db, other, team[1:], utc("2026-03-04 15:00"))
    # 2–8 March: Mon–Sun, one ISO week; Int1 is full for all of it.
    outcome = search(db, cand, team, Policy(cap_per_week=2))
    assert outcome.slots == []
    assert outcome.diagnosis is not None
    assert outcome.diagnosis.bottlenecks == ["Int1"]
    assert outcome.diagnosis.reasons == [
        "Int1 already has 2 interview(s) in the week of Mon 2 Mar 2026 (cap per week): 35 slot(s) removed."
    ]


def test_search_window_is_honoured_with_a_policy(db: Database) -> None:
    cand, team = people(db, 1)
    outcome = search(db, cand, team, Policy(cap_per_day=3), start=utc("2026-03-04 00:00"), end=utc("2026-03-05 00:00"))
    assert starts(outcome) == [utc("2026-03-04 09:00") + i * HOUR / 2 for i in range(5)]


def test_buffers_widen_busy_time_but_keep_the_grid(db: Database) -> None:
    cand, team = people(db, 1)
    other = add_person(db, "C2", Role.candidate)
    book(db, other, team, utc("2026-03-02 10:00"))  # 10:00–11:00
    rules = SearchRules(buffer_before=timedelta(minutes=15), buffer_after=timedelta(minutes=15))
    day1 = [s for s in starts(search(db, cand, team, rules=rules)) if s.day == 2]
    # 09:00 would end at 10:00 and need 15 min after; 11:00 would need 15 min before.
    assert day1 == []
    day1_plain = [s for s in starts(search(db, cand, team)) if s.day == 2]
    assert day1_plain == [utc("2026-03-02 09:00"), utc("2026-03-02 11:00")]
    assert all(s.minute in (0, 30) for s in starts(search(db, cand, team, rules=rules)))


PROGRAMME = Policy(programme=ProgrammeRules(max_completed=2))


def test_programme_max_completed(db: Database) -> None:
    cand, team = people(db, 3)
    book(db, cand, team[:1], utc("2026-02-02 10:00"), status=InterviewStatus.completed, grades=[4])
    assert search(db, cand, team[2:], PROGRAMME).slots
    book(db, cand, team[1:2], utc("2026-02-03 10:00"), status=InterviewStatus.completed, grades=[4])
    outcome = search(db, cand, team[2:], PROGRAMME)
    assert outcome.slots == []
    assert outcome.notes == ["Cy has completed 2 interview(s); the programme allows 2."]
    assert outcome.diagnosis is not None and outcome.diagnosis.reasons == outcome.notes


def test_programme_only_new_interviewers(db: Database) -> None:
    cand, team = people(db, 3)
    book(db, cand, team[:1], utc("2026-03-02 10:00"))  # booked, not yet held
    book(db, cand, team[1:2], utc("2026-03-03 10:00"), status=InterviewStatus.cancelled)
    outcome = search(db, cand, team, PROGRAMME)
    assert outcome.slots == []
    assert outcome.diagnosis is not None and outcome.diagnosis.bottlenecks == ["Int0"]
    assert outcome.notes == ["Int0 already interviewed Cy; the programme needs interviewers who have not."]
    assert search(db, cand, team[1:], PROGRAMME).slots  # cancelled does not count


def test_programme_grade_is_lowest_interviewer_grade(db: Database) -> None:
    cand, team = people(db, 4)
    rules = Policy(programme=ProgrammeRules())
    book(db, cand, team[:2], utc("2026-02-02 10:00"), status=InterviewStatus.completed, grades=[4, 1])
    book(db, cand, team[2:3], utc("2026-02-03 10:00"), status=InterviewStatus.completed)  # ungraded
    outcome = search(db, cand, team[3:], rules)
    assert outcome.notes == ["Cy's last grades (1) are not each above 1; the programme stops here."]
    book(db, cand, team[2:3], utc("2026-02-04 10:00"), status=InterviewStatus.completed, grades=[3])
    book(db, cand, team[:1], utc("2026-02-05 10:00"), status=InterviewStatus.completed, grades=[2])
    # the last two grades are now 3 and 2, but Int0 and Int2 have met Cy before
    assert search(db, cand, team[3:], rules).slots
    assert not search(db, cand, team[2:], rules).slots


def test_programme_rules_together_explain_each(db: Database) -> None:
    cand, team = people(db, 2)
    book(db, cand, team[:1], utc("2026-02-02 10:00"), status=InterviewStatus.completed, grades=[0])
    book(db, cand, team[1:], utc("2026-02-03 10:00"), status=InterviewStatus.completed, grades=[5])
    outcome = search(db, cand, team, PROGRAMME)
    assert outcome.slots == []
    assert outcome.notes == [
        "Cy has completed 2 interview(s); the programme allows 2.",
        "Int0, Int1 already interviewed Cy; the programme needs interviewers who have not.",
        "Cy's last grades (0, 5) are not each above 1; the programme stops here.",
    ]


def cap_team(db: Database, tz: str, offered: Sequence[datetime]) -> tuple[Person, list[Person]]:
    """A UTC candidate and one interviewer in `tz`, both free exactly for one hour at each start."""
    cand = add_person(db, "C1", Role.candidate, name="Cy")
    interviewer = add_person(db, "I0", Role.interviewer, name="Int0", tz=tz)
    with db.unit_of_work() as uow:
        for p in (cand, interviewer):
            add_windows(uow.session, uow.session.get(Person, p.id), [Interval(s, s + HOUR) for s in offered])
        uow.commit()
    return cand, [interviewer]


@pytest.mark.parametrize(
    ("tz", "now", "booked", "policy", "offered", "kept"),
    [
        pytest.param(  # 02 Mar 20:00 UTC is 03 Mar 05:00 in Tokyo: only the 3rd is full
            "Asia/Tokyo", "2026-03-01 00:00", ["2026-03-02 20:00"], Policy(cap_per_day=1),
            ["2026-03-02 10:00", "2026-03-02 16:00"], ["2026-03-02 10:00"], id="day-local-not-utc",
        ),
        pytest.param(  # 08 Mar is 23 h long in Los Angeles (DST starts); 00:30 PST and 20:00 PDT share it
            "America/Los_Angeles", "2026-03-01 00:00", ["2026-03-09 03:00"], Policy(cap_per_day=1),
            ["2026-03-08 08:30", "2026-03-09 08:00"], ["2026-03-09 08:00"], id="day-dst-switch",
        ),
        pytest.param(  # local week Mon 02–Sun 08 Mar holds both bookings; in UTC the 2nd is next week
            "America/Los_Angeles", "2026-03-01 00:00", ["2026-03-02 17:00", "2026-03-09 03:00"],
            Policy(cap_per_week=2), ["2026-03-08 17:00", "2026-03-09 16:00"], ["2026-03-09 16:00"],
            id="week-dst-local-not-utc",
        ),
        pytest.param(  # Auckland: ISO week 1 of 2026 runs Mon 29 Dec 2025 – Sun 4 Jan 2026 local
            "Pacific/Auckland", "2025-12-20 00:00", ["2025-12-28 12:00", "2026-01-02 00:00"],
            Policy(cap_per_week=2), ["2026-01-03 20:00", "2026-01-04 12:00"], ["2026-01-04 12:00"],
            id="week-new-year-local",
        ),
        pytest.param(  # ISO week 53 of 2026: Mon 28 Dec 2026 – Sun 3 Jan 2027
            "UTC", "2026-12-20 00:00", ["2026-12-29 10:00", "2026-12-31 10:00"], Policy(cap_per_week=2),
            ["2026-12-27 10:00", "2027-01-02 10:00", "2027-01-04 10:00"],
            ["2026-12-27 10:00", "2027-01-04 10:00"], id="week-53-across-new-year",
        ),
        pytest.param(  # Berlin week Mon 30 Mar – Sun 05 Apr straddles a month; Sun 22:30 CEST is in it
            "Europe/Berlin", "2026-03-20 00:00", ["2026-03-31 08:00", "2026-04-01 08:00"],
            Policy(cap_per_week=2), ["2026-03-29 08:00", "2026-04-05 20:30", "2026-04-05 22:30"],
            ["2026-03-29 08:00", "2026-04-05 22:30"], id="week-month-boundary-local",
        ),
        pytest.param(  # the day cap hides one day, the week cap the rest of that week
            "UTC", "2026-03-01 00:00", ["2026-03-03 15:00", "2026-03-05 15:00"],
            Policy(cap_per_day=1, cap_per_week=3),
            ["2026-03-03 10:00", "2026-03-04 10:00", "2026-03-09 10:00"],
            ["2026-03-04 10:00", "2026-03-09 10:00"], id="day-and-week",
        ),
    ],
)
def test_caps_count_in_the_interviewers_zone(
    db: Database, tz: str, now: str, booked: list[str], policy: Policy, offered: list[str], kept: list[str],
) -> None:
    cand, team = cap_team(db, tz, [utc(s) for s in offered])
    other = add_person(db, "C2", Role.candidate)
    for moment in booked:
        book(db, other, team, utc(moment))
    assert starts(search(db, cand, team, now=utc(now))) == [utc(s) for s in offered]
    outcome = search(db, cand, team, policy, now=utc(now))
    assert starts(outcome) == [utc(s) for s in kept]
    assert len(outcome.notes) == 1 and "Int0 already has" in outcome.notes[0]


def test_cap_notes_name_the_day_and_the_week(db: Database) -> None:
    cand, team = cap_team(db, "UTC", [utc("2026-03-03 10:00"), utc("2026-03-04 10:00")])
    other = add_person(db, "C2", Role.candidate)
    for moment in ("2026-03-03 15:00", "2026-03-05 15:00"):
        book(db, other, team, utc(moment))
    outcome = search(db, cand, team, Policy(cap_per_day=1, cap_per_week=2))
    assert outcome.notes == [
        "Int0 already has 1 interview(s) on Tue 3 Mar 2026 (cap per day): 1 slot(s) removed.",
        "Int0 already has 2 interview(s) in the week of Mon 2 Mar 2026 (cap per week): 1 slot(s) removed.",
    ]


@pytest.mark.parametrize(
    ("stored", "new", "step", "around"),
    [
        ((0, 0), (0, 0), 15, ("09:00", "11:00")),
        ((0, 15), (0, 0), 15, ("09:00", "11:15")),  # the booked interview's after-buffer
        ((0, 15), (15, 0), 15, ("09:00", "11:30")),  # ... plus the new one's before-buffer
        ((10, 0), (0, 5), 15, ("08:45", "11:00")),  # its before-buffer plus the new after-buffer
        ((0, 0), (10, 0), 30, ("09:00", "11:30")),  # 11:10 is off the grid: the grid never moves
        ((0, 0), (0, 10), 30, ("08:30", "11:00")),
    ],
)
def test_buffers_on_both_sides_widen_busy_time(
    db: Database, stored: tuple[int, int], new: tuple[int, int], step: int, around: tuple[str, str],
) -> None:
    # Everyone is free 08:00–14:00; Int0 already interviews someone else 10:00–11:00.
    cand, team = cap_team(db, "UTC", [])
    with db.unit_of_work() as uow:
        for p in (cand, *team):
            add_windows(uow.session, uow.session.get(Person, p.id), [Interval(utc("2026-03-02 08:00"), utc("2026-03-02 14:00"))])
        uow.commit()
    book(db, add_person(db, "C2", Role.candidate), team, utc("2026-03-02 10:00"), buffers=stored)
    rules = SearchRules(
        step=timedelta(minutes=step), buffer_before=timedelta(minutes=new[0]), buffer_after=timedelta(minutes=new[1])
    )
    found = starts(search(db, cand, team, rules=rules))
    assert all(s.minute % step == 0 for s in found)
    before = max(s for s in found if s < utc("2026-03-02 10:00"))
    after = min(s for s in found if s >= utc("2026-03-02 10:00"))
    assert (f"{before:%H:%M}", f"{after:%H:%M}") == around


@pytest.mark.parametrize(
    ("window", "in_range"),
    [
        (("2026-03-03 00:00", "2026-03-04 00:00"), True),  # slots existed; the cap removed them
        (("2026-03-03 13:00", "2026-03-03 18:00"), False),  # no common time in the range at all
    ],
)
def test_alternatives_respect_caps(db: Database, window: tuple[str, str], in_range: bool) -> None:
    cand, team = people(db, 1)
    book(db, add_person(db, "C2", Role.candidate), team, utc("2026-03-03 15:00"))
    start, end = utc(window[0]), utc(window[1])
    plain = search(db, cand, team, start=start, end=end)
    assert bool(plain.slots) is in_range
    outcome = search(db, cand, team, Policy(cap_per_day=1), start=start, end=end)
    assert outcome.slots == [] and outcome.diagnosis is not None
    # 3 March is full for Int0, so the nearest bookable slots are the next morning's.
    assert [s.start for s in outcome.diagnosis.alternatives] == [
        utc("2026-03-04 09:00"), utc("2026-03-04 09:30"), utc("2026-03-04 10:00")
    ]
    if in_range:
        assert outcome.diagnosis.bottlenecks == ["Int0"]
        assert outcome.diagnosis.reasons == outcome.notes


def test_programme_ignores_the_interview_being_moved(db: Database) -> None:
    cand, team = people(db, 1)
    moved = book(db, cand, team, utc("2026-03-03 10:00"))
    assert search(db, cand, team, PROGRAMME).slots == []
    assert search(db, cand, team, PROGRAMME, exclude=moved).slots
