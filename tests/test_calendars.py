"""Linked calendars: cached busy time from a real local feed, failures that never block."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from scheduling.errors import ParseError
from scheduling.intervals import Interval
from storage.busy import blocks_between
from storage.calendars import (
    CalendarsUnavailable,
    link_calendar,
    links_of,
    prepare_link,
    refresh_calendars,
    unlink_calendars,
)
from storage.db import Database
from storage.freebusy.netguard import AddressPolicy
from storage.models import CalendarLink, Person, Role
from storage.secrets import SecretBox, generate_key
from tests.factories import add_person, utc
from tests.slack_app import CAND, HR, INTV, SlackEnv, running_bot

LOOPBACK = AddressPolicy.parse("127.0.0.0/8")
BOX = SecretBox(generate_key())

NOW = utc("2026-11-23 09:00")
FEED = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:standup@example.com
DTSTART:20261202T150000Z
DTEND:20261202T153000Z
SUMMARY:Busy
END:VEVENT
END:VCALENDAR
"""


class Feed:
    """A calendar server on 127.0.0.1 whose answer and delay a test can change."""

    def __init__(self) -> None:
        self.body, self.delay, self.status, self.hits = FEED, 0.0, 200, 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                feed.hits += 1
                time.sleep(feed.delay)
                data = feed.body.encode()
                self.send_response(feed.status)
                self.send_header("Content-Type", "text/calendar")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cal/basic.ics"


@pytest.fixture
def feed() -> Iterator[Feed]:
    f = Feed()
    yield f
    f.server.shutdown()


def _refresh(db: Database, person: Person, *, after: timedelta = timedelta(minutes=15), timeout: float = 2,
             now=NOW) -> list[str]:
    return refresh_calendars(db, [person], Interval(now, now + timedelta(days=30)), now,
                             refresh_after=after, timeout=timeout, box=BOX, policy=LOOPBACK)


def _link(db: Database, person: Person, url: str) -> CalendarLink:
    new = prepare_link(url, None, box=BOX, policy=LOOPBACK)
    with db.unit_of_work() as uow:
        link = link_calendar(uow.session, uow.session.get(Person, person.id), new)
        uow.commit()
        return link


def _busy(db: Database, person: Person) -> list[Interval]:
    with db.unit_of_work(write=False) as uow:
        return blocks_between(uow.session, [person.id], NOW, NOW + timedelta(days=30))[person.id]


def test_feed_is_cached_refreshed_after_the_interval_and_kept_on_failure(db: Database, feed: Feed) -> None:
    ivan = add_person(db, "U1", Role.interviewer)
    _link(db, ivan, feed.url)
    assert _refresh(db, ivan) == []
    assert _busy(db, ivan) == [Interval(utc("2026-12-02 15:00"), utc("2026-12-02 15:30"))]
    assert _refresh(db, ivan, now=NOW + timedelta(minutes=5)) == [] and feed.hits == 1  # cached
    feed.status = 500
    errors = _refresh(db, ivan, now=NOW + timedelta(minutes=20))
    assert len(errors) == 1 and "U1's calendar could not be read" in errors[0]
    assert _busy(db, ivan) == [Interval(utc("2026-12-02 15:00"), utc("2026-12-02 15:30"))]  # last known kept
    with db.unit_of_work(write=False) as uow:
        link = uow.session.scalars(select(CalendarLink)).one()
        assert link.last_error and link.last_fetched_at == NOW


def test_a_slow_feed_times_out_without_blocking(db: Database, feed: Feed) -> None:
    ivan = add_person(db, "U1", Role.interviewer)
    _link(db, ivan, feed.url)
    feed.delay = 5
    started = time.monotonic()
    errors = _refresh(db, ivan, timeout=0.5)
    assert time.monotonic() - started < 2.5
    assert errors and "timed out" in errors[0]


def test_links_must_be_web_urls_and_unlinking_drops_cached_time(db: Database, feed: Feed) -> None:
    ivan = add_person(db, "U1", Role.interviewer)
    for bad in ("/etc/passwd", "file:///etc/hosts", "not a url"):
        with pytest.raises(ParseError):
            prepare_link(bad, None, box=BOX, policy=LOOPBACK)
    with pytest.raises(CalendarsUnavailable):
        prepare_link(feed.url, None, box=None, policy=LOOPBACK)
    assert _link(db, ivan, feed.url).kind == "ics"
    assert _link(db, ivan, feed.url.replace("basic.ics", "dav/")).kind == "caldav"
    assert _link(db, ivan, feed.url).id == _link(db, ivan, feed.url).id  # linking again: the same link
    _refresh(db, ivan)
    with db.unit_of_work() as uow:
        assert unlink_calendars(uow.session, uow.session.get(Person, ivan.id)) == 2
        uow.commit()
        assert links_of(uow.session, [ivan.id]) == {ivan.id: []}
    assert _busy(db, ivan) == []


def _seed(env: SlackEnv) -> None:
    for user, role in ((CAND, "candidate"), (INTV, "interviewer")):
        env.slack.command("/interview-register", role, user_id=user)
    env.fake.wait_for("response_url", count=2)
    env.slack.command("/availability", "add 2026-12-02 16:00-19:00", user_id=CAND)  # 15–18Z
    env.slack.command("/availability", "add 2026-12-02 09:00-12:00", user_id=INTV)  # 14–17Z
    env.fake.wait_for("response_url", count=4)


def _last_text(env: SlackEnv, count: int) -> str:
    return json.dumps(env.fake.wait_for("response_url", count=count)[-1].args, ensure_ascii=False)


@pytest.fixture
def loopback_env(db: Database) -> Iterator[SlackEnv]:
    """The bot allowed to read calendars on 127.0.0.0/8 (an on-premise setting)."""
    with running_bot(db, CALENDAR_ALLOWED_NETWORKS="127.0.0.0/8") as env:
        yield env


def test_interviewer_links_a_feed_in_slack_and_hr_search_respects_it(loopback_env: SlackEnv, feed: Feed) -> None:
    env = loopback_env
    _seed(env)
    env.slack.command("/availability", f"calendar <{feed.url}>", user_id=INTV)
    assert "Its busy time now counts" in _last_text(env, 5)
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR)
    text = _last_text(env, 6)
    assert "15:00–16:00" not in text and "15:30–16:30 WET" in text  # 15:00–15:30Z is busy
    env.slack.command("/interview", "interviewers", user_id=HR)
    assert ":calendar: ics http://127.0.0.1" in _last_text(env, 7)


def test_search_answers_and_names_the_calendar_that_could_not_be_read(loopback_env: SlackEnv, feed: Feed) -> None:
    env = loopback_env
    _seed(env)
    env.slack.command("/availability", f"calendar {feed.url}", user_id=INTV)
    _last_text(env, 5)
    feed.status = 503
    env.clock.set(NOW + timedelta(hours=1))  # past the refresh interval
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR)
    text = _last_text(env, 6)
    assert "Ivan Petrov's calendar could not be read" in text
    assert "15:30–16:30 WET" in text  # last known busy time still applied, slots still shown


def test_mock_source_gives_everyone_without_a_calendar_deterministic_busy_time(db: Database, feed: Feed) -> None:
    ivan = add_person(db, "U1", Role.interviewer, tz="Europe/Berlin")
    ana = add_person(db, "U2", Role.interviewer, tz="Europe/Berlin")
    _link(db, ana, feed.url)  # Ana has a real one
    window = Interval(NOW, NOW + timedelta(days=14))
    args = dict(refresh_after=timedelta(minutes=15), timeout=2, mock=True, seed=7, box=BOX, policy=LOOPBACK)
    assert refresh_calendars(db, [ivan, ana], window, NOW, **args) == []
    with db.unit_of_work(write=False) as uow:
        kinds = {p: [ln.kind for ln in links] for p, links in links_of(uow.session, [ivan.id, ana.id]).items()}
    assert kinds == {ivan.id: ["mock"], ana.id: ["ics"]}
    first = _busy(db, ivan)
    assert first, "the mock calendar makes plausible busy days"
    with db.unit_of_work() as uow:  # force a re-read: the same person and seed give the same days
        for link in uow.session.scalars(select(CalendarLink)):
            link.last_fetched_at = None
        uow.commit()
    refresh_calendars(db, [ivan, ana], window, NOW, **args)
    assert _busy(db, ivan) == first


def test_calendar_links_to_internal_addresses_are_refused_and_never_fetched(slack_env: SlackEnv) -> None:
    """A listening socket on loopback must see no connection, and an open port and a closed one
    get the same answer: the bot cannot be used to scan the network it runs in."""
    import socket

    env = slack_env
    _seed(env)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.setblocking(False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]  # bound, never listening: a closed port
    open_port = listener.getsockname()[1]
    answers = []
    for n, url in enumerate((f"http://127.0.0.1:{open_port}/cal.ics", f"http://127.0.0.1:{closed_port}/cal.ics",
                             f"http://localhost:{open_port}/cal.ics", "http://169.254.169.254/latest/meta-data",
                             f"http://[::ffff:127.0.0.1]:{open_port}/x.ics", f"http://0x7f000001:{open_port}/x.ics")):
        env.slack.command("/availability", f"calendar {url}", user_id=INTV)
        answers.append(json.loads(_last_text(env, 5 + n))["text"])
    with pytest.raises(BlockingIOError):
        listener.accept()  # nothing ever connected
    listener.close()
    assert "cannot be used" in answers[0]
    assert {a.replace(str(open_port), "P").replace(str(closed_port), "P") for a in answers[:2]} == {
        answers[0].replace(str(open_port), "P")}
    assert all("cannot be used" in a for a in answers)
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(CalendarLink)).all() == []


def test_a_form_opens_at_once_while_searches_wait_on_a_hanging_calendar(loopback_env: SlackEnv, feed: Feed) -> None:
    """Forms are opened on their own pool: searches stuck on a slow feed (the request workers
    all busy) never make Slack's 3 s trigger expire."""
    env = loopback_env
    _seed(env)
    env.slack.command("/availability", f"calendar {feed.url}", user_id=INTV)
    _last_text(env, 5)
    feed.delay = 4.0  # each read hangs (the read timeout is 5 s)
    env.clock.set(NOW + timedelta(hours=1))  # past the refresh interval: every search re-reads it
    for _ in range(4):
        env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR)
    time.sleep(0.3)  # the searches have started and hang on the feed
    sent = time.time()
    env.slack.command("/interview", "", user_id=HR, trigger_id="T-while-hanging")
    opened = env.fake.wait_for("views.open")[-1]
    assert opened.args["trigger_id"] == "T-while-hanging"
    assert opened.time - sent < 1.0, "the form waited behind the searches"
    _last_text(env, 9)  # the searches finish too
