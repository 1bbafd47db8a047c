"""End-to-end journeys through the Slack surface: signed HTTP in, Web API calls out."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from storage.models import AvailabilityWindow, Person, PersonRole, Role
from tests.slack_app import CAND, HR, INTV, INTV2, STRANGER, SlackEnv
from tests.slack_requests import checkboxes, datepicker, timepicker


def _windows(env: SlackEnv) -> int:
    with env.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(AvailabilityWindow)) or 0


def _reply(env: SlackEnv, count: int = 1) -> dict:
    """The latest response_url post (ephemeral reply to a command or button)."""
    return env.fake.wait_for("response_url", count=count)[-1].args


def _text_of(message: dict) -> str:
    return json.dumps(message.get("blocks") or message.get("text"), ensure_ascii=False)


def _register(env: SlackEnv, user: str, role: str) -> None:
    before = len(env.fake.calls("response_url"))
    env.slack.command("/interview-register", role, user_id=user)
    env.fake.wait_for("response_url", count=before + 1)


def test_candidate_adds_availability_by_text_in_their_zone(slack_env: SlackEnv) -> None:
    env = slack_env
    _register(env, CAND, "candidate")
    response = env.slack.command("/availability", "add 2026-12-02 10:00-14:00", user_id=CAND)
    assert response.status == 200 and response.elapsed < 1.0
    reply = _reply(env, 2)
    assert "Wed 2 Dec 2026, 10:00–14:00 CET" in _text_of(reply)
    assert reply.get("response_type") == "ephemeral"
    with env.db.unit_of_work(write=False) as uow:
        window = uow.session.scalars(select(AvailabilityWindow)).one()
        person = uow.session.get(Person, window.person_id)
        assert (person.name, person.tz, person.email) == ("Cara Diaz", "Europe/Berlin", "cara@example.com")
        assert window.start_at.isoformat() == "2026-12-02T09:00:00+00:00"  # 10:00 Berlin
    env.slack.command("/availability", "list", user_id=CAND)
    assert "Wed 2 Dec 2026, 10:00–14:00 CET" in _text_of(_reply(env, 3))


def test_bad_availability_text_explains_with_an_example_and_stores_nothing(slack_env: SlackEnv) -> None:
    env = slack_env
    _register(env, CAND, "candidate")
    cases = [
        ("add 2026-12-02 14:00-10:00x", "For example"),
        ("add 2020-01-01 10:00-11:00", "past"),
        ("add 2027-06-01 10:00-11:00", "too far ahead"),
        ("add 2026-12-02 10:00-11:00 Mars/Olympus", "Mars/Olympus"),
        ("add", "For example"),
    ]
    for n, (text, expected) in enumerate(cases, start=2):
        env.slack.command("/availability", text, user_id=CAND)
        body = _text_of(_reply(env, n))
        assert expected.lower() in body.lower(), (text, body)
        assert "For example" in body, body
    assert _windows(env) == 0


def test_unregistered_person_is_told_to_register(slack_env: SlackEnv) -> None:
    env = slack_env
    env.slack.command("/availability", "add 2026-12-02 10:00-11:00", user_id=STRANGER)
    assert "/interview-register" in _text_of(_reply(env))
    assert _windows(env) == 0


def _modal_values(day: str, start: str, end: str, *, weekly: bool = False, until: str | None = None) -> dict:
    values = {
        "date": {"date": datepicker(day)},
        "start": {"start": timepicker(start)},
        "end": {"end": timepicker(end)},
        "repeat": {"repeat": checkboxes(["weekly"] if weekly else [])},
        "until": {"until": datepicker(until)},
    }
    return values


def test_availability_modal_opens_then_saves_a_weekly_repeat(slack_env: SlackEnv) -> None:
    env = slack_env
    _register(env, INTV, "interviewer")
    response = env.slack.command("/availability", "", user_id=INTV, trigger_id="T-trig-1")
    assert response.status == 200
    opened = env.fake.wait_for("views.open")[0]
    assert opened.args["trigger_id"] == "T-trig-1"
    update = env.fake.wait_for("views.update")[0].args
    assert update["view"]["callback_id"] == "availability_modal"
    metadata = update["view"]["private_metadata"]
    response = env.slack.view_submission(
        user_id=INTV, callback_id="availability_modal", private_metadata=metadata,
        values=_modal_values("2026-12-01", "09:00", "12:00", weekly=True, until="2026-12-22"),
    )
    assert response.status == 200 and not response.text.strip()
    env.fake.wait_for("chat.postEphemeral")
    assert _windows(env) == 4  # Tue 1, 8, 15, 22 Dec
    with env.db.unit_of_work(write=False) as uow:
        starts = [w.start_at.hour for w in uow.session.scalars(select(AvailabilityWindow))]
    assert starts == [14, 14, 14, 14]  # 09:00 New York, EST throughout


def test_the_availability_form_follows_the_same_rules_as_the_text_command(slack_env: SlackEnv) -> None:
    """An unregistered person cannot store availability through the form either."""
    env = slack_env
    response = env.slack.view_submission(user_id=STRANGER, callback_id="availability_modal", private_metadata="{}",
                                         values=_modal_values("2026-12-02", "09:00", "12:00"))
    assert response.body["response_action"] == "errors", response.text  # said in the form, under its field
    assert "/interview-register" in json.dumps(response.body["errors"]), response.text
    assert _windows(env) == 0


def test_availability_modal_errors_are_keyed_to_the_field(slack_env: SlackEnv) -> None:
    env = slack_env
    _register(env, INTV, "interviewer")
    cases = [
        (_modal_values("2026-12-02", "14:00", "14:00"), "end"),
        (_modal_values("2026-11-01", "09:00", "10:00"), "date"),
        (_modal_values("2026-12-02", "09:00", "10:00", weekly=True), "until"),
        (_modal_values("2027-03-14", "02:30", "04:00"), "start"),  # New York DST gap
    ]
    for values, block in cases:
        response = env.slack.view_submission(user_id=INTV, callback_id="availability_modal", values=values)
        body = response.body
        assert response.status == 200 and body["response_action"] == "errors", body
        assert list(body["errors"]) == [block], body
    assert _windows(env) == 0


def test_forged_missing_and_stale_signatures_are_rejected_and_store_nothing(slack_env: SlackEnv) -> None:
    env = slack_env
    for forge in ({"signature": "v0=" + "0" * 64}, {"omit_signature": True},
                  {"timestamp": int(time.time()) - 6 * 60}):
        response = env.slack.command("/availability", "add 2026-12-02 10:00-11:00", user_id=CAND, **forge)
        assert response.status == 401
    time.sleep(0.2)
    assert env.fake.calls("users.info") == []
    assert _windows(env) == 0
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Person)) == 0


def _seed_pair(env: SlackEnv) -> None:
    _register(env, CAND, "candidate")
    _register(env, INTV, "interviewer")
    _register(env, INTV2, "interviewer")
    n = len(env.fake.calls("response_url"))
    env.slack.command("/availability", "add 2026-12-02 16:00-19:00", user_id=CAND)   # 15–18Z
    env.slack.command("/availability", "add 2026-12-02 09:00-12:00", user_id=INTV)   # 14–17Z
    env.slack.command("/availability", "add 2026-12-02 23:00-24:00", user_id=INTV2)  # 15–16Z
    env.fake.wait_for("response_url", count=n + 3)


def test_hr_finds_slots_in_the_modal_with_candidate_time_beside(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed_pair(env)
    env.slack.command("/interview", "", user_id=HR, trigger_id="T-hr-1")
    form = env.fake.wait_for("views.update")[-1].args["view"]
    assert form["callback_id"] == "find_slots_modal"
    with env.db.unit_of_work(write=False) as uow:
        cand = uow.session.scalars(select(Person).where(Person.slack_user_id == CAND)).one()
        intv = uow.session.scalars(select(Person).where(Person.slack_user_id == INTV)).one()
    suggestion = {
        "type": "block_suggestion", "user": {"id": HR}, "team": {"id": "T0001"},
        "action_id": "candidate", "block_id": "candidate", "value": "car", "api_app_id": "A0001",
        "view": {"id": "V1", "type": "modal", "callback_id": "find_slots_modal"},
    }
    options = env.slack.action(suggestion).body["options"]
    assert [o["value"] for o in options] == [str(cand.id)]
    values = {
        "candidate": {"candidate": {"type": "external_select", "selected_option": {"value": str(cand.id)}}},
        "interviewers": {"interviewers": {"type": "multi_external_select",
                                          "selected_options": [{"value": str(intv.id)}]}},
        "duration": {"duration": {"type": "static_select", "selected_option": {"value": "60"}}},
        "from": {"from": datepicker("2026-12-01")},
        "to": {"to": datepicker("2026-12-03")},
    }
    before = len(env.fake.calls("views.update"))
    response = env.slack.view_submission(user_id=HR, callback_id="find_slots_modal", values=values,
                                         view_id="VSEARCH1")
    assert response.body["response_action"] == "update"
    result = env.fake.wait_for("views.update", count=before + 1)[-1].args
    assert result["view_id"] == "VSEARCH1"
    text = json.dumps(result["view"]["blocks"], ensure_ascii=False)
    # HR is in Lisbon (WET = UTC); Cara in Berlin.
    for line in ("15:00–16:00 WET", "15:30–16:30 WET", "16:00–17:00 WET", "Cara Diaz: 16:00 CET"):
        assert line in text, text
    assert text.count('"book_slot"') == 3


def test_text_search_and_the_bottleneck_when_nothing_fits(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed_pair(env)
    n = len(env.fake.calls("response_url"))
    env.slack.command("/interview", f"slots <@{CAND}|cara> <@{INTV}> <@{INTV2}|iris> 60m", user_id=HR)
    text = _text_of(_reply(env, n + 1))
    assert "15:00–16:00 WET" in text and text.count('"book_slot"') == 1
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> <@{INTV2}> 90m", user_id=HR)
    text = _text_of(_reply(env, n + 2))
    assert "No common slot" in text and "Iris Chen" in text


def test_a_date_range_means_the_coordinators_own_days(slack_env: SlackEnv) -> None:
    """HR in New York asks for 27 Dec: slots of New York's 27 Dec, not the candidate's (Berlin),
    headed 27 Dec, with the candidate's time beside; the modal and the help say whose days."""
    env = slack_env
    env.fake.add_user(HR, "Hana Reyes", "hana@example.com", tz="America/New_York")
    _register(env, CAND, "candidate")
    _register(env, INTV, "interviewer")
    n = len(env.fake.calls("response_url"))
    env.slack.command("/availability", "add 2026-12-27 03:00-06:00", user_id=CAND)  # 26 Dec 21–24 New York
    env.slack.command("/availability", "add 2026-12-27 16:00-18:00", user_id=CAND)  # 27 Dec 10–12 New York
    env.slack.command("/availability", "add 2026-12-26 18:00-24:00", user_id=INTV)
    env.slack.command("/availability", "add 2026-12-27 08:00-14:00", user_id=INTV)
    env.fake.wait_for("response_url", count=n + 4)
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m from 2026-12-27 to 2026-12-27", user_id=HR)
    text = _text_of(_reply(env, n + 5))
    assert "Sun 27 Dec" in text and "Sat 26 Dec" not in text, text
    assert "10:00–11:00 EST" in text and "Cara Diaz: 16:00 CET" in text, text
    assert "21:00" not in text and text.count('"book_slot"') == 3, text
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m from 2026-12-28 to 2026-12-27", user_id=HR)
    assert "before" in _text_of(_reply(env, n + 6))
    env.slack.command("/interview", "help", user_id=HR)
    assert "days are yours" in _text_of(_reply(env, n + 7))
    env.slack.command("/interview", "", user_id=HR, trigger_id="T-hr-ny")
    form = json.dumps(env.fake.wait_for("views.update")[-1].args["view"])
    assert "Days in your time zone (America/New_York)" in form


def test_non_hr_is_refused_politely_and_sees_no_data(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed_pair(env)
    n = len(env.fake.calls("response_url"))
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}>", user_id=INTV)
    text = _text_of(_reply(env, n + 1))
    assert "Only HR" in text and "book_slot" not in text
    env.slack.command("/interview", "candidates", user_id=CAND)
    assert "Cara" not in _text_of(_reply(env, n + 2))
    env.slack.command("/interview", "", user_id=INTV)
    refusal = env.fake.wait_for("views.update")[-1].args["view"]
    assert "Only HR" in json.dumps(refusal)
    suggestion = {"type": "block_suggestion", "user": {"id": INTV}, "team": {"id": "T0001"},
                  "action_id": "candidate", "block_id": "candidate", "value": "", "api_app_id": "A0001",
                  "view": {"id": "V1", "type": "modal"}}
    assert env.slack.action(suggestion).body["options"] == []


def test_admin_grants_and_revokes_roles_only_for_hr(slack_env: SlackEnv) -> None:
    env = slack_env
    env.slack.command("/interview-admin", f"grant <@{INTV}|ivan> interviewer", user_id=STRANGER)
    assert "Only HR" in _text_of(_reply(env, 1))
    env.slack.command("/interview-admin", f"grant <@{INTV}|ivan> interviewer", user_id=HR)
    assert "Ivan Petrov is now an interviewer" in _text_of(_reply(env, 2))
    env.slack.command("/interview-admin", f"revoke <@{INTV}> interviewer", user_id=HR)
    assert "no longer" in _text_of(_reply(env, 3))
    env.slack.command("/interview-admin", f"grant <@{INTV}> wizard", user_id=HR)
    assert "not a role" in _text_of(_reply(env, 4))
    with env.db.unit_of_work(write=False) as uow:
        roles = uow.session.scalars(select(PersonRole.role)).all()
    assert roles == [Role.hr]


def test_registration_can_require_hr_approval(slack_env: SlackEnv) -> None:
    env = slack_env
    env.slack.command("/interview-admin", "approval on", user_id=HR)
    _reply(env, 1)
    env.slack.command("/interview-register", "interviewer", user_id=INTV)
    assert "HR will review" in _text_of(_reply(env, 2))
    dm = env.fake.wait_for("chat.postMessage")[0].args
    assert dm["channel"] == HR and "approve" in dm["text"]
    env.slack.command("/interview-admin", f"approve <@{INTV}>", user_id=HR)
    assert "Approved Ivan Petrov" in _text_of(_reply(env, 3))
    with env.db.unit_of_work(write=False) as uow:
        ivan = uow.session.scalars(select(Person).where(Person.slack_user_id == INTV)).one()
        assert ivan.role_names == {"interviewer"}


def test_hr_named_in_settings_get_registration_requests_before_ever_using_the_bot(db) -> None:
    from tests.slack_app import running_bot

    with running_bot(db, HR_USER_IDS=f"{HR},{INTV2}", REQUIRE_REGISTRATION_APPROVAL="true") as env:
        env.slack.command("/interview-register", "interviewer", user_id=INTV)
        assert "HR will review" in _text_of(_reply(env, 1))
        dms = env.fake.wait_for("chat.postMessage", count=2)
        assert sorted(c.args["channel"] for c in dms) == sorted([HR, INTV2])  # neither had used the bot
        assert all("approve" in c.args["text"] for c in dms)


def test_unknown_slack_user_gets_a_clear_message(slack_env: SlackEnv) -> None:
    env = slack_env
    env.slack.command("/interview", "slots <@UNOBODY1> <@UNOBODY2>", user_id=HR)
    assert "does not know the user" in _text_of(_reply(env, 1))


def test_app_home_shows_my_availability(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed_pair(env)
    env.slack.event({"type": "app_home_opened", "user": CAND, "channel": "D1", "tab": "home"})
    published = env.fake.wait_for("views.publish")[0].args
    assert published["user_id"] == CAND
    text = json.dumps(published["view"], ensure_ascii=False)
    assert "Wed 2 Dec 2026, 16:00–19:00 CET" in text and "Nothing booked" in text


def test_an_answer_slack_refuses_is_logged_and_the_asker_told_in_a_dm(slack_env: SlackEnv, caplog) -> None:
    env = slack_env
    _register(env, CAND, "candidate")
    env.fake.fail_next("response_url", status=400)  # e.g. a message over Slack's limits
    with caplog.at_level("ERROR"):
        env.slack.command("/availability", "list", user_id=CAND)
        note = env.fake.wait_for("chat.postMessage")[-1].args
    assert note["channel"] == CAND and "could not show you my answer" in note["text"], note
    assert "HTTP 400" in note["text"] and "giving up on job" in caplog.text


def test_a_direct_message_to_the_bot_is_answered_once_with_short_help(slack_env: SlackEnv) -> None:
    from tests.slack_requests import event_envelope

    env = slack_env
    dm = {"type": "message", "channel_type": "im", "channel": f"D{CAND}", "user": CAND, "text": "hello?",
          "ts": f"{time.time():.6f}"}
    envelope = event_envelope(dm)
    assert env.slack.event(envelope).status == 200
    assert env.slack.event(envelope, retry_num=1, retry_reason="http_timeout").status == 200  # Slack's retry
    # the bot's own messages and edits are not answered
    env.slack.event({**dm, "bot_id": "B1", "user": "UBOT"})
    env.slack.event({**dm, "subtype": "message_changed"})
    answer = env.fake.wait_for("chat.postMessage")[-1].args
    assert answer["channel"] == CAND and "/interview-register" in answer["text"] and "/availability" in answer["text"]
    time.sleep(0.5)
    assert len(env.fake.calls("chat.postMessage")) == 1


def test_a_candidate_without_slack_is_named_by_email_in_slots_and_offers(slack_env: SlackEnv) -> None:
    env = slack_env
    _register(env, INTV, "interviewer")
    n = len(env.fake.calls("response_url"))
    mail = "<mailto:dana@example.com|dana@example.com>"
    env.slack.command("/interview-admin", f"candidate add {mail} Dana Ito Europe/Berlin", user_id=HR)
    env.fake.wait_for("response_url", count=n + 1)
    env.slack.command("/availability", f"for {mail} add 2026-12-02 16:00-19:00", user_id=HR)
    reply = _text_of(_reply(env, n + 2))
    assert "Dana Ito's availability" in reply and "Your" not in reply, reply  # HR acting for her
    env.slack.command("/availability", "add 2026-12-02 09:00-12:00", user_id=INTV)
    env.fake.wait_for("response_url", count=n + 3)
    env.slack.command("/interview", f"slots {mail} <@{INTV}> 60m", user_id=HR)
    text = _text_of(_reply(env, n + 4))
    assert "15:00–16:00 WET" in text and text.count('"book_slot"') == 3, text
    env.slack.command("/interview", "slots dana@example.com <@{INTV}> 60m".replace("{INTV}", INTV), user_id=HR)
    assert _text_of(_reply(env, n + 5)).count('"book_slot"') == 3
    env.slack.command("/interview", f"offer {mail} <@{INTV}> 60m 2 slots", user_id=HR)
    assert "no Slack account" in _text_of(_reply(env, n + 6))


def test_a_long_result_of_one_slot_a_day_is_paged_within_a_messages_50_blocks(slack_env: SlackEnv) -> None:
    """Slots one per day over two months: the message stays within Slack's 50 blocks (the fake
    rejects more, as Slack does), pages, and the next page is one click away."""
    env = slack_env
    _register(env, CAND, "candidate")
    _register(env, INTV, "interviewer")
    n = len(env.fake.calls("response_url"))
    env.slack.command("/availability", "add mon-sun 10:00-11:00 weekly until 2027-01-31", user_id=CAND)  # 09Z
    env.fake.wait_for("response_url", count=n + 1)
    env.slack.command("/availability", "add mon-sun 04:00-05:00 weekly until 2027-01-31", user_id=INTV)  # 09Z
    env.fake.wait_for("response_url", count=n + 2)
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR)
    first = env.fake.wait_for("response_url", count=n + 3)[-1].args
    assert len(first["blocks"]) <= 50 and "69 slot(s) · page 1 of 4" in _text_of(first)  # from 24 Nov to 31 Jan
    later = next(e for b in first["blocks"] if b["type"] == "actions" for e in b["elements"]
                 if e["action_id"] == "slots_page_next")
    from tests.slack_flows import answer_to, press

    second = answer_to(env, press(env, HR, later["action_id"], later["value"]))
    assert "page 2 of 4" in second and second.count('"book_slot"') == _text_of(first).count('"book_slot"') == 22
    assert env.fake.errors == []
