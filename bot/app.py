"""The Bolt app factory and the two ways to serve it: HTTP (`/slack/events`) or Socket Mode.

Listeners are registered once, here, at start-up. Bolt answers Slack as soon as a listener calls
`ack()` and runs the rest of the listener on its executor, so slow work never delays the ack.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.context import BotContext
from bot.listeners import register_all
from bot.slack_client import make_client

log = logging.getLogger(__name__)
EVENTS_PATH = "/slack/events"


def create_app(ctx: BotContext, client: WebClient | None = None, *, workers: int = 32) -> App:
    settings = ctx.settings
    settings.require_slack()
    client = client or make_client(settings.slack_bot_token, settings.slack_api_url)
    # Bolt also reads SLACK_BOT_TOKEN from the environment and warns that our client wins;
    # it does, on purpose (it carries the API URL and the retry handlers).
    logging.getLogger("slack_bolt.App").addFilter(
        lambda record: "`token` will be unused" not in record.getMessage()
    )
    app = App(
        client=client,
        signing_secret=settings.slack_signing_secret or "socket-mode-has-no-signing-secret",
        request_verification_enabled=bool(settings.slack_signing_secret),
        listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="listener"),
        name="interview-bot",
    )
    register_all(app, ctx)

    @app.error
    def on_error(error: Exception, body: dict) -> None:
        log.error("unhandled error for %s: %r", body.get("type") or body.get("command"), error, exc_info=error)

    return app


def wsgi_app(app: App):
    """A WSGI callable serving Slack requests at /slack/events and a health check at /healthz."""
    handler = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return handler(environ, start_response)

    return application


def serve_http(app: App, port: int, host: str = "0.0.0.0", threads: int = 16) -> None:
    """Production HTTP server (waitress, threaded): Slack POSTs to http://host:port/slack/events."""
    from waitress import serve

    log.info("serving HTTP on %s:%s%s", host, port, EVENTS_PATH)
    serve(wsgi_app(app), host=host, port=port, threads=threads, ident="interview-bot")


def serve_socket_mode(app: App, app_token: str) -> None:
    """Socket Mode: no public URL needed; Slack pushes requests over a WebSocket."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.info("connecting in Socket Mode")
    SocketModeHandler(app, app_token=app_token).start()
