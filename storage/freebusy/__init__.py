"""Pluggable free/busy sources (mock, iCalendar feed, CalDAV): I/O and pure conversion only.

Use `source_for(...)` to build a source and `fetch_busy` / `fetch_many` to read it; those never
raise, so a broken or slow calendar shows up as `BusyResult.error` instead of failing a search.
"""

from storage.freebusy.base import (
    BusyResult,
    FreeBusyError,
    FreeBusySource,
    fetch_busy,
    fetch_many,
    redact_url,
    source_for,
)

__all__ = [
    "BusyResult",
    "FreeBusyError",
    "FreeBusySource",
    "fetch_busy",
    "fetch_many",
    "redact_url",
    "source_for",
]
