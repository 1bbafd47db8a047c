"""Telling participants about a booking, a move or a cancellation: a DM in their own zone with
the `.ics` invitation (stable UID, bumped SEQUENCE, so calendars replace the event)."""

from __future__ import annotations

import logging
from datetime import datetime

from scheduling.invitation import build_invitation
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.blocks.interviews import participant_notice
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage.models import Interview, Person

log = logging.getLogger(__name__)


def names_except(interview: Interview, person_id: int) -> str:
    return ", ".join(p.person.name for p in interview.participants if p.person_id != person_id) or "—"


def invitation(interview: Interview, kind: str, now: datetime) -> bytes:
    candidate = next(p.person for p in interview.participants if p.person_id == interview.candidate_id)
    return build_invitation(
        uid=interview.uid, sequence=interview.sequence, start=interview.start_at, end=interview.end_at,
        summary=f"Interview: {candidate.name}",
        description="Scheduled with the interview bot.",
        organizer_email=None,
        attendees=[(p.person.name, p.person.email) for p in interview.participants],
        method="CANCEL" if kind == "cancelled" else "REQUEST", now=now,
    )


def announce(client: WebClient, interview: Interview, kind: str, by: Person, now: datetime) -> list[str]:
    """DM every participant who has Slack; returns the names of those who could not be told."""
    ics = invitation(interview, kind, now)
    when = Interval(interview.start_at, interview.end_at)
    missed = []
    for part in interview.participants:
        person = part.person
        if not person.slack_user_id:
            missed.append(f"{person.name} (no Slack account; email {person.email or 'unknown'})")
            continue
        text, blocks = participant_notice(kind, when, zone_of(person.tz), names_except(interview, person.id), by.name)
        try:
            channel = client.conversations_open(users=person.slack_user_id)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=text, blocks=blocks)
            client.files_upload_v2(channel=channel, content=ics, filename=f"interview-{interview.id}.ics",
                                   title="Calendar invitation" if kind != "cancelled" else "Cancellation")
        except SlackApiError as err:
            log.warning("could not notify %s about interview %s: %s", person.slack_user_id, interview.id,
                        err.response.get("error"))
            missed.append(person.name)
    return missed
