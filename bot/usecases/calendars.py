"""Linked busy calendars: show, link (checked, encrypted, read once at once), unlink."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.usecases.availability import Whose, prepare, subject
from bot.usecases.context import Context
from scheduling.intervals import Interval
from storage import calendars as store
from storage.models import CalendarLink, Person, Role
from storage.people import UnknownPerson, require_role


@dataclass(frozen=True)
class CalendarsShown:
    own: bool
    name: str
    links: tuple[str, ...]


def show_calendars(ctx: Context, who: Whose) -> CalendarsShown:
    prepare(ctx, who)
    with ctx.unit_of_work(who.workspace) as uow:
        someone, own = subject(ctx, uow.session, who)
        links = store.links_of(uow.session, [someone.id])[someone.id]
        result = CalendarsShown(own, someone.name, tuple(store.describe_link(ln) for ln in links))
        return uow.done(result)


@dataclass(frozen=True)
class LinkCalendar:
    who: Whose
    url: str
    kind: str | None = None


@dataclass(frozen=True)
class CalendarLinked:
    status: str
    readable: bool


def link_calendar(ctx: Context, cmd: LinkCalendar) -> CalendarLinked:
    """Check the address (the host may not be inside the network), store it encrypted, read it
    once so the answer can say whether it works. Linking again is harmless: same link."""
    settings = ctx.settings
    prepare(ctx, cmd.who)
    with ctx.reading() as uow:
        someone, _ = subject(ctx, uow.session, cmd.who)
        require_role(someone, Role.interviewer, "link a busy calendar")
    new = store.prepare_link(cmd.url, cmd.kind, box=settings.secrets, policy=settings.calendar_policy)
    with ctx.db.unit_of_work() as uow:
        current = uow.session.get(Person, someone.id)
        if current is None:  # removed since it was read
            raise UnknownPerson(f"{someone.name} is no longer registered.")
        link_id = store.link_calendar(uow.session, current, new).id
        uow.commit()
    now = ctx.now()
    errors = store.refresh_calendars(
        ctx.db, [someone], Interval(now, now + settings.rules().horizon), now, refresh_after=timedelta(0),
        timeout=settings.calendar_timeout_s, box=settings.secrets, policy=settings.calendar_policy)
    with ctx.unit_of_work(cmd.who.workspace) as uow:
        link = uow.session.get(CalendarLink, link_id)
        result = CalendarLinked(store.describe_link(link) if link else new.label, not errors)
        return uow.done(result)


@dataclass(frozen=True)
class CalendarsUnlinked:
    count: int


def unlink_calendars(ctx: Context, who: Whose) -> CalendarsUnlinked:
    prepare(ctx, who)
    with ctx.unit_of_work(who.workspace) as uow:
        someone, _ = subject(ctx, uow.session, who)
        result = CalendarsUnlinked(store.unlink_calendars(uow.session, someone))
        return uow.done(result)
