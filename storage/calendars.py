"""Linked calendars: link and unlink them, and refresh the busy blocks cached from them.

External calendars are slow and fallible, so they are never read inside a transaction or on
the booking path: a search first refreshes links older than the refresh interval (all of them
concurrently, within one overall timeout), stores what it got as busy blocks tagged with the
link (`calendar:<id>`), and keeps the previous cache for a calendar that could not be read —
the answer then names whose calendar that was. Booked interviews are busy regardless.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduling.errors import ParseError
from scheduling.intervals import Interval
from storage.busy import replace_source_blocks
from storage.db import Database
from storage.freebusy import fetch_many, redact_url, source_for
from storage.models import BusyBlock, CalendarLink, Person

KINDS = ("ics", "caldav")
LINK_EXAMPLE = "/availability calendar https://calendar.example.com/private/basic.ics"


def block_source(link: CalendarLink) -> str:
    return f"calendar:{link.id}"


def guess_kind(url: str) -> str:
    """iCalendar feeds end in .ics or use webcal://; anything else is treated as CalDAV."""
    parts = urlsplit(url)
    return "ics" if parts.scheme == "webcal" or parts.path.lower().endswith(".ics") else "caldav"


def link_calendar(session: Session, person: Person, url: str, kind: str | None = None) -> CalendarLink:
    """Link a calendar by URL (http, https or webcal only: never a server-side file)."""
    url = url.strip().strip("<>").split("|")[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "webcal") or not parts.netloc:
        raise ParseError("A calendar link must be an http(s) or webcal URL.", example=LINK_EXAMPLE)
    kind = kind or guess_kind(url)
    if kind not in KINDS:
        raise ParseError(f"Unknown calendar kind {kind!r}; use ics or caldav.", example=LINK_EXAMPLE)
    existing = session.scalars(
        select(CalendarLink).where(CalendarLink.person_id == person.id, CalendarLink.url == url)
    ).first()
    if existing is not None:
        return existing
    link = CalendarLink(person_id=person.id, kind=kind, url=url,
                        username=parts.username, secret=parts.password)
    session.add(link)
    session.flush()
    return link


def unlink_calendars(session: Session, person: Person) -> int:
    """Remove a person's links and the busy time cached from them."""
    links = links_of(session, [person.id])[person.id]
    for link in links:
        session.execute(delete(BusyBlock).where(BusyBlock.person_id == person.id,
                                                BusyBlock.source == block_source(link)))
        session.delete(link)
    session.flush()
    return len(links)


def links_of(session: Session, person_ids: Sequence[int]) -> dict[int, list[CalendarLink]]:
    result: dict[int, list[CalendarLink]] = {pid: [] for pid in person_ids}
    for link in session.scalars(select(CalendarLink).where(CalendarLink.person_id.in_(person_ids))):
        result[link.person_id].append(link)
    return result


def describe_link(link: CalendarLink) -> str:
    status = "never read" if link.last_fetched_at is None else f"read {link.last_fetched_at:%Y-%m-%d %H:%M} UTC"
    if link.last_error:
        status += f", last attempt failed: {link.last_error}"
    return f"{link.kind} {redact_url(link.url)} ({status})"


def ensure_mock_links(session: Session, people: Sequence[Person]) -> None:
    """With BUSY_SOURCE=mock, everyone without a calendar gets the built-in mock one."""
    linked = links_of(session, [p.id for p in people])
    for person in people:
        if not linked[person.id]:
            session.add(CalendarLink(person_id=person.id, kind="mock", url="mock:"))
    session.flush()


def refresh_calendars(
    db: Database,
    people: Sequence[Person],
    window: Interval,
    now: datetime,
    *,
    refresh_after: timedelta,
    timeout: float,
    mock: bool = False,
    seed: int = 0,
) -> list[str]:
    """Re-read stale calendars of `people` into the cache; returns one sentence per failure."""
    with db.unit_of_work() as uow:
        if mock:
            ensure_mock_links(uow.session, [uow.session.get(Person, p.id) for p in people])
            uow.commit()
        links = [link for group in links_of(uow.session, [p.id for p in people]).values() for link in group]
        names = {p.id: p.name for p in people}
        zones = {p.id: ZoneInfo(p.tz) for p in people}
        stale = [ln for ln in links if ln.last_fetched_at is None or now - ln.last_fetched_at >= refresh_after]
        jobs = [(f"{names[ln.person_id]} #{ln.id}", ln) for ln in stale]
    if not jobs:
        return []
    sources = [
        (label, source_for(ln.kind, ln.url, zone=zones[ln.person_id], timeout=timeout,
                           username=ln.username, password=ln.secret, seed=seed, person_key=str(ln.person_id)))
        for label, ln in jobs
    ]
    results = fetch_many(sources, window, timeout=timeout)
    errors = []
    with db.unit_of_work() as uow:
        for label, ln in jobs:
            link = uow.session.get(CalendarLink, ln.id)
            person = uow.session.get(Person, ln.person_id)
            if link is None or person is None:
                continue  # unlinked meanwhile
            result = results[label]
            if result.ok:
                replace_source_blocks(uow.session, person, block_source(link), window, result.busy)
                link.last_fetched_at, link.last_error = now, None
            else:
                link.last_error = (result.error or "").split(": ", 1)[-1]
                errors.append(f"{names[ln.person_id]}'s calendar could not be read "
                              f"({link.last_error}); their last known busy time was used.")
        uow.commit()
    return errors
