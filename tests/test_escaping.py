"""Hostile names and input, end to end: whatever people put in their Slack profile, a template
name or a command, it never becomes a link, a mention or a broadcast in anyone's message,
modal or Home tab; the .ics keeps the plain name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from icalendar import Calendar

from bot.blocks.common import esc
from storage.db import Database
from tests.slack_app import CAND, HR, INTV, SlackEnv, running_bot
from tests.slack_flows import answer_to, book_buttons, click, seed_pair

EVE = "Eve <http://evil.example|Confirm your interview> <!channel>"
MALLORY = "Mallory <@U0BOT> & <!here> <#C0001>"
CONTROL = ("<http", "<!channel>", "<!here>", "<@U0BOT>", "<#C0001>", "<mailto:")


def _mrkdwn_texts(value: Any) -> Iterator[str]:
    """Every text Slack would parse as mrkdwn: mrkdwn objects, and a message's top-level text."""
    if isinstance(value, dict):
        if value.get("type") == "mrkdwn" and isinstance(value.get("text"), str):
            yield value["text"]
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                yield from _mrkdwn_texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _mrkdwn_texts(item)


def _outgoing(env: SlackEnv) -> list[str]:
    texts = []
    for call in env.fake.calls():
        if call.method in ("chat.postMessage", "chat.postEphemeral", "chat.update", "response_url"):
            texts.append(call.args.get("text") or "")
        texts.extend(_mrkdwn_texts({k: v for k, v in call.args.items() if k != "text"}))
    return texts


@pytest.fixture
def hostile(db: Database) -> Iterator[SlackEnv]:
    with running_bot(db) as env:
        env.fake.add_user(CAND, EVE, "eve@example.com", tz="Europe/Berlin")
        env.fake.add_user(INTV, MALLORY, "mallory@example.com", tz="America/New_York")
        yield env


def test_hostile_names_never_render_as_links_or_mentions(hostile: SlackEnv) -> None:
    env = hostile
    seed_pair(env)
    env.slack.command("/availability", "add <!channel> <http://evil.example|now>", user_id=CAND)  # echoed back
    env.fake.wait_for("response_url", count=5)
    booked = answer_to(env, click(env, book_buttons(env)[0]))
    assert "Booked" in booked
    env.fake.wait_for("files.completeUploadExternal", count=2)
    n = len(env.fake.calls("response_url"))
    for text in ("list", "candidates", "interviewers", f'template add "<!here> loop" 60m <@{INTV}>', "template list",
                 f"offer <@{CAND}> <@{INTV}> 60m 1 slots"):
        env.slack.command("/interview", text, user_id=HR)
    env.slack.command("/interview", "list", user_id=CAND)
    env.fake.wait_for("response_url", count=n + 7)
    for user in (HR, CAND, INTV):
        env.slack.event({"type": "app_home_opened", "user": user, "channel": "D1", "tab": "home"})
    env.fake.wait_for("views.publish", count=3)
    env.fake.wait_for("chat.postMessage", count=3)  # two notices and the offer

    texts = _outgoing(env)
    leaks = [t for t in texts if any(c in t for c in CONTROL)]
    assert leaks == [], leaks
    shown = "\n".join(texts)
    assert esc(EVE) in shown and esc(MALLORY) in shown  # the names are there, as text
    assert esc("<!here> loop") in shown
    invitation = Calendar.from_ical(env.fake.uploads()[0]["content"]).walk("VEVENT")[0]
    assert str(invitation["SUMMARY"]) == f"Interview: {EVE}"  # plain text, not mrkdwn


def test_plain_text_fields_keep_the_name_as_it_is(hostile: SlackEnv) -> None:
    """Headers and buttons are plain_text: Slack shows them literally, so they are not escaped."""
    env = hostile
    seed_pair(env)
    book_buttons(env)
    header = next(b for b in env.fake.calls("response_url")[-1].args["blocks"] if b["type"] == "header")
    assert header["text"]["type"] == "plain_text" and EVE in json.dumps(header, ensure_ascii=False).replace("\\", "")
