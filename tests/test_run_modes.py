"""`interview-bot run` as a real process: HTTP mode and Socket Mode against the fake Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.server import serve

from tests.slack_fake import FakeSlack
from tests.slack_requests import SlackClient

ROOT = Path(__file__).resolve().parents[1]
SECRET = "run-mode-secret"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def fake(fake_slack: FakeSlack) -> FakeSlack:
    """The fake Slack, knowing the user who registers in these runs."""
    fake_slack.add_user("UNEW0001", "Nora Quinn", "nora@example.com", tz="Europe/Dublin")
    return fake_slack


def _env(fake: FakeSlack, db_url: str, **extra: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": db_url,
        "SLACK_BOT_TOKEN": "xoxb-run-test",
        "SLACK_API_URL": fake.base_url,
        **extra,
    }
    return env


def _start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "run", *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def _migrate(db_url: str) -> None:
    subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, check=True,
                   env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": db_url}, capture_output=True)


def test_http_mode_serves_signed_requests(fake: FakeSlack, sqlite_url: str) -> None:
    _migrate(sqlite_url)
    port = _free_port()
    proc = _start(_env(fake, sqlite_url, SLACK_SIGNING_SECRET=SECRET, PORT=str(port)), "--host", "127.0.0.1")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.2)
        client = SlackClient(f"http://127.0.0.1:{port}", SECRET, response_url=fake.response_url)
        assert client.command("/interview-register", "candidate", user_id="UNEW0001").status == 200
        reply = fake.wait_for("response_url")[0].args
        assert "registered as a candidate" in reply["text"]
        assert client.command("/interview-register", "candidate", user_id="UNEW0001", signature="v0=bad").status == 401
    finally:
        _stop(proc)


def test_socket_mode_receives_and_acks_envelopes(fake: FakeSlack, sqlite_url: str) -> None:
    _migrate(sqlite_url)
    acks: list[dict] = []
    got_ack = threading.Event()
    envelope = {
        "envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True,
        "payload": {
            "token": "x", "team_id": "T0001", "team_domain": "fake", "channel_id": "C0001",
            "channel_name": "general", "user_id": "UNEW0001", "user_name": "nora",
            "command": "/interview-register", "text": "interviewer", "api_app_id": "A0001",
            "response_url": fake.response_url("socket"), "trigger_id": "1.2.3",
        },
    }

    def handler(ws) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1,
                            "debug_info": {"host": "fake", "approximate_connection_time": 3600}}))
        ws.send(json.dumps(envelope))
        for message in ws:
            data = json.loads(message)
            if data.get("envelope_id") == "env-1":
                acks.append(data)
                got_ack.set()

    with serve(handler, "127.0.0.1", 0) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        fake.socket_mode_url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/link"
        proc = _start(_env(fake, sqlite_url, SLACK_APP_TOKEN="xapp-run-test"))
        try:
            assert got_ack.wait(20), _stop(proc)
            reply = fake.wait_for("response_url", timeout=10)[0].args
            assert "registered as an interviewer" in reply["text"]
            assert fake.calls("apps.connections.open")[0].token == "xapp-run-test"
        finally:
            _stop(proc)
            server.shutdown()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-invalid", "SLACK_SIGNING_SECRET": SECRET}, "cannot connect to Slack"),
        ({"SLACK_APP_TOKEN": "bad", "SLACK_SIGNING_SECRET": SECRET}, "SLACK_APP_TOKEN must be"),
        ({"PORT": "eighty", "SLACK_SIGNING_SECRET": SECRET}, "PORT must be a whole number"),
    ],
)
def test_bad_settings_stop_start_up_with_one_line(fake: FakeSlack, sqlite_url: str, extra, message) -> None:
    _migrate(sqlite_url)
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, capture_output=True, text=True,
                          env=_env(fake, sqlite_url, **extra), timeout=60)
    assert proc.returncode != 0
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr
