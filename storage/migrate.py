"""Alembic migrations run programmatically, so `interview-bot migrate` needs no alembic.ini.

Every command checks the schema version before it starts; that check reads the version table
itself against `HEAD`, because loading Alembic's machinery costs more than most commands do.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text

if TYPE_CHECKING:
    from storage.db import Database

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0008"  # the newest revision; tests check it is Alembic's only head


def alembic_config(connection: object) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    from alembic import command

    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def current(db: Database) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    with db.engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def autogenerate(db: Database, message: str) -> None:
    """Developer aid: write a new revision from the models' differences."""
    from alembic import command

    with db.engine.begin() as conn:
        command.revision(alembic_config(conn), message=message, autogenerate=True)


def heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory

    return tuple(ScriptDirectory.from_config(alembic_config(None)).get_heads())
