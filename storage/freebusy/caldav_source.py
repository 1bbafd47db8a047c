"""CalDAV calendars: events read as ICS, with a server-side free-busy query as the fallback.

Events go through exactly the same ICS → busy conversion as feeds; we expand recurrences
ourselves (`expand=False`) so EXDATE, overrides, cancelled/transparent instances, all-day and
floating times are read one way, in the person's zone, for every source.

Why not free-busy first: a real server got it wrong. Radicale 3.9's free-busy REPORT expands a
weekly TZID series at a fixed UTC offset, so after a DST change every instance is an hour off
and a cancelled instance stays busy (see tests/test_freebusy_caldav.py). Servers also read
all-day and floating events in their own zone. So the free-busy REPORT is used only when the
event search is refused (e.g. a calendar shared as read-free-busy only), or on request
(`mode="freebusy"`).

Every connection the client opens (first request, redirect hops, OCSP/CRL checks) asks our
resolver for its address at connect time, so it goes only where the `AddressPolicy` permits.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, cast
from zoneinfo import ZoneInfo

import niquests

# From the defining modules: the package's lazy `__getattr__` hides their types from mypy.
from caldav.calendarobjectresource import CalendarObjectResource
from caldav.collection import Calendar as DavCalendar
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error
from caldav.lib.http_sync import requests as http
from icalendar import Calendar
from niquests.adapters import BaseAdapter

from scheduling.intervals import Interval, clip
from storage.freebusy.base import FreeBusyError, SourceTimeout, SourceUnavailable
from storage.freebusy.ics import busy_from_calendars, busy_from_vfreebusy, parse_calendars
from storage.freebusy.netguard import (
    STRICT,
    AddressPolicy,
    Resolver,
    check_scheme,
    resolve_checked,
    system_resolve,
)

if TYPE_CHECKING:
    # niquests' alias resolves through an import hook mypy cannot follow; this is where it leads
    # (niquests annotates its own resolver parameters the same way).
    from urllib3.contrib.resolver import BaseResolver, ProtocolResolver
else:
    from niquests.packages.urllib3.contrib.resolver import BaseResolver, ProtocolResolver

log = logging.getLogger(__name__)

Mode = Literal["auto", "freebusy", "events"]


class _NoFreeBusy(SourceUnavailable):
    """The server does not do free-busy queries (in a way we can use)."""


@dataclass(frozen=True)
class CalDavSource:
    """One CalDAV calendar collection URL, with optional basic/digest credentials."""

    url: str
    zone: ZoneInfo
    timeout: float = 5.0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    mode: Mode = "auto"
    policy: AddressPolicy = STRICT
    resolve: Resolver = field(default=system_resolve, repr=False, compare=False)
    kind: str = field(default="caldav", init=False)

    def fetch(self, window: Interval) -> tuple[Interval, ...]:
        try:
            with DAVClient(
                url=self.url,
                username=self.username,
                password=self.password,
                timeout=self.timeout,  # type: ignore[arg-type]  # passed through to niquests
                enable_rfc6764=False,  # a full calendar URL needs no DNS discovery
            ) as client:
                # DAVClient makes its own session (no network yet); every request goes
                # through `client.session`, so swapping it guards them all.
                client.session.close()
                client.session = _GuardedSession(self.policy, self.resolve)
                calendar = client.calendar(url=self.url)
                if self.mode == "freebusy":
                    return _freebusy(calendar, window)
                try:
                    return _events(calendar, window, self.zone)
                except dav_error.NotFoundError:
                    raise
                except dav_error.DAVError as exc:  # e.g. 403: shared as free-busy only
                    if self.mode == "events":
                        raise
                    log.info(
                        "CalDAV event search refused (%s); trying free-busy", type(exc).__name__
                    )
                    try:
                        return _freebusy(calendar, window)
                    except FreeBusyError:
                        raise exc from None
        except FreeBusyError:
            raise
        except Exception as exc:  # noqa: BLE001 - mapped to a user-facing reason below
            raise _translate(exc, self.timeout) from exc


class _GuardedResolver(BaseResolver):
    """niquests asks this for a host's addresses at every connect; it answers only with
    addresses the policy permits, or raises `BlockedAddress`."""

    protocol = ProtocolResolver.CUSTOM
    implementation = "netguard"

    def __init__(self, policy: AddressPolicy, resolve: Resolver) -> None:
        super().__init__(None, None)
        self._policy, self._resolve = policy, resolve

    def getaddrinfo(  # type: ignore[override]
        self,
        host: bytes | str | None,
        port: str | int | None,
        family: socket.AddressFamily,
        type: socket.SocketKind,
        proto: int = 0,
        flags: int = 0,
        *,
        quic_upgrade_via_dns_rr: bool = False,
    ) -> list[tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[Any, ...]]]:
        if host is None:
            raise socket.gaierror(socket.EAI_NONAME, "no host")
        name = host.decode("ascii") if isinstance(host, bytes) else host
        addresses = resolve_checked(name, int(port or 0), self._policy, self._resolve)
        return [
            (found, type, proto, "", sockaddr)
            for found, sockaddr in addresses
            if family in (socket.AF_UNSPEC, found)
        ]

    def close(self) -> None:
        """Nothing to release: lookups go through `resolve` each time."""

    def is_available(self) -> bool:
        return True

    def recycle(self) -> BaseResolver:
        return self


class _GuardedSession(niquests.Session):
    """A niquests session whose every connection is resolved by `_GuardedResolver`.

    HTTP/3 is off (Alt-Svc would name other endpoints), the environment is ignored (a proxy
    from HTTP_PROXY would connect on our behalf, unchecked), and only the http(s) adapters
    are used: niquests also mounts `http+unix://`, a redirect there would reach local sockets.
    """

    def __init__(self, policy: AddressPolicy, resolve: Resolver) -> None:
        super().__init__(resolver=_GuardedResolver(policy, resolve), disable_http3=True)
        self.trust_env = False

    def get_adapter(self, url: str) -> BaseAdapter:
        check_scheme(url)
        return super().get_adapter(url)


def _freebusy(calendar: DavCalendar, window: Interval) -> tuple[Interval, ...]:
    try:
        answer = calendar.freebusy_request(window.start, window.end)
    except dav_error.NotFoundError:
        raise
    except dav_error.DAVError as exc:  # ReportError and friends: no usable free-busy
        raise _NoFreeBusy(
            f"the server does not answer free-busy queries ({type(exc).__name__})"
        ) from exc
    data = getattr(answer, "data", None)
    if not data or "VFREEBUSY" not in str(data).upper():
        raise _NoFreeBusy("the server's free-busy answer had no VFREEBUSY")
    return clip((b for c in parse_calendars(data) for b in busy_from_vfreebusy(c, window)), window)


def _events(calendar: DavCalendar, window: Interval, zone: ZoneInfo) -> tuple[Interval, ...]:
    # A day of margin each side: the server matches dates/floating times in its own idea of
    # local time, ours is the person's zone; the exact cut happens after conversion.
    margin = timedelta(days=1)
    # caldav types its calls for sync and async clients alike; DAVClient is sync: a list.
    found = cast(list[CalendarObjectResource], calendar.search(
        start=window.start - margin, end=window.end + margin, event=True, expand=False
    ))
    calendars: list[Calendar] = []
    for obj in found:
        data = getattr(obj, "data", None)
        if data:
            calendars.extend(parse_calendars(data))
    return busy_from_calendars(calendars, window, zone)


def _translate(exc: BaseException, timeout: float) -> FreeBusyError:
    """A reason fit for HR: no URLs or server dumps, which may carry credentials."""
    if isinstance(exc, http.exceptions.Timeout | TimeoutError):
        return SourceTimeout(timeout)
    if isinstance(exc, dav_error.AuthorizationError):
        return SourceUnavailable("the server refused the credentials (not authorized)")
    if isinstance(exc, dav_error.NotFoundError):
        return SourceUnavailable("the calendar was not found on the server (HTTP 404)")
    if isinstance(exc, dav_error.DAVError):
        return SourceUnavailable(f"the server answered with an error ({type(exc).__name__})")
    if isinstance(exc, http.exceptions.ConnectionError | ConnectionError):
        return SourceUnavailable("the server could not be reached")
    if isinstance(exc, http.exceptions.RequestException | OSError):
        return SourceUnavailable(f"the connection failed ({type(exc).__name__})")
    return SourceUnavailable(f"an unexpected error occurred ({type(exc).__name__})")
