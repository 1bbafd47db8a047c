"""Interviews with reminders, stored directly, for the reminder tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from scheduling.intervals import Interval
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import book
from storage.db import Database
from storage.models import Person, Role
from storage.reminders import plan_reminders
from tests.factories import add_person

RULES = SearchRules(min_notice=timedelta(0), step=timedelta(seconds=1))  # any start time


def booked_interview(db: Database, start: datetime, now: datetime, *, offsets=(60,), suffix: str = "",
                     candidate_slack: bool = True) -> int:
    """Book a 60-minute interview at `start` between two new people and plan its reminders."""
    cand = add_person(db, f"UC{suffix}" if candidate_slack else f"c{suffix}@example.com", Role.candidate,
                      tz="Europe/Berlin", name=f"Cara {suffix}")
    intv = add_person(db, f"UI{suffix}", Role.interviewer, tz="America/New_York", name=f"Ivan {suffix}")
    slot = Interval(start, start + timedelta(hours=1))
    with db.unit_of_work() as uow:
        c, i = uow.session.get(Person, cand.id), uow.session.get(Person, intv.id)
        add_windows(uow.session, c, [slot])
        add_windows(uow.session, i, [slot])
        interview = book(uow.session, candidate=c, interviewers=[i], slot=slot, rules=RULES, now=now).interview
        plan_reminders(uow.session, interview, offsets, now)
        uow.commit()
        return interview.id
