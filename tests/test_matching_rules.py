"""find_matches with a Policy: caps and programme rules on stored data (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

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
) -> int:
    """Insert an interview directly, as booking would store it."""
    with db.unit_of_work() as uow:
        interview = Interview(
            uid=uuid.uuid4().hex, candidate_id=cand.id, start_at=start, end_at=start + HOUR, status=status
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
    exclude: int | None = None,
) -> SearchOutcome:
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        return find_matches(
            s, s.get(Person, cand.id), [s.get(Person, p.id) for p in team], rules, NOW, start, end,
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
    assert outcome.notes == ["Int0 already has 1 interview(s) on Tue 03 Mar 2026 (cap per day): 5 slot(s) removed."]


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
        "Int1 already has 2 interview(s) in the week of Mon 02 Mar 2026 (cap per week): 35 slot(s) removed."
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
