"""The free/busy source interface, the never-raising wrappers the app calls, and the factory.

Sources do I/O and raise; `fetch_busy` and `fetch_many` are the only entry points the search
should use, because they turn every failure into a sentence HR can read and never let one
slow calendar hold up the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from scheduling.intervals import Interval, clip

if TYPE_CHECKING:
    from storage.freebusy.netguard import AddressPolicy

log = logging.getLogger(__name__)

KINDS = ("mock", "ics", "caldav")


class FreeBusyError(Exception):
    """A source failure whose `str()` is the user-facing reason (no URL, no secrets)."""


class SourceTimeout(FreeBusyError):
    """The source did not answer within its time budget."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"timed out after {seconds:g} s")
        self.seconds = seconds


class SourceUnavailable(FreeBusyError):
    """The server could not be reached, refused us, or answered with an error."""


class BadCalendarData(FreeBusyError):
    """The source answered, but not with usable calendar data."""


class FeedTooLarge(BadCalendarData):
    """The body exceeded the size limit; we stop reading rather than exhaust memory."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the calendar is larger than the {limit // 1_000_000} MB limit")
        self.limit = limit


@dataclass(frozen=True)
class BusyResult:
    """Busy blocks of one calendar, or why it could not be read (then `busy` is empty)."""

    busy: tuple[Interval, ...]
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class FreeBusySource(Protocol):
    """Anything that can list busy time; `fetch` raises on failure (wrap it in `fetch_busy`)."""

    # Read-only, so the frozen dataclass sources (whose fields cannot be set) conform.
    @property
    def kind(self) -> str: ...

    def fetch(self, window: Interval) -> tuple[Interval, ...]: ...


def redact_url(url: str) -> str:
    """A URL safe to show in Slack: no credentials, query or secret-looking path.

    Private feed addresses carry their secret in the path (Google's `/private-<token>/`),
    so only the scheme, host and first path segment are kept.
    """
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        return url.rsplit("/", 1)[-1] or url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    path = f"/{segments[0]}/…" if len(segments) > 1 else parts.path
    return urlunsplit((parts.scheme, host, path, "", ""))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FreeBusyError):
        return str(exc)
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError):
        return "the server could not be reached"
    return f"an unexpected error occurred ({type(exc).__name__})"


def fetch_busy(source: FreeBusySource, window: Interval, *, label: str) -> BusyResult:
    """Fetch and clip to `window`; never raises, so one broken calendar cannot break a search."""
    try:
        busy = clip(source.fetch(window), window)
    except Exception as exc:  # noqa: BLE001 - the whole point is to contain any failure
        message = f"Calendar of {label} could not be read: {_reason(exc)}"
        log.warning(
            "%s (%s source)", message, source.kind, exc_info=not isinstance(exc, FreeBusyError)
        )
        return BusyResult(busy=(), error=message)
    return BusyResult(busy=busy)


def fetch_many(
    jobs: Iterable[tuple[str, FreeBusySource]], window: Interval, *, timeout: float
) -> dict[str, BusyResult]:
    """Fetch every source concurrently, keyed by label, returning within about `timeout` seconds.

    Sources still running at the deadline are reported as timed out and abandoned: their
    threads finish on their own (each source has its own socket timeout), but nobody waits.
    """
    jobs = list(jobs)
    if not jobs:
        return {}
    deadline = time.monotonic() + timeout
    pool = ThreadPoolExecutor(max_workers=min(16, len(jobs)), thread_name_prefix="freebusy")
    futures: dict[Future[BusyResult], str] = {}
    try:
        for label, source in jobs:
            futures[pool.submit(fetch_busy, source, window, label=label)] = label
        # fetch_busy never raises, so FIRST_EXCEPTION just means "all done or deadline".
        wait(futures, timeout=max(0.0, deadline - time.monotonic()), return_when=FIRST_EXCEPTION)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    results: dict[str, BusyResult] = {}
    for future, label in futures.items():
        if future.done() and not future.cancelled():
            results[label] = future.result()
        else:
            message = f"Calendar of {label} could not be read: timed out after {timeout:g} s"
            log.warning(message)
            results[label] = BusyResult(busy=(), error=message)
    return results


def source_for(
    kind: str,
    url: str,
    *,
    zone: ZoneInfo,
    timeout: float = 5.0,
    username: str | None = None,
    password: str | None = None,
    seed: int = 0,
    person_key: str = "",
    policy: AddressPolicy | None = None,
) -> FreeBusySource:
    """Build the source a person's calendar settings describe (`url` is ignored for mock).

    `policy` says which addresses network sources may connect to; None means public only.
    """
    # Imported here so that importing the interface never pulls in caldav/Faker.
    from storage.freebusy.netguard import STRICT

    policy = STRICT if policy is None else policy
    if kind == "mock":
        from storage.freebusy.mock import MockSource

        return MockSource(zone=zone, seed=seed, person_key=person_key)
    if kind == "ics":
        from storage.freebusy.ics import IcsSource

        return IcsSource(url=url, zone=zone, timeout=timeout, policy=policy)
    if kind == "caldav":
        from storage.freebusy.caldav_source import CalDavSource

        return CalDavSource(
            url=url,
            zone=zone,
            timeout=timeout,
            username=username,
            password=password,
            policy=policy,
        )
    raise ValueError(f"Unknown calendar kind {kind!r}; expected one of {', '.join(KINDS)}.")
