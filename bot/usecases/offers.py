"""Candidate self-scheduling: HR offers a few slots, the candidate picks one, the first valid
pick books it, the offer expires."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.usecases.booking import Booked, others_of, tell_everyone
from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named, refresh_profiles
from bot.usecases.search import terms
from scheduling.errors import ParseError, SchedulingError
from scheduling.intervals import Interval
from storage import offers as store
from storage.matching import find_matches
from storage.models import Offer, Person, Role
from storage.reminders import plan_reminders

MAX_SLOTS = store.MAX_SLOTS


@dataclass(frozen=True)
class OfferNotice:
    """The candidate's DM: the offered times, each with a Pick button."""

    offer_id: int
    slots: tuple[Interval, ...]
    tz: str
    interviewers: str
    expires_at: datetime
    watcher: str | None = None  # the HR who offered: told if the candidate cannot be reached


@dataclass(frozen=True)
class OfferSent:
    candidate: str
    count: int


@dataclass(frozen=True)
class OfferSlots:
    workspace: str
    actor: str | None
    candidate: str
    interviewers: tuple[str, ...]
    duration: int | None = None
    count: int = 3


def spread(slots: Sequence[Interval], count: int) -> list[Interval]:
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


def offer_slots(ctx: Context, cmd: OfferSlots) -> OfferSent:
    """Offer the candidate up to `count` bookable slots; they pick one in their DM."""
    if not 1 <= cmd.count <= MAX_SLOTS:
        raise ParseError(f"Offer 1 to {MAX_SLOTS} slots.", example="/interview offer @candidate @interviewer 60m 3 slots")
    now = ctx.now()
    refresh_named(ctx, cmd.workspace, cmd.actor, [cmd.candidate, *cmd.interviewers], Role.hr, "offer interview slots")
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "offer interview slots")
        candidate = person(ctx, uow.session, cmd.workspace, cmd.candidate)
        interviewers = [person(ctx, uow.session, cmd.workspace, u) for u in cmd.interviewers]
        if not candidate.slack_user_id:
            raise ParseError(f"{candidate.name} has no Slack account to pick a slot with.")
        rules, policy = terms(ctx, uow.session, cmd.workspace, None, cmd.duration)
        chosen = spread(find_matches(uow.session, candidate, interviewers, rules, now, policy=policy).slots, cmd.count)
        if not chosen:
            raise SchedulingError("There is no common slot to offer. Try `/interview slots …` to see why.")
        offer = store.create_offer(uow.session, candidate=candidate, interviewers=interviewers, slots=chosen,
                                   rules=rules, now=now, expires_at=now + timedelta(hours=ctx.settings.offer_ttl_hours),
                                   created_by=hr, policy=policy)
        uow.notify(candidate, OfferNotice(offer.id, tuple(chosen), candidate.tz,
                                          ", ".join(p.name for p in interviewers), offer.expires_at,
                                          hr.slack_user_id if hr else None))
        result = OfferSent(candidate.name, len(chosen))
        return uow.done(result)


@dataclass(frozen=True)
class Picked:
    """The candidate's answer."""

    when: Interval
    tz: str
    replayed: bool


@dataclass(frozen=True)
class OfferPicked:
    """Tells the HR who made the offer that the candidate picked (with HR's controls)."""

    booked: Booked
    candidate: str


@dataclass(frozen=True)
class PickOffer:
    workspace: str
    actor: str
    offer_id: int
    index: int


def pick_offer(ctx: Context, cmd: PickOffer) -> Picked:
    """The candidate's pick: a normal booking (same rules); a second pick, or a pick after the
    offer expired, books nothing and says why."""
    now = ctx.now()
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        me = person(ctx, uow.session, cmd.workspace, cmd.actor)
        offer = uow.session.get(Offer, cmd.offer_id)
        if offer is None or offer.workspace_id != cmd.workspace:
            raise SchedulingError("This offer no longer exists.")
        rules, policy = terms(ctx, uow.session, cmd.workspace, offer.template_id, offer.duration_min)
        booking = store.pick(uow.session, offer.id, cmd.index, candidate_person=me, rules=rules, now=now,
                             policy=policy)
        interview = booking.interview
        when = Interval(interview.start_at, interview.end_at)
        if not booking.replayed:
            offerer = uow.session.get(Person, offer.created_by) if offer.created_by else None
            plan_reminders(uow.session, interview, ctx.settings.reminder_offsets_min, now)
            unreachable = tell_everyone(uow, interview, "booked", offerer or me, now)
            if offerer is not None and offerer.id != me.id:
                uow.notify(offerer, OfferPicked(Booked(interview.id, when, offerer.tz, others_of(interview, offerer.id),
                                                       unreachable=unreachable), me.name))
        result = Picked(when, me.tz, booking.replayed)
        return uow.done(result)


def expire_offers(ctx: Context) -> int:
    """Periodic: open offers whose time ran out are closed (a pick then says it expired)."""
    with ctx.db.unit_of_work() as uow:
        count = store.expire_offers(uow.session, ctx.now())
        uow.commit()
    return count
