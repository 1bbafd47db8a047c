"""`interview-bot`: run the Slack app, the demo, migrations and admin commands.

Every failure a user can cause ends as one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from bot.report import render_outcome, search_json
from bot.settings import Settings, SettingsError
from bot.timefmt import parse_instant
from scheduling.availability_text import describe_windows, parse_availability
from scheduling.errors import SchedulingError
from scheduling.intervals import UTC, Interval
from scheduling.policies import Policy
from scheduling.zones import zone_of
from storage import people as people_store
from storage import templates as template_store
from storage.availability import add_windows, list_windows
from storage.busy import add_busy
from storage.db import Database
from storage.matching import find_matches
from storage.migrate import current, heads, upgrade
from storage.models import InterviewTemplate, Person, Role


class CliError(Exception):
    """A one-line failure for stderr."""


def _now(args: argparse.Namespace) -> datetime:
    return parse_instant(args.now) if getattr(args, "now", None) else datetime.now(UTC)


def open_database(settings: Settings, *, migrate: bool = False) -> Database:
    db = Database(settings.database_url)
    if migrate:
        upgrade(db)
    elif current(db) not in heads():
        raise CliError("The database schema is not up to date; run `interview-bot migrate` first.")
    return db


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.database_url)
    upgrade(db)
    print(f"Database at revision {current(db)}.")
    return 0


def cmd_people_add(args: argparse.Namespace, settings: Settings) -> int:
    zone_of(args.tz)
    db = open_database(settings)
    with db.unit_of_work() as uow:
        person = people_store.upsert_person(
            uow.session, args.workspace, args.id, name=args.name, tz=args.tz, email=args.email
        )
        for role in args.role:
            people_store.grant(uow.session, person, Role(role))
        uow.commit()
        print(f"{person.name} ({person.handle}, {person.tz}): {', '.join(sorted(person.role_names))}")
    return 0


def cmd_people_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    with db.unit_of_work(write=False) as uow:
        roles = [Role(args.role)] if args.role else list(Role)
        for role in roles:
            found = people_store.people_with_role(uow.session, args.workspace, role)
            print(f"{role.value}s ({len(found)}):")
            for p in found:
                print(f"  {p.handle:<28} {p.name:<28} {p.tz}")
    return 0


def cmd_availability_add(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    now = _now(args)
    with db.unit_of_work() as uow:
        person = people_store.get_person(uow.session, args.workspace, args.id)
        zone = zone_of(person.tz)
        windows = parse_availability(
            args.text,
            zone=zone,
            now=now,
            horizon=settings.rules().horizon,
            max_windows=settings.max_windows_per_message,
        )
        stored = add_windows(uow.session, person, windows, note=args.text[:300])
        uow.commit()
        print(f"Added for {person.name} ({person.tz}):")
        print(describe_windows([Interval(w.start_at, w.end_at) for w in stored], zone))
    return 0


def cmd_availability_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    with db.unit_of_work(write=False) as uow:
        person = people_store.get_person(uow.session, args.workspace, args.id)
        zone = zone_of(person.tz)
        rows = list_windows(uow.session, person, since=_now(args))
        print(f"{person.name} ({person.tz}): {len(rows)} window(s)")
        for w in rows:
            print(f"  #{w.id:<6} {describe_windows([Interval(w.start_at, w.end_at)], zone)}")
    return 0


def cmd_busy_add(args: argparse.Namespace, settings: Settings) -> int:
    interval = Interval(parse_instant(args.start), parse_instant(args.end))
    db = open_database(settings)
    with db.unit_of_work() as uow:
        person = people_store.get_person(uow.session, args.workspace, args.id)
        block = add_busy(uow.session, person, interval)
        uow.commit()
        print(f"Busy #{block.id} for {person.name}: {interval.iso()['start']} – {interval.iso()['end']}")
    return 0


def _handles(text: str | None) -> list[str]:
    return [h.strip() for h in (text or "").split(",") if h.strip()]


def cmd_slots(args: argparse.Namespace, settings: Settings) -> int:
    now = _now(args)
    rules = settings.rules(args.duration)
    start = parse_instant(args.from_) if args.from_ else None
    end = parse_instant(args.to, end_of_day=True) if args.to else None
    handles = _handles(args.interviewers)
    if not handles and not args.template:
        raise CliError("Name the interviewers (--interviewers ID,ID) or a template (--template NAME).")
    if args.template and args.duration:
        raise CliError("--duration cannot be used with --template: the template sets the duration.")
    policy = Policy(cap_per_day=settings.cap_per_day, cap_per_week=settings.cap_per_week)
    db = open_database(settings)
    with db.unit_of_work(write=False) as uow:
        candidate = people_store.get_person(uow.session, args.workspace, args.candidate)
        interviewers = [people_store.get_person(uow.session, args.workspace, h) for h in handles]
        if args.template:
            template = template_store.get_template(uow.session, args.workspace, args.template)
            outcome = template_store.find_template_matches(
                uow.session, template, candidate, now, start, end, horizon=rules.horizon,
                interviewers=interviewers, default_policy=policy,
            )
        else:
            outcome = find_matches(uow.session, candidate, interviewers, rules, now, start, end, policy=policy)
    if args.json:
        data = search_json(outcome)
        if outcome.notes:
            data["notes"] = outcome.notes
        print(json.dumps(data, indent=2))
        return 0
    print(render_outcome(outcome))
    if outcome.diagnosis is None:  # otherwise the notes are the reasons already printed
        for note in outcome.notes:
            print(f"  Rule: {note}")
    return 0


def _template_line(template: InterviewTemplate, panel: Sequence[Person]) -> str:
    caps = f"caps {template.cap_per_day or '-'}/day {template.cap_per_week or '-'}/week"
    programme = f", programme max {template.programme_max_interviews}" if template.programme_rules else ""
    return (
        f"#{template.id} {template.name}: {template.duration_min} min every {template.step_min} min, "
        f"notice {template.min_notice_min / 60:g} h, buffers {template.buffer_before_min}/"
        f"{template.buffer_after_min} min, {caps}{programme}; panel "
        + ", ".join(p.name for p in panel)
    )


def cmd_template_add(args: argparse.Namespace, settings: Settings) -> int:
    rules = template_store.TemplateRules(
        step_min=args.step,
        notice_min=round(args.notice_hours * 60),
        buffer_before_min=args.buffer_before,
        buffer_after_min=args.buffer_after,
        cap_per_day=args.cap_day,
        cap_per_week=args.cap_week,
        programme=args.programme,
        programme_max=args.programme_max,
    )
    db = open_database(settings)
    with db.unit_of_work() as uow:
        panel = [people_store.get_person(uow.session, args.workspace, h) for h in _handles(args.panel)]
        template = template_store.create_template(
            uow.session, args.workspace, args.name, args.duration, [p.id for p in panel], rules
        )
        uow.commit()
        print(f"Added {_template_line(template, panel)}")
    return 0


def cmd_template_list(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    with db.unit_of_work(write=False) as uow:
        found = template_store.list_templates(uow.session, args.workspace)
        print(f"templates ({len(found)}):")
        for template in found:
            print(f"  {_template_line(template, template_store.panel_of(uow.session, template))}")
    return 0


def cmd_template_remove(args: argparse.Namespace, settings: Settings) -> int:
    db = open_database(settings)
    with db.unit_of_work() as uow:
        name = template_store.remove_template(uow.session, args.workspace, args.ref)
        uow.commit()
    print(f"Removed template {name}.")
    return 0


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on $PORT."""
    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.app import create_app, serve_http, serve_socket_mode
    from bot.context import BotContext
    from bot.reminders import ReminderService

    settings.require_slack()
    db = open_database(settings)
    ctx = BotContext(settings=settings, db=db)
    try:
        app = create_app(ctx)
    except (BoltError, SlackApiError, OSError) as err:
        raise CliError(f"cannot connect to Slack at {settings.slack_api_url}: {err}".splitlines()[0]) from None
    _configure_logging()
    service = ReminderService(db, app.client).start()
    ctx.schedule_reminders = service.schedule
    try:
        if settings.slack_app_token:
            serve_socket_mode(app, settings.slack_app_token)
        else:
            serve_http(app, args.port or settings.port, host=args.host)
    finally:
        service.stop()
    return 0


def _configure_logging() -> None:
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Reminders only (no Slack requests served), until SIGTERM or SIGINT."""
    import signal
    import threading

    from bot.reminders import run_worker
    from bot.slack_client import make_client

    if not settings.slack_bot_token:
        raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...).")
    db = open_database(settings)
    _configure_logging()
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_worker(db, make_client(settings.slack_bot_token, settings.slack_api_url), stop, args.tick)
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    run_demo(args.database, seed=args.seed, now=_now(args) if args.now else None)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interview-bot", description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="local", help="Slack team id the people belong to")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("migrate", help="upgrade the database schema to head").set_defaults(func=cmd_migrate)

    run = sub.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    run.add_argument("--port", type=int, help="HTTP port (default $PORT or 3000)")
    run.add_argument("--host", default="0.0.0.0")
    run.set_defaults(func=cmd_run)

    worker = sub.add_parser("worker", help="send reminders only (another process serves Slack)")
    worker.add_argument("--tick", type=float, default=1.0, help="seconds between due-reminder sweeps")
    worker.set_defaults(func=cmd_worker)

    demo = sub.add_parser("demo", help="build a local demo database and print matches (no Slack)")
    demo.add_argument("--database", default="sqlite:///interview-bot-demo.db")
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--now", help="pin the clock (ISO 8601)")
    demo.set_defaults(func=cmd_demo)

    people = sub.add_parser("people", help="add or list people").add_subparsers(dest="action", required=True)
    add = people.add_parser("add", help="add or update a person")
    add.add_argument("id", help="Slack user id or email")
    add.add_argument("--name", required=True)
    add.add_argument("--tz", required=True, help="IANA zone, e.g. Europe/Berlin")
    add.add_argument("--email")
    add.add_argument("--role", action="append", required=True, choices=[r.value for r in Role])
    add.set_defaults(func=cmd_people_add)
    plist = people.add_parser("list", help="list people by role")
    plist.add_argument("--role", choices=[r.value for r in Role])
    plist.set_defaults(func=cmd_people_list)

    avail = sub.add_parser("availability", help="add or list availability").add_subparsers(
        dest="action", required=True
    )
    aadd = avail.add_parser("add", help="add availability in the /availability add grammar")
    aadd.add_argument("id")
    aadd.add_argument("text")
    aadd.add_argument("--now", help="pin the clock (ISO 8601)")
    aadd.set_defaults(func=cmd_availability_add)
    alist = avail.add_parser("list", help="a person's upcoming windows")
    alist.add_argument("id")
    alist.add_argument("--now", help="pin the clock (ISO 8601)")
    alist.set_defaults(func=cmd_availability_list)

    busy = sub.add_parser("busy", help="add busy time").add_subparsers(dest="action", required=True)
    badd = busy.add_parser("add", help="add a busy block (ISO 8601 instants)")
    badd.add_argument("id")
    badd.add_argument("start")
    badd.add_argument("end")
    badd.set_defaults(func=cmd_busy_add)

    slots = sub.add_parser("slots", help="common slots for a candidate and interviewers")
    slots.add_argument("--candidate", required=True)
    slots.add_argument("--interviewers", help="comma-separated ids or emails (default: the template's panel)")
    slots.add_argument("--template", help="interview template id or name: its duration, panel and rules")
    slots.add_argument("--duration", type=int, help="minutes (default from settings)")
    slots.add_argument("--from", dest="from_", help="earliest start (ISO 8601)")
    slots.add_argument("--to", help="latest end (ISO 8601; a bare date includes that day)")
    slots.add_argument("--now", help="pin the clock (ISO 8601)")
    slots.add_argument("--json", action="store_true", help="machine-readable output")
    slots.set_defaults(func=cmd_slots)

    template = sub.add_parser("template", help="manage interview templates").add_subparsers(
        dest="action", required=True
    )
    tadd = template.add_parser("add", help="add a template: duration, panel (all must be free), rules")
    tadd.add_argument("name")
    tadd.add_argument("--duration", type=int, required=True, help="minutes (5–480)")
    tadd.add_argument("--panel", required=True, help="comma-separated interviewer ids or emails")
    tadd.add_argument("--step", type=int, default=30, help="start grid in minutes (default 30)")
    tadd.add_argument("--notice-hours", type=float, default=24, help="minimum notice (default 24)")
    tadd.add_argument("--buffer-before", type=int, default=0, help="minutes (default 0)")
    tadd.add_argument("--buffer-after", type=int, default=0, help="minutes (default 0)")
    tadd.add_argument("--cap-day", type=int, help="max interviews per interviewer per local day")
    tadd.add_argument("--cap-week", type=int, help="max interviews per interviewer per local week")
    tadd.add_argument("--programme", action="store_true", help="apply the mock-interview programme rules")
    tadd.add_argument("--programme-max", type=int, default=15, help="completed interviews allowed (default 15)")
    tadd.set_defaults(func=cmd_template_add)
    template.add_parser("list", help="list templates").set_defaults(func=cmd_template_list)
    tremove = template.add_parser("remove", help="remove a template")
    tremove.add_argument("ref", help="template id or name")
    tremove.set_defaults(func=cmd_template_remove)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = Settings.from_env()
        return func(args, settings)
    except (SettingsError, SchedulingError, CliError) as err:
        example = getattr(err, "example", None)
        hint = f" Example: {example}" if example else ""
        print(f"interview-bot: {err}{hint}", file=sys.stderr)
        return 2
    except OperationalError as err:
        print(f"interview-bot: cannot use the database: {err.orig}", file=sys.stderr)
        return 3
    except SQLAlchemyError as err:
        print(f"interview-bot: database error: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
