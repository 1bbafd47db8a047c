"""People and roles: lookup by Slack id or email, creation, grants."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from scheduling.errors import SchedulingError
from storage.db import affected_rows, upsert_insert
from storage.models import Person, PersonRole, Role
from storage.workspaces import ensure_workspace


class UnknownPerson(SchedulingError):
    """A handle (Slack user id or email) that matches nobody."""


class PermissionDenied(SchedulingError):
    """The acting person lacks the role the action needs."""


def is_email(handle: str) -> bool:
    return "@" in handle


def find_person(session: Session, workspace_id: str, handle: str) -> Person | None:
    """A person by Slack user id or (case-insensitively) by email."""
    handle = handle.strip()
    column, value = (Person.email, handle.lower()) if is_email(handle) else (Person.slack_user_id, handle.upper())
    query = (select(Person).where(Person.workspace_id == workspace_id, column == value)
             .options(joinedload(Person.roles)))  # one query, not two: this is on every request's path
    return session.scalars(query).unique().first()


def get_person(session: Session, workspace_id: str, handle: str) -> Person:
    person = find_person(session, workspace_id, handle)
    if person is None:
        raise UnknownPerson(
            f"Nobody is registered as {handle}.",
            example="interview-bot people add U012ABC --name 'Ana Lima' --tz Europe/Lisbon --role candidate",
        )
    return person


def upsert_person(
    session: Session,
    workspace_id: str,
    handle: str,
    *,
    name: str | None = None,
    tz: str | None = None,
    email: str | None = None,
    is_guest: bool | None = None,
    refreshed_at: datetime | None = None,
) -> Person:
    """Create or refresh a person; profile fields given are authoritative (they come from Slack).

    The first write is an INSERT … ON CONFLICT DO NOTHING, so ten first contacts of one new
    user at once make one row and no errors.
    """
    person = find_person(session, workspace_id, handle)
    if person is None:
        ensure_workspace(session, workspace_id)
        identity = {"email": handle.strip().lower()} if is_email(handle) else {"slack_user_id": handle.strip().upper()}
        session.execute(upsert_insert(session, Person).values(
            workspace_id=workspace_id, name=name or handle, tz=tz or "UTC", is_guest=False, **identity,
        ).on_conflict_do_nothing())
        person = find_person(session, workspace_id, handle)
        if person is None:  # the address is another person's: a caller bug, not a race
            raise UnknownPerson(f"{handle} clashes with another person's email address.")
    if name:
        person.name = name
    if tz:
        person.tz = tz
    if email:
        person.email = email.lower()
    if is_guest is not None:
        person.is_guest = is_guest
    if refreshed_at is not None:
        person.profile_refreshed_at = refreshed_at
    session.flush()
    return person


def grant(session: Session, person: Person, role: Role, by: Person | None = None) -> bool:
    """Give `person` a role; False if they already had it (also when a concurrent grant won)."""
    if person.has_role(role):
        return False
    inserted = affected_rows(session, upsert_insert(session, PersonRole).values(
        person_id=person.id, role=role, granted_by=by.id if by else None,
    ).on_conflict_do_nothing())
    session.expire(person, ["roles"])
    return bool(inserted)


def revoke(session: Session, person: Person, role: Role) -> bool:
    """Take a role away; False if they did not have it."""
    for held in list(person.roles):
        if held.role == role:
            person.roles.remove(held)
            session.flush()
            return True
    return False


def require_role(person: Person, role: Role, action: str) -> None:
    if not person.has_role(role):
        raise PermissionDenied(f"Only {role.value.upper() if role is Role.hr else role.value + 's'} can {action}.")


def people_with_role(session: Session, workspace_id: str, role: Role) -> Sequence[Person]:
    return session.scalars(
        select(Person)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.workspace_id == workspace_id, PersonRole.role == role)
        .order_by(Person.name, Person.id)
    ).all()


def lock_people(session: Session, ids: Iterable[int]) -> list[Person]:
    """Lock people rows in id order (PostgreSQL row locks; SQLite holds the write lock already).

    A fixed order means two transactions over overlapping groups cannot deadlock.
    """
    return list(
        session.scalars(
            select(Person).where(Person.id.in_(sorted(set(ids)))).order_by(Person.id).with_for_update()
        )
    )
