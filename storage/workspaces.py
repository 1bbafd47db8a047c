"""Workspaces: the tenant every row belongs to, registered on first contact."""

from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from storage.db import upsert_insert
from storage.models import Workspace


def workspace_key(team_id: str | None, enterprise_id: str | None, is_enterprise_install: bool) -> str:
    """An org-wide install serves the whole Enterprise Grid org as one tenant; otherwise the
    tenant is the workspace (team), also inside a Grid org."""
    key = enterprise_id if is_enterprise_install else team_id
    if not key:
        raise ValueError("a Slack request names neither its team nor its enterprise")
    return key


def ensure_workspace(
    session: Session, key: str, *, team_id: str | None = None, enterprise_id: str | None = None,
    is_enterprise_install: bool = False,
) -> None:
    """Create the workspace row if it is new (safe under concurrent first contacts). A row found
    stored is remembered for the engine: workspaces are not deleted while the bot runs, and the
    ack path then writes its request alone."""
    seen = _KNOWN.setdefault(session.get_bind().engine, set())
    if key in seen:
        return
    if session.get(Workspace, key) is not None:
        seen.add(key)
        return
    session.execute(
        upsert_insert(session, Workspace)
        .values(key=key, team_id=team_id, enterprise_id=enterprise_id, is_enterprise_install=is_enterprise_install)
        .on_conflict_do_nothing(index_elements=["key"])
    )


_KNOWN: WeakKeyDictionary[Engine, set[str]] = WeakKeyDictionary()
