"""The Bolt app and the two ways to serve it: HTTP (`/slack/events`) or Socket Mode.

Listeners only record and ack (`process_before_response`: Slack's answer is sent when the
listener returns, so an event is on disk before Slack hears 200). In HTTP mode a front checks
the signature on the raw body before anything parses it: unsigned requests get 401 and
malformed ones 400, without a traceback.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast
from urllib.parse import parse_qs

from slack_bolt import App, BoltContext
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.signature import SignatureVerifier

from bot.listeners import register_all
from bot.runtime import Bot

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


class InjectBot:
    """Bolt middleware: every listener finds this process's Bot in `context["bot"]`."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    def __call__(self, context: BoltContext, next: Callable[[], Any]) -> Any:  # noqa: A002 - Bolt's name
        context["bot"] = self.bot
        return next()


def on_error(error: Exception, body: dict) -> None:
    log.error("unhandled error for %s: %r", body.get("type") or body.get("command"), error, exc_info=error)


def create_app(bot: Bot) -> App:
    settings = bot.ctx.settings
    # Bolt reads SLACK_BOT_TOKEN from the environment and warns that the authorize function wins;
    # it does, on purpose (one installation per workspace).
    logging.getLogger("slack_bolt.App").addFilter(lambda record: "will be unused" not in record.getMessage())
    app = App(
        client=WebClient(base_url=settings.slack_api_url),  # Bolt's own calls go where ours go
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        request_verification_enabled=bool(settings.slack_signing_secret),
        # Typed as never None, but Bolt takes None as "not installed here" and answers so.
        authorize=cast(Callable[..., AuthorizeResult], bot.clients.authorizer()),
        process_before_response=True,
        name="interview-bot",
    )
    app.use(InjectBot(bot))
    app.error(on_error)
    register_all(app)
    return app


def _respond(start_response: Callable[..., Any], status: str, text: str) -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode()]


def _well_formed(body: bytes, content_type: str) -> bool:
    """Slack sends form bodies (commands, `payload=<json>` interactions) or JSON (events)."""
    try:
        text = body.decode()
        if content_type.startswith("application/json"):
            return isinstance(json.loads(text), dict)
        form = parse_qs(text, strict_parsing=True)
        return "payload" not in form or isinstance(json.loads(form["payload"][0]), dict)
    except (UnicodeDecodeError, ValueError):
        return False


def _signed(verifier: SignatureVerifier, body: bytes, environ: dict[str, Any]) -> bool:
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", "")
    signature = environ.get("HTTP_X_SLACK_SIGNATURE", "")
    if not timestamp.isdigit() or not signature:
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


def wsgi_app(app: App, signing_secret: str) -> Callable[..., Iterable[bytes]]:
    """Slack requests at /slack/events (signature first), and a health check at /healthz."""
    handler = SlackRequestHandler(app, path=EVENTS_PATH)
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path == "/healthz":
            return _respond(start_response, "200 OK", "ok")
        if path != EVENTS_PATH or environ.get("REQUEST_METHOD") != "POST":
            return _respond(start_response, "404 Not Found", "not found")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return _respond(start_response, "400 Bad Request", "bad request")
        if length > MAX_BODY:
            return _respond(start_response, "413 Payload Too Large", "too large")
        body = environ["wsgi.input"].read(length) if length else b""
        if verifier is not None and not _signed(verifier, body, environ):
            return _respond(start_response, "401 Unauthorized", "invalid signature")
        if not _well_formed(body, environ.get("CONTENT_TYPE", "")):
            return _respond(start_response, "400 Bad Request", "malformed body")
        environ["wsgi.input"] = io.BytesIO(body)
        return handler(environ, start_response)

    return application


def http_server(app: App, signing_secret: str, port: int, host: str = "0.0.0.0", threads: int = 16) -> Any:
    """Production HTTP server (waitress, threaded), its port already bound (OSError when it
    cannot be): Slack POSTs to http://host:port/slack/events. `.run()` serves."""
    from waitress.server import create_server

    server = create_server(wsgi_app(app, signing_secret), host=host, port=port, threads=threads,
                           ident="interview-bot")
    log.info("serving HTTP on %s:%s%s", host, port, EVENTS_PATH)
    return server


def serve_socket_mode(app: App, app_token: str) -> None:
    """Socket Mode: no public URL needed; Slack pushes requests over a WebSocket."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.info("connecting in Socket Mode")
    SocketModeHandler(app, app_token=app_token).start()
