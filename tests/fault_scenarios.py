"""Crash and fault scenarios with real bot processes, counted: what was attempted, acknowledged,
finished, answered, lost and duplicated. The tests run them small; bench/bench_faults.py big.

Lost: acknowledged by the bot, but never answered (or booked but never announced).
Duplicated: a DM stored in Slack more than once, or a booking announced more than once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.blocks.slots import book_query, book_value
from bot.usecases.search import SearchQuery
from scheduling.intervals import Interval
from storage.availability import add_windows
from storage.db import Database
from storage.models import Interview, InterviewStatus, Job, JobStatus, Person, Role
from storage.secrets import generate_key
from tests.factories import add_person
from tests.reminder_fixtures import booked_interview, start_worker
from tests.slack_app import CAND, HR, INTV, add_users
from tests.slack_fake import TEAM_ID, FakeSlack
from tests.slack_requests import SlackClient, block_actions_payload

ROOT = Path(__file__).resolve().parents[1]
SECRET = "fault-secret"
FINISHED = ("Booked", "Already booked", "just taken", "could not finish")


@dataclass
class Tally:
    scenario: str
    attempts: int = 0
    acked: int = 0
    finished: int = 0
    answered: int = 0
    lost: int = 0
    duplicated: int = 0
    looked_up: int = 0  # sends whose outcome was unknown, resolved by a history lookup

    def row(self) -> str:
        return (f"{self.scenario:<44} {self.attempts:>8} {self.acked:>6} {self.finished:>8} {self.answered:>8} "
                f"{self.lost:>5} {self.duplicated:>10} {self.looked_up:>9}")


HEADER = (f"{'scenario':<44} {'attempts':>8} {'acked':>6} {'finished':>8} {'answered':>8} {'lost':>5} "
          f"{'duplicated':>10} {'looked up':>9}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def duplicates(fake: FakeSlack) -> int:
    """DMs stored more than once (by their delivery id) and files shared more than once."""
    seen: Counter[str] = Counter()
    for message in fake.messages():
        delivery = ((message.get("metadata") or {}).get("event_payload") or {}).get("delivery_id")
        seen.update([delivery] if delivery else [f"file:{f['id']}" for f in message.get("files") or []])
    return sum(n - 1 for n in seen.values() if n > 1)


# -- booking under a crash ---------------------------------------------------------------------


def seed_bookable(db: Database, slots: int) -> tuple[SearchQuery, list[Interval]]:
    """HR, a candidate and an interviewer of the fake's workspace, free for `slots` hourly slots
    two days from now (past the default notice)."""
    hr = add_person(db, HR, Role.hr, workspace=TEAM_ID, tz="Europe/Lisbon", name="Hana Reyes")
    cand = add_person(db, CAND, Role.candidate, workspace=TEAM_ID, tz="Europe/Berlin", name="Cara Diaz")
    intv = add_person(db, INTV, Role.interviewer, workspace=TEAM_ID, tz="America/New_York", name="Ivan Petrov")
    first = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=2)
    window = [Interval(first, first + timedelta(hours=slots))]
    with db.unit_of_work() as uow:
        for person in (cand, intv):
            add_windows(uow.session, uow.session.get(Person, person.id), window)
        for person in (hr, cand, intv):  # their profiles are fresh: no users.info needed
            uow.session.get(Person, person.id).profile_refreshed_at = datetime.now(UTC)
        uow.commit()
    query = SearchQuery(candidate=cand.id, interviewers=[intv.id], duration=60, nonce="crash")
    return query, [Interval(first + timedelta(hours=n), first + timedelta(hours=n + 1)) for n in range(slots)]


def start_bot_process(fake: FakeSlack, db_url: str, port: int) -> subprocess.Popen[str]:
    env = {"PATH": os.environ.get("PATH", ""), "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-crash",
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url, "PORT": str(port), "HR_USER_IDS": HR,
           "SECRET_KEY": generate_key(), "JOB_LEASE_S": "5"}
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the bot did not start: {proc.communicate()[0]}") from None
            time.sleep(0.1)


def crash_mid_burst(db_url: str, *, clicks: int = 30, kill_after_acks: int = 8, rate: float = 15.0,
                    slack_delay: float = 0.4) -> Tally:
    """HR clicks Book `clicks` times (every fifth a double click of the one before); the bot is
    SIGKILLed once it has acked `kill_after_acks` and started posting DMs (Slack takes
    `slack_delay` to answer each, so the kill lands with messages in flight), then started
    again. Every acknowledged click must end booked and announced (both DMs, once) or answered
    that it could not finish."""
    db = Database(db_url)
    db.create_schema()
    query, slots = seed_bookable(db, clicks)
    tally = Tally(f"SIGKILL mid-burst of {clicks} Book clicks")
    with FakeSlack() as fake:
        add_users(fake)
        fake.slow_reply_next("chat.postMessage", slack_delay, times=4 * clicks)
        port = free_port()
        proc = start_bot_process(fake, db_url, port)
        client = SlackClient(f"http://127.0.0.1:{port}", SECRET, response_url=fake.response_url, timeout=5)
        acked: list[str] = []

        def kill_when_busy() -> None:
            while len(acked) < kill_after_acks or not fake.calls("chat.postMessage"):
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)

        killer = threading.Thread(target=kill_when_busy, daemon=True)
        killer.start()

        def click(n: int) -> None:
            slot = slots[n - 1 if n % 5 == 4 else n]  # every fifth click doubles the one before
            name = f"click-{n}"
            payload = block_actions_payload(user_id=HR, action_id="book_slot", value=book_value(book_query(query), slot),
                                            response_url=fake.response_url(name))
            try:
                if client.action(payload).status == 200:
                    acked.append(name)
            except OSError:
                return  # the bot was down: not acknowledged, nothing promised

        threads = []
        for n in range(clicks):
            tally.attempts += 1
            threads.append(threading.Thread(target=click, args=(n,)))
            threads[-1].start()
            time.sleep(1 / rate)
        for thread in threads:
            thread.join()
        killer.join(timeout=30)
        proc.wait(timeout=10)
        restarted = start_bot_process(fake, db_url, port)
        try:
            answers = _await_answers(fake, acked, timeout=90)
            _await_announcements(fake, db, timeout=60)
            _await_no_work(db, timeout=60)  # the killed process's claims expire and are taken over
        finally:
            restarted.terminate()
            restarted.communicate(timeout=20)
        tally.acked = len(acked)
        tally.answered = sum(1 for name in acked if answers.get(name))
        tally.finished = sum(1 for name in acked if any(f in answers.get(name, "") for f in FINISHED))
        tally.lost = tally.acked - tally.answered + _unannounced(fake, db)
        tally.duplicated = duplicates(fake) + _over_announced(fake, db)
        tally.looked_up = len(fake.calls("conversations.history"))
    db.dispose()
    return tally


def _await_answers(fake: FakeSlack, names: list[str], timeout: float) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        answers = {c.path.rsplit("/", 1)[-1]: str(c.args.get("text")) for c in fake.calls("response_url")}
        if all(n in answers for n in names) or time.monotonic() > deadline:
            return answers
        time.sleep(0.2)


def _booked(db: Database) -> int:
    with db.unit_of_work(write=False) as uow:
        return len(uow.session.scalars(select(Interview.id).where(Interview.status == InterviewStatus.booked)).all())


def _notices(fake: FakeSlack, user: str) -> int:
    return sum("Interview booked" in m["text"] for m in fake.messages(f"D{user}"))


def _await_announcements(fake: FakeSlack, db: Database, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _unannounced(fake, db):
        time.sleep(0.2)


def _await_no_work(db: Database, timeout: float, *, ahead: timedelta = timedelta(0)) -> None:
    """Until no job is pending that is due within `ahead`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.unit_of_work(write=False) as uow:
            if not uow.session.scalars(select(Job.id).where(Job.status == JobStatus.pending,
                                                            Job.run_at <= datetime.now(UTC) + ahead)).first():
                return
        time.sleep(0.2)


def _unannounced(fake: FakeSlack, db: Database) -> int:
    booked = _booked(db)
    return sum(max(0, booked - _notices(fake, user)) for user in (CAND, INTV))


def _over_announced(fake: FakeSlack, db: Database) -> int:
    booked = _booked(db)
    return sum(max(0, _notices(fake, user) - booked) for user in (CAND, INTV))


# -- reminders through Slack faults, two worker processes --------------------------------------


def reminders_through_faults(db_url: str, fault: str, *, reminders: int = 6, workers: int = 2,
                             retry_after_s: int = 75) -> Tally:
    """`reminders` due in a few seconds, two `interview-bot worker` processes, and Slack failing
    the first sends in one way: `lose_reply` (Slack posts, the reply is lost), `slow_reply`
    (Slack answers after the client gave up), `retry_after` (429 with a Retry-After of
    `retry_after_s`, longer than a claim's 5 s lease)."""
    db = Database(db_url)
    db.create_schema()
    now = datetime.now(UTC).replace(microsecond=0)
    lead = 1 + (retry_after_s + 30) // 60 if fault == "retry_after" else 1  # minutes: begins after the retry
    for n in range(reminders):  # one recipient each, due in 3 s: the candidates have no Slack
        booked_interview(db, now + timedelta(seconds=3 + 60 * lead), now, offsets=(lead,), suffix=f"{fault}{n}",
                         candidate_slack=False)
    tally = Tally(f"reminders, two workers, {fault.replace('_', ' ')}", attempts=reminders, acked=reminders)
    with FakeSlack() as fake:
        if fault == "lose_reply":
            fake.lose_reply_next("chat.postMessage", times=reminders)
        elif fault == "slow_reply":
            fake.slow_reply_next("chat.postMessage", seconds=4, times=reminders)
        else:
            fake.fail_next("chat.postMessage", status=429, retry_after=retry_after_s, times=reminders)
        env = {"SLACK_TIMEOUT_S": "2", "JOB_LEASE_S": "5"}
        procs = [start_worker(fake, db_url, **env) for _ in range(workers)]
        try:
            deadline = time.monotonic() + 60 + (retry_after_s if fault == "retry_after" else 0)
            while time.monotonic() < deadline and len(_stored(fake)) < reminders:
                time.sleep(0.2)
            # sends of unknown outcome are retried: looked up, not resent
            _await_no_work(db, timeout=60, ahead=timedelta(minutes=1))
            time.sleep(3)  # any second send would show by now
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.communicate(timeout=20)
        stored = _stored(fake)
        tally.finished = tally.answered = len(set(stored))
        tally.lost = reminders - len(set(stored))
        tally.duplicated = len(stored) - len(set(stored))
        tally.looked_up = len(fake.calls("conversations.history"))
    db.dispose()
    return tally


def _stored(fake: FakeSlack) -> list[str]:
    return [m["metadata"]["event_payload"]["delivery_id"] for m in fake.messages() if m.get("metadata")]


# -- a booking while Slack is out --------------------------------------------------------------


def outage_during_booking(db_url: str, mode: str, seconds: float = 25) -> Tally:
    """HR books while chat.postMessage and conversations.open fail in `mode` for `seconds`
    (real `interview-bot run`): HR is told "Booked" at once, both participants get their notice
    and invitation once, after Slack is back."""
    db = Database(db_url)
    db.create_schema()
    query, slots = seed_bookable(db, 1)
    tally = Tally(f"booking during a {seconds:g} s Slack outage ({mode})", attempts=1)
    with FakeSlack() as fake:
        add_users(fake)
        port = free_port()
        proc = start_bot_process(fake, db_url, port)
        try:
            fake.outage(["chat.postMessage", "conversations.open"], seconds, mode=mode)
            client = SlackClient(f"http://127.0.0.1:{port}", SECRET, response_url=fake.response_url, timeout=5)
            payload = block_actions_payload(user_id=HR, action_id="book_slot", value=book_value(book_query(query), slots[0]),
                                            response_url=fake.response_url("outage"))
            tally.acked = int(client.action(payload).status == 200)
            answers = _await_answers(fake, ["outage"], timeout=30)
            deadline = time.monotonic() + seconds + 90
            while time.monotonic() < deadline and (_unannounced(fake, db) or not _files_shared(fake)):
                time.sleep(0.2)
            _await_no_work(db, timeout=30)
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
        tally.answered = int("outage" in answers)
        tally.finished = int("Booked" in answers.get("outage", ""))
        tally.lost = tally.acked - tally.answered + _unannounced(fake, db) + (0 if _files_shared(fake) else 1)
        tally.duplicated = duplicates(fake) + _over_announced(fake, db)
        tally.looked_up = len(fake.calls("conversations.history"))
    db.dispose()
    return tally


def _files_shared(fake: FakeSlack) -> bool:
    return all(any(m.get("files") for m in fake.messages(f"D{user}")) for user in (CAND, INTV))


def blind_resend_baseline(count: int) -> Tally:
    """What a sender without the lookup does: slack_sdk's default client retries a post whose
    reply was lost, and the message is there twice."""
    from slack_sdk import WebClient

    tally = Tally("baseline: slack_sdk default retry, lost replies", attempts=count, acked=count)
    with FakeSlack() as fake:
        fake.lose_reply_next("chat.postMessage", times=count)
        client = WebClient(token="xoxb-baseline", base_url=fake.base_url)
        for n in range(count):
            with contextlib.suppress(Exception):  # a reply the default client could not get even on retry
                client.chat_postMessage(channel=INTV, text=f"reminder {n}",
                                        metadata={"event_type": "baseline", "event_payload": {"delivery_id": str(n)}})
        stored = _stored(fake)
        tally.finished = tally.answered = len(set(stored))
        tally.duplicated = len(stored) - len(set(stored))
    return tally
