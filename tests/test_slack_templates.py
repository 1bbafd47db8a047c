"""Templates from Slack: defined with /interview template, picked in the modal, their caps
applied the same way when listing and when booking."""

from __future__ import annotations

import json

from sqlalchemy import select

from storage.models import InterviewTemplate, Person
from tests.slack_app import CAND, HR, INTV, INTV2, SlackEnv
from tests.slack_requests import block_actions_payload, datepicker


def _reply(env: SlackEnv, before: int) -> str:
    return json.dumps(env.fake.wait_for("response_url", count=before + 1)[-1].args, ensure_ascii=False)


def _seed(env: SlackEnv) -> None:
    for user, role in ((CAND, "candidate"), (INTV, "interviewer"), (INTV2, "interviewer")):
        env.slack.command("/interview-register", role, user_id=user)
    env.fake.wait_for("response_url", count=3)
    env.slack.command("/availability", "add 2026-12-02 16:00-19:00, 2026-12-03 16:00-19:00", user_id=CAND)
    env.slack.command("/availability", "add 2026-12-02 09:00-12:00, 2026-12-03 09:00-12:00", user_id=INTV)
    env.slack.command("/availability", "add 2026-12-02 22:00-02:00, 2026-12-03 22:00-02:00", user_id=INTV2)
    env.fake.wait_for("response_url", count=6)


def test_template_defined_in_slack_drives_the_modal_search(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    n = len(env.fake.calls("response_url"))
    env.slack.command("/interview", f'template add "Panel loop" 60m <@{INTV}> <@{INTV2}> day=1 before=0', user_id=HR)
    assert "Template saved" in _reply(env, n) and "Panel loop" in _reply(env, n)
    env.slack.command("/interview", "template add Solo 60m", user_id=HR)
    assert "Mention the interviewers" in _reply(env, n + 1)
    env.slack.command("/interview", f"template add Rogue 60m <@{INTV}>", user_id=CAND)
    assert "Only HR" in _reply(env, n + 2)
    env.slack.command("/interview", "template list", user_id=HR)
    listing = _reply(env, n + 3)
    assert "Panel loop" in listing and "caps 1/day" in listing and "Rogue" not in listing

    env.slack.command("/interview", "", user_id=HR)
    form = env.fake.wait_for("views.update")[-1].args["view"]
    options = [b for b in form["blocks"] if b.get("block_id") == "template"][0]["element"]["options"]
    with env.db.unit_of_work(write=False) as uow:
        template = uow.session.scalars(select(InterviewTemplate)).one()
        cand = uow.session.scalars(select(Person).where(Person.slack_user_id == CAND)).one()
    assert options[0]["value"] == str(template.id)
    values = {
        "candidate": {"candidate": {"type": "external_select", "selected_option": {"value": str(cand.id)}}},
        "template": {"template": {"type": "static_select", "selected_option": {"value": str(template.id)}}},
        "interviewers": {"interviewers": {"type": "multi_external_select", "selected_options": []}},
        "duration": {"duration": {"type": "static_select", "selected_option": {"value": "30"}}},
        "from": {"from": datepicker("2026-12-01")},
        "to": {"to": datepicker("2026-12-04")},
    }
    before = len(env.fake.calls("views.update"))
    env.slack.view_submission(user_id=HR, callback_id="find_slots_modal", values=values, view_id="VT1")
    result = env.fake.wait_for("views.update", count=before + 1)[-1].args["view"]
    text = json.dumps(result["blocks"], ensure_ascii=False)
    # Everyone is free 15:00–17:00Z on both days; the template's 60 min wins over the form's 30.
    assert "60 min with Cara Diaz" in text and "Ivan Petrov, Iris Chen" in text
    books = [b["accessory"] for b in result["blocks"] if b.get("accessory", {}).get("action_id") == "book_slot"]
    assert len(books) == 6

    # Book the first day; the template's cap of one a day then hides that day from the search.
    before = len(env.fake.calls("views.update"))
    env.slack.action(block_actions_payload(user_id=HR, action_id="book_slot", value=books[0]["value"],
                                           view={**result, "id": "VT1"}))
    booked = env.fake.wait_for("views.update", count=before + 1)[-1].args["view"]
    assert "Booked:* Wed 2 Dec 2026, 15:00–16:00 WET" in json.dumps(booked, ensure_ascii=False)
    before += 1
    env.slack.view_submission(user_id=HR, callback_id="find_slots_modal", values=values, view_id="VT2")
    again = env.fake.wait_for("views.update", count=before + 1)[-1].args["view"]
    text = json.dumps(again["blocks"], ensure_ascii=False)
    assert text.count('"book_slot"') == 3 and "*Thu 3 Dec 2026*" in text and "*Wed 2 Dec 2026*" not in text
    assert "on Wed 2 Dec 2026 (cap per day)" in text  # the answer says which rule removed the other day
