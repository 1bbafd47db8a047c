"""Two workspaces on one bot: HR of workspace B tries every command, button, form, select menu
and the Home tab with workspace A's ids, and can neither read nor change anything of A.
HR_USER_IDS make someone HR in the installed workspace only."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.blocks.slots import book_query, book_value
from bot.usecases.search import SearchQuery
from scheduling.intervals import Interval
from storage.db import Database
from storage.models import (
    AvailabilityWindow,
    Interview,
    InterviewStatus,
    InterviewTemplate,
    Offer,
    Person,
    Role,
)
from tests.factories import add_person, utc
from tests.slack_app import (
    CAND,
    HR,
    INTV,
    NOW,
    SECRET,
    ManualClock,
    SlackEnv,
    add_users,
    serve,
    start_bot,
)
from tests.slack_fake import FakeSlack
from tests.slack_flows import answer_to, book_buttons, click, seed_pair
from tests.slack_requests import SlackClient, block_actions_payload, event_envelope

TEAM_B, TOKEN_B = "T0002", "xoxb-team-b"
HR_B = "UHRB0001"
LISTED_B = "UHRB0002"  # in HR_USER_IDS, but a member of B, where those do not apply
A_NAMES = ("Cara Diaz", "Ivan Petrov")


@pytest.fixture
def two_workspaces(db: Database) -> Iterator[tuple[SlackEnv, SlackClient]]:
    """The bot installed in A (the fake's default team, HR_USER_IDS there) and in B."""
    with FakeSlack() as fake:
        add_users(fake)
        fake.add_team(TEAM_B, TOKEN_B, name="Other Company")
        fake.add_user(HR_B, "Bea Bauer", "bea@other.example", tz="Europe/Vienna", team_id=TEAM_B)
        fake.add_user(LISTED_B, "Lee Listed", "lee@other.example", tz="UTC", team_id=TEAM_B)
        clock = ManualClock(NOW)
        bot, settings = start_bot(fake, db, clock, tokens=("xoxb-test-token", TOKEN_B),
                                  HR_USER_IDS=f"{HR},{LISTED_B}")
        url, server = serve(bot, settings)
        slack = SlackClient(url, SECRET, response_url=fake.response_url)
        add_person(db, HR_B, Role.hr, workspace=TEAM_B, tz="Europe/Vienna", name="Bea Bauer")
        try:
            yield SlackEnv(fake, slack, db, bot, url, clock), slack
        finally:
            server.close()  # type: ignore[attr-defined]
            bot.stop()
        assert fake.errors == [], fake.errors


def _a_state(db: Database) -> dict:
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        return {
            "interviews": [(i.id, i.status, i.start_at) for i in s.scalars(select(Interview))],
            "windows": [(w.id, w.start_at, w.end_at) for w in s.scalars(select(AvailabilityWindow))],
            "templates": [t.name for t in s.scalars(select(InterviewTemplate))],
            "offers": [(o.id, o.status) for o in s.scalars(select(Offer))],
            "people_a": sorted(p.name for p in s.scalars(select(Person).where(Person.workspace_id == "T0001"))),
        }


def _b_answer(env: SlackEnv, name: str) -> str:
    text = answer_to(env, name, timeout=10)
    assert not any(a in text for a in A_NAMES), text
    return text


def _b_command(env: SlackEnv, slack: SlackClient, command: str, text: str, user: str = HR_B) -> str:
    name = f"b-{command.strip('/')}-{time.monotonic_ns()}"
    assert slack.command(command, text, user_id=user, team_id=TEAM_B,
                         response_url=env.fake.response_url(name)).status == 200
    return _b_answer(env, name)


def _b_button(env: SlackEnv, slack: SlackClient, action_id: str, value: str) -> str:
    name = f"b-button-{time.monotonic_ns()}"
    payload = block_actions_payload(user_id=HR_B, action_id=action_id, value=value, team_id=TEAM_B,
                                    response_url=env.fake.response_url(name))
    assert slack.action(payload).status == 200
    return _b_answer(env, name)


def test_hr_of_another_workspace_can_neither_read_nor_change_anything(two_workspaces) -> None:
    env, slack = two_workspaces
    # Workspace A: people, availability, a booked interview, a template, an open offer.
    seed_pair(env)
    assert "Booked" in answer_to(env, click(env, book_buttons(env)[0]))
    env.slack.command("/interview", f'template add "A loop" 60m <@{INTV}>', user_id=HR)
    env.slack.command("/interview", f"offer <@{CAND}> <@{INTV}> 60m 1 slots", user_id=HR)
    env.fake.wait_for("chat.postMessage", count=3)
    before = _a_state(env.db)
    [(interview_id, _, start)] = before["interviews"]
    window_id = before["windows"][0][0]
    with env.db.unit_of_work(write=False) as uow:
        cand = uow.session.scalars(select(Person).where(Person.slack_user_id == CAND)).one()
        intv = uow.session.scalars(select(Person).where(Person.slack_user_id == INTV)).one()
        template_id = uow.session.scalars(select(InterviewTemplate.id)).one()
        offer_id = uow.session.scalars(select(Offer.id)).one()
    query = SearchQuery(candidate=cand.id, interviewers=[intv.id], duration=60, nonce="attack")
    slot = Interval(utc("2026-12-02 16:00"), utc("2026-12-02 17:00"))

    # Commands.
    assert "no availability window" in _b_command(env, slack, "/availability", f"remove {window_id}")
    assert "Nobody is registered" in _b_command(env, slack, "/availability", "for cara@example.com list")
    assert "does not know" in _b_command(env, slack, "/interview", f"slots <@{CAND}> <@{INTV}> 60m")
    assert "Nothing upcoming" in _b_command(env, slack, "/interview", "list")
    assert "Nobody yet" in _b_command(env, slack, "/interview", "candidates")
    assert "No interview template" in _b_command(env, slack, "/interview", f"template remove {template_id}")
    assert "None yet" in _b_command(env, slack, "/interview", "template list")
    # Buttons, with A's ids in their values.
    assert "no longer registered" in _b_button(env, slack, "book_slot", book_value(book_query(query), slot))
    assert "no longer registered" in _b_button(env, slack, "slots_page_next", query.dumps())
    for action in ("interview_cancel", "interview_reschedule"):
        assert f"no interview #{interview_id}" in _b_button(env, slack, action, str(interview_id))
    move = json.dumps({"i": interview_id, "s": "2026-12-02T16:00:00Z"})
    assert f"no interview #{interview_id}" in _b_button(env, slack, "interview_move_0", move)
    assert "no interview" in _b_button(env, slack, "interview_grade_5", json.dumps({"i": interview_id, "g": 5}))
    assert "no longer exists" in _b_button(env, slack, "offer_pick_0", json.dumps({"o": offer_id, "i": 0}))
    # The find-slots form, submitted with A's people.
    values = {"candidate": {"candidate": {"type": "external_select", "selected_option": {"value": str(cand.id)}}},
              "interviewers": {"interviewers": {"type": "multi_external_select",
                                                "selected_options": [{"value": str(intv.id)}]}},
              "duration": {"duration": {"type": "static_select", "selected_option": {"value": "60"}}}}
    updates = len(env.fake.calls("views.update"))
    slack.view_submission(user_id=HR_B, callback_id="find_slots_modal", values=values, view_id="VB1",
                          team_id=TEAM_B)
    shown = json.dumps(env.fake.wait_for("views.update", count=updates + 1)[-1].args, ensure_ascii=False)
    assert "no longer registered" in shown and not any(a in shown for a in A_NAMES)
    # Select menus and the Home tab.
    for menu in ("candidate", "interviewers"):
        suggestion = {"type": "block_suggestion", "user": {"id": HR_B}, "team": {"id": TEAM_B}, "action_id": menu,
                      "block_id": menu, "value": "", "api_app_id": "A0001",
                      "view": {"id": "VB2", "type": "modal", "callback_id": "find_slots_modal"}}
        assert slack.action(suggestion).body["options"] == []
    slack.event(event_envelope({"type": "app_home_opened", "user": HR_B, "channel": "DB", "tab": "home"},
                               team_id=TEAM_B))
    home = json.dumps(env.fake.wait_for("views.publish")[-1].args, ensure_ascii=False)
    assert "Bea Bauer" in home and not any(a in home for a in A_NAMES)

    assert _a_state(env.db) == before  # nothing of A changed
    assert before["interviews"][0][1] is InterviewStatus.booked and start == utc("2026-12-02 15:00")


def test_hr_user_ids_apply_in_the_installed_workspace_only(two_workspaces) -> None:
    """HR_USER_IDS name a user of A and one of B: only A's becomes HR."""
    env, slack = two_workspaces
    assert "Only HR" in _b_command(env, slack, "/interview-admin", f"grant <@{LISTED_B}> hr", user=LISTED_B)
    assert "Your upcoming interviews" in _b_command(env, slack, "/interview", "list", user=LISTED_B)
    with env.db.unit_of_work(write=False) as uow:
        listed = uow.session.scalars(select(Person).where(Person.slack_user_id == LISTED_B)).one()
        assert listed.workspace_id == TEAM_B and not listed.has_role(Role.hr)
    env.slack.command("/interview", "list", user_id=HR, response_url=env.fake.response_url("a-list"))
    assert "Upcoming interviews" in answer_to(env, "a-list")  # in A the same id is HR


def test_a_workspace_the_bot_is_not_installed_in_is_not_served(two_workspaces) -> None:
    env, slack = two_workspaces
    response = slack.command("/interview", "list", user_id="UX0001", team_id="T9999",
                             response_url=env.fake.response_url("stranger"))
    assert response.status == 200 and "install" in answer_to(env, "stranger").lower()
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Person).where(Person.workspace_id == "T9999")).all() == []

