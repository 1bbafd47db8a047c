"""A fake Slack Web API on a real local HTTP server, for tests that drive the bot end to end.

Why a real server and not mocks: the bot talks to Slack through slack_sdk's ``WebClient`` and its
retry handlers; only a real socket exercises request encoding, HTTP status handling, Retry-After,
dropped connections and client timeouts the way production does (the approach of bolt-python's
own ``tests/mock_web_api_server``).

Usage::

    with FakeSlack() as fake:                     # or the ``fake_slack`` pytest fixture below
        fake.add_user("U1", "Ada Lovelace", "ada@example.com", "Europe/London")
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        client.users_info(user="U1")
        client.chat_postMessage(channel="U1", text="hi")
        fake.wait_for("users.info")               # the app often calls Slack after acking
        assert [m["text"] for m in fake.messages("U1")] == ["hi"]   # what the DM now holds
        assert fake.errors == []                  # no invalid blocks/views/metadata were sent

The ``fake_slack`` fixture is registered for every test in tests/conftest.py.

Answers: ``{"ok": true, ...}`` with plausible payloads for auth.test, users.info,
users.lookupByEmail, views.open/push/update/publish, chat.postMessage/postEphemeral/update/delete,
conversations.open/history and files.getUploadURLExternal/completeUploadExternal (the steps of
files.uploadV2); ``{"ok": true}`` for any other method. Every request is recorded as a
:class:`Call` (also the failed and disconnected ones, so retries can be counted).

Message history, so a test can check that a message exists exactly once (and so can the bot,
before it retries a send whose outcome it does not know):

* chat.postMessage stores the message in its channel (a user id U…/W… means the DM "D" + id,
  which conversations.open also returns) with text, blocks, ts, user/bot_id, thread_ts and
  ``metadata``; chat.update changes the stored message and chat.delete removes it.
* files.completeUploadExternal with a ``channel_id`` stores a file-share message there, with
  ``files: [{"id", "name", "title", "user"}]`` (and thread_ts, initial_comment as text).
* conversations.history answers like Slack: newest first; ``oldest``/``latest``/``inclusive``;
  ``limit`` (default 100, at most 999) with ``has_more`` and, while there is more, a
  ``response_metadata.next_cursor``; thread replies are left out (Slack lists them in
  conversations.replies only); ``metadata`` only with ``include_all_metadata``;
  ``channel_not_found`` unless the channel was opened or posted to, or is the DM of a user of the
  token's workspace. ``fake.messages(channel=None)`` shows what is stored, oldest first.
* ``metadata`` on chat.postMessage/update must be an object with a string ``event_type`` and an
  object ``event_payload``, else ``invalid_metadata_format`` (Slack refuses it in any mode).

Workspaces: one default team (``team_id``, any token). ``add_team(team_id, token, ...)`` binds a
bot token to another workspace; ``add_user(..., team_id=...)`` puts a user in it. users.info and
users.lookupByEmail only find users of the token's workspace (``user_not_found`` /
``users_not_found`` otherwise), auth.test describes the token's workspace, and each Call records
its ``team_id``. Channels and their messages are shared by all workspaces.

Fault injection, chosen by the test (a per-method queue, consumed one call at a time, in the
order registered):

* ``fail_next(method, status=429, retry_after=1, times=1)`` -- HTTP 429 + ``Retry-After``.
* ``fail_next(method, status=500)`` -- any HTTP status, body ``{"ok": false, ...}``.
* ``fail_next(method, error="channel_not_found")`` -- HTTP 200 with ``ok: false``.
* ``disconnect_next(method, times=1)`` -- close the socket without any response (nothing done).
* ``lose_reply_next(method, times=1)`` -- do the call (store the message, issue the ids), then
  close the socket: Slack accepted it, the client never learns so.
* ``slow_reply_next(method, seconds, times=1)`` -- do the call, then answer ``seconds`` late; a
  client with a shorter timeout gives up although the call took effect. Other calls are served
  meanwhile.
* ``outage(methods, seconds, mode="500", retry_after=None)`` -- for ``seconds`` of wall time,
  every call of ``methods`` (names, or ``"*"`` for every Web API method; response_url posts and
  file uploads only when named) answers 500, 503 or 429 (+ ``Retry-After``, default 1), or is
  dropped (``"disconnect"``), or is done but its reply lost (``"lose_reply"``). Queued faults
  come first.
* ``expire_trigger(trigger_id)`` -- views.open/push with it answer ``expired_trigger_id``; a
  trigger_id is also refused once it has been used (Slack's triggers are single use).

``Call.fault`` says what happened to a call: ``"429:ratelimited"``, ``"disconnect"``,
``"lost_reply"``, ``"slow:1.5"``, ``"outage:503"``, ... (None when answered normally).

Fault injection by token (bolt-python's convention; the fault applies to every call made with it):

* ``xoxb-ratelimited`` -- always HTTP 429 with ``Retry-After: 1``.
* ``xoxb-server-error`` -- always HTTP 500.
* ``xoxb-disconnect`` -- always closes the socket without a response.
* ``xoxb-invalid`` -- ``invalid_auth``; ``xoxb-revoked`` -- ``token_revoked``.
* ``xoxb-<status>``, e.g. ``xoxb-503`` -- always that HTTP status.
* no token at all -- ``not_authed`` (except ``oauth.*`` methods and response_url posts).

Strict mode (``FakeSlack(strict=True)``, the default) validates every view and every set of blocks
sent to views.* and chat.postMessage/postEphemeral/update (and response_url posts) with
:func:`validate_view` / :func:`validate_blocks`; a failure answers ``invalid_blocks`` and is
appended to ``fake.errors``, as is malformed message metadata, so a test ends with
``assert fake.errors == []``.

Leniency, on purpose: views.update with a ``view_id`` the fake never issued is accepted (tests
build view_submission payloads with invented view ids), chat.update/delete accept any ts (and
change history only when the message is stored), conversations.open opens a DM with any user id,
and a token never given to ``add_team`` belongs to the default workspace.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import itertools
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit
from zoneinfo import ZoneInfo

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

TEAM_ID = "T0001"
TEAM_NAME = "Fake Workspace"
APP_ID = "A0001"
BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
# Slack's documented limits: 50 blocks in a message, 100 in a modal or Home tab.
MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100

_JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
_MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
_VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
# conversations.history's page size: Slack's default and its documented maximum.
HISTORY_DEFAULT_LIMIT = 100
HISTORY_MAX_LIMIT = 999


# --------------------------------------------------------------------------------------------
# Validation of blocks and views
# --------------------------------------------------------------------------------------------


def validate_blocks(
    blocks: Any, *, max_blocks: int = VIEW_MAX_BLOCKS, where: str = "blocks"
) -> None:
    """Fail like Slack would on blocks the real API rejects (``invalid_blocks``).

    slack_sdk's models check most per-field limits; the explicit checks below repeat the limits
    this bot is most likely to hit (long slot lists, long names) so the message says exactly which
    block broke which limit, and add what the models do not check (duplicate ids).
    """
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not isinstance(blocks, list):
        raise AssertionError(f"{where}: must be a list of blocks, got {type(blocks).__name__}")
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{where}: {len(blocks)} blocks, Slack allows at most {max_blocks}")
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        path = f"{where}[{i}]"
        if not isinstance(raw, dict) or "type" not in raw:
            problems.append(f"{path}: a block must be an object with a 'type'")
            continue
        block_id = raw.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"{path}: duplicate block_id {block_id!r}")
            block_ids.add(block_id)
        before = len(problems)
        _check_block_limits(raw, path, problems)
        if len(problems) > before:
            continue  # slack_sdk would only repeat what the explicit checks said
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                problems.append(f"{path}: unknown block type {raw['type']!r}")
            else:
                _validate_model(parsed)
        except (SlackObjectFormationError, TypeError, ValueError, KeyError) as e:
            problems.append(f"{path} ({raw['type']}): {type(e).__name__}: {e}")
    if problems:
        raise AssertionError(_report("invalid blocks", problems))


def _report(title: str, problems: list[str], limit: int = 8) -> str:
    shown = problems[:limit]
    if len(problems) > limit:
        shown.append(f"... and {len(problems) - limit} more")
    return f"{title}:\n  " + "\n  ".join(shown)


def validate_view(view: Any) -> None:
    """Fail like views.open/update/publish would on a view Slack rejects."""
    if isinstance(view, str):
        view = json.loads(view)
    if not isinstance(view, dict):
        raise AssertionError(f"view: must be an object, got {type(view).__name__}")
    problems: list[str] = []
    kind = view.get("type")
    if kind not in ("modal", "home"):
        problems.append(f"view.type must be 'modal' or 'home', got {kind!r}")
    if kind == "modal":
        if not _text_of(view.get("title")):
            problems.append("view.title is required for a modal")
        has_inputs = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_inputs and not view.get("submit"):
            problems.append("view.submit is required when a modal has input blocks")
    for key, limit in (("title", 24), ("submit", 24), ("close", 24)):
        _plain_text_only(view.get(key), f"view.{key}", problems)
        text = _text_of(view.get(key))
        if text is not None and len(text) > limit:
            problems.append(f"view.{key}: {len(text)} chars, max {limit} ({text[:30]!r})")
    for key, limit in (("private_metadata", 3000), ("callback_id", 255), ("external_id", 255)):
        value = view.get(key)
        if isinstance(value, str) and len(value) > limit:
            problems.append(f"view.{key}: {len(value)} chars, max {limit}")
    try:
        blocks = view.get("blocks")
        validate_blocks([] if blocks is None else blocks, where="view.blocks")
    except AssertionError as e:
        problems.append(str(e))
    if not problems:  # slack_sdk as a second opinion on what the explicit checks let through
        try:
            View(**{k: v for k, v in view.items() if k != "state"}).validate_json()
        except (SlackObjectFormationError, TypeError, ValueError) as e:
            problems.append(f"view (slack_sdk): {type(e).__name__}: {e}")
    if problems:
        raise AssertionError(_report("invalid view", problems))


def _validate_model(obj: JsonObject) -> None:
    """slack_sdk's ``validate_json`` checks one object only; walk into elements and text too."""
    obj.validate_json()
    for name in obj.attributes:
        value = getattr(obj, name, None)
        for item in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(item, JsonObject):
                _validate_model(item)


def _text_of(obj: Any) -> str | None:
    if isinstance(obj, dict):
        text = obj.get("text")
        return text if isinstance(text, str) else None
    return obj if isinstance(obj, str) else None


def _limit(problems: list[str], path: str, what: str, value: str | None, limit: int) -> None:
    if value is not None and len(value) > limit:
        problems.append(f"{path}: {what} is {len(value)} chars, max {limit} ({value[:40]!r}...)")


def _plain_text_only(obj: Any, path: str, problems: list[str]) -> None:
    if isinstance(obj, dict) and obj.get("type") != "plain_text":
        problems.append(f"{path}: must be a plain_text object, got type {obj.get('type')!r}")


def _check_block_limits(block: dict[str, Any], path: str, problems: list[str]) -> None:
    kind = block.get("type")
    _limit(problems, path, "block_id", block.get("block_id"), 255)
    if kind == "section":
        _limit(problems, path, "section text", _text_of(block.get("text")), 3000)
        fields = block.get("fields") or []
        if len(fields) > 10:
            problems.append(f"{path}: {len(fields)} section fields, max 10")
        for j, f in enumerate(fields):
            _limit(problems, f"{path}.fields[{j}]", "field text", _text_of(f), 2000)
    elif kind == "header":
        _plain_text_only(block.get("text"), f"{path} header text", problems)
        _limit(problems, path, "header text", _text_of(block.get("text")), 150)
    elif kind == "actions" and len(block.get("elements") or []) > 25:
        problems.append(f"{path}: {len(block['elements'])} action elements, max 25")
    elif kind == "context" and len(block.get("elements") or []) > 10:
        problems.append(f"{path}: {len(block['elements'])} context elements, max 10")
    elif kind == "input":
        _limit(problems, path, "input label", _text_of(block.get("label")), 2000)
    elements = [*(block.get("elements") or [])] if kind == "actions" else []
    elements += [e for e in (block.get("accessory"), block.get("element")) if e]
    action_ids: set[str] = set()
    for j, element in enumerate(elements):
        if not isinstance(element, dict):
            continue
        epath = f"{path}.element[{j}]({element.get('type')})"
        action_id = element.get("action_id")
        if action_id is not None:
            if action_id in action_ids:
                problems.append(f"{epath}: duplicate action_id {action_id!r} in one block")
            action_ids.add(action_id)
            _limit(problems, epath, "action_id", action_id, 255)
        _check_element_limits(element, epath, problems)


def _check_element_limits(element: dict[str, Any], path: str, problems: list[str]) -> None:
    if element.get("type") == "button":
        _plain_text_only(element.get("text"), f"{path} button text", problems)
        _limit(problems, path, "button text", _text_of(element.get("text")), 75)
        _limit(problems, path, "button value", element.get("value"), 2000)
    _limit(problems, path, "placeholder", _text_of(element.get("placeholder")), 150)
    options = element.get("options") or []
    groups = element.get("option_groups") or []
    if len(options) > 100:
        problems.append(f"{path}: {len(options)} options, max 100")
    if len(groups) > 100:
        problems.append(f"{path}: {len(groups)} option groups, max 100")
    for group in groups:
        if isinstance(group, dict):
            options = [*options, *(group.get("options") or [])]
    for k, option in enumerate(options):
        if isinstance(option, dict):
            _limit(problems, f"{path}.options[{k}]", "option text", _text_of(option.get("text")), 75)
            _limit(problems, f"{path}.options[{k}]", "option value", option.get("value"), 150)


# --------------------------------------------------------------------------------------------
# Recorded calls and faults
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One request the fake received, recorded before it was answered.

    ``headers`` has lower-case names. ``args`` merges query string and body, with JSON fields
    (blocks, view, attachments, metadata) decoded even when slack_sdk sent them as strings; the
    token is in ``token``, not in ``args``, and ``team_id`` is the workspace of that token (None
    without a token). ``status`` and ``response`` are what Slack decided: a lost or slow reply
    keeps them although the client never got them (or got them late), see ``fault``;
    ``response`` is None when the fake dropped the socket before doing anything.
    """

    method: str
    args: dict[str, Any]
    token: str | None
    headers: dict[str, str]
    time: float
    path: str
    http_method: str
    body: bytes
    status: int
    response: dict[str, Any] | None
    fault: str | None = None
    team_id: str | None = None

    @property
    def ok(self) -> bool:
        """True when Slack accepted the call (HTTP 200, ``"ok": true``), reply lost or not."""
        return self.status == 200 and bool(self.response and self.response.get("ok"))


@dataclass
class _Reply:
    status: int
    body: dict[str, Any] | None  # None: drop the connection
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    lose: bool = False  # the call took effect, but the socket is closed instead of answering
    delay: float = 0.0  # seconds to wait, outside the lock, before answering


@dataclass(frozen=True)
class _Fault:
    """One injected failure.

    "status" and "disconnect" refuse the call before Slack does anything; "lose_reply" and "slow"
    let Slack do the work and then lose or delay the answer -- the cases where a client cannot
    know whether its message exists.
    """

    kind: str  # "status", "disconnect", "lose_reply" or "slow"
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    seconds: float = 0.0
    label: str | None = None  # what Call.fault says, when not derived from kind

    @property
    def refuses(self) -> bool:
        return self.kind in ("status", "disconnect")

    def describe(self) -> str:
        if self.label is not None:
            return self.label
        if self.kind == "status":
            return f"{self.status}:{self.error}"
        if self.kind == "slow":
            return f"slow:{self.seconds:g}"
        return "lost_reply" if self.kind == "lose_reply" else self.kind

    def refusal(self) -> _Reply:
        """The answer instead of doing the call (only for faults that refuse)."""
        if self.kind == "disconnect":
            return _Reply(0, None, fault=self.describe())
        extra = {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}
        return _Reply(self.status, {"ok": False, "error": self.error}, extra, fault=self.describe())

    def spoil(self, reply: _Reply) -> _Reply:
        """Lose or delay the answer of a call that was done."""
        reply.fault = self.describe()
        reply.lose = self.kind == "lose_reply"
        reply.delay = self.seconds
        return reply


_TOKEN_FAULTS: dict[str, _Fault] = {
    "xoxb-ratelimited": _Fault("status", 429, "ratelimited", 1),
    "xoxb-server-error": _Fault("status", 500, "internal_error"),
    "xoxb-disconnect": _Fault("disconnect"),
    "xoxb-invalid": _Fault("status", 200, "invalid_auth"),
    "xoxb-revoked": _Fault("status", 200, "token_revoked"),
}


def _token_fault(token: str | None) -> _Fault | None:
    if token is None:
        return None
    if token in _TOKEN_FAULTS:
        return _TOKEN_FAULTS[token]
    suffix = token.removeprefix("xoxb-")
    if suffix != token and len(suffix) == 3 and suffix.isdigit():
        status = int(suffix)
        return _Fault("status", status, "ratelimited" if status == 429 else "fake_http_error",
                      1 if status == 429 else None)
    return None


_OUTAGE_ERRORS = {"500": "internal_error", "503": "service_unavailable", "429": "ratelimited"}
_OUTAGE_DROPS = ("disconnect", "lose_reply")


def _outage_fault(mode: str, retry_after: int | None) -> _Fault:
    label = f"outage:{mode}"
    if mode in _OUTAGE_DROPS:
        if retry_after is not None:
            raise ValueError(f"retry_after needs an HTTP answer; outage mode {mode!r} sends none")
        return _Fault(mode, label=label)
    if mode not in _OUTAGE_ERRORS:
        raise ValueError(f"unknown outage mode {mode!r}; use one of "
                         f"{', '.join([*_OUTAGE_ERRORS, *_OUTAGE_DROPS])}")
    if mode == "429" and retry_after is None:
        retry_after = 1
    return _Fault("status", int(mode), _OUTAGE_ERRORS[mode], retry_after, label=label)


def _is_web_api(method: str) -> bool:
    """response_url posts and file uploads are not Web API methods, so ``"*"`` spares them."""
    return method != "response_url" and not method.startswith("upload/")


@dataclass(frozen=True)
class _Outage:
    methods: frozenset[str]
    until: float  # time.monotonic()
    fault: _Fault

    def covers(self, method: str) -> bool:
        return method in self.methods or ("*" in self.methods and _is_web_api(method))


# --------------------------------------------------------------------------------------------
# Workspaces, metadata and message history
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Team:
    team_id: str
    name: str
    enterprise_id: str | None = None
    is_enterprise_install: bool = False

    @property
    def url(self) -> str:
        return f"https://{self.name.lower().replace(' ', '-')}.slack.com/"


class _SlackError(Exception):
    """Raised by a helper deep inside a method to answer ``{"ok": false, "error": <args[0]>}``."""


def validate_metadata(metadata: Any) -> None:
    """Fail like chat.postMessage/update on message metadata Slack refuses.

    The bot finds its own deliveries again by their metadata, so metadata Slack would refuse
    must fail the test, not slip through.
    """
    if not isinstance(metadata, dict):
        raise AssertionError(f"metadata: must be an object, got {type(metadata).__name__}")
    problems = []
    event_type = metadata.get("event_type")
    if not isinstance(event_type, str) or not event_type:
        problems.append(f"metadata.event_type must be a non-empty string, got {event_type!r}")
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        problems.append(f"metadata.event_payload must be an object, got {type(payload).__name__}")
    if problems:
        raise AssertionError(_report("invalid metadata", problems))


def _flag(value: Any) -> bool:
    """A boolean argument, as slack_sdk sends it (1/0) or as people write it (true/false)."""
    return str(value).lower() in ("1", "true")


def _ts_arg(args: dict[str, Any], key: str) -> Decimal | None:
    """A timestamp argument; Decimal because float would blur microseconds."""
    value = args.get(key)
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise _SlackError(f"invalid_ts_{key}") from None


def _limit_arg(args: dict[str, Any]) -> int:
    try:
        limit = int(args.get("limit") or 0) or HISTORY_DEFAULT_LIMIT
    except (TypeError, ValueError):
        raise _SlackError("invalid_limit") from None
    if limit < 0:
        raise _SlackError("invalid_limit")
    return min(limit, HISTORY_MAX_LIMIT)


def _cursor(ts: str) -> str:
    """Opaque to clients; on Slack, base64 of ``next_ts:<ts of the first message not sent>``."""
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _cursor_ts(cursor: Any) -> Decimal | None:
    if not cursor:
        return None
    try:
        text = base64.b64decode(str(cursor), validate=True).decode()
        if not text.startswith("next_ts:"):
            raise ValueError(text)
        return Decimal(text.removeprefix("next_ts:"))
    except (ValueError, InvalidOperation):  # also binascii.Error and UnicodeDecodeError
        raise _SlackError("invalid_cursor") from None


def _in_window(
    ts: Decimal, oldest: Decimal | None, latest: Decimal | None, inclusive: bool
) -> bool:
    if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
        return False
    return latest is None or ts < latest or (ts == latest and inclusive)


def _history(messages: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    """conversations.history over one channel's ``messages`` (stored oldest first)."""
    oldest, latest = _ts_arg(args, "oldest"), _ts_arg(args, "latest")
    inclusive, limit = _flag(args.get("inclusive")), _limit_arg(args)
    start = _cursor_ts(args.get("cursor"))
    found = [
        m for m in reversed(messages)
        if m.get("thread_ts", m["ts"]) == m["ts"]  # replies live in conversations.replies
        and (start is None or Decimal(m["ts"]) <= start)
        and _in_window(Decimal(m["ts"]), oldest, latest, inclusive)
    ]
    page, more = found[:limit], found[limit:]
    hidden = () if _flag(args.get("include_all_metadata")) else ("metadata",)
    answer: dict[str, Any] = {
        "ok": True, "has_more": bool(more), "pin_count": 0,
        "messages": [{k: v for k, v in m.items() if k not in hidden} for m in page],
    }
    if more:
        answer["response_metadata"] = {"next_cursor": _cursor(more[0]["ts"])}
    return answer


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # The default listen backlog (5) makes bursts of concurrent clients wait for SYN retries.
    request_queue_size = 256
    fake: FakeSlack


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that stalls mid-request does not pin a thread for ever
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self.server.fake._handle(self)

    def do_POST(self) -> None:  # noqa: N802
        self.server.fake._handle(self)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep test output quiet; every request is recorded as a Call instead."""


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _send(handler: BaseHTTPRequestHandler, reply: _Reply) -> None:
    payload = json.dumps(reply.body).encode()
    handler.send_response(reply.status)
    handler.send_header("Content-Type", "application/json; charset=utf-8")
    handler.send_header("Content-Length", str(len(payload)))
    handler.send_header("Connection", "close")
    for name, value in reply.headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(payload)


def _parse_args(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    args: dict[str, Any] = {}
    for source in (query, "" if content_type.startswith("application/json") else body.decode()):
        for key, values in parse_qs(source, keep_blank_values=True).items():
            args[key] = values[0] if len(values) == 1 else values
    if content_type.startswith("application/json") and body:
        decoded = json.loads(body)
        if isinstance(decoded, dict):
            args.update(decoded)
    for key in _JSON_FIELDS:
        value = args.get(key)
        if isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(json.JSONDecodeError):  # else keep the raw string
                args[key] = json.loads(value)
    return args


class FakeSlack:
    """The fake Slack Web API server; see the module docstring for behaviour and conventions."""

    def __init__(self, *, strict: bool = True, team_id: str = TEAM_ID, host: str = "127.0.0.1"):
        self.strict = strict
        self.team_id = team_id
        self.errors: list[str] = []
        self.socket_mode_url: str | None = None  # what apps.connections.open hands out
        self._host = host
        self._lock = threading.RLock()
        self._arrived = threading.Condition(self._lock)
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._outages: list[_Outage] = []
        self._teams: dict[str, _Team] = {team_id: _Team(team_id, TEAM_NAME)}
        self._tokens: dict[str, str] = {}  # bot token -> team_id, for tokens given to add_team
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, list[dict[str, Any]]] = {}  # channel id -> messages, oldest first
        self._views: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        self._external_ids: dict[str, str] = {}
        self._homes: dict[str, str] = {}
        self._used_triggers: set[str] = set()
        self._expired_triggers: set[str] = set()
        self._ids = itertools.count(1)
        self._last_ts_us = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.add_user(BOT_USER_ID, "Interview Bot", None, "UTC", is_bot=True)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeSlack:
        """Bind a free port on the host and serve in a daemon thread; idempotent."""
        if self._server is None:
            server = _Server((self._host, 0), _Handler)
            server.fake = self
            self._server = server
            self._thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05},
                name=f"FakeSlack:{server.server_address[1]}", daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting requests and free the port; idempotent.

        Handler threads are daemons (not joined), so a stalled client can never hang a test's
        teardown; a request still in flight may be recorded after close() returns.
        """
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeSlack is not started; use start() or a with block")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """For ``WebClient(base_url=...)`` and the bot's ``SLACK_API_URL``; ends with '/'."""
        return f"http://{self._host}:{self.port}/api/"

    def response_url(self, name: str = "default") -> str:
        """A response_url on the fake; posts to it are recorded as method ``response_url``."""
        return f"http://{self._host}:{self.port}/response/{quote(name, safe='')}"

    # -- test set-up -----------------------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        real_name: str,
        email: str | None = None,
        tz: str = "UTC",
        is_restricted: bool = False,
        deleted: bool = False,
        *,
        is_bot: bool = False,
        is_ultra_restricted: bool = False,
        team_id: str | None = None,
    ) -> dict[str, Any]:
        """Register (or replace) a user that users.info and users.lookupByEmail return.

        The user belongs to workspace ``team_id`` (default: the fake's own), so only tokens of
        that workspace find it.
        """
        team_id = team_id or self.team_id
        if team_id not in self._teams:
            raise ValueError(f"unknown team {team_id!r}; register it with add_team() first")
        zone = ZoneInfo(tz)  # fail fast on a zone name Slack would never send
        now = datetime.now(UTC)
        offset = now.astimezone(zone).utcoffset()
        handle = (email.split("@")[0] if email else real_name.lower().replace(" ", "."))[:80]
        profile: dict[str, Any] = {
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": handle,
            "display_name_normalized": handle,
            "team": team_id,
        }
        if email is not None:
            profile["email"] = email
        user = {
            "id": user_id,
            "team_id": team_id,
            "name": handle,
            "deleted": deleted,
            "real_name": real_name,
            "tz": tz,
            "tz_label": now.astimezone(zone).tzname(),
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "is_bot": is_bot,
            "is_app_user": False,
            "is_admin": False,
            "is_owner": False,
            "is_restricted": is_restricted or is_ultra_restricted,
            "is_ultra_restricted": is_ultra_restricted,
            "updated": int(now.timestamp()),
            "profile": profile,
        }
        with self._lock:
            self._users[user_id] = user
        return user

    def add_team(
        self,
        team_id: str,
        token: str,
        *,
        enterprise_id: str | None = None,
        name: str | None = None,
        is_enterprise_install: bool = False,
    ) -> None:
        """Register a workspace and the bot token installed in it (call again to add tokens).

        Calls made with ``token`` see only this workspace's users, auth.test describes it and
        their Calls carry its ``team_id``. ``is_enterprise_install`` (an org-wide install) needs
        an ``enterprise_id``.
        """
        if is_enterprise_install and enterprise_id is None:
            raise ValueError("an enterprise install needs an enterprise_id")
        with self._lock:
            self._teams[team_id] = _Team(team_id, name or team_id, enterprise_id,
                                         is_enterprise_install)
            self._tokens[token] = team_id

    def expire_trigger(self, trigger_id: str) -> None:
        """Make views.open/push with this trigger answer ``expired_trigger_id``."""
        with self._lock:
            self._expired_triggers.add(trigger_id)

    def fail_next(
        self,
        method: str,
        status: int | None = None,
        *,
        retry_after: int | None = 1,
        error: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        No status and no error: HTTP 429 with ``Retry-After: retry_after``. An error alone: HTTP
        200 with ``{"ok": false, "error": error}``. A status: that HTTP status (429 gets the
        Retry-After header; ``retry_after=None`` omits it).
        """
        if status is None:
            status = 200 if error else 429
        if error is None:
            error = "ratelimited" if status == 429 else "fake_http_error"
        self._queue(method, _Fault("status", status, error, retry_after if status == 429 else None),
                    times)

    def disconnect_next(self, method: str, times: int = 1) -> None:
        """Close the socket of the next ``times`` calls of ``method`` without answering."""
        self._queue(method, _Fault("disconnect"), times)

    def lose_reply_next(self, method: str, times: int = 1) -> None:
        """Do the next ``times`` calls of ``method``, then close the socket without answering.

        Slack accepted the call (the message is stored, the Call records the real response),
        but the client sees a dropped connection and cannot know that.
        """
        self._queue(method, _Fault("lose_reply"), times)

    def slow_reply_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Do the next ``times`` calls of ``method``, then answer ``seconds`` late.

        A client whose timeout is shorter gives up although the call took effect. The wait
        happens outside the fake's lock, so other calls are served meanwhile.
        """
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        self._queue(method, _Fault("slow", seconds=seconds), times)

    def outage(
        self,
        methods: str | Iterable[str],
        seconds: float,
        mode: str = "500",
        retry_after: int | None = None,
    ) -> None:
        """For the next ``seconds`` of wall time, fail every call of ``methods``; returns at once.

        ``methods``: a method name, several, or ``"*"`` for every Web API method (response_url
        posts only when ``"response_url"`` is named). ``mode``: ``"500"``, ``"503"``, ``"429"``
        (with ``Retry-After: retry_after``, default 1; other HTTP modes send it only when
        given), ``"disconnect"`` (nothing done) or ``"lose_reply"`` (done, answer lost). A call
        with a queued fault (fail_next and friends) gets that fault instead.
        """
        names = frozenset([methods] if isinstance(methods, str) else methods)
        fault = _outage_fault(str(mode), retry_after)
        with self._lock:
            self._outages.append(_Outage(names, time.monotonic() + seconds, fault))

    def _queue(self, method: str, fault: _Fault, times: int) -> None:
        with self._lock:
            self._faults.setdefault(method, deque()).extend([fault] * times)

    def reset(self) -> None:
        """Forget calls, errors, pending faults and outages.

        Slack's state stays: users, teams, views, messages, uploads and used triggers.
        """
        with self._lock:
            self._calls.clear()
            self.errors.clear()
            self._faults.clear()
            self._outages.clear()

    # -- inspection ------------------------------------------------------------------------

    def calls(self, method: str | None = None, *, ok: bool | None = None) -> list[Call]:
        """Calls in arrival order, optionally only one method and only (un)successful ones."""
        with self._lock:
            return [
                c for c in self._calls
                if (method is None or c.method == method) and (ok is None or c.ok == ok)
            ]

    def last(self, method: str, *, ok: bool | None = None) -> Call:
        """The latest call of ``method``; AssertionError (listing what was called) if none."""
        found = self.calls(method, ok=ok)
        if not found:
            raise AssertionError(f"no {method} call; calls so far: {self._summary()}")
        return found[-1]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until ``count`` calls of ``method`` arrived, return them all.

        Needed because the app acks Slack first and calls the Web API afterwards on a worker.
        A call counts when it arrives, so its response may still be on the way to the app.
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = self.calls(method, ok=ok)
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._arrived.wait(remaining)
        if len(found) < count:
            raise AssertionError(
                f"waited {timeout}s for {count} {method} call(s), got {len(found)}; "
                f"calls so far: {self._summary()}"
            )
        return found

    @property
    def views(self) -> dict[str, dict[str, Any]]:
        """The views the fake holds, by view id, as Slack last returned them."""
        with self._lock:
            return dict(self._views)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Stored messages (copies), oldest first, each with its ``channel``.

        Only ``channel``'s when given (a user id means the DM with that user). Unlike
        conversations.history, thread replies and metadata are included.
        """
        with self._lock:
            found = [
                {**copy.deepcopy(m), "channel": channel_id}
                for channel_id, messages in self._channels.items()
                if channel is None or channel_id == self._channel_for(channel)
                for m in messages
            ]
        return sorted(found, key=lambda m: Decimal(m["ts"]))

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab last published for ``user_id``."""
        with self._lock:
            view_id = self._homes.get(user_id)
            return self._views.get(view_id) if view_id else None

    def _summary(self) -> str:
        with self._lock:
            return ", ".join(f"{c.method}({c.status})" for c in self._calls) or "none"

    # -- request handling ------------------------------------------------------------------

    def _handle(self, handler: _Handler) -> None:
        url = urlsplit(handler.path)
        body = _read_body(handler)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        is_response_url = url.path.startswith("/response/")
        method = "response_url" if is_response_url else url.path.removeprefix("/api/").strip("/")
        try:
            args = _parse_args(url.query, body, headers.get("content-type", ""))
        except (ValueError, UnicodeDecodeError):
            args = {}
        if is_response_url and isinstance(args.get("payload"), str):
            with contextlib.suppress(json.JSONDecodeError):  # form-encoded payload=<json>
                args = json.loads(args["payload"])
        token = None
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        elif not is_response_url and isinstance(args.get("token"), str):
            token = args["token"]
        if not is_response_url:
            args.pop("token", None)

        with self._lock:
            team = self._team_of(token)
            try:
                reply = self._reply(method, args, token, team, is_response_url)
            except Exception as e:  # a harness bug must show up in the test, not as a hang
                self.errors.append(f"{method}: fake crashed: {type(e).__name__}: {e}")
                reply = _Reply(500, {"ok": False, "error": "fake_slack_crashed"})
            call = Call(
                method=method, args=args, token=token, headers=headers, time=time.time(),
                path=url.path, http_method=handler.command, body=body, status=reply.status,
                response=reply.body, fault=reply.fault, team_id=team.team_id if token else None,
            )
            self._calls.append(call)
            self._arrived.notify_all()

        if reply.delay:
            time.sleep(reply.delay)  # outside the lock: a slow answer must not stall other calls
        handler.close_connection = True
        if reply.body is None or reply.lose:
            return  # the server closes the socket: the client sees RemoteDisconnected
        with contextlib.suppress(ConnectionError):  # a client that timed out has hung up
            _send(handler, reply)

    def _team_of(self, token: str | None) -> _Team:
        """The workspace of a token; tokens never given to add_team belong to the default one."""
        return self._teams[self._tokens.get(token or "", self.team_id)]

    def _reply(
        self, method: str, args: dict[str, Any], token: str | None, team: _Team,
        is_response_url: bool,
    ) -> _Reply:
        """Decide the answer; runs under the lock so state changes are atomic per call."""
        fault = self._next_fault(method, token)
        if fault is not None and fault.refuses:
            return fault.refusal()
        reply = self._answer(method, args, token, team, is_response_url)
        return fault.spoil(reply) if fault is not None else reply

    def _next_fault(self, method: str, token: str | None) -> _Fault | None:
        """Queued faults first, then a running outage, then the token's own fault."""
        queue = self._faults.get(method)
        if queue:
            return queue.popleft()
        now = time.monotonic()
        self._outages = [o for o in self._outages if o.until > now]
        outage = next((o for o in self._outages if o.covers(method)), None)
        return outage.fault if outage is not None else _token_fault(token)

    def _answer(
        self, method: str, args: dict[str, Any], token: str | None, team: _Team,
        is_response_url: bool,
    ) -> _Reply:
        """What Slack answers when nothing goes wrong on the way."""
        if method.startswith("upload/"):  # step 2 of files.uploadV2: raw bytes, no token
            return _Reply(200, {"ok": True})
        if token is None and not is_response_url and not method.startswith("oauth."):
            return _Reply(200, {"ok": False, "error": "not_authed"})
        if self.strict:
            invalid = self._validate(method, args)
            if invalid is not None:
                self.errors.append(f"{method}: {invalid}")
                status = 400 if is_response_url else 200
                return _Reply(status, {"ok": False, "error": "invalid_blocks", "errors": [invalid],
                                       "response_metadata": {"messages": [invalid]}})
        answer = getattr(self, "_api_" + method.replace(".", "_"), None)
        if answer is None:
            return _Reply(200, {"ok": True})
        try:
            return _Reply(200, answer(args, team))
        except _SlackError as e:
            return _Reply(200, {"ok": False, "error": e.args[0]})

    def _validate(self, method: str, args: dict[str, Any]) -> str | None:
        try:
            if method in _VIEW_METHODS and "view" in args:
                validate_view(args["view"])
            elif (method in _MESSAGE_METHODS or method == "response_url") and args.get("blocks"):
                validate_blocks(args["blocks"], max_blocks=MESSAGE_MAX_BLOCKS)
        except (AssertionError, json.JSONDecodeError) as e:
            return str(e)
        return None

    # -- Slack methods (called under the lock) ---------------------------------------------

    def _next_ts(self) -> str:
        now_us = max(int(time.time() * 1_000_000), self._last_ts_us + 1)
        self._last_ts_us = now_us
        return f"{now_us // 1_000_000}.{now_us % 1_000_000:06d}"

    def _new_view_id(self) -> str:
        return f"V{next(self._ids):010d}"

    def _channel_for(self, channel: str) -> str:
        """Posting to a user id lands in the DM with that user, as on Slack."""
        return "D" + channel if channel[:1] in ("U", "W") else channel

    def _post(self, channel: str, message: dict[str, Any]) -> None:
        """Store a message; ts only grows (issued under the lock), so channels stay in order."""
        self._channels.setdefault(channel, []).append(message)

    def _stored(self, channel: str, ts: str) -> dict[str, Any] | None:
        messages = self._channels.get(self._channel_for(channel), [])
        return next((m for m in messages if m["ts"] == ts), None)

    def _is_dm_of(self, channel: str, team: _Team) -> bool:
        """A DM id of a user of ``team``: it exists on Slack before anything is posted in it."""
        user = self._users.get(channel[1:]) if channel.startswith("D") else None
        return user is not None and user["team_id"] == team.team_id

    def _check_metadata(self, method: str, args: dict[str, Any]) -> None:
        """Slack refuses malformed metadata in any mode; strict mode also reports it."""
        if args.get("metadata") in (None, ""):
            return
        try:
            validate_metadata(args["metadata"])
        except AssertionError as e:
            if self.strict:
                self.errors.append(f"{method}: {e}")
            raise _SlackError("invalid_metadata_format") from None

    def _message(self, team: _Team, ts: str, args: dict[str, Any]) -> dict[str, Any]:
        """A message as the bot posts it; thread_ts and metadata only when given."""
        message = {
            "type": "message", "subtype": None, "text": args.get("text", ""), "user": BOT_USER_ID,
            "bot_id": BOT_ID, "app_id": APP_ID, "team": team.team_id, "ts": ts,
            "blocks": args.get("blocks") or [],
        }
        for key in ("thread_ts", "metadata"):
            if args.get(key):
                message[key] = args[key]
        return message

    def _api_files_getUploadURLExternal(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:  # noqa: N802
        """files.uploadV2, step 1: a URL on this fake that takes the bytes."""
        file_id = f"F{next(self._ids):08d}"
        self._files[file_id] = {"id": file_id, "name": args.get("filename"), "channel": None}
        return {"ok": True, "upload_url": f"http://{self._host}:{self.port}/upload/{file_id}", "file_id": file_id}

    def _api_files_completeUploadExternal(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:  # noqa: N802
        """files.uploadV2, step 3: share the uploaded files in `channel_id`, as one message."""
        files = args.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        shared = []
        for item in files:
            record = self._files.get(item.get("id"))
            if record is None:
                return {"ok": False, "error": "file_not_found"}
            record.update(channel=args.get("channel_id"), title=item.get("title"))
            shared.append(dict(record))
        if args.get("channel_id"):
            self._share(str(args["channel_id"]), shared, args, team)
        return {"ok": True, "files": shared}

    def _share(
        self, channel: str, files: list[dict[str, Any]], args: dict[str, Any], team: _Team
    ) -> None:
        """The message a file share leaves in the channel; the bot looks for it by file id."""
        comment = {"text": args.get("initial_comment", ""), "thread_ts": args.get("thread_ts")}
        message = self._message(team, self._next_ts(), comment)
        message["upload"] = True
        message["files"] = [
            {"id": f["id"], "name": f["name"], "title": f["title"] or f["name"],
             "user": BOT_USER_ID}
            for f in files
        ]
        self._post(channel, message)

    def uploads(self) -> list[dict[str, Any]]:
        """Files shared via files.uploadV2: id, name, title, channel and the uploaded bytes."""
        with self._lock:
            bodies = {c.path.rsplit("/", 1)[-1]: c.body for c in self._calls if c.path.startswith("/upload/")}
            return [{**f, "content": bodies.get(f["id"], b"")} for f in self._files.values() if f["channel"]]

    def _api_apps_connections_open(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        """Socket Mode: hands out `socket_mode_url` (a test's WebSocket server), if one is set."""
        if self.socket_mode_url is None:
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": True, "url": self.socket_mode_url}

    def _api_auth_test(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        answer = {
            "ok": True, "url": team.url, "team": team.name, "user": "interview-bot",
            "team_id": team.team_id, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
            "is_enterprise_install": team.is_enterprise_install,
        }
        if team.enterprise_id is not None:
            answer["enterprise_id"] = team.enterprise_id
        return answer

    def _api_users_info(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        user = self._users.get(str(args.get("user", "")))
        if user is None or user["team_id"] != team.team_id:
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "user": user}

    def _api_users_lookupByEmail(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:  # noqa: N802
        email = str(args.get("email", "")).lower()
        for user in self._users.values():
            found = user["profile"].get("email", "").lower() == email
            if found and user["team_id"] == team.team_id:
                return {"ok": True, "user": user}
        return {"ok": False, "error": "users_not_found"}

    def _api_conversations_open(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        users = [u for u in str(args.get("users", "")).split(",") if u]
        if args.get("channel"):
            return {"ok": True, "channel": {"id": args["channel"]}}
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))[:20]
        self._channels.setdefault(channel_id, [])  # an opened DM has a (maybe empty) history
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _api_conversations_history(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        channel = str(args.get("channel") or "")
        if channel not in self._channels and not self._is_dm_of(channel, team):
            return {"ok": False, "error": "channel_not_found"}
        return _history(self._channels.get(channel, []), args)

    def _api_chat_postMessage(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:  # noqa: N802
        channel = str(args.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not (args.get("text") or args.get("blocks") or args.get("attachments")):
            return {"ok": False, "error": "no_text"}
        self._check_metadata("chat.postMessage", args)
        channel, ts = self._channel_for(channel), self._next_ts()
        message = self._message(team, ts, args)
        self._post(channel, message)
        return {"ok": True, "channel": channel, "ts": ts, "message": dict(message)}

    def _api_chat_postEphemeral(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:  # noqa: N802
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("user"):
            return {"ok": False, "error": "user_not_in_channel"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _api_chat_update(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        channel, ts = str(args.get("channel") or ""), str(args.get("ts") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not ts:
            return {"ok": False, "error": "message_not_found"}
        self._check_metadata("chat.update", args)
        stored = self._stored(channel, ts)
        if stored is None:  # lenient: tests update messages the fake never saw posted
            message = self._message(team, ts, args)
        else:
            stored.update(text=args.get("text", ""), blocks=args.get("blocks") or [])
            if args.get("metadata"):
                stored["metadata"] = args["metadata"]
            message = dict(stored)
        return {"ok": True, "channel": channel, "ts": ts, "text": args.get("text", ""),
                "message": message}

    def _api_chat_delete(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        if not args.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not args.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        stored = self._stored(args["channel"], args["ts"])
        if stored is not None:
            self._channels[self._channel_for(args["channel"])].remove(stored)
        return {"ok": True, "channel": args["channel"], "ts": args["ts"]}

    def _store_view(self, view: dict[str, Any], view_id: str, team: _Team) -> dict[str, Any]:
        stored = {
            "id": view_id, "team_id": team.team_id, "type": view.get("type", "modal"),
            "title": view.get("title"), "submit": view.get("submit"), "close": view.get("close"),
            "blocks": view.get("blocks") or [], "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""), "external_id": view.get("external_id", ""),
            "state": {"values": {}}, "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close")),
            "notify_on_close": bool(view.get("notify_on_close")),
            "previous_view_id": None, "root_view_id": view_id, "app_id": APP_ID,
            "app_installed_team_id": team.team_id, "bot_id": BOT_ID,
        }
        self._views[view_id] = stored
        if stored["external_id"]:
            self._external_ids[stored["external_id"]] = view_id
        return stored

    def _api_views_open(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        view, trigger = args.get("view"), args.get("trigger_id")
        if not isinstance(view, dict) or not trigger:
            return {"ok": False, "error": "invalid_arguments"}
        if trigger in self._used_triggers or trigger in self._expired_triggers:
            return {"ok": False, "error": "expired_trigger_id"}
        self._used_triggers.add(trigger)
        view_id = self._new_view_id()
        return {"ok": True, "view": self._store_view(view, view_id, team)}

    # views.push needs a fresh trigger_id just like views.open.
    _api_views_push = _api_views_open

    def _api_views_update(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        view = args.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = args.get("view_id")
        if not view_id and args.get("external_id"):
            view_id = self._external_ids.get(args["external_id"])
            if view_id is None:
                return {"ok": False, "error": "not_found"}
        if not view_id:
            return {"ok": False, "error": "invalid_arguments"}
        current = self._views.get(view_id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        return {"ok": True, "view": self._store_view(view, view_id, team)}

    def _api_views_publish(self, args: dict[str, Any], team: _Team) -> dict[str, Any]:
        view, user_id = args.get("view"), args.get("user_id")
        if not isinstance(view, dict) or not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        view_id = self._homes.get(user_id)
        current = self._views.get(view_id) if view_id else None
        if current and args.get("hash") and args["hash"] != current["hash"]:
            return {"ok": False, "error": "hash_conflict"}
        view_id = view_id or self._new_view_id()
        self._homes[user_id] = view_id
        return {"ok": True, "view": self._store_view(view, view_id, team)}


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started, strict FakeSlack, closed after the test."""
    with FakeSlack() as fake:
        yield fake
