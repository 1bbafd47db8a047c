"""The bot served over real HTTP (waitress on 127.0.0.1), its Web API pointed at FakeSlack.

Requests go in signed, exactly as Slack sends them; what the bot says comes out as recorded
Web API calls and response_url posts on the fake.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from waitress.server import create_server

from bot.app import create_app, wsgi_app
from bot.context import BotContext
from bot.settings import Settings
from storage.db import Database
from tests.factories import utc
from tests.slack_fake import FakeSlack
from tests.slack_requests import SlackClient

SECRET = "test-signing-secret"
NOW = utc("2026-11-23 09:00")
HR, CAND, INTV, INTV2, STRANGER = "UHR0001", "UCAND001", "UINTV001", "UINTV002", "USTRANGE"


@dataclass
class SlackEnv:
    fake: FakeSlack
    slack: SlackClient
    db: Database
    ctx: BotContext
    url: str


def settings_for(fake: FakeSlack, db_url: str, **extra: str) -> Settings:
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url,
        "HR_USER_IDS": HR,
        "DATABASE_URL": db_url,
        **extra,
    }
    return Settings.from_env(env, dotenv=Path("/nonexistent/.env"))


def add_users(fake: FakeSlack) -> None:
    fake.add_user(HR, "Hana Reyes", "hana@example.com", tz="Europe/Lisbon")
    fake.add_user(CAND, "Cara Diaz", "cara@example.com", tz="Europe/Berlin")
    fake.add_user(INTV, "Ivan Petrov", "ivan@example.com", tz="America/New_York")
    fake.add_user(INTV2, "Iris Chen", "iris@example.com", tz="Asia/Singapore")
    fake.add_user(STRANGER, "Sam Stone", "sam@example.com", tz="UTC")


@pytest.fixture
def slack_env(db: Database) -> Iterator[SlackEnv]:
    with FakeSlack() as fake:
        add_users(fake)
        settings = settings_for(fake, db.url)
        ctx = BotContext(settings=settings, db=db, clock=lambda: NOW)
        app = create_app(ctx)
        server = create_server(wsgi_app(app), host="127.0.0.1", port=0, threads=8)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.effective_port}"
        try:
            yield SlackEnv(fake, SlackClient(url, SECRET, response_url=fake.response_url), db, ctx, url)
        finally:
            server.close()
            ctx.background.shutdown(wait=True)  # let after-ack work finish while Slack still answers
        assert fake.errors == [], fake.errors


def clock_at(env: SlackEnv, moment: datetime) -> None:
    env.ctx.clock = lambda: moment
