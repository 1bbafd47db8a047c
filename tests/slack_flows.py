"""Steps of the Slack journeys that several test modules take: register and seed availability,
search, press buttons, read the answer a button got."""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from tests.slack_app import CAND, HR, INTV, SlackEnv
from tests.slack_requests import block_actions_payload


def text_of(call) -> str:
    return json.dumps(call.args, ensure_ascii=False)


def seed_pair(env: SlackEnv) -> None:
    before = len(env.fake.calls("response_url"))
    for user, role in ((CAND, "candidate"), (INTV, "interviewer")):
        env.slack.command("/interview-register", role, user_id=user)
    env.fake.wait_for("response_url", count=before + 2)
    env.slack.command("/availability", "add 2026-12-02 16:00-19:00", user_id=CAND)  # 15–18Z
    env.slack.command("/availability", "add 2026-12-02 09:00-12:00", user_id=INTV)  # 14–17Z
    env.fake.wait_for("response_url", count=before + 4)


def book_buttons(env: SlackEnv, user: str = HR) -> list[dict]:
    """Search as text and return the Book buttons of the reply."""
    before = len(env.fake.calls("response_url"))
    env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=user)
    reply = env.fake.wait_for("response_url", count=before + 1)[-1].args
    return [b["accessory"] for b in reply["blocks"] if b.get("accessory", {}).get("action_id") == "book_slot"]


_names = iter(range(10**6))


def click(env: SlackEnv, button: dict, user: str = HR, **headers: str) -> str:
    """Press a button; returns the name of its response_url, to wait on with `answer_to`."""
    name = f"click-{next(_names)}"
    payload = block_actions_payload(user_id=user, action_id=button["action_id"], value=button["value"],
                                    response_url=env.fake.response_url(name))
    assert env.slack.action(payload, extra_headers=headers or None).status == 200
    return name


def answer_to(env: SlackEnv, name: str, timeout: float = 5.0) -> str:
    """The (last) reply posted to the response_url called `name`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in env.fake.calls("response_url") if c.path.endswith(f"/{name}")]
        if found:
            return text_of(found[-1])
        time.sleep(0.02)
    raise AssertionError(f"no reply on {name}; calls: {[c.path for c in env.fake.calls('response_url')]}")


def press(env: SlackEnv, user: str, action_id: str, value: str) -> str:
    return click(env, {"action_id": action_id, "value": value}, user)


def count(env: SlackEnv, model) -> int:
    with env.db.unit_of_work(write=False) as uow:
        return uow.session.scalar(select(func.count()).select_from(model)) or 0


