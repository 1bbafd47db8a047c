"""The use cases' Directory, for Slack: profiles from `users.info`.

Name, email and zone are never typed by users; they come from the Slack profile, read with the
token of the workspace asking.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.slack_client import Clients
from bot.usecases.context import Profile
from scheduling.errors import SchedulingError
from scheduling.zones import zone_of

log = logging.getLogger(__name__)


class SlackUserUnknown(SchedulingError):
    """users.info could not find the user (deleted, from another workspace, or a bot)."""


class SlackDirectory:
    def __init__(self, clients: Clients) -> None:
        self.clients = clients

    def profile(self, workspace: str, user_id: str) -> Profile:
        try:
            user = self.clients.web(workspace).users_info(user=user_id)["user"]
        except SlackApiError as err:
            if err.response.get("error") in ("user_not_found", "users_not_found"):
                raise SlackUserUnknown(f"Slack does not know the user {user_id}.") from None
            raise
        if user.get("deleted") or user.get("is_bot"):
            raise SlackUserUnknown(f"User {user_id} is not an active person in this workspace.")
        profile = user.get("profile") or {}
        tz = user.get("tz") or "UTC"
        try:
            zone_of(tz)
        except SchedulingError:
            log.warning("user %s has unusable tz %r; using UTC", user_id, tz)
            tz = "UTC"
        return Profile(
            name=user.get("real_name") or profile.get("real_name") or user.get("name") or user_id,
            email=profile.get("email"), tz=tz,
            is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        )
