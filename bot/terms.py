"""The rules and policy an interview is searched and booked under: its template's, or the
settings' defaults. Search, booking, offers and moves all take them from here, so a slot that
was listed is judged by the same rules when it is booked."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.settings import Settings
from scheduling.errors import SchedulingError
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.models import InterviewTemplate
from storage.templates import policy_for, rules_for


def terms_for(settings: Settings, session: Session, template_id: int | None,
              duration_min: int | None) -> tuple[SearchRules, Policy]:
    if template_id is None:
        return settings.rules(duration_min), settings.policy()
    template = session.get(InterviewTemplate, template_id)
    if template is None:
        raise SchedulingError("That interview template no longer exists.")
    return rules_for(template, settings.rules().horizon), policy_for(template, settings.policy())
