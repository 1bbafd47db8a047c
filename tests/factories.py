"""Small builders for stored people and instants used across storage and bot tests."""

from __future__ import annotations

from datetime import datetime

from scheduling.intervals import UTC
from storage import people as people_store
from storage.db import Database
from storage.models import Person, Role


def utc(text: str) -> datetime:
    """`utc("2026-12-02 10:00")` → aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_person(
    db: Database, handle: str, role: Role | str, *, tz: str = "UTC", name: str | None = None,
    workspace: str = "local",
) -> Person:
    with db.unit_of_work() as uow:
        person = people_store.upsert_person(uow.session, workspace, handle, name=name or handle, tz=tz)
        people_store.grant(uow.session, person, Role(role))
        uow.commit()
        return person
