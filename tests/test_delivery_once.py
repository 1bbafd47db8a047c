"""Every DM is delivered once, also when Slack fails: outages during a booking, lost replies,
replies slower than the client waits, Retry-After longer than a claim's lease, and a sender
slower than its lease while another runner watches. Counted in the fake's message history."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.jobs.runner import Backoff, JobRunner
from bot.runtime import KINDS
from storage import jobs
from storage.db import Database
from storage.models import Interview, Job, JobStatus
from tests.factories import utc
from tests.reminder_fixtures import booked_interview, hand_driven_bot
from tests.slack_app import CAND, HR, INTV, ManualClock, SlackEnv, running_bot
from tests.slack_fake import FakeSlack
from tests.slack_flows import answer_to, book_buttons, click, seed_pair
from tests.slack_requests import block_actions_payload

START = utc("2026-12-02 15:00")
NOW = utc("2026-12-01 08:00")


def _deliveries(fake: FakeSlack, channel: str | None = None) -> Counter[str]:
    """How many stored messages carry each delivery id (files count by their file id)."""
    counts: Counter[str] = Counter()
    for message in fake.messages(channel):
        delivery = ((message.get("metadata") or {}).get("event_payload") or {}).get("delivery_id")
        counts.update([delivery] if delivery else [f"file:{f['id']}" for f in message.get("files") or []])
    return counts


def _wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def env(db: Database) -> Iterator[SlackEnv]:
    with running_bot(db, SLACK_TIMEOUT_S="2") as env:
        yield env


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "seconds"), [("500", 25), ("429", 8), ("disconnect", 8), ("lose_reply", 8)])
def test_a_bookings_notices_arrive_once_after_a_slack_outage(env: SlackEnv, mode: str, seconds: int) -> None:
    seed_pair(env)
    button = book_buttons(env)[0]
    env.fake.outage(["chat.postMessage", "conversations.open"], seconds, mode=mode)
    began = time.monotonic()
    answer = answer_to(env, click(env, button), timeout=10)
    assert "Booked" in answer and "failed" not in answer  # HR hears the truth at once: booked
    participants = [f"D{CAND}", f"D{INTV}"]
    _wait(lambda: all(any(m.get("files") for m in env.fake.messages(ch)) for ch in participants),
          seconds + 30, "both notices and invitations after the outage")
    assert time.monotonic() - began >= seconds - 1  # not before Slack came back
    for channel in participants:
        texts = [m["text"] for m in env.fake.messages(channel)]
        assert sum("Interview booked" in t for t in texts) == 1, texts
        assert set(_deliveries(env.fake, channel).values()) == {1}
    def notes(phrase: str) -> int:
        return sum(phrase in m["text"] for m in env.fake.messages(f"D{HR}"))

    # HR hears of the delay, then that both were told after all (the notes went through the outage too)
    _wait(lambda: notes("not been told yet") == 2 and notes("now been told") == 2, 30, "HR's notes")
    time.sleep(1)
    assert notes("not been told yet") == notes("now been told") == 2  # once per participant
    assert set(_deliveries(env.fake).values()) == {1}
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Interview)).one() is not None


def _pending_reminder_jobs(db: Database) -> int:
    with db.unit_of_work(write=False) as uow:
        return len(uow.session.scalars(select(Job).where(Job.kind == "reminder", Job.run_at <= START,
                                                         Job.status == JobStatus.pending)).all())


@pytest.mark.parametrize("fault", ["lose_reply", "slow_reply"])
def test_a_reminder_whose_reply_is_lost_or_late_is_found_not_sent_again(db: Database, fault: str) -> None:
    with FakeSlack() as fake:
        booked_interview(db, START, NOW, offsets=(60,))
        clock = ManualClock(START - timedelta(minutes=59))
        bot = hand_driven_bot(fake, db, clock)
        if fault == "lose_reply":
            fake.lose_reply_next("chat.postMessage", times=2)
        else:  # longer than the client waits (SLACK_TIMEOUT_S is 10 s by default: 2 s here)
            bot.clients.timeout = 2
            fake.slow_reply_next("chat.postMessage", seconds=3, times=2)
        bot.runner.run_pending(jobs.DELIVERIES)
        assert len(fake.messages()) == 2 and _pending_reminder_jobs(db) == 2  # posted, outcome unknown
        clock.set(clock() + timedelta(minutes=1))  # past the settle time: look before sending again
        bot.runner.run_pending(jobs.DELIVERIES)
        assert _pending_reminder_jobs(db) == 0
        assert fake.calls("conversations.history")
        assert sorted(_deliveries(fake).values()) == [1, 1]


def test_retry_after_longer_than_the_lease_never_doubles_a_reminder(db: Database) -> None:
    """Two runners, each with its own engine, a 1 s lease; Slack says wait 5 s. The claim is
    handed back with the job due after Retry-After, so the other runner does not take it
    early, and the reminder goes out once."""
    with FakeSlack() as fake:
        booked_interview(db, START, NOW, offsets=(60,), candidate_slack=False)
        clock = ManualClock(START - timedelta(minutes=59))
        runners = []
        for n in range(2):
            bot = hand_driven_bot(fake, Database(db.url), clock, worker=f"w{n}")
            bot.runner = JobRunner(bot.ctx.db, KINDS, bot, clock=clock, worker=f"w{n}", lease=timedelta(seconds=1))
            runners.append(bot.runner)
        fake.fail_next("chat.postMessage", status=429, retry_after=5)
        runners[0].run_pending(jobs.DELIVERIES)
        clock.set(clock() + timedelta(seconds=2))  # the first lease would have expired by now
        assert runners[1].run_pending(jobs.DELIVERIES) == 0
        clock.set(clock() + timedelta(seconds=4))
        assert runners[1].run_pending(jobs.DELIVERIES) == 1
        runners[0].run_pending(jobs.DELIVERIES)
        assert sorted(_deliveries(fake).values()) == [1]


def test_a_sender_slower_than_its_lease_keeps_it_by_heartbeat(db: Database) -> None:
    """A send takes 3 s, the lease is 1 s: the running runner's heartbeats keep the claim, so the
    other runner, polling all along, never takes the reminder over."""
    with FakeSlack() as fake:
        booked_interview(db, utc("2026-12-02 15:00"), NOW, offsets=(60,), candidate_slack=False)
        clock = lambda: utc("2026-12-02 14:01")  # noqa: E731 - the reminder is due, nothing else moves
        fake.slow_reply_next("chat.postMessage", seconds=3)
        runners = []
        for n in range(2):
            bot = hand_driven_bot(fake, Database(db.url), ManualClock(clock()), worker=f"w{n}")
            runner = JobRunner(bot.ctx.db, KINDS, bot, clock=clock, worker=f"w{n}", lease=timedelta(seconds=1),
                               tick_seconds=0.1, backoff=Backoff())
            bot.runner = runner
            runners.append(runner.start())
        try:
            _wait(lambda: len(fake.calls("chat.postMessage", ok=True)) >= 1, 10, "the slow send")
            time.sleep(2)  # the other runner keeps polling
        finally:
            for runner in runners:
                runner.stop()
        assert len(fake.calls("chat.postMessage")) == 1 and sorted(_deliveries(fake).values()) == [1]


def test_an_exact_retry_of_a_request_by_slack_runs_it_once(env: SlackEnv) -> None:
    """Slack resends the very same request (X-Slack-Retry-Num) when our ack was slow: one job."""
    seed_pair(env)
    button = book_buttons(env)[0]
    payload = block_actions_payload(user_id=HR, action_id=button["action_id"], value=button["value"],
                                    response_url=env.fake.response_url("exact-retry"))
    for retry in (None, 1, 2):
        assert env.slack.action(payload, **({"retry_num": retry} if retry else {})).status == 200
    answer_to(env, "exact-retry")
    time.sleep(1)
    answers = [c for c in env.fake.calls("response_url") if c.path.endswith("/exact-retry")]
    assert len(answers) == 1 and "Booked" in str(answers[0].args)
    with env.db.unit_of_work(write=False) as uow:
        requests = uow.session.scalars(select(Job).where(Job.kind == "slack.request",
                                                         Job.payload["route"].as_string() == "book")).all()
    assert len(requests) == 1



@pytest.mark.parametrize("reply", [{"kind": "home", "user": HR}, {"kind": "response_url", "user": HR}])
def test_a_request_started_too_late_is_answered_that_it_could_not_finish(db: Database, reply: dict) -> None:
    """Started after its deadline (the bot was down for longer), a request is not run any more:
    whoever asked is told, on the surface they asked from (the Home tab too), once."""
    with FakeSlack() as fake:
        clock = ManualClock(NOW)
        bot = hand_driven_bot(fake, db, clock)
        if reply["kind"] == "response_url":
            reply = {**reply, "url": fake.response_url("late")}
        with db.unit_of_work() as uow:
            from storage.workspaces import ensure_workspace

            ensure_workspace(uow.session, "T0001", team_id="T0001")
            jobs.defer(uow.session, kind="slack.request", queue=jobs.REQUESTS, workspace_id="T0001", run_at=NOW,
                       deadline=NOW + timedelta(minutes=5), dedupe_key="request:late",
                       payload={"route": "home" if reply["kind"] == "home" else "interview", "user": HR,
                                "args": {"text": "list"}, "reply": reply})
            uow.commit()
        clock.set(NOW + timedelta(minutes=6))
        bot.runner.run_pending(jobs.REQUESTS)
        bot.runner.run_pending(jobs.DELIVERIES)
        told = fake.calls("views.publish" if reply["kind"] == "home" else "response_url")
        assert len(told) == 1 and "could not finish" in json.dumps(told[0].args)
        with db.unit_of_work(write=False) as uow:
            request = uow.session.scalars(select(Job).where(Job.kind == "slack.request")).one()
            assert request.status is JobStatus.failed and "too long" in request.last_error
