"""Interviewer pools: create by adding members, remove members or the whole pool, list."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from storage.models import InterviewTemplate, Person, Pool, PoolMember, Role, TemplateSession

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
EXAMPLE = "/interview pool add backend @ana @ben"


class PoolError(SchedulingError):
    """A pool that cannot be made or found as asked."""


def pool_name(text: str) -> str:
    """Pool names are one lower-case word (letters, digits, - and _), so `pool:NAME` reads."""
    name = text.strip().lower()
    if not NAME.fullmatch(name):
        raise PoolError("A pool name is one word of up to 40 letters, digits, - or _ (e.g. backend).",
                        example=EXAMPLE)
    return name


def find_pool(session: Session, workspace_id: str, name: str) -> Pool | None:
    return session.scalars(select(Pool).where(Pool.workspace_id == workspace_id, Pool.name == pool_name(name))).first()


def get_pool(session: Session, workspace_id: str, name: str) -> Pool:
    pool = find_pool(session, workspace_id, name)
    if pool is None:
        raise PoolError(f"There is no pool named {pool_name(name)!r}.", example="/interview pool list")
    return pool


def add_members(session: Session, workspace_id: str, name: str, people: Sequence[Person]) -> tuple[Pool, list[Person]]:
    """Add interviewers to a pool, creating it on first use; returns the pool and who was new.

    Everyone is checked before anything is written, so a refusal leaves nothing behind."""
    name = pool_name(name)
    if not people:
        raise PoolError("Mention the interviewers to add.", example=EXAMPLE)
    for person in people:
        if not person.has_role(Role.interviewer):
            raise PoolError(f"{person.name} is not registered as an interviewer.")
    pool = find_pool(session, workspace_id, name)
    if pool is None:
        pool = Pool(workspace_id=workspace_id, name=name)
        try:
            with session.begin_nested():
                session.add(pool)
                session.flush()
        except IntegrityError:  # a concurrent add created it first
            pool = get_pool(session, workspace_id, name)
    present = {m.person_id for m in pool.members}
    added = [p for p in dict.fromkeys(people) if p.id not in present]
    pool.members.extend(PoolMember(person_id=p.id) for p in added)
    session.flush()
    return pool, added


def remove_members(session: Session, workspace_id: str, name: str, people: Sequence[Person]) -> list[Person]:
    """Take people out of a pool (the pool stays, even empty); returns who was in it."""
    pool = get_pool(session, workspace_id, name)
    ids = {p.id for p in people}
    gone = [m for m in pool.members if m.person_id in ids]
    if not gone:
        raise PoolError(f"None of them is in the pool {pool.name!r}.")
    for member in gone:
        pool.members.remove(member)
    session.flush()
    return [p for p in people if p.id in {m.person_id for m in gone}]


def remove_pool(session: Session, workspace_id: str, name: str) -> str:
    """Refused while a template's session takes from the pool (its foreign key would refuse too)."""
    pool = get_pool(session, workspace_id, name)
    users = session.scalars(select(InterviewTemplate.name).join(TemplateSession)
                            .where(TemplateSession.pool_id == pool.id).distinct().order_by(InterviewTemplate.name)).all()
    if users:
        raise PoolError(f"The pool {pool.name!r} is used by the template(s) {', '.join(users)}; "
                        "remove them first.")
    session.delete(pool)
    session.flush()
    return pool.name


def list_pools(session: Session, workspace_id: str) -> list[Pool]:
    return list(session.scalars(select(Pool).where(Pool.workspace_id == workspace_id).order_by(Pool.name)))


def members_of(session: Session, pool: Pool) -> list[Person]:
    """The pool's people in the order they joined."""
    ids = [m.person_id for m in pool.members]
    found = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(ids)))}
    return [found[i] for i in ids if i in found]
