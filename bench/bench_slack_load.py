"""What people wait for under load: acks and answers of `interview-bot run` (HTTP, SQLite),
from an open-loop generator.

Requests are sent at a fixed rate whether or not earlier ones were answered (an open loop, so a
slow bot cannot slow the load down and hide its own latency), and every latency is measured from
the moment the request was due to be sent. The mix is half `/availability add …` (a write),
half `/interview slots …` (a search). Ack: Slack's HTTP answer (Slack allows 3 s). Answer: the
reply arriving at the request's response_url on the fake Slack. Baseline: `GET /healthz` at the
same rate, on the same server.

    python bench/bench_slack_load.py [--rates 25,50,100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.secrets import generate_key  # noqa: E402
from tests.slack_fake import FakeSlack  # noqa: E402
from tests.slack_requests import SlackClient  # noqa: E402

SECRET = "bench-secret"
HR, CAND, INTV = "UHRBENCH", "UCANDBEN", "UINTVBEN"
USERS = [f"UL{n:06d}" for n in range(50)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _start(fake: FakeSlack, db_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": SECRET,
           "SLACK_API_URL": fake.base_url, "HR_USER_IDS": HR, "PORT": str(port), "SECRET_KEY": generate_key()}
    env.pop("SLACK_APP_TOKEN", None)
    subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the bot did not start")


def _seed(client: SlackClient, fake: FakeSlack) -> None:
    for uid in [*USERS, CAND]:
        client.command("/interview-register", "candidate", user_id=uid)
    client.command("/interview-register", "interviewer", user_id=INTV)
    client.command("/interview", "list", user_id=HR)
    fake.wait_for("response_url", count=len(USERS) + 3, timeout=60)
    until = (datetime.now(UTC) + timedelta(days=40)).date()
    client.command("/availability", f"add mon-fri 09:00-17:00 weekly until {until}", user_id=INTV)
    client.command("/availability", f"add mon-fri 10:00-18:00 weekly until {until}", user_id=CAND)
    fake.wait_for("response_url", count=len(USERS) + 5, timeout=60)


def _open_loop(rate: float, seconds: float, send) -> list[tuple[float, float, str | None]]:
    """Call `send(n, due)` at `rate` per second; returns (due, acked, name) per request."""
    results: list[tuple[float, float, str | None]] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def one(n: int, due: float) -> None:
        name = send(n, due)
        with lock:
            results.append((due, time.monotonic(), name))

    with ThreadPoolExecutor(max_workers=256) as pool:
        for n in range(int(rate * seconds)):
            due = start + n / rate
            time.sleep(max(0.0, due - time.monotonic()))
            pool.submit(one, n, due)
    return results


def run_rate(client: SlackClient, fake: FakeSlack, port: int, rate: float, seconds: float) -> dict[str, float]:
    tag = f"r{int(rate)}-{time.monotonic_ns()}"
    mono_to_wall = time.time() - time.monotonic()
    errors = 0

    def send(n: int, due: float) -> str | None:
        nonlocal errors
        rng, name = random.Random(n), f"{tag}-{n}"
        try:
            if n % 2:
                status = client.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR,
                                        response_url=fake.response_url(name)).status
            else:
                day = (datetime.now(UTC) + timedelta(days=rng.randint(2, 60))).date()
                hour = rng.randint(8, 16)
                status = client.command("/availability", f"add {day} {hour:02d}:00-{hour + 2:02d}:00",
                                        user_id=USERS[n % len(USERS)], response_url=fake.response_url(name)).status
        except OSError:
            status = 0
        if status != 200:
            errors += 1
            return None
        return name

    sent = _open_loop(rate, seconds, send)
    deadline = time.monotonic() + 120
    names = {name for _, _, name in sent if name}
    while time.monotonic() < deadline:
        answered = {c.path.rsplit("/", 1)[-1]: c.time for c in fake.calls("response_url") if tag in c.path}
        if names <= answered.keys():
            break
        time.sleep(0.2)
    acks = [acked - due for due, acked, name in sent if name]
    answers = [answered[name] - (due + mono_to_wall) for due, _, name in sent if name in answered]
    return {"rate": rate, "sent": len(sent), "ack_p50": _pct(acks, 0.5), "ack_p99": _pct(acks, 0.99),
            "answer_p50": _pct(answers, 0.5), "answer_p99": _pct(answers, 0.99),
            "unanswered": len(names) - len(answers), "errors": errors}


def run_healthz(port: int, rate: float, seconds: float) -> dict[str, float]:
    def send(n: int, due: float) -> str | None:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
        return "ok"

    sent = _open_loop(rate, seconds, send)
    acks = [acked - due for due, acked, _ in sent]
    return {"rate": rate, "sent": len(sent), "ack_p50": _pct(acks, 0.5), "ack_p99": _pct(acks, 0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="25,50,100", help="requests per second, comma-separated")
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    rates = [float(r) for r in args.rates.split(",")]
    tmp = tempfile.mkdtemp()
    port = _free_port()
    with FakeSlack(strict=False) as fake:
        for uid in [*USERS, HR, CAND, INTV]:
            fake.add_user(uid, f"User {uid}", f"{uid.lower()}@example.com", tz="Europe/Berlin")
        proc = _start(fake, f"sqlite:///{tmp}/load.db", port)
        try:
            client = SlackClient(f"http://127.0.0.1:{port}", SECRET, response_url=fake.response_url, timeout=30)
            _seed(client, fake)
            rows = [run_rate(client, fake, port, rate, args.seconds) for rate in rates]
            base = run_healthz(port, rates[min(1, len(rates) - 1)], min(args.seconds, 10))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"\nOpen loop, {args.seconds:.0f} s per rate, SQLite, HTTP mode (one `interview-bot run`)")
    print(f"{'rate/s':>7} {'sent':>6} {'ack p50':>8} {'ack p99':>8} {'answer p50':>11} {'answer p99':>11} "
          f"{'unanswered':>11} {'errors':>7}")
    for r in rows:
        print(f"{r['rate']:>7.0f} {r['sent']:>6} {r['ack_p50']:>6.0f}ms {r['ack_p99']:>6.0f}ms {r['answer_p50']:>9.0f}ms "
              f"{r['answer_p99']:>9.0f}ms {r['unanswered']:>11} {r['errors']:>7}")
    print(f"baseline GET /healthz at {base['rate']:.0f}/s: ack p50 {base['ack_p50']:.0f} ms, p99 {base['ack_p99']:.0f} ms")
    at50 = next((r for r in rows if r["rate"] == 50), None)
    if at50:
        verdict = "met" if at50["ack_p99"] < 100 else "MISSED"
        print(f"target ack p99 < 100 ms at 50/s: {verdict} ({at50['ack_p99']:.0f} ms, "
              f"{at50['ack_p99'] / max(base['ack_p99'], 0.001):.1f}x the /healthz p99)")


if __name__ == "__main__":
    main()
