"""Reminder texts, in the recipient's own zone."""

from __future__ import annotations

from bot.announce import names_except
from bot.blocks.interviews import grade_prompt
from bot.timefmt import span
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage.models import Interview, Person


def _lead(offset_min: int) -> str:
    if offset_min % 1440 == 0:
        days = offset_min // 1440
        return "tomorrow" if days == 1 else f"in {days} days"
    if offset_min % 60 == 0:
        return f"in {offset_min // 60} h"
    return f"in {offset_min} min"


def reminder_text(interview: Interview, person: Person, offset_min: int) -> str:
    when = span(Interval(interview.start_at, interview.end_at), zone_of(person.tz))
    return f":alarm_clock: Reminder: interview {_lead(offset_min)} — {when}, with {names_except(interview, person.id)}."


def grade_request(interview: Interview, interviewer: Person) -> tuple[str, list[dict]]:
    """Sent to each interviewer when the interview ends; the grade feeds the programme rules."""
    candidate = next(p.person for p in interview.participants if p.person_id == interview.candidate_id)
    when = Interval(interview.start_at, interview.end_at)
    return f"How did {candidate.name} do?", grade_prompt(interview.id, when, zone_of(interviewer.tz), candidate.name)
