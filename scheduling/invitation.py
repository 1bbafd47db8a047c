"""iCalendar invitations for interviews. The UID is stable per interview and SEQUENCE grows
with every change, so calendar clients replace the event on a move and remove it on cancel."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from icalendar import Calendar, Event, vCalAddress, vText

from scheduling.intervals import as_utc


def build_invitation(
    *,
    uid: str,
    sequence: int,
    start: datetime,
    end: datetime,
    summary: str,
    description: str,
    location: str | None = None,
    organizer_email: str | None,
    attendees: Sequence[tuple[str, str | None]],
    method: str,
    now: datetime,
) -> bytes:
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {method!r}")
    cal = Calendar()
    cal.add("prodid", "-//interview-bot//EN")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", as_utc(now))
    event.add("dtstart", as_utc(start))
    event.add("dtend", as_utc(end))
    event.add("summary", summary)
    event.add("description", description)
    if location:
        event.add("location", location)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    if organizer_email:
        organizer = vCalAddress(f"mailto:{organizer_email}")
        organizer.params["cn"] = vText("Interview scheduling")
        event["organizer"] = organizer
    for name, email in attendees:
        if email:
            attendee = vCalAddress(f"mailto:{email}")
            attendee.params["cn"] = vText(name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return cal.to_ical()
