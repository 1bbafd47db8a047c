"""People as Slack knows them: created on first contact from `users.info` and kept fresh.

Name, email and zone are never typed by users; they come from the Slack profile. A profile is
re-read when it is older than `PROFILE_TTL`, so a changed zone shows up within a day.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from scheduling.zones import zone_of
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.orm import Session

from bot.context import BotContext
from scheduling.errors import SchedulingError
from storage import people as people_store
from storage.models import Person, Role

log = logging.getLogger(__name__)
PROFILE_TTL = timedelta(hours=24)


class SlackUserUnknown(SchedulingError):
    """users.info could not find the user (deleted, from another workspace, or a bot)."""


def _profile(client: WebClient, user_id: str) -> dict:
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as err:
        if err.response.get("error") in ("user_not_found", "users_not_found"):
            raise SlackUserUnknown(f"Slack does not know the user <@{user_id}>.") from None
        raise
    if user.get("deleted") or user.get("is_bot"):
        raise SlackUserUnknown(f"<@{user_id}> is not an active person in this workspace.")
    profile = user.get("profile") or {}
    tz = user.get("tz") or "UTC"
    try:
        zone_of(tz)
    except SchedulingError:
        log.warning("user %s has unusable tz %r; using UTC", user_id, tz)
        tz = "UTC"
    return {
        "name": user.get("real_name") or profile.get("real_name") or user.get("name") or user_id,
        "email": profile.get("email"),
        "tz": tz,
        "is_guest": bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
    }


def ensure_person(
    ctx: BotContext, session: Session, client: WebClient, team_id: str, user_id: str
) -> Person:
    """The stored person for a Slack user, created or refreshed from users.info when stale.

    Users listed in HR_USER_IDS get the HR role on first contact (the bootstrap admins).
    """
    now = ctx.now()
    person = people_store.find_person(session, team_id, user_id)
    stale = person is None or person.profile_refreshed_at is None or (
        now - person.profile_refreshed_at > PROFILE_TTL
    )
    if stale:
        info = _profile(client, user_id)
        email = info["email"]
        if email and person is None:
            clash = people_store.find_person(session, team_id, email)
            if clash is not None and clash.slack_user_id is None:
                person = clash  # an email-only candidate HR added earlier now has Slack
                person.slack_user_id = user_id.upper()
            elif clash is not None:
                email = None  # the address belongs to someone else; keep ours unset
        person = people_store.upsert_person(
            session, team_id, user_id, name=info["name"], tz=info["tz"], email=email,
            is_guest=info["is_guest"], refreshed_at=now,
        )
    assert person is not None
    if user_id.upper() in ctx.settings.hr_user_ids and not person.has_role(Role.hr):
        people_store.grant(session, person, Role.hr)
    return person
