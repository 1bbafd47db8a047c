"""Interviews with reminders, and reminder worker processes, for the reminder tests."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from scheduling.intervals import Interval
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import book
from storage.db import Database
from storage.models import Person, Role
from storage.reminders import plan_reminders
from tests.factories import add_person
from tests.slack_fake import FakeSlack

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


def start_worker(fake: FakeSlack, db_url: str) -> subprocess.Popen[str]:
    """`interview-bot worker` as a real process, its Slack pointed at the fake."""
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-restart",
           "SLACK_API_URL": fake.base_url}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--tick", "0.5"],
                            cwd=Path(__file__).resolve().parents[1], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
