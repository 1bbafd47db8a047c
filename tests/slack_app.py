"""The bot served over real HTTP (waitress on 127.0.0.1), its Web API pointed at FakeSlack, with
its job runner running: requests go in signed, exactly as Slack sends them; what the bot says
comes out as recorded Web API calls and response_url posts on the fake."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from waitress.server import create_server

from bot.app import create_app, wsgi_app
from bot.jobs.runner import Backoff
from bot.runtime import Bot, build_bot
from bot.settings import Settings
from bot.slack_client import Installation
from storage.db import Database
from storage.secrets import generate_key
from tests.factories import utc
from tests.slack_fake import FakeSlack
from tests.slack_requests import SlackClient

SECRET = "test-signing-secret"
NOW = utc("2026-11-23 09:00")
HR, CAND, INTV, INTV2, STRANGER = "UHR0001", "UCAND001", "UINTV001", "UINTV002", "USTRANGE"
FAST_RETRIES = Backoff(base=timedelta(milliseconds=200), cap=timedelta(seconds=2), settle=timedelta(seconds=1))


class ManualClock:
    """The time the bot's rules see is set by the test and stands still; the job runner's time
    ticks on from it in real time, so retries and leases fall due while a test waits."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, moment: datetime) -> None:
        self._at, self._since = moment, time.monotonic()

    def __call__(self) -> datetime:
        return self._at

    def ticking(self) -> datetime:
        return self._at + timedelta(seconds=time.monotonic() - self._since)


@dataclass
class SlackEnv:
    fake: FakeSlack
    slack: SlackClient
    db: Database
    bot: Bot
    url: str
    clock: ManualClock


def settings_for(fake: FakeSlack, db_url: str, **extra: str) -> Settings:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url,
        "HR_USER_IDS": HR,
        "DATABASE_URL": db_url,
        "SECRET_KEY": generate_key(),
        **extra,
    }
    return Settings.from_env(env, dotenv=Path("/nonexistent/.env"))


def add_users(fake: FakeSlack) -> None:
    fake.add_user(HR, "Hana Reyes", "hana@example.com", tz="Europe/Lisbon")
    fake.add_user(CAND, "Cara Diaz", "cara@example.com", tz="Europe/Berlin")
    fake.add_user(INTV, "Ivan Petrov", "ivan@example.com", tz="America/New_York")
    fake.add_user(INTV2, "Iris Chen", "iris@example.com", tz="Asia/Singapore")
    fake.add_user(STRANGER, "Sam Stone", "sam@example.com", tz="UTC")


def serve(bot: Bot, settings: Settings) -> tuple[str, object]:
    """The bot's WSGI app on a free loopback port; returns its URL and the server."""
    server = create_server(wsgi_app(create_app(bot), settings.slack_signing_secret), host="127.0.0.1", port=0,
                           threads=8)
    threading.Thread(target=_run_until_closed, args=(server,), daemon=True).start()
    return f"http://127.0.0.1:{server.effective_port}", server


def _run_until_closed(server: object) -> None:
    """waitress's loop may be polling the socket the test's teardown just closed (EBADF)."""
    with contextlib.suppress(OSError):
        server.run()  # type: ignore[attr-defined]


def start_bot(fake: FakeSlack, db: Database, clock: ManualClock, tokens: tuple[str, ...] = ("xoxb-test-token",),
              **extra: str) -> tuple[Bot, Settings]:
    settings = settings_for(fake, db.url, **extra)
    installs = [Installation.from_token(token, fake.base_url) for token in tokens]
    bot = build_bot(settings, db, installs, clock=clock, job_clock=clock.ticking)
    bot.start(backoff=FAST_RETRIES, tick_seconds=0.2)
    return bot, settings


@contextmanager
def running_bot(db: Database, **settings_extra: str) -> Iterator[SlackEnv]:
    """The whole bot against a fresh fake Slack; `settings_extra` are environment settings."""
    with FakeSlack() as fake:
        add_users(fake)
        clock = ManualClock(NOW)
        bot, settings = start_bot(fake, db, clock, **settings_extra)
        url, server = serve(bot, settings)
        try:
            yield SlackEnv(fake, SlackClient(url, SECRET, response_url=fake.response_url), db, bot, url, clock)
        finally:
            server.close()  # type: ignore[attr-defined]
            bot.stop()  # jobs under way finish while Slack still answers
        assert fake.errors == [], fake.errors


@pytest.fixture
def slack_env(db: Database) -> Iterator[SlackEnv]:
    with running_bot(db) as env:
        yield env


def clock_at(env: SlackEnv, moment: datetime) -> None:
    env.clock.set(moment)
