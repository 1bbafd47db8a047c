"""Pluggable free/busy sources (mock, iCalendar feed, CalDAV): I/O and pure conversion only.

Use `source_for(...)` to build a source and `fetch_busy` / `fetch_many` to read it; those never
raise, so a broken or slow calendar shows up as `BusyResult.error` instead of failing a search.
Network sources connect only to addresses an `AddressPolicy` permits (public ones by default);
`check_url` is the same check as a pre-flight for a link being saved.
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
from storage.freebusy.netguard import AddressPolicy, BlockedAddress, check_url

__all__ = [
    "AddressPolicy",
    "BlockedAddress",
    "BusyResult",
    "FreeBusyError",
    "FreeBusySource",
    "check_url",
    "fetch_busy",
    "fetch_many",
    "redact_url",
    "source_for",
]
