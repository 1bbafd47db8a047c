"""Booking in Slack: Book buttons, cancel and reschedule (HR), grades (interviewers), offers a
candidate picks from, and `/interview list`. Every button acks at once; the work runs after."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.announce import announce, names_except
from bot.blocks import interviews as ui
from bot.blocks.common import text_blocks
from bot.blocks.slots import BOOK_ACTION, SearchParams, message_modal, slot_blocks
from bot.context import BotContext
from bot.directory import ensure_person
from bot.listeners.after_ack import Reply, later
from bot.mentions import MENTION, mentioned_users, parse_duration
from bot.terms import terms_for
from bot.timefmt import parse_instant, span, when
from scheduling.errors import ParseError, SchedulingError
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage import people as people_store
from storage.booking import (
    SlotTaken,
    book,
    cancel,
    record_grade,
    reschedule,
    upcoming_all,
    upcoming_for,
)
from storage.matching import SearchOutcome, find_matches
from storage.models import Interview, Offer, Person, Reminder, ReminderStatus, Role
from storage.offers import create_offer, pick
from storage.reminders import drop_reminders, plan_reminders, replan_reminders

OFFER_EXAMPLE = "/interview offer @candidate @interviewer 60m 3"


def _schedule(ctx: BotContext, reminders: list[Reminder]) -> None:
    if ctx.schedule_reminders is not None:
        ctx.schedule_reminders([(r.id, r.due_at) for r in reminders if r.status is ReminderStatus.pending])


def _hr(ctx: BotContext, session, team: str, user: str) -> Person:
    person = people_store.get_person(session, team, user)
    people_store.require_role(person, Role.hr, "book, move or cancel interviews")
    return person


def _people(session, team: str, ids: list[int]) -> list[Person]:
    people = [session.get(Person, pid) for pid in ids]
    if any(p is None or p.workspace_id != team for p in people):
        raise SchedulingError("Someone in this interview is no longer registered.")
    return people  # type: ignore[return-value]


def _taken(err: SlotTaken, params: SearchParams, candidate: Person, interviewers: list[Person], zone) -> list[dict]:
    """The loser's answer: what happened, and fresh slots to book instead."""
    outcome = SearchOutcome(slots=list(err.alternatives), candidate=candidate, interviewers=interviewers)
    return text_blocks(f":hourglass: {err}") + slot_blocks(outcome, zone, params)[2:]


def book_slot(ctx: BotContext, client: WebClient, team: str, user: str, value: str, reply: Reply) -> None:
    data = json.loads(value)
    params = SearchParams(**data["p"])
    start = parse_instant(data["s"])
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        hr = _hr(ctx, uow.session, team, user)
        candidate, *interviewers = _people(uow.session, team, [params.candidate, *params.interviewers])
        rules, policy = terms_for(ctx.settings, uow.session, params.template, params.duration)
        slot = Interval(start, start + rules.duration)
        try:
            booking = book(uow.session, candidate=candidate, interviewers=interviewers, slot=slot, rules=rules,
                           now=now, booked_by=hr, idempotency_key=f"{params.nonce}:{data['s']}",
                           template_id=params.template, policy=policy)
        except SlotTaken as err:
            reply(str(err), _taken(err, params, candidate, interviewers, zone_of(hr.tz)))
            return
        interview = booking.interview
        planned = [] if booking.replayed else plan_reminders(
            uow.session, interview, ctx.settings.reminder_offsets_min, now)
        uow.commit()
    _schedule(ctx, planned)
    missed = [] if booking.replayed else announce(client, interview, "booked", hr, now)
    blocks = ui.booked_for_hr(interview.id, slot, zone_of(hr.tz), names_except(interview, hr.id),
                              replayed=booking.replayed, undelivered=missed)
    reply(f"Booked {span(slot, zone_of(hr.tz))}", blocks)


def cancel_interview(ctx: BotContext, client: WebClient, team: str, user: str, interview_id: int, reply: Reply) -> None:
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        hr = _hr(ctx, uow.session, team, user)
        interview = cancel(uow.session, interview_id, by=hr, now=now)
        drop_reminders(uow.session, interview.id)
        uow.commit()
    missed = announce(client, interview, "cancelled", hr, now)
    text = f":x: Cancelled interview #{interview.id} ({span(Interval(interview.start_at, interview.end_at), zone_of(hr.tz))}); everyone was told."
    if missed:
        text += " Could not notify: " + ", ".join(missed)
    reply(text, text_blocks(text))


def _terms(ctx: BotContext, session, interview: Interview):
    duration = int((interview.end_at - interview.start_at).total_seconds() // 60)
    return terms_for(ctx.settings, session, interview.template_id, duration)


def reschedule_choices(ctx: BotContext, team: str, user: str, interview_id: int, reply: Reply) -> None:
    with ctx.db.unit_of_work(write=False) as uow:
        hr = _hr(ctx, uow.session, team, user)
        interview = uow.session.get(Interview, interview_id)
        if interview is None or interview.workspace_id != team:
            raise SchedulingError(f"There is no interview #{interview_id}.")
        candidate = uow.session.get(Person, interview.candidate_id)
        interviewers = [p.person for p in interview.participants if p.person_id != interview.candidate_id]
        rules, policy = _terms(ctx, uow.session, interview)
        outcome = find_matches(uow.session, candidate, interviewers, rules, ctx.now(),
                               exclude_interview=interview.id, policy=policy)
        slots = outcome.slots or (outcome.diagnosis.alternatives if outcome.diagnosis else [])
        reply("Pick a new time", ui.move_choices(interview.id, slots, zone_of(hr.tz)))


def move_interview(ctx: BotContext, client: WebClient, team: str, user: str, value: str, reply: Reply) -> None:
    data = json.loads(value)
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        hr = _hr(ctx, uow.session, team, user)
        current = uow.session.get(Interview, int(data["i"]))
        if current is None or current.workspace_id != team:
            raise SchedulingError(f"There is no interview #{data['i']}.")
        start = parse_instant(data["s"])
        slot = Interval(start, start + (current.end_at - current.start_at))
        rules, policy = _terms(ctx, uow.session, current)
        interview = reschedule(uow.session, current.id, slot, rules=rules, now=now, by=hr, policy=policy)
        planned = replan_reminders(uow.session, interview, ctx.settings.reminder_offsets_min, now)
        uow.commit()
    _schedule(ctx, planned)
    missed = announce(client, interview, "moved", hr, now)
    reply("Moved", ui.booked_for_hr(interview.id, slot, zone_of(hr.tz), names_except(interview, hr.id),
                                    undelivered=missed))


def grade(ctx: BotContext, team: str, user: str, value: str, reply: Reply) -> None:
    data = json.loads(value)
    with ctx.db.unit_of_work() as uow:
        person = people_store.get_person(uow.session, team, user)
        record_grade(uow.session, int(data["i"]), interviewer=person, grade=int(data["g"]), now=ctx.now())
        uow.commit()
    reply("Thanks", text_blocks(f":white_check_mark: Thanks — you graded interview #{data['i']} {data['g']}/5."))


def list_interviews(ctx: BotContext, client: WebClient, command: dict, reply: Reply) -> None:
    team = command["team_id"]
    with ctx.db.unit_of_work() as uow:
        person = ensure_person(ctx, uow.session, client, team, command["user_id"])
        uow.commit()
        is_hr = person.has_role(Role.hr)
        found = upcoming_all(uow.session, team, ctx.now(), limit=100) if is_hr else upcoming_for(
            uow.session, person, ctx.now(), limit=100)
        rows = [(i.id, Interval(i.start_at, i.end_at), names_except(i, person.id)) for i in found]
        title = "Upcoming interviews" if is_hr else "Your upcoming interviews"
        reply(title, ui.listing(title, rows, zone_of(person.tz), controls=is_hr))


def offer_slots(ctx: BotContext, client: WebClient, command: dict, reply: Reply) -> None:
    """`/interview offer @cand @int… [60m] [N]`: DM the candidate up to N slots to pick from."""
    team, text = command["team_id"], command.get("text", "").split(None, 1)
    rest = text[1] if len(text) > 1 else ""
    users = mentioned_users(rest)
    words = MENTION.sub(" ", rest).split()
    count, duration = 3, ctx.settings.duration_min
    for word in words:
        if word.isdigit() and 1 <= int(word) <= 5:
            count = int(word)
        else:
            duration = parse_duration(word)
    if len(users) < 2:
        raise ParseError("Mention the candidate, then the interviewers.", example=OFFER_EXAMPLE)
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        hr = ensure_person(ctx, uow.session, client, team, command["user_id"])
        people_store.require_role(hr, Role.hr, "offer interview slots")
        candidate, *interviewers = [ensure_person(ctx, uow.session, client, team, u) for u in users]
        if not candidate.slack_user_id:
            raise ParseError(f"{candidate.name} has no Slack account to pick a slot with.")
        rules, policy = terms_for(ctx.settings, uow.session, None, duration)
        outcome = find_matches(uow.session, candidate, interviewers, rules, now, policy=policy)
        chosen = spread(outcome.slots, count)
        if not chosen:
            raise SchedulingError("There is no common slot to offer. Try `/interview slots …` to see why.")
        offer = create_offer(uow.session, candidate=candidate, interviewers=interviewers, slots=chosen,
                             rules=rules, now=now, expires_at=now + timedelta(hours=ctx.settings.offer_ttl_hours),
                             created_by=hr, policy=policy)
        uow.commit()
        zone = zone_of(candidate.tz)
        names = ", ".join(p.name for p in interviewers)
        blocks = ui.offer_message(offer.id, chosen, zone, names, when(offer.expires_at, zone))
        client.chat_postMessage(channel=candidate.slack_user_id, text=f"Pick an interview time with {names}",
                                blocks=blocks)
    reply("Offer sent", text_blocks(f":envelope: Offered {len(chosen)} slot(s) to {candidate.name}; "
                                    f"the first valid pick books it."))


def spread(slots: list[Interval], count: int) -> list[Interval]:
    """Up to `count` slots, preferring different days so the candidate has a real choice."""
    chosen: list[Interval] = []
    days: set = set()
    for slot in slots:
        if slot.start.date() not in days:
            chosen.append(slot)
            days.add(slot.start.date())
        if len(chosen) == count:
            return chosen
    for slot in slots:
        if len(chosen) == count:
            break
        if slot not in chosen and not any(slot.overlaps(c) for c in chosen):
            chosen.append(slot)
    return sorted(chosen)


def pick_offer(ctx: BotContext, client: WebClient, team: str, user: str, value: str, reply: Reply) -> None:
    data = json.loads(value)
    now = ctx.now()
    with ctx.db.unit_of_work() as uow:
        person = people_store.get_person(uow.session, team, user)
        offer = uow.session.get(Offer, int(data["o"]))
        if offer is None:
            raise SchedulingError("This offer no longer exists.")
        rules, policy = terms_for(ctx.settings, uow.session, offer.template_id, offer.duration_min)
        booking = pick(uow.session, offer.id, int(data["i"]), candidate_person=person, rules=rules, now=now,
                       policy=policy)
        interview = booking.interview
        planned = [] if booking.replayed else plan_reminders(
            uow.session, interview, ctx.settings.reminder_offsets_min, now)
        uow.commit()
        booker = uow.session.get(Person, offer.created_by) if offer.created_by else person
    _schedule(ctx, planned)
    when_text = span(Interval(interview.start_at, interview.end_at), zone_of(person.tz))
    reply("Booked", text_blocks(f":white_check_mark: Booked: {when_text}. See you there!"))
    if not booking.replayed:
        announce(client, interview, "booked", person, now)
        if booker is not None and booker.slack_user_id and booker.id != person.id:
            client.chat_postMessage(
                channel=booker.slack_user_id, text=f"{person.name} picked a slot",
                blocks=ui.booked_for_hr(interview.id, Interval(interview.start_at, interview.end_at),
                                        zone_of(booker.tz), names_except(interview, booker.id)))


def _reply_for(body: dict, client: WebClient, respond: Respond) -> Reply:
    """Answer in place: the modal when the button was in one, else the message (ephemeral)."""
    if body.get("container", {}).get("type") == "view":
        view_id = body["view"]["id"]

        def in_view(text: str, blocks: list[dict]) -> None:
            client.views_update(view_id=view_id, view=message_modal(text, title="Interview"))
            client.chat_postMessage(channel=body["user"]["id"], text=text, blocks=blocks)

        return in_view

    def in_message(text: str, blocks: list[dict]) -> None:
        respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")

    return in_message


def register(app: App, ctx: BotContext) -> None:
    def button(pattern: str, what: str, work) -> None:
        @app.action(re.compile(pattern))
        def handler(ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
            ack()
            team, user = body["team"]["id"], body["user"]["id"]
            reply = _reply_for(body, client, respond)
            later(ctx.background, reply, what, lambda: work(client, team, user, action["value"], reply))

    button(f"^{BOOK_ACTION}$", "booking", lambda c, t, u, v, r: book_slot(ctx, c, t, u, v, r))
    button(f"^{ui.CANCEL_ACTION}$", "cancelling", lambda c, t, u, v, r: cancel_interview(ctx, c, t, u, int(v), r))
    button(f"^{ui.RESCHEDULE_ACTION}$", "rescheduling",
           lambda c, t, u, v, r: reschedule_choices(ctx, t, u, int(v), r))
    button(f"^{ui.MOVE_ACTION}_\\d+$", "moving the interview", lambda c, t, u, v, r: move_interview(ctx, c, t, u, v, r))
    button(f"^{ui.GRADE_ACTION}_\\d$", "grading", lambda c, t, u, v, r: grade(ctx, t, u, v, r))
    button(f"^{ui.OFFER_PICK_ACTION}_\\d+$", "booking your pick", lambda c, t, u, v, r: pick_offer(ctx, c, t, u, v, r))

