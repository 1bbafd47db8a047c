"""Robust edges: first contacts at once, forged and malformed requests, and a database that is
slow or stalled while Slack waits at most 3 s for an answer."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from storage.db import Database
from storage.models import Job, Person, PersonRole
from tests.slack_app import CAND, INTV, SlackEnv, running_bot
from tests.slack_flows import seed_pair
from tests.slack_requests import datepicker, sign, timepicker
from tests.tcp_proxy import StallingProxy

NEWCOMER = "UNEW0001"


def _form(day: str = "2026-12-03") -> dict:
    return {"date": {"date": datepicker(day)}, "start": {"start": timepicker("09:00")},
            "end": {"end": timepicker("12:00")}, "repeat": {"repeat": {"type": "checkboxes", "selected_options": []}},
            "until": {"until": datepicker(None)}}


def _suggest(env: SlackEnv, user: str) -> tuple[float, list]:
    suggestion = {"type": "block_suggestion", "user": {"id": user}, "team": {"id": "T0001"},
                  "action_id": "candidate", "block_id": "candidate", "value": "", "api_app_id": "A0001",
                  "view": {"id": "VS", "type": "modal", "callback_id": "find_slots_modal"}}
    response = env.slack.action(suggestion)
    return response.elapsed, response.body["options"]


def test_ten_first_contacts_at_once_get_ten_clear_answers(slack_env: SlackEnv) -> None:
    env = slack_env
    env.fake.add_user(NEWCOMER, "Nia Novak", "nia@example.com", tz="Europe/Prague")
    barrier = threading.Barrier(10)

    def send(n: int) -> None:
        barrier.wait()
        env.slack.command("/interview-register", "candidate", user_id=NEWCOMER,
                          response_url=env.fake.response_url(f"first-{n}"))

    threads = [threading.Thread(target=send, args=(n,)) for n in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    answers = [c.args["text"] for c in env.fake.wait_for("response_url", count=10, timeout=20)]
    assert len(answers) == 10 and all("registered as a candidate" in a for a in answers), answers
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Person)) == 1
        assert uow.session.scalar(select(func.count()).select_from(PersonRole)) == 1


def test_unsigned_and_malformed_requests_are_refused_without_a_traceback(slack_env: SlackEnv, caplog) -> None:
    env = slack_env
    garbage = "payload=%7Bnot json"
    with caplog.at_level(logging.WARNING):
        unsigned = env.slack.send(garbage, "application/x-www-form-urlencoded", omit_signature=True)
        signed = env.slack.send(garbage, "application/x-www-form-urlencoded")
        broken_json = env.slack.send("{", "application/json")
        not_an_object = env.slack.send(urlencode({"payload": "[1, 2]"}), "application/x-www-form-urlencoded")
    assert (unsigned.status, signed.status, broken_json.status, not_an_object.status) == (401, 400, 400, 400)
    assert "Traceback" not in caplog.text and not [r for r in caplog.records if r.levelno >= logging.ERROR]
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Job)) == 0


def test_a_request_sent_after_five_minutes_of_replay_is_refused(slack_env: SlackEnv) -> None:
    env = slack_env
    body = urlencode({"command": "/interview-register", "text": "candidate", "user_id": CAND, "team_id": "T0001"})
    old = int(time.time()) - 6 * 60
    response = env.slack.send(body, "application/x-www-form-urlencoded", timestamp=old,
                              signature=sign("test-signing-secret", body, old))
    assert response.status == 401


@pytest.fixture
def locked_sqlite(db: Database) -> Iterator[sqlite3.Connection]:
    """Another writer holding SQLite's write lock (a long migration, a stuck process)."""
    if not db.is_sqlite:
        pytest.skip("SQLite's write lock")
    path = make_url(db.url).database
    holder = sqlite3.connect(path, timeout=1, isolation_level=None)
    yield holder
    holder.close()


def test_while_sqlite_is_locked_forms_commands_and_menus_answer_within_3_s(
        db: Database, locked_sqlite: sqlite3.Connection) -> None:
    with running_bot(db) as env:
        seed_pair(env)
        env.slack.command("/interview", "list", user_id="UHR0001")  # HR's first contact
        env.fake.wait_for("response_url", count=5)
        locked_sqlite.execute("BEGIN IMMEDIATE")
        try:
            form = env.slack.view_submission(user_id=INTV, callback_id="availability_modal", values=_form())
            command = env.slack.command("/availability", "list", user_id=CAND)
            elapsed, options = _suggest(env, "UHR0001")
        finally:
            locked_sqlite.execute("ROLLBACK")
        assert form.elapsed < 3 and form.body["response_action"] == "errors"
        assert "try again" in json.dumps(form.body["errors"])
        assert command.elapsed < 3 and "try again" in command.text
        assert elapsed < 3 and [o["text"]["text"] for o in options] == ["Cara Diaz (Europe/Berlin)"]  # reads go on
        env.slack.command("/availability", "list", user_id=CAND)
        env.fake.wait_for("response_url", count=6)  # and once the lock is gone, requests are taken again


@pytest.mark.postgres
def test_while_postgres_stalls_forms_commands_and_menus_answer_within_3_s(db: Database) -> None:
    """…and a request stored late, after its ack said it was not, is withdrawn, so that the
    person's second try (the very same request again) is taken."""
    if db.is_sqlite:
        pytest.skip("a stalled PostgreSQL connection")
    proxy = StallingProxy("127.0.0.1", make_url(db.url).port or 5432)
    proxied = Database(make_url(db.url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    try:
        with running_bot(proxied) as env:
            seed_pair(env)
            proxy.stall()
            try:
                form = env.slack.view_submission(user_id=INTV, callback_id="availability_modal", values=_form())
                command = env.slack.command("/availability", "list", user_id=CAND, trigger_id="T-late",
                                            response_url=env.fake.response_url("late"))
                elapsed, options = _suggest(env, "UHR0001")
            finally:
                proxy.resume()
            assert form.elapsed < 3 and form.body["response_action"] == "errors"
            assert command.elapsed < 3 and "try again" in command.text
            assert elapsed < 3 and options == []
            time.sleep(2)  # what was stuck reaches the database now
            with db.unit_of_work(write=False) as uow:
                late = uow.session.scalars(select(Job).where(Job.kind == "slack.request")).all()
            assert all(j.status.value == "cancelled" and j.dedupe_key is None for j in late
                       if j.payload["route"] == "availability" and j.payload["args"]["text"] == "list")
            again = env.slack.command("/availability", "list", user_id=CAND, trigger_id="T-late",
                                      response_url=env.fake.response_url("late"))
            assert again.status == 200 and not again.text
            answers = env.fake.wait_for("response_url", count=5, timeout=20)  # recovered and answered
            assert any(c.path.endswith("/late") and "availability" in c.args["text"] for c in answers)
    finally:
        proxy.close()
        proxied.dispose()


def test_odd_numbers_and_dates_get_a_clear_answer(slack_env: SlackEnv) -> None:
    env = slack_env
    seed_pair(env)
    cases = [("/availability", "remove ²", CAND, "number of the window"),
             ("/interview", "template remove 99999999999999999999", "UHR0001", "No interview template"),
             ("/interview", f"slots <@{CAND}> <@{INTV}> from +99999999999", "UHR0001", "is not a date"),
             ("/interview", f"slots <@{CAND}> <@{INTV}> 0m", "UHR0001", "must be positive")]
    for n, (command, text, user, _) in enumerate(cases):
        env.slack.command(command, text, user_id=user, response_url=env.fake.response_url(f"odd-{n}"))
    for n, (_, text, _, expected) in enumerate(cases):
        answer = env.fake.wait_for("response_url", count=4 + len(cases))
        got = next(c.args["text"] for c in answer if c.path.endswith(f"/odd-{n}"))
        assert expected in got and "could not finish" not in got, (text, got)


def test_entities_in_command_text_mean_the_characters(slack_env: SlackEnv) -> None:
    """Slack sends `&`, `<`, `>` typed in a command as entities; names are stored as typed."""
    env = slack_env
    env.slack.command("/interview", "list", user_id="UHR0001")
    env.fake.wait_for("response_url")
    env.slack.command("/interview-admin", "candidate add tom@example.com Tom &amp; Jerry &lt;3", user_id="UHR0001")
    env.fake.wait_for("response_url", count=2)
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Person.name).where(Person.email == "tom@example.com")).one() == "Tom & Jerry <3"


def test_without_the_right_naming_someone_looks_nobody_up(slack_env: SlackEnv) -> None:
    """Only HR may act for others: a candidate naming a user makes the bot fetch nobody."""
    env = slack_env
    env.fake.add_user("UOTHER01", "Otto Other", "otto@example.com")
    env.slack.command("/interview-register", "candidate", user_id=CAND)
    env.fake.wait_for("response_url")
    env.slack.command("/availability", "for <@UOTHER01> list", user_id=CAND)
    env.slack.command("/interview", f"slots <@UOTHER01> <@{INTV}>", user_id=CAND)
    answers = [c.args["text"] for c in env.fake.wait_for("response_url", count=3)[1:]]
    assert all("Only HR" in a for a in answers), answers
    assert [c.args["user"] for c in env.fake.calls("users.info")] == [CAND]


def test_a_modal_click_that_cannot_be_recorded_is_answered_in_the_modal(
        db: Database, locked_sqlite: sqlite3.Connection) -> None:
    from tests.slack_requests import block_actions_payload, modal_view

    with running_bot(db) as env:
        locked_sqlite.execute("BEGIN IMMEDIATE")
        try:
            view = modal_view(callback_id="slots_results", view_id="VCLICK")
            response = env.slack.action(block_actions_payload(user_id="UHR0001", action_id="book_slot",
                                                              value="{}", view=view))
        finally:
            locked_sqlite.execute("ROLLBACK")
        assert response.status == 200 and response.elapsed < 3
        shown = env.fake.wait_for("views.update")[-1].args
        assert shown["view_id"] == "VCLICK" and "try again" in json.dumps(shown["view"])
