"""The Slack Web API client every part of the bot uses.

slack_sdk's default retry handlers cover only one connection error; Slack answers bursts with
HTTP 429 + Retry-After and has brief 5xx spells, so both handlers are appended here. The base URL
comes from SLACK_API_URL so tests can point it at a local fake.
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)


def make_client(token: str, base_url: str, *, timeout: int = 10, max_retries: int = 3) -> WebClient:
    client = WebClient(token=token, base_url=base_url, timeout=timeout)
    client.retry_handlers = [
        ConnectionErrorRetryHandler(max_retry_count=max_retries),
        RateLimitErrorRetryHandler(max_retry_count=max_retries),
        ServerErrorRetryHandler(max_retry_count=max_retries),
    ]
    return client
