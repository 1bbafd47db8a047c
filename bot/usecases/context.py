"""What every use case is given: the database, settings, a clock, and two ports to the outside.

The unit of work here is the storage one plus the request's durability: committing it also
finishes the durable request it serves (a conditional update on the runner's claim), so the
use case's changes, its answer and its messages are one transaction, and a request whose
claim another runner took over commits nothing. Use cases never talk to Slack: they hand
answers and messages to the `Messenger`, which records them as jobs in that transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from bot.settings import Settings
from scheduling.intervals import UTC
from storage import jobs
from storage.db import Database
from storage.db import UnitOfWork as StorageUnitOfWork
from storage.models import Person

R = TypeVar("R")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Profile:
    """A person as the chat directory knows them (Slack's users.info)."""

    name: str
    email: str | None
    tz: str
    is_guest: bool = False


class Directory(Protocol):
    """Looks people up by user id; raises a SchedulingError for someone it does not know."""

    def profile(self, workspace: str, user_id: str) -> Profile: ...


class Messenger(Protocol):
    """Turns answers and notices into deliveries recorded in the caller's transaction; returns
    the delivery's job when the serving runner is to run it itself (`Origin.worker`)."""

    def reply(self, session: Session, workspace: str, origin: Origin, result: object) -> int | None: ...

    def notify(self, session: Session, workspace: str, person: Person, notice: object,
               origin: Origin) -> int | None: ...


@dataclass(frozen=True)
class Origin:
    """The durable request a use case serves: its job (claimed by `worker`), where its answer
    goes (opaque here; the messenger reads it), and whom to tell, once the transaction that
    finishes it has committed, which deliveries it wrote for that runner. Empty for the CLI
    and the demo."""

    job_id: int | None = None
    worker: str | None = None
    reply: Mapping[str, Any] | None = None
    finished: Callable[[list[int]], None] | None = field(default=None, compare=False)


class LeaseLost(Exception):
    """Another runner took this request over; this attempt's work was rolled back."""


@dataclass(frozen=True)
class Context:
    db: Database
    settings: Settings
    clock: Callable[[], datetime] = system_clock
    directory: Directory | None = None
    messenger: Messenger | None = None
    hr_workspace: str | None = None  # where HR_USER_IDS apply: the installed workspace
    origin: Origin = field(default_factory=Origin)

    def now(self) -> datetime:
        return self.clock()

    def serving(self, origin: Origin) -> Context:
        return replace(self, origin=origin)

    def unit_of_work(self, workspace: str) -> UnitOfWork:
        return UnitOfWork(self, workspace)

    def reading(self) -> StorageUnitOfWork:
        return self.db.unit_of_work(write=False)


class UnitOfWork:
    """A write transaction of one workspace that also answers and finishes the request."""

    def __init__(self, ctx: Context, workspace: str) -> None:
        self.ctx, self.workspace = ctx, workspace
        self._inner = ctx.db.unit_of_work()
        self.session: Session
        self._handed: list[int] = []  # deliveries written for the serving runner to run

    def __enter__(self) -> UnitOfWork:
        self.session = self._inner.__enter__().session
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.__exit__(*exc)

    def reply(self, result: object) -> None:
        """Answer the person who asked (nothing to do without a reply target, e.g. the CLI)."""
        if self.ctx.messenger is not None and self.ctx.origin.reply is not None:
            self._hand(self.ctx.messenger.reply(self.session, self.workspace, self.ctx.origin, result))

    def notify(self, person: Person, notice: object) -> bool:
        """Message `person` once this commits; False when they cannot be reached (no Slack)."""
        if person.slack_user_id is None:
            return False
        if self.ctx.messenger is not None:
            self._hand(self.ctx.messenger.notify(self.session, self.workspace, person, notice, self.ctx.origin))
        return True

    def _hand(self, job_id: int | None) -> None:
        if job_id is not None:
            self._handed.append(job_id)

    def done(self, result: R) -> R:
        """Answer with `result` and commit: how a use case ends."""
        self.reply(result)
        self.commit()
        return result

    def commit(self) -> None:
        origin = self.ctx.origin
        if origin.job_id is None or origin.worker is None:  # no durable request to finish
            self._inner.commit()
            return
        if not jobs.complete(self.session, origin.job_id, origin.worker, self.ctx.now()):
            raise LeaseLost(f"request job {origin.job_id} is no longer ours")
        self._inner.commit()
        if origin.finished is not None:
            origin.finished(self._handed)


def answer(ctx: Context, workspace: str, result: object) -> object:
    """Answer a request that changes nothing (help, a refusal found while parsing)."""
    with ctx.unit_of_work(workspace) as uow:
        return uow.done(result)
