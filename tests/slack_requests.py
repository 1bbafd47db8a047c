"""Send requests INTO a running app over real HTTP, signed exactly as Slack signs them.

Why: Bolt verifies ``X-Slack-Signature`` / ``X-Slack-Request-Timestamp``, must ack within 3 s,
and Slack retries with ``X-Slack-Retry-Num``; only real signed HTTP requests test all of that.
Standard library only, so load tests (threads, no pytest) can reuse :class:`SlackClient`.

    slack = SlackClient("http://127.0.0.1:3000", SIGNING_SECRET, response_url=fake.response_url)
    r = slack.command("/availability", "add 2026-12-02 10:00-14:00", user_id="U1")
    assert r.status == 200 and r.elapsed < 3
    slack.view_submission(view_submission_payload(
        user_id="U1", callback_id="availability_add",
        values={"date": {"date": datepicker("2026-12-02")}}))

Forging (any request method takes these keywords): ``signature="bad"`` sends that header value,
``omit_signature=True`` sends neither signature nor timestamp header, ``timestamp=<epoch>``
signs with that (e.g. stale) timestamp, ``retry_num``/``retry_reason`` add Slack's retry headers.

Without a ``response_url`` factory, payloads carry ``http://127.0.0.1:9/response/...``
(discard port: refused at once) so a test can never post to the real hooks.slack.com.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

TEAM_ID = "T0001"
TEAM_DOMAIN = "fake-workspace"
API_APP_ID = "A0001"
BOT_USER_ID = "U0BOT"
VERIFICATION_TOKEN = "legacy-verification-token"  # deprecated by Slack but still sent
_counter = itertools.count(1)


def sign(signing_secret: str, body: str, timestamp: int) -> str:
    """Slack's v0 request signature: HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()


def new_trigger_id() -> str:
    """A unique trigger id in Slack's shape (``<digits>.<digits>.<hex>``)."""
    return f"{int(time.time())}{next(_counter):04d}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


_DEAD_PREFIX = "http://127.0.0.1:9/response/"
_FORGE_KEYS = ("signature", "omit_signature", "timestamp", "retry_num", "retry_reason",
               "extra_headers")


def _dead_response_url(name: str) -> str:
    return _DEAD_PREFIX + name


def _pop_forge(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: kwargs.pop(k) for k in _FORGE_KEYS if k in kwargs}


@dataclass(frozen=True)
class AppResponse:
    """What the app answered: ``body`` is parsed JSON when the response is JSON, else text."""

    status: int
    headers: dict[str, str]  # lower-case names
    body: Any
    elapsed: float  # seconds from sending the request to reading the whole response

    @property
    def text(self) -> str:
        return self.body if isinstance(self.body, str) else json.dumps(self.body)


# ---------------------------------------------------------------------------------------------
# view.state.values entries, in Slack's exact shape per element type
# ---------------------------------------------------------------------------------------------


def _option(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def plain_text_input(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def number_input(value: str | int | float | None) -> dict[str, Any]:
    return {"type": "number_input", "value": None if value is None else str(value)}


def static_select(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": _option(value, text) if value else None}


def multi_static_select(values: list[str]) -> dict[str, Any]:
    return {"type": "multi_static_select", "selected_options": [_option(v) for v in values]}


def radio_buttons(value: str | None, text: str | None = None) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": _option(value, text) if value else None}


def checkboxes(values: list[str]) -> dict[str, Any]:
    return {"type": "checkboxes", "selected_options": [_option(v) for v in values]}


def users_select(user_id: str | None) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": user_id}


def multi_users_select(user_ids: list[str]) -> dict[str, Any]:
    return {"type": "multi_users_select", "selected_users": list(user_ids)}


def conversations_select(conversation_id: str | None) -> dict[str, Any]:
    return {"type": "conversations_select", "selected_conversation": conversation_id}


def datepicker(date: str | None) -> dict[str, Any]:
    """``date`` as Slack sends it: ``YYYY-MM-DD``."""
    return {"type": "datepicker", "selected_date": date}


def timepicker(hhmm: str | None, timezone: str | None = None) -> dict[str, Any]:
    """``hhmm`` as Slack sends it: ``HH:mm``; ``timezone`` only when the element declared one."""
    state: dict[str, Any] = {"type": "timepicker", "selected_time": hhmm}
    if timezone:
        state["timezone"] = timezone
    return state


# ---------------------------------------------------------------------------------------------
# Payload builders
# ---------------------------------------------------------------------------------------------


def _user(user_id: str, team_id: str) -> dict[str, Any]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def modal_view(
    *,
    callback_id: str,
    values: Mapping[str, Mapping[str, dict[str, Any]]] | None = None,
    private_metadata: str = "",
    view_id: str | None = None,
    hash: str | None = None,  # noqa: A002 - Slack's field name
    blocks: list[dict[str, Any]] | None = None,
    title: str = "Modal",
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A modal as Slack includes it in interaction payloads (with ``state.values``)."""
    view_id = view_id or f"V{next(_counter):010d}"
    return {
        "id": view_id, "team_id": team_id, "type": "modal", "blocks": blocks or [],
        "private_metadata": private_metadata, "callback_id": callback_id,
        "state": {"values": {b: dict(a) for b, a in (values or {}).items()}},
        "hash": hash or f"{int(time.time())}.{secrets.token_hex(4)}",
        "title": {"type": "plain_text", "text": title, "emoji": True},
        "clear_on_close": False, "notify_on_close": False, "close": None,
        "submit": {"type": "plain_text", "text": "Submit", "emoji": True},
        "previous_view_id": None, "root_view_id": view_id, "app_id": API_APP_ID,
        "external_id": "", "app_installed_team_id": team_id, "bot_id": "B0BOT",
    }


def view_submission_payload(
    *,
    user_id: str,
    callback_id: str,
    values: Mapping[str, Mapping[str, dict[str, Any]]],
    private_metadata: str = "",
    view_id: str | None = None,
    hash: str | None = None,  # noqa: A002
    trigger_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``view_submission``; ``values`` is block_id -> action_id -> a state entry above."""
    return {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": modal_view(callback_id=callback_id, values=values,
                           private_metadata=private_metadata, view_id=view_id, hash=hash,
                           blocks=blocks, team_id=team_id),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def block_actions_payload(
    *,
    user_id: str,
    action_id: str,
    value: str | None = None,
    block_id: str | None = None,
    action_type: str = "button",
    selected_option: str | None = None,
    text: str = "Button",
    response_url: str | None = None,
    trigger_id: str | None = None,
    channel_id: str = "C0001",
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``block_actions`` from a message (default) or from a view (pass ``view``).

    Slack sends a response_url only for message actions; a view action has
    ``container.type == "view"`` and the whole view instead.
    """
    action: dict[str, Any] = {
        "action_id": action_id, "block_id": block_id or f"b{next(_counter)}",
        "type": action_type, "action_ts": f"{time.time():.6f}",
    }
    if action_type == "button":
        action["text"] = {"type": "plain_text", "text": text, "emoji": True}
        if value is not None:
            action["value"] = value
    elif selected_option is not None or value is not None:
        action["selected_option"] = _option(selected_option or value or "")
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id, team_id),
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "state": {"values": {}},
        "actions": [action],
    }
    if view is not None:
        payload["container"] = {"type": "view", "view_id": view["id"]}
        payload["view"] = view
        return payload
    message = message or {"type": "message", "ts": f"{time.time():.6f}", "text": "",
                          "user": BOT_USER_ID, "bot_id": "B0BOT", "blocks": []}
    payload["container"] = {"type": "message", "message_ts": message["ts"],
                            "channel_id": channel_id, "is_ephemeral": False}
    payload["channel"] = {"id": channel_id, "name": "directmessage"}
    payload["message"] = message
    payload["response_url"] = response_url or _dead_response_url(f"action-{next(_counter)}")
    return payload


def event_envelope(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID
) -> dict[str, Any]:
    """An Events API ``event_callback`` around ``event`` (adds ``event_ts`` if missing)."""
    now = time.time()
    event = {"event_ts": f"{now:.6f}", **event}
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_counter):08d}{secrets.token_hex(2).upper()}",
        "event_time": int(now),
        "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": BOT_USER_ID,
                            "is_bot": True, "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
        "event_context": f"4-{secrets.token_hex(16)}",
    }


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class SlackClient:
    """Plays Slack's side towards the app: slash commands, interactions and events."""

    def __init__(
        self,
        base_url: str,
        signing_secret: str,
        *,
        path: str = "/slack/events",
        timeout: float = 10.0,
        response_url: Callable[[str], str] | None = None,
    ) -> None:
        """``base_url`` is the app's root (``http://127.0.0.1:3000``); requests go to ``path``.

        ``response_url`` makes the response_url for a request from a name, typically
        ``FakeSlack.response_url``, so what the app posts back is recorded.
        """
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be http(s)://host[:port], got {base_url!r}")
        self._parts = parts
        self.url = base_url.rstrip("/") + path
        self._path = (parts.path.rstrip("/") + path) or "/"
        self.signing_secret = signing_secret
        self.timeout = timeout
        self._response_url = response_url or _dead_response_url

    # -- what Slack sends ------------------------------------------------------------------

    def command(
        self,
        command: str,
        text: str = "",
        user_id: str = "U0001",
        team_id: str = TEAM_ID,
        channel_id: str = "C0001",
        trigger_id: str | None = None,
        response_url: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
        **forge: Any,
    ) -> AppResponse:
        """A slash command, form-encoded with the fields Slack sends."""
        fields = {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": "directmessage" if channel_id.startswith("D") else "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url
            or self._response_url(f"cmd-{command.strip('/')}-{next(_counter)}"),
            "trigger_id": trigger_id or new_trigger_id(),
        }
        return self.send(urlencode(fields), "application/x-www-form-urlencoded",
                         extra_headers=extra_headers, **forge)

    def action(
        self, payload: Mapping[str, Any], extra_headers: Mapping[str, str] | None = None,
        **forge: Any,
    ) -> AppResponse:
        """Any interactivity payload, form-encoded as ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload)})
        return self.send(body, "application/x-www-form-urlencoded",
                         extra_headers=extra_headers, **forge)

    def view_submission(
        self, payload: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> AppResponse:
        """Send a ``view_submission``: a ready payload, or :func:`view_submission_payload` kwargs.

        Forging keywords (``signature``, ``timestamp``...) may be mixed in with the builder's.
        """
        forge = _pop_forge(kwargs)
        return self.action(payload if payload is not None else view_submission_payload(**kwargs),
                           **forge)

    def block_action(
        self, payload: Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> AppResponse:
        """Send a ``block_actions``: a ready payload, or :func:`block_actions_payload` kwargs.

        A message action without an explicit response_url gets one from this client's factory.
        """
        forge = _pop_forge(kwargs)
        built = dict(payload if payload is not None else block_actions_payload(**kwargs))
        if str(built.get("response_url", "")).startswith(_DEAD_PREFIX):
            built["response_url"] = self._response_url(f"action-{next(_counter)}")
        return self.action(built, **forge)

    def event(
        self, event: Mapping[str, Any], extra_headers: Mapping[str, str] | None = None,
        **forge: Any,
    ) -> AppResponse:
        """An Events API request; a bare event is wrapped with :func:`event_envelope`."""
        envelope = dict(event) if event.get("type") == "event_callback" else event_envelope(
            dict(event))
        return self.send(json.dumps(envelope), "application/json",
                         extra_headers=extra_headers, **forge)

    def url_verification(self, challenge: str = "challenge-token", **forge: Any) -> AppResponse:
        """The handshake Slack sends when the Request URL is saved."""
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self.send(json.dumps(body), "application/json", **forge)

    # -- transport -------------------------------------------------------------------------

    def send(
        self,
        body: str,
        content_type: str,
        *,
        signature: str | None = None,
        omit_signature: bool = False,
        timestamp: int | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> AppResponse:
        """POST ``body`` signed (or forged) like Slack; a new connection per request."""
        ts = int(time.time()) if timestamp is None else int(timestamp)
        headers = {
            "Content-Type": content_type,
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
            "Accept": "application/json,*/*",
        }
        if not omit_signature:
            headers["X-Slack-Request-Timestamp"] = str(ts)
            headers["X-Slack-Signature"] = signature or sign(self.signing_secret, body, ts)
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason or "http_timeout"
        elif retry_reason is not None:
            headers["X-Slack-Retry-Reason"] = retry_reason
        headers.update(extra_headers or {})
        conn_type = (http.client.HTTPSConnection if self._parts.scheme == "https"
                     else http.client.HTTPConnection)
        conn = conn_type(self._parts.hostname or "", self._parts.port, timeout=self.timeout)
        started = time.perf_counter()
        try:
            conn.request("POST", self._path, body=body.encode(), headers=headers)
            response = conn.getresponse()
            raw = response.read()
            elapsed = time.perf_counter() - started
            resp_headers = {k.lower(): v for k, v in response.getheaders()}
            status = response.status
        finally:
            conn.close()
        text = raw.decode("utf-8", errors="replace")
        parsed: Any = text
        if "json" in resp_headers.get("content-type", "") and text:
            try:
                parsed = json.loads(text)
            except json.JSONDecodeError:
                parsed = text
        return AppResponse(status=status, headers=resp_headers, body=parsed, elapsed=elapsed)
