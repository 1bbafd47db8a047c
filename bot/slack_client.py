"""Slack Web API clients per installed workspace, and who is installed where.

Two kinds of client. The interactive one (users.info, views.*) retries connection errors,
429 (honouring Retry-After) and 5xx itself: those calls are safe to repeat. The delivery one
(messages, files) never retries on its own: after a dropped reply Slack may have posted the
message, so a blind resend could duplicate it; the job runner retries instead, after finding
out what happened. The base URL comes from SLACK_API_URL so tests can point it at a fake.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from storage.workspaces import workspace_key


def make_client(token: str, base_url: str, *, timeout: int = 10, max_retries: int = 3) -> WebClient:
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]
    return client


def delivery_client(token: str, base_url: str, *, timeout: int = 10) -> WebClient:
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = []
    return client


@dataclass(frozen=True)
class Installation:
    """The bot in one workspace (or one Enterprise Grid org for an org-wide install)."""

    token: str
    team_id: str | None
    enterprise_id: str | None
    is_enterprise_install: bool
    bot_user_id: str | None = None
    bot_id: str | None = None

    @property
    def key(self) -> str:
        return workspace_key(self.team_id, self.enterprise_id, self.is_enterprise_install)

    @classmethod
    def from_token(cls, token: str, base_url: str) -> Installation:
        """Ask Slack who this token is (auth.test)."""
        info = make_client(token, base_url).auth_test()
        return cls(token=token, team_id=info.get("team_id"), enterprise_id=info.get("enterprise_id"),
                   is_enterprise_install=bool(info.get("is_enterprise_install")),
                   bot_user_id=info.get("user_id"), bot_id=info.get("bot_id"))


class UnknownWorkspace(Exception):
    """A workspace the bot is not installed in: nothing of it is served."""


class Clients:
    """The installations this process serves, their clients, and Bolt's `authorize`."""

    def __init__(self, installations: Iterable[Installation], base_url: str, *, timeout: int = 10) -> None:
        self.base_url, self.timeout = base_url, timeout
        self._installs = {i.key: i for i in installations}
        self._cache: dict[tuple[str, str], WebClient] = {}
        self._lock = threading.Lock()

    def installation(self, workspace: str) -> Installation:
        try:
            return self._installs[workspace]
        except KeyError:
            raise UnknownWorkspace(workspace) from None

    def keys(self) -> list[str]:
        return list(self._installs)

    def _client(self, workspace: str, kind: str) -> WebClient:
        with self._lock:
            client = self._cache.get((workspace, kind))
            if client is None:
                token = self.installation(workspace).token
                make = make_client if kind == "web" else delivery_client
                client = make(token, self.base_url, timeout=self.timeout)
                self._cache[(workspace, kind)] = client
            return client

    def web(self, workspace: str) -> WebClient:
        return self._client(workspace, "web")

    def delivery(self, workspace: str) -> WebClient:
        return self._client(workspace, "delivery")

    def authorizer(self) -> Callable[..., AuthorizeResult | None]:
        """Bolt's `authorize`: only workspaces this bot is installed in are served at all. (Bolt
        passes arguments by their names, hence a plain function rather than a method.)"""

        def authorize(enterprise_id: str | None, team_id: str | None,
                      is_enterprise_install: bool | None) -> AuthorizeResult | None:
            try:
                install = self.installation(workspace_key(team_id, enterprise_id, bool(is_enterprise_install)))
            except (ValueError, UnknownWorkspace):
                return None
            return AuthorizeResult(enterprise_id=install.enterprise_id, team_id=install.team_id,
                                   bot_token=install.token, bot_user_id=install.bot_user_id, bot_id=install.bot_id)

        return authorize
