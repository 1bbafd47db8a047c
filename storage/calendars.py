"""Linked calendars: link and unlink them, and refresh the busy blocks cached from them.

External calendars are slow and fallible, so they are never read inside a transaction or on
the booking path: a search first refreshes links older than the refresh interval (all of them
concurrently, within one overall timeout), stores what it got as busy blocks tagged with the
link (`calendar:<id>`), and keeps the previous cache for a calendar that could not be read —
the answer then names whose calendar that was. Booked interviews are busy regardless.

Addresses are secrets (private feed URLs are bearer tokens) and may point anywhere: a link is
checked against the address policy before it is stored (and every fetch again, at connect
time, in `storage.freebusy`), and kept only encrypted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from scheduling.errors import ParseError, SchedulingError
from scheduling.intervals import Interval
from storage.busy import replace_source_blocks
from storage.db import Database
from storage.freebusy import fetch_many, redact_url, source_for
from storage.freebusy.base import FreeBusyError
from storage.freebusy.netguard import AddressPolicy, check_url
from storage.models import BusyBlock, CalendarLink, Person
from storage.people import lock_people
from storage.secrets import SecretBox, SecretsError

KINDS = ("ics", "caldav")
LINK_EXAMPLE = "/availability calendar https://calendar.example.com/private/basic.ics"
RELINK = "its address could not be decrypted: link it again"


class CalendarsUnavailable(SchedulingError):
    """Linking needs an encryption key the operator has not set."""


def block_source(link: CalendarLink) -> str:
    return f"calendar:{link.id}"


def guess_kind(url: str) -> str:
    """iCalendar feeds end in .ics or use webcal://; anything else is treated as CalDAV."""
    parts = urlsplit(url)
    return "ics" if parts.scheme == "webcal" or parts.path.lower().endswith(".ics") else "caldav"


@dataclass(frozen=True)
class NewLink:
    """A checked, encrypted calendar address, ready to store."""

    kind: str
    label: str
    fingerprint: str
    secret: str


def prepare_link(url: str, kind: str | None, *, box: SecretBox | None, policy: AddressPolicy) -> NewLink:
    """Check and encrypt an address (http, https or webcal only: never a server-side file).

    Resolving the host is network I/O, so this runs before any transaction. An address that
    points inside gets one neutral answer, whatever is (or is not) listening there.
    """
    url = url.strip().strip("<>").split("|")[0]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "webcal") or not parts.hostname:
        raise ParseError("A calendar link must be an http(s) or webcal URL.", example=LINK_EXAMPLE)
    kind = kind or guess_kind(url)
    if kind not in KINDS:
        raise ParseError(f"Unknown calendar kind {kind!r}; use ics or caldav.", example=LINK_EXAMPLE)
    if box is None:
        raise CalendarsUnavailable("Linking calendars is not set up here yet: the operator must set SECRET_KEY.")
    try:
        check_url(url, policy)
    except FreeBusyError as err:
        reason = str(err)
        raise ParseError(f"{reason[:1].upper()}{reason[1:]}.", example=LINK_EXAMPLE) from None
    return NewLink(kind, *seal(box, url))


def seal(box: SecretBox, url: str, username: str | None = None, password: str | None = None) -> tuple[str, str, str]:
    """Label, fingerprint and ciphertext of an address; credentials in the URL are moved out of
    it (and so out of the label and the fingerprint's input)."""
    parts = urlsplit(url)
    host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    clean = urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    username, password = username or parts.username, password or parts.password
    secret = json.dumps({"url": clean, "username": username, "password": password})
    return redact_url(clean), box.fingerprint(f"{clean}\n{username or ''}"), box.encrypt(secret)


def link_calendar(session: Session, person: Person, new: NewLink) -> CalendarLink:
    """Store a prepared link; linking the same calendar again returns the existing link."""
    existing = session.scalars(select(CalendarLink).where(
        CalendarLink.person_id == person.id, CalendarLink.kind == new.kind,
        CalendarLink.fingerprint == new.fingerprint)).first()
    if existing is not None:
        return existing
    link = CalendarLink(person_id=person.id, kind=new.kind, label=new.label, fingerprint=new.fingerprint,
                        secret=new.secret)
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
    return f"{link.kind} {link.label} ({status})"


def ensure_mock_links(session: Session, people: Sequence[Person]) -> None:
    """With BUSY_SOURCE=mock, everyone without a calendar gets the built-in mock one."""
    linked = links_of(session, [p.id for p in people])
    for person in people:
        if not linked[person.id]:
            session.add(CalendarLink(person_id=person.id, kind="mock", label="built-in mock calendar",
                                     fingerprint="mock"))
    session.flush()


def needs_refresh(session: Session, people: Sequence[Person], now: datetime, *, refresh_after: timedelta,
                  mock: bool = False) -> bool:
    """Whether any of their calendars is due a re-read (or, with the mock source, missing)."""
    links = links_of(session, [p.id for p in people])
    if mock and any(not group for group in links.values()):
        return True
    return any(ln.last_fetched_at is None or now - ln.last_fetched_at >= refresh_after
               for group in links.values() for ln in group)


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
    box: SecretBox | None = None,
    policy: AddressPolicy | None = None,
) -> list[str]:
    """Re-read stale calendars of `people` into the cache; returns one sentence per failure."""
    if mock:
        with db.unit_of_work() as uow:
            # Someone removed since `people` was read has no row left to link a calendar to.
            stored = [uow.session.get(Person, p.id) for p in people]
            ensure_mock_links(uow.session, [p for p in stored if p is not None])
            uow.commit()
    with db.unit_of_work(write=False) as uow:
        links = [link for group in links_of(uow.session, [p.id for p in people]).values() for link in group]
        names = {p.id: p.name for p in people}
        zones = {p.id: ZoneInfo(p.tz) for p in people}
        stale = [ln for ln in links if ln.last_fetched_at is None or now - ln.last_fetched_at >= refresh_after]
    jobs, errors = [], []
    for ln in stale:
        label = f"{names[ln.person_id]} #{ln.id}"
        try:
            address = _address(ln, box)
        except SecretsError:
            errors.append(f"{names[ln.person_id]}'s calendar could not be read ({RELINK}).")
            continue
        jobs.append((label, ln, source_for(
            ln.kind, address.get("url") or "", zone=zones[ln.person_id], timeout=timeout,
            username=address.get("username"), password=address.get("password"), seed=seed,
            person_key=str(ln.person_id), policy=policy)))
    if not jobs:
        return errors
    results = fetch_many([(label, source) for label, _, source in jobs], window, timeout=timeout)
    with db.unit_of_work() as uow:
        # Writing blocks changes the people's free-time versions: lock them in id order, as
        # booking does, so a refresh and a booking over the same people cannot deadlock.
        lock_people(uow.session, [ln.person_id for _, ln, _ in jobs])
        for label, ln, _ in jobs:
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


def _address(link: CalendarLink, box: SecretBox | None) -> dict[str, str | None]:
    """The decrypted address of a link (the mock calendar has none)."""
    if link.kind == "mock":
        return {}
    if link.secret is None or box is None:
        raise SecretsError(RELINK)
    return json.loads(box.decrypt(link.secret))
