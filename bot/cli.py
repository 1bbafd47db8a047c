"""`interview-bot`: run the Slack app, the demo, migrations and admin commands.

Every failure a user can cause ends as one line on stderr and a non-zero exit code. This module
only parses the command line: the commands (bot/commands.py) and all they load are imported
once there is one to run, so help and usage errors answer at once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from scheduling.policies import ProgrammeRules
from scheduling.slots import DEFAULT_NOTICE_MIN, DEFAULT_STEP_MIN
from storage.roles import Role

if TYPE_CHECKING:
    from bot.settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interview-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="local", help="Slack team id the people belong to")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="upgrade the database schema to head").set_defaults(func="cmd_migrate")

    health = sub.add_parser("health", help="exit 0 if this machine's bot is alive (for container health checks)")
    health.add_argument("--max-age", type=float, default=60, help="seconds since the runner's last look (60)")
    health.add_argument("--http", action="store_true", help="also GET /healthz on $PORT")
    health.set_defaults(func="cmd_health")

    run = sub.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP) and run jobs")
    run.add_argument("--port", type=int, help="HTTP port (default $PORT or 3000)")
    run.add_argument("--host", default="0.0.0.0")
    run.set_defaults(func="cmd_run")

    worker = sub.add_parser("worker", help="run jobs only: requests, messages, reminders (no Slack server)")
    worker.add_argument("--tick", type=float, default=1.0, help="seconds between looks for due jobs")
    worker.set_defaults(func="cmd_worker")

    demo = sub.add_parser("demo", help="build a local demo database and print matches (no Slack)")
    demo.add_argument("--database", default="sqlite:///interview-bot-demo.db")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--now", help="pin the clock (ISO 8601)")
    demo.set_defaults(func="cmd_demo")

    people = sub.add_parser("people", help="add or list people").add_subparsers(dest="action", required=True)
    add = people.add_parser("add", help="add or update a person")
    add.add_argument("id", help="Slack user id or email")
    add.add_argument("--name", required=True)
    add.add_argument("--tz", required=True, help="IANA zone, e.g. Europe/Berlin")
    add.add_argument("--email")
    add.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    add.set_defaults(func="cmd_people_add")
    plist = people.add_parser("list", help="list people by role")
    plist.add_argument("--role", choices=[r.value for r in Role])
    plist.set_defaults(func="cmd_people_list")

    avail = sub.add_parser("availability", help="add or list availability").add_subparsers(
        dest="action", required=True
    )
    aadd = avail.add_parser("add", help="add availability in the /availability add grammar")
    aadd.add_argument("id")
    aadd.add_argument("text")
    aadd.add_argument("--now", help="pin the clock (ISO 8601)")
    aadd.set_defaults(func="cmd_availability_add")
    alist = avail.add_parser("list", help="a person's upcoming windows")
    alist.add_argument("id")
    alist.add_argument("--now", help="pin the clock (ISO 8601)")
    alist.set_defaults(func="cmd_availability_list")

    busy = sub.add_parser("busy", help="add busy time").add_subparsers(dest="action", required=True)
    badd = busy.add_parser("add", help="add a busy block (ISO 8601 instants)")
    badd.add_argument("id")
    badd.add_argument("start")
    badd.add_argument("end")
    badd.set_defaults(func="cmd_busy_add")

    slots = sub.add_parser("slots", help="common slots for a candidate and interviewers")
    slots.add_argument("--candidate", required=True)
    slots.add_argument("--interviewers", help="comma-separated ids or emails (default: the template's panel)")
    slots.add_argument("--template", help="interview template id or name: its duration, panel and rules (a loop "
                       "template lists each option with its sessions)")
    slots.add_argument("--pool", help="NAME or NAME*k: also k interviewers (default 1) chosen fairly from a pool")
    slots.add_argument("--duration", type=int, help="minutes (default from settings)")
    slots.add_argument("--from", dest="from_", help="earliest start (ISO 8601)")
    slots.add_argument("--to", help="latest end (ISO 8601; a bare date includes that day)")
    slots.add_argument("--now", help="pin the clock (ISO 8601)")
    slots.add_argument("--json", action="store_true", help="machine-readable output")
    slots.set_defaults(func="cmd_slots")

    template = sub.add_parser("template", help="manage interview templates").add_subparsers(
        dest="action", required=True
    )
    tadd = template.add_parser("add", help="add a template: duration and panel (all must be free), or a loop of "
                               "sessions; and the rules")
    tadd.add_argument("name")
    tadd.add_argument("--duration", type=int, help="minutes (5–480); not with --session")
    tadd.add_argument("--panel", help="comma-separated interviewer ids or emails; not with --session")
    tadd.add_argument("--session", action="append", dest="sessions", metavar="LABEL:MINUTES:SPEC",
                      help="one session of a loop, in order; repeat for each. SPEC: pool=NAME[*k] (k of the pool, "
                           "default 1) and/or people=ID,ID (all of them), joined by ';' (not '+': emails may hold "
                           "it), e.g. 'Coding:60:pool=backend' 'Design:45:pool=design-senior*2;people=U01ANA'")
    tadd.add_argument("--break", type=int, dest="break_min", metavar="MIN",
                      help="minutes between a loop's sessions (default 0)")
    tadd.add_argument("--order", choices=["fixed", "free"],
                      help="a loop's sessions in the given order (fixed, default) or any order that fits (free)")
    tadd.add_argument("--step", type=int, default=DEFAULT_STEP_MIN, help=f"start grid in minutes (default {DEFAULT_STEP_MIN})")
    tadd.add_argument("--notice-hours", type=float, default=DEFAULT_NOTICE_MIN / 60,
                      help=f"minimum notice (default {DEFAULT_NOTICE_MIN / 60:g})")
    tadd.add_argument("--buffer-before", type=int, default=0, help="minutes (default 0)")
    tadd.add_argument("--buffer-after", type=int, default=0, help="minutes (default 0)")
    tadd.add_argument("--cap-day", type=int, help="max interviews per interviewer per local day")
    tadd.add_argument("--cap-week", type=int, help="max interviews per interviewer per local week")
    tadd.add_argument("--programme", action="store_true", help="apply the mock-interview programme rules")
    tadd.add_argument("--programme-max", type=int, default=ProgrammeRules.max_completed,
                      help=f"completed interviews allowed (default {ProgrammeRules.max_completed})")
    tadd.set_defaults(func="cmd_template_add")
    template.add_parser("list", help="list templates").set_defaults(func="cmd_template_list")
    tremove = template.add_parser("remove", help="remove a template")
    tremove.add_argument("ref", help="template id or name")
    tremove.set_defaults(func="cmd_template_remove")

    book = sub.add_parser("book", help="book a loop template's option: every session at once, or none")
    book.add_argument("--candidate", required=True)
    book.add_argument("--template", required=True, help="a loop template (one with sessions), id or name")
    book.add_argument("--start", required=True, help="the option's start (ISO 8601), as `slots --template` lists it")
    book.add_argument("--key", help="request key: the same key again books nothing new "
                                    "(default: one per template, candidate and start)")
    book.add_argument("--now", help="pin the clock (ISO 8601)")
    book.set_defaults(func="cmd_book")

    pool = sub.add_parser("pool", help="manage interviewer pools").add_subparsers(dest="action", required=True)
    padd = pool.add_parser("add", help="add interviewers to a pool (created on first use)")
    padd.add_argument("name", help="one lower-case word, e.g. backend")
    padd.add_argument("--members", required=True, help="comma-separated interviewer ids or emails")
    padd.set_defaults(func="cmd_pool_add")
    pool.add_parser("list", help="list pools and their members").set_defaults(func="cmd_pool_list")
    premove = pool.add_parser("remove", help="remove members from a pool, or the whole pool")
    premove.add_argument("name")
    premove.add_argument("--members", help="comma-separated ids or emails (default: remove the pool)")
    premove.set_defaults(func="cmd_pool_remove")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from bot import commands
    from bot.settings import Settings, SettingsError
    from scheduling.errors import SchedulingError

    func: Callable[[argparse.Namespace, Settings], int] = getattr(commands, args.func)
    try:
        settings = Settings.from_env()
        return func(args, settings)
    except (SettingsError, SchedulingError, commands.CliError) as err:
        example = getattr(err, "example", None)
        hint = f" Example: {example}" if example else ""
        print(f"interview-bot: {err}{hint}", file=sys.stderr)
        return 2
    except OperationalError as err:
        print(f"interview-bot: cannot use the database: {' '.join(str(err.orig).split())}", file=sys.stderr)
        return 3
    except SQLAlchemyError as err:
        print(f"interview-bot: database error: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
