"""Availability: add (text or form), list, remove, clear — one's own, or HR for someone else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from bot.usecases.context import Context, UnitOfWork
from bot.usecases.people import acting, any_role, person, refresh_named, refresh_profiles
from scheduling.availability_text import parse_availability
from scheduling.errors import ParseError
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage import availability as store
from storage.models import Person, Role
from storage.people import PermissionDenied, UnknownPerson

USAGE = "/availability add 2026-12-02 10:00-14:00"
REGISTER_FIRST = ("Register first so HR can match you: `/interview-register candidate` or "
                  "`/interview-register interviewer`.")


@dataclass(frozen=True)
class Whose:
    """Whose availability a command is about: the actor's own, or (HR only) someone else's."""

    workspace: str
    actor: str | None
    target: str | None = None  # a Slack id or an email; None: the actor themselves


def prepare(ctx: Context, who: Whose) -> None:
    """Profiles first: the actor's, and (only once they are known to be HR) the target's."""
    refresh_named(ctx, who.workspace, who.actor, [who.target], Role.hr, "manage someone else's availability")


def parse_for(ctx: Context, someone: Person, text: str) -> list[Interval]:
    """The one path from text to windows: the person's zone, the horizon, the window cap."""
    return parse_availability(text, zone=zone_of(someone.tz), now=ctx.now(), horizon=ctx.settings.rules().horizon,
                              max_windows=ctx.settings.max_windows_per_message)


def subject(ctx: Context, session: Session, who: Whose) -> tuple[Person, bool]:
    """The person whose windows these are, and whether that is the actor; the same rules on
    every path (text, form, CLI): one must be registered, and only HR may act for others."""
    if who.actor is None:
        return person(ctx, session, who.workspace, who.target or ""), False
    try:
        me = person(ctx, session, who.workspace, who.actor)
    except UnknownPerson:  # never seen: the form is checked before any profile is read
        raise PermissionDenied(REGISTER_FIRST, example="/interview-register candidate") from None
    if who.target is not None:
        acting(ctx, session, who.workspace, who.actor, Role.hr, "manage someone else's availability")
        return person(ctx, session, who.workspace, who.target), False
    if not any_role(me):
        raise PermissionDenied(REGISTER_FIRST, example="/interview-register candidate")
    return me, True


@dataclass(frozen=True)
class AvailabilityAdded:
    name: str
    own: bool
    zone: str
    windows: tuple[Interval, ...]


@dataclass(frozen=True)
class AddAvailability:
    who: Whose
    text: str


def add_text(ctx: Context, cmd: AddAvailability) -> AvailabilityAdded:
    """`/availability add …`: parse in the person's zone and store, merged with what is there."""
    if not cmd.text.strip():
        raise ParseError("Tell me when you are free.", example=USAGE)
    prepare(ctx, cmd.who)
    with ctx.reading() as read:  # parse without holding the write lock
        windows = parse_for(ctx, subject(ctx, read.session, cmd.who)[0], cmd.text)
    with ctx.unit_of_work(cmd.who.workspace) as uow:
        someone, own = subject(ctx, uow.session, cmd.who)
        return _store(uow, someone, own, windows, cmd.text[:300])


@dataclass(frozen=True)
class AddWindows:
    """Windows already parsed (the form is checked before Slack is answered)."""

    who: Whose
    windows: tuple[Interval, ...]


def add_windows(ctx: Context, cmd: AddWindows) -> AvailabilityAdded:
    prepare(ctx, cmd.who)
    with ctx.unit_of_work(cmd.who.workspace) as uow:
        someone, own = subject(ctx, uow.session, cmd.who)
        return _store(uow, someone, own, cmd.windows, "form")


def _store(uow: UnitOfWork, someone: Person, own: bool, windows: Sequence[Interval], note: str) -> AvailabilityAdded:
    stored = store.add_windows(uow.session, someone, windows, note=note)
    result = AvailabilityAdded(someone.name, own, someone.tz, tuple(Interval(w.start_at, w.end_at) for w in stored))
    return uow.done(result)


@dataclass(frozen=True)
class AvailabilityListed:
    name: str
    own: bool
    zone: str
    windows: tuple[tuple[int, Interval], ...]


def list_availability(ctx: Context, who: Whose) -> AvailabilityListed:
    prepare(ctx, who)
    with ctx.unit_of_work(who.workspace) as uow:
        someone, own = subject(ctx, uow.session, who)
        rows = store.list_windows(uow.session, someone, since=ctx.now())
        result = AvailabilityListed(someone.name, own, someone.tz,
                                    tuple((w.id, Interval(w.start_at, w.end_at)) for w in rows))
        return uow.done(result)


@dataclass(frozen=True)
class WindowRemoved:
    window_id: int


@dataclass(frozen=True)
class RemoveWindow:
    who: Whose
    window_id: int


def remove_window(ctx: Context, cmd: RemoveWindow) -> WindowRemoved:
    """Remove one of the person's windows; another person's id is unknown, as is another
    workspace's."""
    prepare(ctx, cmd.who)
    with ctx.unit_of_work(cmd.who.workspace) as uow:
        someone, _ = subject(ctx, uow.session, cmd.who)
        store.remove_window(uow.session, someone, cmd.window_id)
        result = WindowRemoved(cmd.window_id)
        return uow.done(result)


@dataclass(frozen=True)
class AvailabilityCleared:
    count: int


def clear_availability(ctx: Context, who: Whose) -> AvailabilityCleared:
    prepare(ctx, who)
    with ctx.unit_of_work(who.workspace) as uow:
        someone, _ = subject(ctx, uow.session, who)
        result = AvailabilityCleared(store.clear_windows(uow.session, someone, since=ctx.now()))
        return uow.done(result)


@dataclass(frozen=True)
class FormDefaults:
    """What the availability form needs to open: the person's zone and local today."""

    zone: str
    today: str


def form_defaults(ctx: Context, workspace: str, actor: str) -> FormDefaults:
    refresh_profiles(ctx, workspace, [actor])
    with ctx.reading() as uow:
        me = person(ctx, uow.session, workspace, actor)
        return FormDefaults(me.tz, ctx.now().astimezone(zone_of(me.tz)).date().isoformat())


class RepeatBeforeStart(ParseError):
    """A weekly repeat whose last date comes before its first."""


def form_windows(ctx: Context, workspace: str, actor: str, text: str, first: date | None = None) -> list[Interval]:
    """Check a submitted form before Slack is answered (its errors go under the fields): the
    person must be registered, and the text the form makes must parse; a weekly repeat
    starts on the form's date (`first`), in the person's zone."""
    with ctx.reading() as uow:
        someone, _ = subject(ctx, uow.session, Whose(workspace, actor))
        windows = parse_for(ctx, someone, text)
    if first is not None:
        zone = zone_of(someone.tz)
        windows = [w for w in windows if w.start.astimezone(zone).date() >= first]
        if not windows:
            raise RepeatBeforeStart("The repeat ends before the first date.")
    return windows


@dataclass(frozen=True)
class BusyAdded:
    block_id: int
    name: str
    interval: Interval


@dataclass(frozen=True)
class AddBusy:
    """An operator marks someone busy by hand (the CLI)."""

    workspace: str
    handle: str
    interval: Interval


def add_busy(ctx: Context, cmd: AddBusy) -> BusyAdded:
    from storage.busy import add_busy as store_busy

    with ctx.unit_of_work(cmd.workspace) as uow:
        someone = person(ctx, uow.session, cmd.workspace, cmd.handle)
        block = store_busy(uow.session, someone, cmd.interval)
        result = BusyAdded(block.id, someone.name, cmd.interval)
        uow.commit()
    return result
