"""Tests of the Slack test harness itself: if these fail, every Slack-level test is suspect.

slack_sdk's real WebClient, retry handlers, SignatureVerifier and a real Bolt app are the
referees, so the fake and the request client are checked against what production code uses.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from slack_bolt import Ack, App, Respond
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from tests.slack_fake import FakeSlack, validate_blocks, validate_view
from tests.slack_requests import (
    SlackClient,
    block_actions_payload,
    datepicker,
    multi_users_select,
    sign,
    static_select,
    timepicker,
    view_submission_payload,
)

SECRET = "test-signing-secret"
FAST = FixedValueRetryIntervalCalculator(fixed_internal=0.01)


def client_for(
    fake: FakeSlack, token: str = "xoxb-test", *handlers: Any, timeout: float = 5
) -> WebClient:
    client = WebClient(token=token, base_url=fake.base_url, timeout=timeout)
    client.retry_handlers = list(handlers)
    return client


def delivery(delivery_id: str) -> dict[str, Any]:
    """Metadata as the bot puts on every DM, so it can find the DM again before a retry."""
    return {"event_type": "interview_bot_delivery", "event_payload": {"delivery_id": delivery_id}}


def texts(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages]


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def modal(blocks: list[dict[str, Any]], title: str = "Find slots") -> dict[str, Any]:
    return {"type": "modal", "callback_id": "find", "title": {"type": "plain_text", "text": title},
            "blocks": blocks}


# --- Web API answers ------------------------------------------------------------------------


def test_users_info_found_and_not_found(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U1", "Ada Lovelace", "ada@example.com", "Europe/Berlin",
                        is_restricted=True)
    client = client_for(fake_slack)

    user = client.users_info(user="U1")["user"]
    assert user["real_name"] == "Ada Lovelace" and user["tz"] == "Europe/Berlin"
    assert user["profile"]["email"] == "ada@example.com"
    assert user["profile"]["real_name"] == "Ada Lovelace"
    assert user["tz_offset"] in (3600, 7200) and user["is_restricted"] and not user["is_bot"]
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U404")
    assert err.value.response["error"] == "user_not_found"

    call = fake_slack.last("users.info", ok=True)
    assert call.args["user"] == "U1" and call.token == "xoxb-test"
    assert call.headers["authorization"] == "Bearer xoxb-test"
    assert [c.ok for c in fake_slack.calls("users.info")] == [True, False]


def test_auth_messages_dms_and_json_fields(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    auth = client.auth_test()
    assert auth["team_id"] == "T0001" and auth["user_id"] and auth["bot_id"]

    assert client.conversations_open(users="U1")["channel"]["id"] == "DU1"
    first = client.chat_postMessage(channel="U1", text="hi", blocks=[section("hi")])
    second = client.chat_postMessage(channel="C1", text="again")
    assert first["channel"] == "DU1" and float(second["ts"]) > float(first["ts"])
    assert first["message"]["text"] == "hi"
    assert client.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"]
    assert client.chat_update(channel="C1", ts=second["ts"], text="edited")["ts"] == second["ts"]
    assert client.chat_delete(channel="C1", ts=second["ts"])["ok"]
    assert client.api_call("reactions.add", params={"name": "eyes"})["ok"]  # any other method

    # form-encoded blocks arrive as a JSON string; the fake records them decoded
    client.api_call("chat.postMessage", data={"channel": "C1", "blocks": json.dumps([section("x")])})
    assert fake_slack.last("chat.postMessage").args["blocks"] == [section("x")]
    assert fake_slack.calls("chat.postMessage")[0].args["blocks"] == [section("hi")]
    assert fake_slack.errors == []


def test_views_open_update_publish(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    view = client.views_open(trigger_id="t1", view=modal([section("a")]) | {"external_id": "e1"})
    opened = view["view"]
    assert opened["id"].startswith("V") and opened["hash"] and opened["blocks"] == [section("a")]

    updated = client.views_update(external_id="e1", view=modal([section("b")]))["view"]
    assert updated["id"] == opened["id"] and updated["hash"] != opened["hash"]
    with pytest.raises(SlackApiError) as err:
        client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal([section("c")]))
    assert err.value.response["error"] == "hash_conflict"

    home = {"type": "home", "blocks": [section("home")]}
    assert client.views_publish(user_id="U1", view=home)["view"]["type"] == "home"
    assert fake_slack.home_view("U1")["blocks"] == [section("home")]  # type: ignore[index]


def test_trigger_id_is_single_use_and_can_expire(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    client.views_open(trigger_id="t1", view=modal([section("a")]))
    fake_slack.expire_trigger("t2")
    for trigger in ("t1", "t2"):
        with pytest.raises(SlackApiError) as err:
            client.views_open(trigger_id=trigger, view=modal([section("a")]))
        assert err.value.response["error"] == "expired_trigger_id"


def test_response_url_posts_are_recorded(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("cmd 1")
    assert WebhookClient(url).send(text="done", response_type="ephemeral").status_code == 200
    call = fake_slack.last("response_url")
    assert call.args == {"text": "done", "response_type": "ephemeral"}
    assert call.path == "/response/cmd%201" and call.token is None


# --- message history ------------------------------------------------------------------------


def test_history_is_newest_first_paged_and_has_metadata_only_when_asked(
    fake_slack: FakeSlack,
) -> None:
    fake_slack.add_user("U1", "Ada Lovelace", "ada@example.com")
    client = client_for(fake_slack)
    channel = client.conversations_open(users="U1")["channel"]["id"]
    assert client.conversations_history(channel=channel)["messages"] == []
    ts = [client.chat_postMessage(channel="U1", text=f"m{i}", metadata=delivery(f"d{i}"))["ts"]
          for i in range(5)]

    first = client.conversations_history(channel=channel, limit=2)
    assert texts(first["messages"]) == ["m4", "m3"] and first["has_more"]
    assert all("metadata" not in m for m in first["messages"])
    # slack_sdk follows next_cursor, reusing one response object for every page
    pages = [(p["messages"], p["has_more"], "response_metadata" in p.data) for p in
             client.conversations_history(channel=channel, limit=2, include_all_metadata=True)]
    assert [texts(m) for m, _, _ in pages] == [["m4", "m3"], ["m2", "m1"], ["m0"]]
    assert [(more, cursor) for _, more, cursor in pages] == [
        (True, True), (True, True), (False, False)]
    assert pages[0][0][0]["metadata"] == delivery("d4")

    def window(**bounds: Any) -> list[str]:
        return texts(client.conversations_history(channel=channel, **bounds)["messages"])

    assert window(oldest=ts[1], latest=ts[3]) == ["m2"]
    assert window(oldest=ts[1], latest=ts[3], inclusive=True) == ["m3", "m2", "m1"]
    assert window(oldest=ts[3]) == ["m4"]
    with pytest.raises(SlackApiError) as err:
        client.conversations_history(channel=channel, cursor="not-a-cursor")
    assert err.value.response["error"] == "invalid_cursor"
    assert texts(fake_slack.messages("U1")) == ["m0", "m1", "m2", "m3", "m4"]


def test_history_follows_updates_deletes_and_leaves_out_replies(fake_slack: FakeSlack) -> None:
    fake_slack.add_user("U1", "Ada Lovelace", "ada@example.com")
    client = client_for(fake_slack)
    parent = client.chat_postMessage(channel="C1", text="parent")["ts"]
    client.chat_postMessage(channel="C1", text="reply", thread_ts=parent)
    doomed = client.chat_postMessage(channel="C1", text="doomed")["ts"]
    client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    client.chat_update(channel="C1", ts=parent, text="edited", metadata=delivery("d1"))
    client.chat_delete(channel="C1", ts=doomed)

    listed = client.conversations_history(channel="C1", include_all_metadata=True)["messages"]
    assert texts(listed) == ["edited"] and listed[0]["metadata"] == delivery("d1")
    stored = fake_slack.messages("C1")
    assert texts(stored) == ["edited", "reply"] and stored[1]["thread_ts"] == parent
    assert {m["channel"] for m in fake_slack.messages()} == {"C1"}

    assert client.conversations_history(channel="DU1")["messages"] == []  # a known user's DM
    for unknown in ("C404", "DU404", "U1"):
        with pytest.raises(SlackApiError) as err:
            client.conversations_history(channel=unknown)
        assert err.value.response["error"] == "channel_not_found"


def test_file_shares_leave_a_message_with_the_file(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    channel = client.conversations_open(users="U1")["channel"]["id"]
    shared = client.files_upload_v2(channel=channel, content="BEGIN:VCALENDAR",
                                    filename="interview-1.ics", title="Calendar invitation")
    file_id = shared["files"][0]["id"]

    (message,) = client.conversations_history(channel=channel)["messages"]
    assert message["files"] == [{"id": file_id, "name": "interview-1.ics",
                                 "title": "Calendar invitation", "user": message["user"]}]
    assert fake_slack.uploads()[0]["content"] == b"BEGIN:VCALENDAR"

    in_thread = client.files_upload_v2(channel=channel, content="x", filename="b.ics",
                                       thread_ts=message["ts"])["files"][0]["id"]
    assert len(client.conversations_history(channel=channel)["messages"]) == 1  # replies hide
    assert fake_slack.messages(channel)[-1]["files"][0]["id"] == in_thread
    assert fake_slack.messages(channel)[-1]["thread_ts"] == message["ts"]


# --- faults ---------------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=0)
    client = client_for(fake_slack, "xoxb-test", RateLimitErrorRetryHandler(max_retry_count=2))

    assert client.chat_postMessage(channel="C1", text="hi")["ok"]
    first, second = fake_slack.calls("chat.postMessage")
    assert (first.status, first.ok, second.ok) == (429, False, True)
    assert fake_slack.calls("chat.postMessage", ok=True) == [second]


def test_500_and_disconnect_are_retried(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("users.info", status=500, times=2)
    fake_slack.disconnect_next("auth.test")
    client = client_for(
        fake_slack, "xoxb-test",
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=FAST),
        ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=FAST),
    )
    fake_slack.add_user("U1", "Ada", "ada@example.com", "UTC")

    assert client.users_info(user="U1")["ok"]
    assert [c.status for c in fake_slack.calls("users.info")] == [500, 500, 200]
    assert client.auth_test()["ok"]
    assert [c.fault for c in fake_slack.calls("auth.test")] == ["disconnect", None]


def test_error_faults_and_fault_tokens(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 200
    assert err.value.response["error"] == "channel_not_found"
    assert client.chat_postMessage(channel="C1", text="hi")["ok"]  # only the next call failed

    with pytest.raises(SlackApiError) as err:
        client_for(fake_slack, "xoxb-ratelimited").auth_test()
    assert err.value.response.status_code == 429
    assert err.value.response.headers["retry-after"] in ("1", ["1"])
    with pytest.raises(SlackApiError) as err:
        client_for(fake_slack, "xoxb-server-error").auth_test()
    assert err.value.response.status_code == 500
    with pytest.raises(SlackApiError) as err:
        client_for(fake_slack, "xoxb-invalid").auth_test()
    assert err.value.response["error"] == "invalid_auth"


def test_lost_reply_raises_yet_the_message_exists_once(fake_slack: FakeSlack) -> None:
    fake_slack.lose_reply_next("chat.postMessage")
    client = client_for(fake_slack)
    with pytest.raises(ConnectionError):
        client.chat_postMessage(channel="U1", text="hi", metadata=delivery("d1"))

    listed = client.conversations_history(channel="DU1", include_all_metadata=True)["messages"]
    assert [m["metadata"]["event_payload"]["delivery_id"] for m in listed] == ["d1"]
    call = fake_slack.last("chat.postMessage")
    assert (call.fault, call.ok, call.response["ts"]) == ("lost_reply", True, listed[0]["ts"])
    assert client.chat_postMessage(channel="U1", text="next")["ok"]  # only one reply was lost


def test_sdk_default_retry_duplicates_a_lost_reply(fake_slack: FakeSlack) -> None:
    """Why the bot checks history first: slack_sdk's default retry on a dropped connection."""
    fake_slack.lose_reply_next("chat.postMessage")
    client = WebClient(token="xoxb-test", base_url=fake_slack.base_url, timeout=5)
    assert client.chat_postMessage(channel="U1", text="hi")["ok"]
    assert texts(fake_slack.messages("U1")) == ["hi", "hi"]


def test_slow_reply_times_out_the_client_while_others_are_served(fake_slack: FakeSlack) -> None:
    fake_slack.slow_reply_next("chat.postMessage", 2)
    impatient, client = client_for(fake_slack, timeout=0.5), client_for(fake_slack)
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(impatient.chat_postMessage, channel="U1", text="slow")
        recorded = fake_slack.wait_for("chat.postMessage")[0]
        assert client.auth_test()["ok"]
        assert client.chat_postMessage(channel="C1", text="meanwhile")["ok"]
        assert time.time() - recorded.time < 1  # answered while the slow reply was held back
        with pytest.raises(TimeoutError):
            slow.result(timeout=5)
    assert texts(fake_slack.messages("U1")) == ["slow"]
    assert [c.fault for c in fake_slack.calls("chat.postMessage")] == ["slow:2", None]


@pytest.mark.parametrize("mode", ["500", "503", "429", "disconnect", "lose_reply"])
def test_outage_fails_every_call_then_recovers(fake_slack: FakeSlack, mode: str) -> None:
    client = client_for(fake_slack)
    fake_slack.outage(["chat.postMessage"], 2, mode=mode)
    ends = time.monotonic() + 2
    for i in range(2):
        with pytest.raises((SlackApiError, ConnectionError)) as err:
            client.chat_postMessage(channel="C1", text=f"during {i}")
        if mode.isdigit():
            assert err.value.response.status_code == int(mode)  # type: ignore[union-attr]
    if mode == "429":
        assert err.value.response.headers["retry-after"] in ("1", ["1"])  # type: ignore[union-attr]
    assert client.auth_test()["ok"]  # other methods are not affected

    time.sleep(max(0.0, ends - time.monotonic()) + 0.05)
    assert client.chat_postMessage(channel="C1", text="after")["ok"]
    faults = [c.fault for c in fake_slack.calls("chat.postMessage")]
    assert faults == [f"outage:{mode}", f"outage:{mode}", None]
    done = ["during 0", "during 1"] if mode == "lose_reply" else []
    assert texts(fake_slack.messages("C1")) == [*done, "after"]


def test_outage_scope_retry_after_and_queued_faults_first(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.outage("*", 5, mode="429", retry_after=3)
    fake_slack.fail_next("auth.test", error="invalid_auth")
    for expected in ("invalid_auth", "ratelimited"):
        with pytest.raises(SlackApiError) as err:
            client.auth_test()
        assert err.value.response["error"] == expected
    assert err.value.response.headers["retry-after"] in ("3", ["3"])
    assert [c.fault for c in fake_slack.calls("auth.test")] == ["200:invalid_auth", "outage:429"]

    webhook = WebhookClient(fake_slack.response_url(), retry_handlers=[])
    assert webhook.send(text="spared by *").status_code == 200
    fake_slack.outage(["response_url"], 5, mode="503")
    assert webhook.send(text="named").status_code == 503
    with pytest.raises(ValueError, match="unknown outage mode"):
        fake_slack.outage("*", 1, mode="404")
    fake_slack.reset()  # outages end with the other pending faults
    assert client.auth_test()["ok"] and webhook.send(text="back").status_code == 200


# --- workspaces -----------------------------------------------------------------------------


def test_each_workspace_sees_only_its_own_users(fake_slack: FakeSlack) -> None:
    fake_slack.add_team("T2", "xoxb-t2", enterprise_id="E1", name="Second Workspace")
    fake_slack.add_user("U1", "Ada Lovelace", "ada@example.com")
    fake_slack.add_user("W2", "Bob Babbage", "bob@example.com", team_id="T2")
    home, second = client_for(fake_slack), client_for(fake_slack, "xoxb-t2")

    assert second.users_info(user="W2")["user"]["team_id"] == "T2"
    assert home.users_lookupByEmail(email="ada@example.com")["user"]["id"] == "U1"
    for client, user, email in ((home, "W2", "bob@example.com"), (second, "U1", "ada@example.com")):
        with pytest.raises(SlackApiError) as err:
            client.users_info(user=user)
        assert err.value.response["error"] == "user_not_found"
        with pytest.raises(SlackApiError) as err:
            client.users_lookupByEmail(email=email)
        assert err.value.response["error"] == "users_not_found"
    assert second.conversations_history(channel="DW2")["ok"]
    with pytest.raises(SlackApiError):
        home.conversations_history(channel="DW2")  # not a DM of this workspace

    ours, theirs = home.auth_test(), second.auth_test()
    assert (ours["team_id"], ours.get("enterprise_id"), ours["is_enterprise_install"]) == (
        "T0001", None, False)
    assert (theirs["team_id"], theirs["enterprise_id"], theirs["team"]) == (
        "T2", "E1", "Second Workspace")
    assert theirs["url"] == "https://second-workspace.slack.com/"
    assert [c.team_id for c in fake_slack.calls("auth.test")] == ["T0001", "T2"]

    fake_slack.add_team("E1", "xoxb-org", enterprise_id="E1", is_enterprise_install=True)
    assert client_for(fake_slack, "xoxb-org").auth_test()["is_enterprise_install"]
    with pytest.raises(ValueError, match="add_team"):
        fake_slack.add_user("U9", "Nobody", team_id="T404")
    with pytest.raises(ValueError, match="enterprise_id"):
        fake_slack.add_team("T3", "xoxb-t3", is_enterprise_install=True)


# --- strict validation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {"delivery_id": "d1"}},
        {"event_type": 7, "event_payload": {}},
        {"event_type": "interview_bot_delivery", "event_payload": "d1"},
        ["interview_bot_delivery"],
        "not json",
    ],
)
def test_malformed_metadata_is_refused(fake_slack: FakeSlack, metadata: Any) -> None:
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="hi", metadata=metadata)
    assert err.value.response["error"] == "invalid_metadata_format"
    assert fake_slack.messages() == []
    assert len(fake_slack.errors) == 1 and "metadata" in fake_slack.errors[0]


def test_non_strict_mode_still_refuses_malformed_metadata() -> None:
    """Slack refuses it in any case; only the report in ``errors`` is strict mode's."""
    with FakeSlack(strict=False) as fake:
        with pytest.raises(SlackApiError) as err:
            client_for(fake).chat_postMessage(channel="C1", text="hi", metadata={"event_type": "x"})
        assert err.value.response["error"] == "invalid_metadata_format"
        assert fake.errors == []



def test_strict_mode_rejects_101_block_view_and_long_text(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as err:
        client.views_open(trigger_id="t1", view=modal([section(f"{i}") for i in range(101)]))
    assert err.value.response["error"] == "invalid_blocks"
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="x", blocks=[section("x" * 3001)])
    assert err.value.response["error"] == "invalid_blocks"

    assert len(fake_slack.errors) == 2
    assert "101 blocks" in fake_slack.errors[0] and "3001 chars" in fake_slack.errors[1]
    # a rejected view does not use up the trigger
    assert client.views_open(trigger_id="t1", view=modal([section("ok")]))["ok"]


def test_non_strict_mode_accepts_anything() -> None:
    with FakeSlack(strict=False) as fake:
        client = client_for(fake)
        assert client.views_open(trigger_id="t", view=modal([section("x")] * 101))["ok"]
        assert fake.errors == []


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "151 chars"),
        ([section("a") | {"block_id": "b"}, section("b") | {"block_id": "b"}], "duplicate"),
        ([{"type": "section", "text": section("x")["text"], "accessory": {
            "type": "static_select", "action_id": "s",
            "placeholder": {"type": "plain_text", "text": "pick"},
            "options": [{"text": {"type": "plain_text", "text": f"o{i}"}, "value": f"{i}"}
                        for i in range(101)]}}], "101 options"),
        ([{"type": "actions", "elements": [{
            "type": "static_select", "action_id": "s",
            "options": [{"text": {"type": "plain_text", "text": "o" * 76}, "value": "v"}]}]}],
         "option text is 76 chars"),
        ([{"type": "no_such_block"}], "unknown block type"),
    ],
)
def test_validate_blocks_limits(blocks: list[dict[str, Any]], expected: str) -> None:
    with pytest.raises(AssertionError, match=expected):
        validate_blocks(blocks)


def test_validate_view_limits() -> None:
    validate_view(modal([section("fine")]))
    validate_blocks([section("x")] * 50, max_blocks=50)
    with pytest.raises(AssertionError, match="title"):
        validate_view(modal([section("x")], title="t" * 25))
    with pytest.raises(AssertionError, match="private_metadata"):
        validate_view(modal([section("x")]) | {"private_metadata": "m" * 3001})
    with pytest.raises(AssertionError, match="callback_id"):
        validate_view(modal([section("x")]) | {"callback_id": "c" * 256})
    with pytest.raises(AssertionError, match="submit is required"):
        validate_view(modal([{"type": "input", "label": {"type": "plain_text", "text": "L"},
                              "element": {"type": "plain_text_input", "action_id": "a"}}]))


# --- waiting, concurrency, lifecycle --------------------------------------------------------


def test_wait_for_sees_late_calls_and_times_out(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    threading.Timer(0.1, lambda: client.chat_postMessage(channel="C1", text="late")).start()
    assert fake_slack.wait_for("chat.postMessage", timeout=5)[0].args["text"] == "late"
    with pytest.raises(AssertionError, match="chat.postMessage"):
        fake_slack.wait_for("chat.postMessage", count=2, timeout=0.1)
    fake_slack.reset()
    assert fake_slack.calls() == []


def test_fifty_concurrent_calls(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda i: client.chat_postMessage(channel="C1", text=str(i)),
                                range(50)))
    assert all(r["ok"] for r in results)
    assert len({r["ts"] for r in results}) == 50
    assert len(fake_slack.wait_for("chat.postMessage", count=50)) == 50


def test_close_is_clean_and_idempotent() -> None:
    fake = FakeSlack().start()
    url = fake.base_url
    assert url.endswith("/") and client_for(fake).auth_test()["ok"]
    fake.close()
    fake.close()
    with pytest.raises(Exception):  # noqa: B017 - any connection error will do
        WebClient(token="xoxb-test", base_url=url, timeout=1, retry_handlers=[]).auth_test()


# --- signed requests into an app ------------------------------------------------------------


class _Verifying(BaseHTTPRequestHandler):
    """A stand-in app that checks signatures with slack_sdk's own SignatureVerifier."""

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        ok = SignatureVerifier(SECRET).is_valid_request(body, dict(self.headers))
        answer = json.dumps({"valid": ok, "retry": self.headers.get("X-Slack-Retry-Num")})
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer.encode())

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def verifying_app() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Verifying)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_signed_requests_verify_and_forged_ones_do_not(verifying_app: str) -> None:
    slack = SlackClient(verifying_app, SECRET)
    good = slack.command("/availability", "list", user_id="U1", retry_num=1)
    assert (good.status, good.body) == (200, {"valid": True, "retry": "1"})
    assert good.elapsed > 0
    assert slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"}).status == 200
    assert slack.block_action(user_id="U1", action_id="book", value="42").status == 200

    assert slack.command("/availability", signature="v0=bad").status == 401
    assert slack.command("/availability", omit_signature=True).status == 401
    assert slack.command("/availability", timestamp=int(time.time()) - 600).status == 401
    assert SlackClient(verifying_app, "other-secret").command("/availability").status == 401


def test_sign_matches_slack_sdk() -> None:
    ts = int(time.time())
    assert SignatureVerifier(SECRET).generate_signature(timestamp=str(ts), body="a=b") == sign(
        SECRET, "a=b", ts)


class _QuietWSGI(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


def test_real_bolt_app_end_to_end(fake_slack: FakeSlack) -> None:
    """Bolt verifies our signatures, parses our payloads, and talks back to the fake."""
    app = App(client=client_for(fake_slack), signing_secret=SECRET)
    seen: dict[str, Any] = {}

    @app.command("/interview")
    def on_command(ack: Ack, command: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        client.views_open(trigger_id=command["trigger_id"], view=modal([section("pick")]))
        respond("opened")

    @app.view("find")
    def on_submit(ack: Ack, view: dict[str, Any]) -> None:
        seen["values"] = view["state"]["values"]
        seen["metadata"] = view["private_metadata"]
        ack(response_action="clear")

    @app.action("book")
    def on_book(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        ack()
        respond(f"booked {body['actions'][0]['value']}")

    server: WSGIServer = make_server("127.0.0.1", 0, SlackRequestHandler(app),
                                     handler_class=_QuietWSGI)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        slack = SlackClient(f"http://127.0.0.1:{server.server_port}", SECRET,
                            response_url=fake_slack.response_url)
        assert slack.command("/interview", "", user_id="U1").status == 200
        fake_slack.wait_for("views.open")
        fake_slack.wait_for("response_url")
        assert fake_slack.last("response_url").args["text"] == "opened"

        values = {
            "cand": {"cand": multi_users_select(["U2"])},
            "date": {"date": datepicker("2026-12-02")},
            "time": {"time": timepicker("10:00")},
            "dur": {"dur": static_select("60", "60 min")},
        }
        r = slack.view_submission(user_id="U1", callback_id="find", values=values,
                                  private_metadata='{"page": 1}')
        assert (r.status, r.body) == (200, {"response_action": "clear"})
        assert seen["values"] == values and seen["metadata"] == '{"page": 1}'
        assert view_submission_payload(user_id="U1", callback_id="find", values=values)[
            "view"]["state"]["values"]["dur"]["dur"]["selected_option"]["value"] == "60"

        assert slack.block_action(block_actions_payload(user_id="U1", action_id="book",
                                                        value="42")).status == 200
        assert fake_slack.wait_for("response_url", count=2)[-1].args["text"] == "booked 42"

        assert slack.command("/interview", signature="v0=bad").status == 401
        assert fake_slack.errors == []
    finally:
        server.shutdown()
        server.server_close()
