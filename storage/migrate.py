"""Alembic migrations run programmatically, so `interview-bot migrate` needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: object) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def autogenerate(db: Database, message: str) -> None:
    """Developer aid: write a new revision from the models' differences."""
    with db.engine.begin() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)


def heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config(None)).get_heads())
