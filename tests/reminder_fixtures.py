"""Interviews with reminders, a bot whose job runner the test drives by hand, and real worker
processes, for the reminder and delivery tests."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from bot.jobs.runner import Backoff, JobRunner
from bot.runtime import KINDS, Bot, build_bot
from bot.slack_client import Installation
from storage.db import Database
from storage.models import Interview, InterviewParticipant, Person, Role
from storage.reminders import plan_reminders
from tests.factories import add_person
from tests.slack_app import ManualClock, settings_for
from tests.slack_fake import TEAM_ID, FakeSlack

NO_WAIT = Backoff(base=timedelta(seconds=5), cap=timedelta(minutes=15), settle=timedelta(seconds=30))


def booked_interview(db: Database, start: datetime, now: datetime, *, offsets: tuple[int, ...] = (60,),
                     suffix: str = "", candidate_slack: bool = True) -> int:
    """A 60-minute interview at `start` (candidate in Berlin, interviewer in New York) of the
    fake's workspace, stored as rows directly (booking has its own tests), reminders planned."""
    cand = add_person(db, f"UC{suffix}" if candidate_slack else f"c{suffix}@example.com", Role.candidate,
                      tz="Europe/Berlin", name=f"Cara {suffix}", workspace=TEAM_ID)
    intv = add_person(db, f"UI{suffix}", Role.interviewer, tz="America/New_York", name=f"Ivan {suffix}",
                      workspace=TEAM_ID)
    end = start + timedelta(hours=1)
    with db.unit_of_work() as uow:
        interview = Interview(workspace_id=TEAM_ID, uid=f"rem-{suffix}-{cand.id}@test", candidate_id=cand.id,
                              start_at=start, end_at=end)
        interview.participants = [
            InterviewParticipant(person_id=cand.id, role=Role.candidate, start_at=start, end_at=end),
            InterviewParticipant(person_id=intv.id, role=Role.interviewer, start_at=start, end_at=end),
        ]
        uow.session.add(interview)
        uow.session.flush()
        for part in interview.participants:
            part.person = uow.session.get(Person, part.person_id)
        plan_reminders(uow.session, interview, offsets, now)
        uow.commit()
        return interview.id


def hand_driven_bot(fake: FakeSlack, db: Database, clock: ManualClock, *, worker: str = "w1",
                    backoff: Backoff = NO_WAIT) -> Bot:
    """A bot whose runner runs only when the test says (`bot.runner.run_pending(queue)`), on the
    test's clock for both its rules and its jobs: time moves only when the test moves it."""
    settings = settings_for(fake, db.url)
    bot = build_bot(settings, db, [Installation.from_token("xoxb-test-token", fake.base_url)], clock=clock,
                    job_clock=clock)
    bot.runner = JobRunner(db, KINDS, bot, clock=clock, backoff=backoff, worker=worker)
    return bot


def start_worker(fake: FakeSlack, db_url: str, *extra_args: str, **env: str) -> subprocess.Popen[str]:
    """`interview-bot worker` as a real process, its Slack pointed at the fake."""
    environment = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-restart",
                   "SLACK_API_URL": fake.base_url, **env}
    return subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--tick", "0.5", *extra_args],
                            cwd=Path(__file__).resolve().parents[1], env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
