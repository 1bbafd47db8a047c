"""Booking journeys in Slack: Book, notifications with .ics, double clicks, races, cancel,
reschedule, grading, offers the candidate picks from, and listings."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

from icalendar import Calendar
from sqlalchemy import select

from storage.models import (
    Interview,
    InterviewParticipant,
    InterviewStatus,
    Offer,
    Person,
    Reminder,
    ReminderStatus,
)
from tests.factories import utc
from tests.slack_app import CAND, HR, INTV, SlackEnv, clock_at
from tests.slack_flows import answer_to as _answer
from tests.slack_flows import book_buttons as _book_buttons
from tests.slack_flows import click as _click
from tests.slack_flows import count as _count
from tests.slack_flows import press as _press
from tests.slack_flows import seed_pair as _seed
from tests.slack_flows import text_of as _text

HR2 = "UHR0002"


def test_book_notifies_everyone_in_their_zone_with_an_invitation(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    buttons = _book_buttons(env)
    assert len(buttons) == 3
    confirmation = _answer(env, _click(env, buttons[0]))
    assert "Booked" in confirmation and "interview_cancel" in confirmation
    dms = env.fake.wait_for("chat.postMessage", count=2)
    by_channel = {c.args["channel"]: c.args["text"] for c in dms}
    assert "16:00–17:00 CET" in by_channel[CAND]  # Cara, Berlin
    assert "10:00–11:00 EST" in by_channel[INTV]  # Ivan, New York
    files = [f for f in _wait_uploads(env, 2)]
    cal = Calendar.from_ical(files[0]["content"])
    event = cal.walk("VEVENT")[0]
    assert event["DTSTART"].dt == utc("2026-12-02 15:00") and int(event["SEQUENCE"]) == 0
    # an iTIP REQUEST (RFC 5546): the booking HR is the organizer, the participants attendees by name
    assert str(cal["METHOD"]) == "REQUEST" and str(event["ORGANIZER"]) == "mailto:hana@example.com"
    attendees = {str(a): str(a.params["CN"]) for a in event["ATTENDEE"]}
    assert attendees == {"mailto:cara@example.com": "Cara Diaz", "mailto:ivan@example.com": "Ivan Petrov"}
    with env.db.unit_of_work(write=False) as uow:
        interview = uow.session.scalars(select(Interview)).one()
        assert interview.uid == str(event["UID"])
        reminders = uow.session.scalars(select(Reminder)).all()
        assert sorted(r.offset_min for r in reminders) == [-60, 60, 60, 1440, 1440]  # + grade request
        assert {r.status for r in reminders} == {ReminderStatus.pending}


def _wait_uploads(env: SlackEnv, count: int) -> list[dict]:
    env.fake.wait_for("files.completeUploadExternal", count=count)
    return env.fake.uploads()


def test_double_click_and_slack_retry_book_once(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    button = _book_buttons(env)[0]
    names = [_click(env, button),
             _click(env, button, **{"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}),
             _click(env, button)]
    replies = [_answer(env, n) for n in names]
    assert sum("Already booked" in r for r in replies) == 2, replies
    assert _count(env, Interview) == 1 and _count(env, InterviewParticipant) == 2
    env.fake.wait_for("chat.postMessage", count=2)
    assert len(env.fake.calls("chat.postMessage")) == 2  # one DM each, not three


def test_two_hr_users_racing_for_overlapping_slots_one_wins(slack_env: SlackEnv) -> None:
    env = slack_env
    env.fake.add_user(HR2, "Hugo Ruiz", "hugo@example.com", tz="Europe/Lisbon")
    env.slack.command("/interview-admin", f"grant <@{HR2}> hr", user_id=HR)
    env.fake.wait_for("response_url")
    _seed(env)
    first = _book_buttons(env, HR)[0]             # 15:00–16:00Z
    second = _book_buttons(env, HR2)[1]           # 15:30–16:30Z, overlaps
    barrier = threading.Barrier(2)
    names: list[str] = []

    def click(button, user):
        barrier.wait()
        names.append(_click(env, button, user))

    threads = [threading.Thread(target=click, args=(first, HR)), threading.Thread(target=click, args=(second, HR2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    replies = [_answer(env, n) for n in names]
    assert sum("just taken" in r for r in replies) == 1, replies
    # the loser hears it lost a race, not that someone has no free time
    assert sum("someone just booked" in r and "no free" not in r for r in replies) == 1, replies
    assert sum("Booked" in r for r in replies) == 1, replies
    assert _count(env, Interview) == 1 and _count(env, InterviewParticipant) == 2


def test_cancel_and_reschedule_notify_everyone_and_move_reminders(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    _answer(env, _click(env, _book_buttons(env)[0]))
    env.fake.wait_for("chat.postMessage", count=2)
    with env.db.unit_of_work(write=False) as uow:
        interview_id = uow.session.scalars(select(Interview.id)).one()
    choices = json.loads(_answer(env, _press(env, HR, "interview_reschedule", str(interview_id))))["blocks"]
    moves = [b["accessory"] for b in choices if b.get("accessory", {}).get("action_id", "").startswith("interview_move")]
    assert moves and not any("T15:00" in m["value"] for m in moves)  # never its current time
    same = dict(moves[0], value=moves[0]["value"].replace(json.loads(moves[0]["value"])["s"], "2026-12-02T15:00:00Z"))
    assert "already at that time" in _answer(env, _press(env, HR, same["action_id"], same["value"]))
    assert len(env.fake.calls("chat.postMessage")) == 2  # nobody was told of a "move"
    target = next(m for m in moves if "T16:00" in m["value"])
    assert "Moved" in _answer(env, _press(env, HR, target["action_id"], target["value"]))
    moved = env.fake.wait_for("chat.postMessage", count=4)[-2:]
    assert all("moved" in c.args["text"] for c in moved)
    uploads = _wait_uploads(env, 4)
    assert int(Calendar.from_ical(uploads[-1]["content"]).walk("VEVENT")[0]["SEQUENCE"]) == 1
    with env.db.unit_of_work(write=False) as uow:
        interview = uow.session.get(Interview, interview_id)
        assert interview.start_at == utc("2026-12-02 16:00")
        due = {r.due_at for r in uow.session.scalars(select(Reminder))}
        assert due == {interview.start_at - timedelta(hours=24), interview.start_at - timedelta(hours=1),
                       interview.end_at}
    assert "Cancelled" in _answer(env, _press(env, HR, "interview_cancel", str(interview_id)))
    cancelled = env.fake.wait_for("chat.postMessage", count=6)[-2:]
    assert all("cancelled" in c.args["text"] for c in cancelled)
    uploads = _wait_uploads(env, 6)
    cal = Calendar.from_ical(uploads[-1]["content"])
    assert str(cal["METHOD"]) == "CANCEL"
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.get(Interview, interview_id).status is InterviewStatus.cancelled
        assert {r.status for r in uow.session.scalars(select(Reminder))} == {ReminderStatus.cancelled}


def test_only_hr_can_book_or_cancel(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    button = _book_buttons(env)[0]
    assert "Only HR" in _answer(env, _click(env, button, user=INTV))
    assert _count(env, Interview) == 0


def test_interviewer_grades_after_the_interview(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    _answer(env, _click(env, _book_buttons(env)[0]))
    with env.db.unit_of_work(write=False) as uow:
        interview_id = uow.session.scalars(select(Interview.id)).one()
    value = json.dumps({"i": interview_id, "g": 4})
    assert "not ended" in _answer(env, _press(env, INTV, "interview_grade_4", value))
    clock_at(env, utc("2026-12-02 17:00"))
    assert "Only the interviewers" in _answer(env, _press(env, CAND, "interview_grade_4", value))
    assert "graded" in _answer(env, _press(env, INTV, "interview_grade_4", value))
    with env.db.unit_of_work(write=False) as uow:
        part = uow.session.scalars(select(InterviewParticipant).where(InterviewParticipant.grade.is_not(None))).one()
        assert part.grade == 4


def test_candidate_picks_from_an_offer_first_pick_wins_and_it_expires(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    env.slack.command("/interview", f"offer <@{CAND}> <@{INTV}> 60m 2 slots", user_id=HR)
    offer_dm = env.fake.wait_for("chat.postMessage")[0].args
    assert offer_dm["channel"] == CAND
    picks = [b["accessory"] for b in offer_dm["blocks"] if "accessory" in b]
    assert len(picks) == 2
    texts = [_answer(env, _press(env, CAND, p["action_id"], p["value"])) for p in picks]
    assert "Booked" in texts[0] and "already picked" in texts[1]
    assert _count(env, Interview) == 1
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Offer.status)).one() == "taken"


def test_offer_counts_and_durations_are_never_confused(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    n = len(env.fake.calls("response_url"))
    for k, (text, expected) in enumerate([
        (f"offer <@{CAND}> <@{INTV}> 60m 8", "`8 slots`"),  # a bare number: not read as 8 minutes
        (f"offer <@{CAND}> <@{INTV}> 60m count=8", "Offer 1 to 5 slots"),
        (f"offer <@{CAND}> <@{INTV}> 60m 9 slots", "Offer 1 to 5 slots"),
    ], start=1):
        env.slack.command("/interview", text, user_id=HR)
        answer = _text(env.fake.wait_for("response_url", count=n + k)[-1])
        assert expected in answer and "For example" in answer, answer
    assert _count(env, Offer) == 0 and not env.fake.calls("chat.postMessage")
    env.slack.command("/interview", f"offer <@{CAND}> <@{INTV}> 60m count=2", user_id=HR)
    assert "Offered 2 slot(s)" in _text(env.fake.wait_for("response_url", count=n + 4)[-1])


def test_expired_offer_books_nothing(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    env.slack.command("/interview", f"offer <@{CAND}> <@{INTV}>", user_id=HR)
    pick = next(b["accessory"] for b in env.fake.wait_for("chat.postMessage")[0].args["blocks"] if "accessory" in b)
    clock_at(env, utc("2026-11-25 10:00"))  # past the 48 h offer lifetime
    assert "expired" in _answer(env, _press(env, CAND, pick["action_id"], pick["value"]))
    assert _count(env, Interview) == 0


def test_lists_and_home_show_the_booking(slack_env: SlackEnv) -> None:
    env = slack_env
    _seed(env)
    _answer(env, _click(env, _book_buttons(env)[0]))
    env.fake.wait_for("files.completeUploadExternal", count=2)
    n = len(env.fake.calls("response_url"))
    env.slack.command("/interview", "list", user_id=HR)
    hr_list = _text(env.fake.wait_for("response_url", count=n + 1)[-1])
    assert "Upcoming interviews" in hr_list and "interview_cancel" in hr_list and "15:00–16:00 WET" in hr_list
    env.slack.command("/interview", "list", user_id=CAND)
    mine = _text(env.fake.wait_for("response_url", count=n + 2)[-1])
    assert "Your upcoming interviews" in mine and "16:00–17:00 CET" in mine and "interview_cancel" not in mine
    env.slack.event({"type": "app_home_opened", "user": INTV, "channel": "D1", "tab": "home"})
    home = json.dumps(env.fake.wait_for("views.publish")[0].args["view"], ensure_ascii=False)
    assert "10:00–11:00 EST" in home and "Cara Diaz" in home
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.scalars(select(Person).where(Person.slack_user_id == HR)).one()


def test_where_the_interview_is_goes_into_every_notice_invitation_and_reminder(slack_env: SlackEnv) -> None:
    from bot.jobs.reminders import compose
    from storage.reminders import due_reminder

    env = slack_env
    _seed(env)
    with env.db.unit_of_work(write=False) as uow:
        cand, intv = (uow.session.scalars(select(Person.id).where(Person.slack_user_id == u)).one() for u in (CAND, INTV))
    values = {
        "candidate": {"candidate": {"type": "external_select", "selected_option": {"value": str(cand)}}},
        "interviewers": {"interviewers": {"type": "multi_external_select", "selected_options": [{"value": str(intv)}]}},
        "duration": {"duration": {"type": "static_select", "selected_option": {"value": "60"}}},
        "location": {"location": {"type": "plain_text_input", "value": "https://meet.example.com/abc  <!channel>"}},
    }
    before = len(env.fake.calls("views.update"))
    env.slack.view_submission(user_id=HR, callback_id="find_slots_modal", values=values, view_id="VWHERE")
    view = env.fake.wait_for("views.update", count=before + 1)[-1].args["view"]
    button = next(b["accessory"] for b in view["blocks"] if b.get("accessory", {}).get("action_id") == "book_slot")
    confirmation = _answer(env, _click(env, button))
    assert "Where: https://meet.example.com/abc &lt;!channel&gt;" in confirmation, confirmation
    dms = env.fake.wait_for("chat.postMessage", count=2)
    assert all("Where: https://meet.example.com/abc &lt;!channel&gt;" in c.args["text"] for c in dms), dms
    files = _wait_uploads(env, 2)
    assert str(Calendar.from_ical(files[0]["content"]).walk("VEVENT")[0]["LOCATION"]) == \
        "https://meet.example.com/abc <!channel>"  # the .ics is plain text
    with env.db.unit_of_work(write=False) as uow:
        interview_id = uow.session.scalars(select(Interview.id)).one()

    def command(text: str) -> str:
        n = len(env.fake.calls("response_url"))
        env.slack.command("/interview", text, user_id=HR)
        return _text(env.fake.wait_for("response_url", count=n + 1)[-1])

    assert "is now at Room 4.01" in command(f"location #{interview_id} Room 4.01")
    moved = env.fake.wait_for("chat.postMessage", count=4)[2:]
    assert all("has a new place" in c.args["text"] and "Where: Room 4.01" in c.args["text"] for c in moved)
    event = Calendar.from_ical(_wait_uploads(env, 4)[-1]["content"]).walk("VEVENT")[0]
    assert (str(event["LOCATION"]), int(event["SEQUENCE"])) == ("Room 4.01", 1)
    with env.db.unit_of_work(write=False) as uow:
        reminder = uow.session.scalars(select(Reminder.id).where(Reminder.offset_min == 60)).first()
        assert "Where: Room 4.01" in compose(due_reminder(uow.session, reminder), utc("2026-12-02 14:00"))["text"]
    assert "already there" in command(f"location {interview_id} Room 4.01")
    assert "at https://meet.example.com/x" in command(f"location {interview_id} <https://meet.example.com/x>")
    assert "has no place any more" in command(f"location {interview_id} clear")
    assert "interview number" in command("location Room 5")
    assert "at most 300" in command(f"location {interview_id} {'x' * 301}")
    with env.db.unit_of_work(write=False) as uow:
        assert uow.session.get(Interview, interview_id).location is None


def test_a_full_day_cap_is_the_one_reason_given(db) -> None:
    from tests.slack_app import running_bot

    with running_bot(db, CAP_PER_DAY="1") as env:
        _seed(env)
        _answer(env, _click(env, _book_buttons(env)[0]))  # Ivan's one interview that day
        n = len(env.fake.calls("response_url"))
        env.slack.command("/interview", f"slots <@{CAND}> <@{INTV}> 60m", user_id=HR)
        reply = env.fake.wait_for("response_url", count=n + 1)[-1].args
        text = json.dumps(reply["blocks"], ensure_ascii=False)
        assert "No common slot" in text and text.count("per day") == 1, text


def test_book_buttons_carry_the_longest_location_in_any_script_within_slacks_limits() -> None:
    """300 characters of Cyrillic are 300 characters to Slack (its 2,000 per button value), not
    1,800 of JSON escapes."""
    from bot.blocks.slots import slot_blocks
    from bot.usecases.search import Named, SearchQuery, SlotsFound
    from scheduling.intervals import Interval
    from tests.slack_fake import validate_blocks

    query = SearchQuery(candidate=1, interviewers=list(range(2, 12)), duration=60, start="2026-12-01T00:00:00Z",
                        end="2027-02-28T00:00:00Z", template=7, nonce="n" * 12, location="Зал заседаний " * 21 + "Б")
    slots = tuple(Interval(utc("2026-12-02 09:00") + timedelta(days=d), utc("2026-12-02 10:00") + timedelta(days=d))
                  for d in range(30))
    found = SlotsFound(query, "Europe/Lisbon", Named("Cara", "Europe/Berlin"), (Named("Ivan", "America/New_York"),),
                       slots)
    blocks = slot_blocks(found, limit=50)
    validate_blocks(blocks, max_blocks=50)
    values = [b["accessory"]["value"] for b in blocks if b.get("accessory")]
    assert values and all(len(v) <= 2000 and "Зал заседаний" in v for v in values)
