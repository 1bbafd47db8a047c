"""What each `interview-bot` command does (bot/cli.py parses the command line and imports this
only once it has a command to run, so `--help` and usage errors answer at once)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from bot.report import loop_json, pool_json, render_found, search_json
from bot.settings import Settings, SettingsError
from bot.timefmt import parse_instant
from bot.usecases import availability, loops, people, pool_search, pools, search, templates
from bot.usecases.context import Context
from bot.usecases.pool_search import parse_pool
from scheduling.availability_text import describe_windows
from scheduling.intervals import UTC, Interval
from scheduling.zones import zone_of
from storage.db import Database
from storage.migrate import HEAD, current, upgrade
from storage.models import Role
from storage.templates import TemplateRules


class CliError(Exception):
    """A one-line failure for stderr."""


def _now(args: argparse.Namespace) -> datetime:
    return parse_instant(args.now) if getattr(args, "now", None) else datetime.now(UTC)


def open_database(settings: Settings, *, migrate: bool = False) -> Database:
    db = Database(settings.database_url)
    if migrate:
        upgrade(db)
    elif current(db) != HEAD:
        raise CliError("The database schema is not up to date; run `interview-bot migrate` first.")
    return db


def operator(args: argparse.Namespace, settings: Settings) -> Context:
    """The use cases as the operator at the command line runs them: no Slack, full rights."""
    moment = _now(args)
    return Context(db=open_database(settings), settings=settings, clock=lambda: moment)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.database_url)
    upgrade(db)
    print(f"Database at revision {current(db)}.")
    return 0


def cmd_health(args: argparse.Namespace, settings: Settings) -> int:
    """For a container's health check, in either mode: this machine's `run` or `worker` is
    alive if its job runner looked for work (so reached the database) lately; `--http` also
    asks the web server."""
    import time
    import urllib.request
    from pathlib import Path

    if not settings.health_file:
        raise CliError("HEALTH_FILE is not set: the bot keeps no health file to check.")
    try:
        age = time.time() - Path(settings.health_file).stat().st_mtime
    except FileNotFoundError:
        raise CliError(f"{settings.health_file} does not exist: no job runner has started.") from None
    if age > args.max_age:
        raise CliError(f"the job runner last looked for work {age:.0f} s ago (more than {args.max_age:g} s).")
    if args.http:
        url = f"http://127.0.0.1:{settings.port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=3):
                pass
        except OSError as err:
            raise CliError(f"{url} did not answer: {err}.") from None
    print(f"healthy: the job runner looked for work {age:.0f} s ago")
    return 0


def cmd_people_add(args: argparse.Namespace, settings: Settings) -> int:
    added = people.add_person(operator(args, settings), people.AddPerson(
        args.workspace, args.id, args.name, args.tz, tuple(Role(r) for r in args.role), args.email))
    print(f"{added.name} ({added.handle}, {added.tz}): {', '.join(added.roles)}")
    return 0


def cmd_people_list(args: argparse.Namespace, settings: Settings) -> int:
    ctx = operator(args, settings)
    for role in [Role(args.role)] if args.role else list(Role):
        found = people.list_people(ctx, people.ListPeople(args.workspace, None, role)).people
        print(f"{role.value}s ({len(found)}):")
        for p in found:
            print(f"  {p.slack_user_id or p.email or '':<28} {p.name:<28} {p.tz}")
    return 0


def cmd_availability_add(args: argparse.Namespace, settings: Settings) -> int:
    added = availability.add_text(operator(args, settings), availability.AddAvailability(
        availability.Whose(args.workspace, None, args.id), args.text))
    print(f"Added for {added.name} ({added.zone}):")
    print(describe_windows(added.windows, zone_of(added.zone)))
    return 0


def cmd_availability_list(args: argparse.Namespace, settings: Settings) -> int:
    listed = availability.list_availability(operator(args, settings), availability.Whose(args.workspace, None, args.id))
    zone = zone_of(listed.zone)
    print(f"{listed.name} ({listed.zone}): {len(listed.windows)} window(s)")
    for window_id, window in listed.windows:
        print(f"  #{window_id:<6} {describe_windows([window], zone)}")
    return 0


def cmd_busy_add(args: argparse.Namespace, settings: Settings) -> int:
    interval = Interval(parse_instant(args.start), parse_instant(args.end))
    added = availability.add_busy(operator(args, settings), availability.AddBusy(args.workspace, args.id, interval))
    print(f"Busy #{added.block_id} for {added.name}: {interval.iso()['start']} – {interval.iso()['end']}")
    return 0


def _handles(text: str | None) -> list[str]:
    return [h.strip() for h in (text or "").split(",") if h.strip()]


def cmd_slots(args: argparse.Namespace, settings: Settings) -> int:
    handles = _handles(args.interviewers)
    if args.pool:
        return _pool_slots(args, settings, handles)
    if not handles and not args.template:
        raise CliError("Name the interviewers (--interviewers ID,ID) or a template (--template NAME).")
    if args.template and args.duration:
        raise CliError("--duration cannot be used with --template: the template sets the duration.")
    ctx = operator(args, settings)
    if args.template and loops.is_loop(ctx, args.workspace, None, args.template):
        return _loop_slots(ctx, args, handles)
    found = search.search_slots(ctx, search.SearchSlots(
        args.workspace, None, args.candidate, tuple(handles), args.duration,
        parse_instant(args.from_) if args.from_ else None,
        parse_instant(args.to, end_of_day=True) if args.to else None, args.template))
    if args.json:
        print(json.dumps(search_json(found), indent=2))
    else:
        print(render_found(found))
    return 0


def _pool_slots(args: argparse.Namespace, settings: Settings, handles: list[str]) -> int:
    """`slots --pool NAME[*k]`: one session whose interviewers are the named ones plus k chosen."""
    if args.template:
        raise CliError("--pool cannot be used with --template yet: name the pool and the duration.")
    name, k = parse_pool(args.pool)
    found = pool_search.search_pool(operator(args, settings), pool_search.SearchPool(
        args.workspace, None, args.candidate, tuple(handles), name, k, args.duration,
        parse_instant(args.from_) if args.from_ else None,
        parse_instant(args.to, end_of_day=True) if args.to else None))
    if args.json:
        print(json.dumps(pool_json(found), indent=2, ensure_ascii=False))
        return 0
    print(f"{found.candidate} with {k} of pool {found.pool}: {len(found.slots)} slot(s)")
    for note in (*found.notes, *found.calendar_errors):
        print(f"  note: {note}")
    for s in found.slots:
        print(f"  {s.slot.iso()['start']}  {', '.join(s.names)}  ({s.why})")
    return 0


def _loop_slots(ctx: Context, args: argparse.Namespace, handles: list[str]) -> int:
    """`slots --template LOOP`: each option with its sessions, who and why."""
    if handles:
        raise CliError("--interviewers cannot be used with a loop template: each session names its own.")
    found = loops.search_loop(ctx, loops.SearchLoop(
        args.workspace, None, args.candidate, args.template, parse_instant(args.from_) if args.from_ else None,
        parse_instant(args.to, end_of_day=True) if args.to else None))
    if args.json:
        print(json.dumps(loop_json(found), indent=2, ensure_ascii=False))
        return 0
    print(f"{found.candidate} with the loop {found.template}: {len(found.options)} option(s)")
    for note in (*found.notes, *found.calendar_errors):
        print(f"  note: {note}")
    for option in found.options:
        print(f"  {option.span.iso()['start']} – {option.span.iso()['end']}")
        for s in option.sessions:
            print(f"    {s.slot.iso()['start']}  {s.name}: {', '.join(s.names)}  ({s.why})")
    return 0


def _template_line(t: templates.TemplateView) -> str:
    caps = f"caps {t.cap_per_day or '-'}/day {t.cap_per_week or '-'}/week"
    programme = f", programme max {t.programme_max}" if t.programme_max is not None else ""
    if t.sessions:
        order = "in any order" if t.order == "free" else "in order"
        shape = f"loop of {len(t.sessions)} session(s) {order} with {t.break_min} min breaks, {t.duration_min} min"
        who = "; sessions " + ", ".join(_session_text(s) for s in t.sessions)
    else:
        shape, who = f"{t.duration_min} min", "; panel " + ", ".join(t.panel)
    return (f"#{t.template_id} {t.name}: {shape} every {t.step_min} min, "
            f"notice {t.notice_min / 60:g} h, buffers {t.buffer_before_min}/{t.buffer_after_min} min, "
            f"{caps}{programme}{who}")


def _session_text(s: templates.SessionView) -> str:
    pool = [f"{s.k} of pool {s.pool}"] if s.pool else []
    return f"{s.name} {s.duration_min} min ({', '.join([*s.people, *pool])})"


def cmd_template_add(args: argparse.Namespace, settings: Settings) -> int:
    rules = TemplateRules(
        step_min=args.step, notice_min=round(args.notice_hours * 60), buffer_before_min=args.buffer_before,
        buffer_after_min=args.buffer_after, cap_per_day=args.cap_day, cap_per_week=args.cap_week,
        programme=args.programme, programme_max=args.programme_max,
    )
    if args.sessions:
        if args.duration is not None or args.panel is not None:
            raise CliError("--session cannot be used with --duration or --panel: each session has its own.")
        drafts = tuple(templates.parse_session(text) for text in args.sessions)
        saved = templates.add_loop(operator(args, settings), templates.AddLoop(
            args.workspace, None, args.name, drafts, args.break_min or 0, args.order or "fixed", rules))
    else:
        if args.break_min is not None or args.order is not None:
            raise CliError("--break and --order are for loops: give the sessions with --session.")
        if args.duration is None or args.panel is None:
            raise CliError("Give --duration and --panel, or one --session per session of a loop.")
        saved = templates.add_template(operator(args, settings), templates.AddTemplate(
            args.workspace, None, args.name, args.duration, tuple(_handles(args.panel)), rules))
    print(f"Added {_template_line(saved.template)}")
    return 0


def cmd_template_list(args: argparse.Namespace, settings: Settings) -> int:
    found = templates.list_templates(operator(args, settings), args.workspace, None).templates
    print(f"templates ({len(found)}):")
    for template in found:
        print(f"  {_template_line(template)}")
    return 0


def cmd_template_remove(args: argparse.Namespace, settings: Settings) -> int:
    removed = templates.remove_template(operator(args, settings), args.workspace, None, args.ref)
    print(f"Removed template {removed.name}.")
    return 0


def cmd_book(args: argparse.Namespace, settings: Settings) -> int:
    """Book a loop option; prints `{"interviews": [ids]}`, one per session in time order."""
    booked = loops.book_loop(operator(args, settings), loops.BookLoop(
        args.workspace, None, args.candidate, args.template, parse_instant(args.start), args.key))
    if isinstance(booked, loops.LoopGone):
        starts = ", ".join(o.span.iso()["start"] for o in booked.nearest) or "none"
        raise CliError(f"{booked.reason} Nearest options: {starts}.")
    if booked.replayed:
        print("interview-bot: already booked under this request; nothing changed.", file=sys.stderr)
    for who in booked.unreachable:
        print(f"interview-bot: note: no notice reaches {who}", file=sys.stderr)
    print(json.dumps({"interviews": list(booked.interview_ids)}))
    return 0


def _pool_line(pool: pools.PoolView) -> str:
    return f"{pool.name} ({len(pool.members)}): " + (", ".join(pool.members) or "nobody yet")


def cmd_pool_add(args: argparse.Namespace, settings: Settings) -> int:
    changed = pools.change_pool(operator(args, settings), pools.ChangePool(
        args.workspace, None, args.name, tuple(_handles(args.members))))
    print(f"Added {', '.join(changed.added) or 'nobody new'}. Pool {_pool_line(changed.pool)}")
    return 0


def cmd_pool_list(args: argparse.Namespace, settings: Settings) -> int:
    found = pools.list_pools(operator(args, settings), args.workspace, None).pools
    print(f"pools ({len(found)}):")
    for pool in found:
        print(f"  {_pool_line(pool)}")
    return 0


def cmd_pool_remove(args: argparse.Namespace, settings: Settings) -> int:
    ctx, members = operator(args, settings), tuple(_handles(args.members))
    if members:
        changed = pools.change_pool(ctx, pools.ChangePool(args.workspace, None, args.name, members, remove=True))
        print(f"Removed {', '.join(changed.removed)}. Pool {_pool_line(changed.pool)}")
    else:
        print(f"Removed the pool {pools.remove_pool(ctx, args.workspace, None, args.name).name}.")
    return 0


def _configure_logging() -> None:
    """Logs on stderr; SIGUSR1 dumps every thread's stack there (what is a stuck process doing?)."""
    import faulthandler
    import logging
    import signal

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    # A thread back from the database (holding SQLite's write lock) must not wait the default
    # 5 ms for the GIL behind a busy thread: every transaction would last several such waits.
    sys.setswitchinterval(0.0005)


def _slack_bot(settings: Settings, db: Database):
    """The bot for the workspace of SLACK_BOT_TOKEN (auth.test says which one that is)."""
    from slack_sdk.errors import SlackApiError

    from bot.runtime import build_bot
    from bot.slack_client import Installation

    try:
        install = Installation.from_token(settings.slack_bot_token, settings.slack_api_url)
    except (SlackApiError, OSError) as err:
        raise CliError(f"cannot connect to Slack at {settings.slack_api_url}: {err}".splitlines()[0]) from None
    return build_bot(settings, db, [install])


def _exit() -> None:
    raise SystemExit(0)  # unwinds the server loop, so running jobs finish before the exit


def _stop_on_signals(stop) -> None:
    import signal

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop())


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    """Serve Slack: Socket Mode when SLACK_APP_TOKEN is set, else HTTP on $PORT; and run jobs."""
    from bot.app import create_app, http_server, serve_socket_mode
    from bot.jobs.periodic import Periodic

    settings.require_slack()
    port = args.port or settings.port
    if not 1 <= port <= 65535:
        raise CliError(f"--port must be between 1 and 65535, got {port}.")
    db = open_database(settings)
    bot = _slack_bot(settings, db)
    _configure_logging()
    app = create_app(bot)
    server = None
    if not settings.slack_app_token:
        try:
            server = http_server(app, settings.slack_signing_secret, port, host=args.host)
        except OSError as err:
            raise CliError(f"cannot listen on {args.host}:{port}: {err.strerror or err}.") from None
    _stop_on_signals(_exit)
    bot.start()
    periodic = Periodic(bot).start()
    try:
        if server is None:
            serve_socket_mode(app, settings.slack_app_token)
        else:
            server.run()
    finally:
        periodic.stop()
        bot.stop()
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    """Jobs only (no Slack requests served), until SIGTERM or SIGINT."""
    import threading

    from bot.jobs.periodic import Periodic

    if not settings.slack_bot_token:
        raise SettingsError("SLACK_BOT_TOKEN is not set (the bot token, xoxb-...).")
    db = open_database(settings)
    bot = _slack_bot(settings, db)
    _configure_logging()
    stop = threading.Event()
    _stop_on_signals(stop.set)
    bot.start(tick_seconds=args.tick)
    periodic = Periodic(bot).start()
    try:
        stop.wait()
    finally:
        periodic.stop()
        bot.stop()
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from bot.demo import run_demo

    run_demo(args.database, seed=args.seed, now=_now(args) if args.now else None)
    return 0
