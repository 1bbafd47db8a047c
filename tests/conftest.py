"""Shared fixtures: a migrated database on a real SQLite file, and on PostgreSQL when
TEST_DATABASE_URL is set (each test gets its own schema there, so parallel runs never clash)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text

from storage.db import Database, normalize_url
from tests.slack_app import slack_env  # noqa: F401  (the Slack app fixture, for every test)
from tests.slack_fake import fake_slack  # noqa: F401  (a strict fake Slack, for every test)

# No per-example deadline: on a loaded 2-core CI machine a first example (a cipher's start-up,
# say) can take longer than hypothesis's 200 ms, which says nothing about the property.
settings.register_profile("project", deadline=None)
settings.load_profile("project")

PG_URL = os.environ.get("TEST_DATABASE_URL", "").strip()


def _create_pg_schema(schema: str) -> None:
    admin = Database(PG_URL)
    with admin.engine.begin() as conn:
        # IF NOT EXISTS is no guard against a parallel worker creating it at the same moment.
        conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('tests: btree_gist'))"))
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public"))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()


def _drop_pg_schema(schema: str) -> None:
    admin = Database(PG_URL)
    with admin.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    _create_pg_schema(schema)
    yield make_schema_url(schema)
    _drop_pg_schema(schema)


def make_schema_url(schema: str, base: str | None = None) -> str:
    """A PostgreSQL URL whose connections use `schema` first (libpq `options`)."""
    from sqlalchemy.engine import make_url

    url = make_url(normalize_url(base or PG_URL))
    url = url.update_query_dict({"options": f"-csearch_path={schema},public"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A migrated database (SQLite file, or PostgreSQL when configured)."""
    database = Database(db_url)
    database.create_schema()
    yield database
    database.dispose()
