"""The .ics invitation: what calendar clients need to add, move and remove the same event."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar

from scheduling.invitation import build_invitation
from tests.factories import utc

LISBON_SUMMER = timezone(timedelta(hours=1))


def _event(method: str = "REQUEST", **overrides: object):
    args: dict = {
        "uid": "abc@interview-bot", "sequence": 2,
        "start": datetime(2026, 7, 1, 11, 0, tzinfo=LISBON_SUMMER),
        "end": datetime(2026, 7, 1, 12, 0, tzinfo=LISBON_SUMMER),
        "summary": "Interview: Cara", "description": "Panel: Ivan",
        "organizer_email": "bot@example.com",
        "attendees": [("Cara", "cara@example.com"), ("Ivan", None)],
        "method": method, "now": utc("2026-06-01 09:00"),
    }
    args.update(overrides)
    raw = build_invitation(**args)
    cal = Calendar.from_ical(raw)
    events = cal.walk("VEVENT")
    assert len(events) == 1
    return cal, events[0], raw


def test_request_has_method_stable_uid_sequence_and_utc_times() -> None:
    cal, event, raw = _event()
    assert str(cal["METHOD"]) == "REQUEST" and "interview-bot" in str(cal["PRODID"])
    assert str(event["UID"]) == "abc@interview-bot" and int(event["SEQUENCE"]) == 2
    assert str(event["STATUS"]) == "CONFIRMED"
    assert event.decoded("DTSTART") == utc("2026-07-01 10:00")
    assert event.decoded("DTEND") == utc("2026-07-01 11:00")
    assert event.decoded("DTSTAMP") == utc("2026-06-01 09:00")
    assert b"DTSTART:20260701T100000Z" in raw


def test_attendees_without_email_are_left_out() -> None:
    _, event, _ = _event()
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a) for a in attendees] == ["mailto:cara@example.com"]
    assert str(event["ORGANIZER"]) == "mailto:bot@example.com"


def test_no_organizer_when_none_is_known() -> None:
    _, event, _ = _event(organizer_email=None)
    assert "ORGANIZER" not in event


def test_cancel_keeps_uid_and_marks_cancelled() -> None:
    cal, event, _ = _event("CANCEL", sequence=3)
    assert str(cal["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == "abc@interview-bot" and int(event["SEQUENCE"]) == 3


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="PUBLISH"):
        _event("PUBLISH")
