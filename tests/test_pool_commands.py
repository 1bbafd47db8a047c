"""Interviewer pools made by HR, in Slack and at the command line: created on first add, only
interviewers, names checked, removal of members or the pool, HR only, one workspace's pools."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.cli import main
from storage.db import Database
from storage.models import Interview, Person, Pool, PoolMember
from storage.pools import PoolError, add_members, remove_members
from tests.factories import add_person
from tests.slack_app import CAND, HR, INTV, INTV2, SlackEnv
from tests.slack_flows import answer_to, click
from tests.slack_requests import block_actions_payload


def _reply(env: SlackEnv, before: int) -> str:
    return json.dumps(env.fake.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False)


def test_hr_builds_and_changes_a_pool_in_slack(slack_env: SlackEnv) -> None:
    env = slack_env
    for user, role in ((CAND, "candidate"), (INTV, "interviewer"), (INTV2, "interviewer")):
        env.slack.command("/interview-register", role, user_id=user)
    n = len(env.fake.wait_for("response_url", count=3))
    env.slack.command("/interview", f"pool add Backend <@{INTV}> <@{INTV2}>", user_id=HR)
    assert "Added" in _reply(env, n) and "*backend* (2)" in _reply(env, n)
    env.slack.command("/interview", f"pool add backend <@{CAND}>", user_id=HR)
    assert "not registered as an interviewer" in _reply(env, n + 1)
    env.slack.command("/interview", f"pool add backend <@{INTV}>", user_id=CAND)
    assert "Only HR" in _reply(env, n + 2)
    env.slack.command("/interview", f"pool add two words <@{INTV}>", user_id=HR)
    assert "Name one pool" in _reply(env, n + 3)
    env.slack.command("/interview", f"pool remove backend <@{INTV2}>", user_id=HR)
    assert "Removed" in _reply(env, n + 4) and "*backend* (1)" in _reply(env, n + 4)
    env.slack.command("/interview", "pool list", user_id=HR)
    assert "Interviewer pools" in _reply(env, n + 5) and "backend" in _reply(env, n + 5)
    env.slack.command("/interview", "pool remove backend", user_id=HR)
    assert "Removed the pool backend" in _reply(env, n + 6)
    env.slack.command("/interview", "pool", user_id=HR)
    assert "/interview pool add backend" in _reply(env, n + 7)
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Pool)).all() == []
        assert uow.session.scalars(select(PoolMember)).all() == []
    assert env.fake.errors == []


def test_pools_at_the_command_line(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
    assert main(["migrate"]) == 0
    for uid, role in (("U1", "interviewer"), ("U2", "interviewer"), ("U3", "candidate")):
        assert main(["people", "add", uid, "--name", f"Person {uid}", "--tz", "UTC", "--role", role]) == 0
    capsys.readouterr()
    assert main(["pool", "add", "backend", "--members", "U1,U2"]) == 0
    assert "Pool backend (2): Person U1, Person U2" in capsys.readouterr().out
    assert main(["pool", "add", "backend", "--members", "U3"]) == 2
    assert "Person U3 is not registered as an interviewer" in capsys.readouterr().err
    assert main(["pool", "remove", "backend", "--members", "U1"]) == 0
    assert main(["pool", "list"]) == 0
    assert "backend (1): Person U2" in capsys.readouterr().out
    assert main(["pool", "remove", "backend"]) == 0
    assert main(["pool", "remove", "backend"]) == 2
    assert "There is no pool named 'backend'" in capsys.readouterr().err


def test_a_refused_add_writes_nothing_and_pools_belong_to_their_workspace(db: Database) -> None:
    ana = add_person(db, "U1", "interviewer")
    cara = add_person(db, "U2", "candidate")
    other = add_person(db, "U9", "interviewer", workspace="T2")
    with db.unit_of_work() as uow:
        s = uow.session
        with pytest.raises(PoolError, match="not registered as an interviewer"):
            add_members(s, "local", "backend", [s.get(type(ana), ana.id), s.get(type(cara), cara.id)])
        assert s.scalars(select(Pool)).all() == []
        add_members(s, "local", "backend", [s.get(type(ana), ana.id)])
        add_members(s, "T2", "backend", [s.get(type(other), other.id)])
        uow.commit()
    with db.unit_of_work() as uow:
        s = uow.session
        with pytest.raises(PoolError, match="None of them"):
            remove_members(s, "T2", "backend", [s.get(type(ana), ana.id)])
        pools = {p.workspace_id: [m.person_id for m in p.members] for p in s.scalars(select(Pool))}
    assert pools == {"local": [ana.id], "T2": [other.id]}


def _pool_search(env: SlackEnv, second_free: str) -> tuple[int, dict]:
    """A candidate (Berlin, 15–18Z), a pool of two (New York 14–17Z, and `second_free`), and HR's
    `slots … pool:backend`; returns the replies so far and the search's reply."""
    for user, role in ((CAND, "candidate"), (INTV, "interviewer"), (INTV2, "interviewer")):
        env.slack.command("/interview-register", role, user_id=user)
    n = len(env.fake.wait_for("response_url", count=3))
    env.slack.command("/availability", "add 2026-12-02 16:00-19:00", user_id=CAND)
    env.slack.command("/availability", "add 2026-12-02 09:00-12:00", user_id=INTV)
    env.slack.command("/availability", f"add {second_free}", user_id=INTV2)
    env.slack.command("/interview", f"pool add backend <@{INTV}> <@{INTV2}>", user_id=HR)
    n = len(env.fake.wait_for("response_url", count=n + 4))
    env.slack.command("/interview", f"slots <@{CAND}> pool:backend 60m", user_id=HR)
    return n, env.fake.wait_for("response_url", count=n + 1)[-1].args


def test_hr_searches_with_a_pool_in_slack_and_books_the_chosen_member(slack_env: SlackEnv) -> None:
    """`pool:backend` in the text search: each slot names who was chosen and why, and its Book
    button books exactly that person (re-checked like any panel)."""
    env = slack_env
    n, reply = _pool_search(env, second_free="2026-12-02 22:00-02:00")
    text = json.dumps(reply, ensure_ascii=False)
    assert "from the pool backend" in text and "0 this week, team median 0" in text
    rows = [b["elements"] for b in reply["blocks"] if b["type"] == "actions" and b["block_id"].startswith("pool_slot")]
    buttons = [row[0] for row in rows]
    assert buttons and all(b["action_id"] == "book_slot" for b in buttons), text
    env.slack.command("/interview", f"slots <@{CAND}> pool:nope", user_id=HR)
    assert "There is no pool named" in _reply(env, n + 1)
    env.slack.command("/interview", f"slots <@{CAND}> pool:backend", user_id=CAND)
    assert "Only HR" in _reply(env, n + 2)
    confirmation = answer_to(env, click(env, buttons[0]))
    assert "Booked" in confirmation
    with env.db.unit_of_work(write=False) as uow:
        interview = uow.session.scalars(select(Interview)).one()
        people = {uow.session.get(Person, p.person_id).slack_user_id for p in interview.participants}
    assert people == {CAND, INTV}
    assert env.fake.errors == []


def test_one_click_books_another_free_member_of_the_pool_instead(slack_env: SlackEnv) -> None:
    env = slack_env
    n, reply = _pool_search(env, second_free="2026-12-02 15:00-18:00 UTC")
    rows = [b["elements"] for b in reply["blocks"] if b["type"] == "actions" and b["block_id"].startswith("pool_slot")]
    menu = next(row[1] for row in rows if len(row) > 1)  # both free: the other one is offered
    assert menu["type"] == "static_select" and menu["action_id"] == "book_swap"
    option = menu["options"][0]
    name = f"swap-{n}"
    payload = block_actions_payload(user_id=HR, action_id="book_swap", action_type="static_select",
                                    selected_option=option["value"], response_url=env.fake.response_url(name))
    assert env.slack.action(payload).status == 200
    assert "Booked" in answer_to(env, name)
    with env.db.unit_of_work(write=False) as uow:
        interview = uow.session.scalars(select(Interview)).one()
        people = {uow.session.get(Person, p.person_id).name for p in interview.participants}
    assert option["text"]["text"] in people and len(people) == 2
    forged = block_actions_payload(user_id=HR, action_id="book_swap", action_type="static_select",
                                   selected_option="1|x|60|n|0", response_url=env.fake.response_url("forged"))
    assert env.slack.action(forged).status == 200
    assert "out of date" in answer_to(env, "forged")
    assert env.fake.errors == []


def test_many_pool_slots_fit_one_message_and_say_how_many_are_shown() -> None:
    from datetime import timedelta

    from bot.blocks.pool_slots import pool_blocks
    from bot.usecases.pool_search import PoolSlot, PoolSlotsFound
    from scheduling.intervals import Interval
    from tests.factories import utc

    first = utc("2026-12-02 09:00")
    slots = tuple(PoolSlot(Interval(first + timedelta(minutes=30 * i), first + timedelta(minutes=30 * i + 60)),
                           ("U1",), ("Ana",), (2,), ("U2",), ("Ben",), (3,), "Ana: 0 this week")
                  for i in range(200))
    found = PoolSlotsFound("Cara", 1, "Europe/Berlin", "UTC", "backend", 1, 60, "n0nce", slots)
    blocks = pool_blocks(found, limit=50)
    assert len(blocks) <= 50
    shown = sum(1 for b in blocks if b["type"] == "actions")
    assert 15 <= shown < 200
    assert f"200 slot(s); the first {shown} shown" in json.dumps(blocks)
