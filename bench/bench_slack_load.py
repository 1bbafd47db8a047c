"""Acknowledgement latency of the Slack surface under load (HTTP mode, SQLite default).

Starts `interview-bot run` as a real process against a fake Slack Web API on 127.0.0.1, then
50 threads send signed slash commands for 30 s: half `/availability add …`, half
`/interview slots …`. Reports requests/s and p50/p99 of the time to Slack's HTTP answer (the
ack), with `GET /healthz` under the same load as the baseline. Slack's limit is 3000 ms.

    python bench/bench_slack_load.py [--seconds 30] [--concurrency 50] [--generator auto|wrk|python]

The load comes from `wrk` (a C load generator, Debian package `wrk`) when it is installed, so
the two cores measure the bot rather than a Python client; otherwise from Python threads in this
process, which compete with the bot for the CPU and so report pessimistic figures. With wrk,
requests are signed up front with one timestamp, valid for Slack's five minutes.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.slack_fake import FakeSlack  # noqa: E402
from tests.slack_requests import SlackClient  # noqa: E402

SECRET = "bench-secret"
HR, CAND, INTV = "UHRBENCH", "UCANDBEN", "UINTVBEN"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _wait_up(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the bot did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--generator", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args()
    if args.generator == "auto":
        args.generator = "wrk" if shutil.which("wrk") else "python"

    tmp = tempfile.mkdtemp()
    db_url = f"sqlite:///{tmp}/load.db"
    port = _free_port()
    with FakeSlack(strict=False) as fake:
        users = [f"UL{n:06d}" for n in range(args.concurrency)]
        for uid in [*users, HR, CAND, INTV]:
            fake.add_user(uid, f"User {uid}", f"{uid.lower()}@example.com", tz="Europe/Berlin")
        env = {**os.environ, "DATABASE_URL": db_url, "SLACK_BOT_TOKEN": "xoxb-bench",
               "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.base_url, "HR_USER_IDS": HR,
               "PORT": str(port)}
        env.pop("SLACK_APP_TOKEN", None)
        subprocess.run([sys.executable, "-m", "bot.cli", "migrate"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--host", "127.0.0.1"], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            _wait_up(port)
            client = SlackClient(f"http://127.0.0.1:{port}", SECRET, response_url=fake.response_url)
            for uid in users + [CAND]:
                client.command("/interview-register", "candidate", user_id=uid)
            client.command("/interview-register", "interviewer", user_id=INTV)
            client.command("/availability", "add mon-fri 09:00-17:00 weekly until +30", user_id=INTV)
            fake.wait_for("response_url", count=len(users) + 2, timeout=30)
            if args.generator == "wrk":
                _wrk(port, users, args, tmp)
                return
            results = _load(port, client, users, args.seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    _report(results, args)


def _signed(body: str, ts: int) -> dict[str, str]:
    from tests.slack_requests import sign

    return {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(SECRET, body, ts)}


def _command_body(command: str, text: str, user: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"command": command, "text": text, "user_id": user, "team_id": "T0001",
                      "channel_id": "C0001", "user_name": user.lower(), "api_app_id": "A0001",
                      "response_url": "http://127.0.0.1:9/dev-null", "trigger_id": "1.2.3", "token": "x"})


def _wrk(port: int, users: list[str], args: argparse.Namespace, tmp: str) -> None:
    """Mixed signed commands with wrk, then /healthz alone as the baseline, same server."""
    rng, ts = random.Random(1), int(time.time())
    bodies = []
    for user in users:
        day = date(2026, 11, 24) + timedelta(days=rng.randint(2, 60))
        hour = rng.randint(8, 16)
        bodies.append(_command_body("/availability", f"add {day} {hour:02d}:00-{hour + 2:02d}:00", user))
        bodies.append(_command_body("/interview", f"slots <@{CAND}> <@{INTV}> 60m", HR))
    script = Path(tmp) / "signed.lua"
    lines = ["local reqs = {}", "function init(args)"]
    for body in bodies:  # url-encoded bodies contain no "]]", so Lua long strings hold them as is
        headers = ", ".join(f"['{k}'] = '{v}'" for k, v in _signed(body, ts).items())
        lines.append(f"  reqs[#reqs + 1] = wrk.format('POST', '/slack/events', {{{headers}}}, [[{body}]])")
    lines += ["end", "local i = 0", "function request()", "  i = i % #reqs + 1", "  return reqs[i]", "end"]
    script.write_text("\n".join(lines) + "\n")
    url = f"http://127.0.0.1:{port}"
    mixed = _run_wrk(["-s", str(script), url], args)
    base = _run_wrk([f"{url}/healthz"], args, seconds=10)
    print(f"\nAck latency, {args.concurrency} concurrent connections (wrk), SQLite, HTTP mode")
    print(f"{'request':<40} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'target':>14}")
    for name, res, target in (("/availability add + /interview slots", mixed, "p99 < 300 ms"),
                              ("GET /healthz (baseline)", base, "")):
        verdict = (" pass" if res["p99"] < 300 and not res["errors"] else " MISS") if target else ""
        print(f"{name:<40} {res['rps']:>8.1f} {res['p50']:>8.1f} {res['p99']:>8.1f} {res['errors']:>7} "
              f"{target:>14}{verdict}")
    print(f"p50 ratio to the /healthz baseline: {mixed['p50'] / base['p50']:.1f}x")


def _run_wrk(target: list[str], args: argparse.Namespace, seconds: float | None = None) -> dict[str, float]:
    cmd = ["wrk", "-t2", f"-c{args.concurrency}", f"-d{int(seconds or args.seconds)}s", "--latency", *target]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|errors: .*?timeout) ?:?\s*(\d+)", out))
    return {"p50": ms("50%"), "p99": ms("99%"), "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "errors": errors}


def _load(port: int, client: SlackClient, users: list[str], seconds: float) -> dict[str, list]:
    results: dict[str, list] = {"availability add": [], "interview slots": [], "healthz": [], "errors": []}
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    today = date(2026, 11, 24)

    def worker(n: int) -> None:
        rng = random.Random(n)
        while time.monotonic() < stop:
            kind = ("availability add", "interview slots", "healthz")[n % 2 if rng.random() > 0.1 else 2]
            started = time.perf_counter()
            try:
                if kind == "healthz":
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
                    status = 200
                elif kind == "availability add":
                    day = today + timedelta(days=rng.randint(2, 60))
                    hour = rng.randint(8, 16)
                    status = client.command("/availability", f"add {day} {hour:02d}:00-{hour + 2:02d}:00",
                                            user_id=users[n]).status
                else:
                    status = client.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR).status
            except OSError as err:
                with lock:
                    results["errors"].append(repr(err))
                continue
            elapsed = time.perf_counter() - started
            with lock:
                (results[kind] if status == 200 else results["errors"]).append(elapsed if status == 200 else status)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _report(results: dict[str, list], args: argparse.Namespace) -> None:
    base = statistics.median(results["healthz"]) * 1000 if results["healthz"] else float("nan")
    print(f"\nAck latency, {args.concurrency} concurrent clients for {args.seconds:.0f} s, SQLite, HTTP mode")
    print(f"{'request':<18} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'p50/healthz':>12} {'target':>14}")
    for kind in ("availability add", "interview slots", "healthz"):
        values = results[kind]
        if not values:
            continue
        p50, p99 = _pct(values, 0.5), _pct(values, 0.99)
        target = "p99 < 300 ms" if kind != "healthz" else "baseline"
        verdict = "" if kind == "healthz" else (" pass" if p99 < 300 else " MISS")
        print(f"{kind:<18} {len(values):>7} {len(values) / args.seconds:>7.1f} {p50:>8.1f} {p99:>8.1f} "
              f"{p50 / base:>12.1f} {target:>14}{verdict}")
    print(f"errors: {len(results['errors'])}" + (f"  e.g. {results['errors'][:3]}" if results["errors"] else ""))


if __name__ == "__main__":
    main()
