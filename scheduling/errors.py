"""Typed errors whose message is fit to show to the person who caused them."""

from __future__ import annotations


class SchedulingError(ValueError):
    """Base class: `str(err)` is a user-facing sentence; `example` a correct input, if any."""

    example: str | None = None

    def __init__(self, message: str, *, example: str | None = None) -> None:
        super().__init__(message)
        if example is not None:
            self.example = example

    @property
    def message(self) -> str:
        return str(self)


class ParseError(SchedulingError):
    """Text that could not be understood."""


class InvalidInterval(SchedulingError):
    """End not after start, or a naive instant."""


class UnknownZone(SchedulingError):
    """A time zone name or offset that is not valid."""


class NonexistentLocalTime(SchedulingError):
    """A local wall-clock time skipped by a DST spring-forward gap."""


class PastTime(SchedulingError):
    """A window that ends before `now`."""


class BeyondHorizon(SchedulingError):
    """A window that starts past the booking horizon."""


class TooManyWindows(SchedulingError):
    """More windows in one request than is sane."""
