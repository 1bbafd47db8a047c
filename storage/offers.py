"""Candidate self-scheduling: HR offers a few slots, the candidate picks one, first valid pick
wins, the offer expires. A pick is a normal booking (same rule path, same guarantees) whose
idempotency key is the offer, so a double click or a retry books once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.intervals import Interval, iso_z
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.booking import Booking, SlotTaken, book, check_bookable
from storage.db import affected_rows
from storage.matching import find_matches
from storage.models import Interview, Offer, Person

MAX_SLOTS = 5


class OfferExpired(SchedulingError):
    """The offer's time ran out."""


class OfferClosed(SchedulingError):
    """Someone already picked a slot from this offer, or HR withdrew it."""


class NotYourOffer(SchedulingError):
    """Only the candidate the offer was made to may pick from it."""


def offered_slots(offer: Offer) -> list[Interval]:
    """The offer's slots, in the order they were shown (slot_index counts from 0)."""
    return [Interval(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in offer.slots]


def _interviewers(session: Session, offer: Offer) -> list[Person]:
    found = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(offer.interviewer_ids)))}
    if len(found) != len(offer.interviewer_ids):
        raise OfferClosed("An interviewer of this offer is no longer registered; ask HR for new times.")
    return [found[pid] for pid in offer.interviewer_ids]


def _still_bookable(
    session: Session, candidate: Person, interviewers: Sequence[Person], slots: Sequence[Interval],
    rules: SearchRules, now: datetime, policy: Policy | None,
) -> list[Interval]:
    """The slots among `slots` that the search lists right now (one search, not one per slot)."""
    listed = set(find_matches(session, candidate, interviewers, rules, now, policy=policy).slots)
    return [slot for slot in slots if slot in listed]


def create_offer(
    session: Session,
    *,
    candidate: Person,
    interviewers: Sequence[Person],
    slots: Sequence[Interval],
    rules: SearchRules,
    now: datetime,
    expires_at: datetime,
    created_by: Person | None,
    template_id: int | None = None,
    policy: Policy | None = None,
    max_slots: int = MAX_SLOTS,
) -> Offer:
    """Store 1..max_slots distinct slots for the candidate to pick from; each must be bookable now."""
    if not 1 <= len(slots) <= max_slots:
        raise SchedulingError(f"Offer between 1 and {max_slots} slots.")
    if len(set(slots)) != len(slots):
        raise SchedulingError("The same slot is offered twice.")
    if expires_at <= now:
        raise SchedulingError("The offer would expire before it is sent.")
    for slot in slots:
        check_bookable(session, candidate, interviewers, slot, rules, now, policy=policy)
    offer = Offer(
        workspace_id=candidate.workspace_id, candidate_id=candidate.id,
        interviewer_ids=[p.id for p in interviewers], template_id=template_id,
        slots=[{"start": iso_z(s.start), "end": iso_z(s.end)} for s in sorted(slots)],
        duration_min=int(rules.duration.total_seconds() // 60), expires_at=expires_at,
        created_by=created_by.id if created_by else None, created_at=now,
    )
    session.add(offer)
    session.flush()
    return offer


def pick(
    session: Session, offer_id: int, slot_index: int, *, candidate_person: Person, rules: SearchRules,
    now: datetime, policy: Policy | None = None,
) -> Booking:
    """Book the picked slot, inside the caller's unit of work.

    The offer is claimed with a conditional UPDATE in the same transaction as the booking, so
    of concurrent picks exactly one books; the booking's idempotency key is the offer, so the
    same pick clicked twice returns the first booking.
    """
    offer = session.get(Offer, offer_id, populate_existing=True)
    if offer is None or offer.workspace_id != candidate_person.workspace_id:
        raise OfferClosed("This offer no longer exists.")
    if offer.candidate_id != candidate_person.id:
        raise NotYourOffer("This offer was made to someone else.")
    slots = offered_slots(offer)
    if not 0 <= slot_index < len(slots):
        raise OfferClosed("That slot is not part of the offer.")
    if offer.status == "taken":
        return _same_pick(session, offer, slots[slot_index])
    if offer.status == "expired" or now >= offer.expires_at:
        raise OfferExpired("This offer has expired; ask HR for new times.")
    if offer.status != "open":
        raise OfferClosed("This offer was withdrawn.")
    interviewers = _interviewers(session, offer)
    try:
        with session.begin_nested():  # a failed pick leaves the offer open, whatever the caller does
            booking = _claim_and_book(session, offer, slots[slot_index], candidate_person, interviewers, rules,
                                      now, policy)
    except _AlreadyClaimed:
        session.refresh(offer)
        return _same_pick(session, offer, slots[slot_index])
    except SlotTaken as err:
        session.expire(offer)
        others = slots[:slot_index] + slots[slot_index + 1:]
        still = _still_bookable(session, candidate_person, interviewers, others, rules, now, policy)
        raise SlotTaken(f"{err} Pick another of the offered times.", still) from None
    return booking


class _AlreadyClaimed(Exception):
    """A concurrent pick claimed the offer first (internal: becomes a replay or OfferClosed)."""


def _claim_and_book(
    session: Session, offer: Offer, slot: Interval, candidate: Person, interviewers: Sequence[Person],
    rules: SearchRules, now: datetime, policy: Policy | None,
) -> Booking:
    """Claim the open offer with a conditional UPDATE (rowcount 0: someone else did), then book."""
    claim = update(Offer).where(Offer.id == offer.id, Offer.status == "open").values(status="taken")
    if not affected_rows(session, claim):
        raise _AlreadyClaimed
    booking = book(session, candidate=candidate, interviewers=interviewers, slot=slot, rules=rules, now=now,
                   idempotency_key=_key(offer), template_id=offer.template_id, policy=policy)
    offer.interview_id = booking.interview.id
    session.flush()
    return booking


def _key(offer: Offer) -> str:
    return f"offer:{offer.id}"


def _same_pick(session: Session, offer: Offer, slot: Interval) -> Booking:
    """A taken offer: the same pick again (double click, retry) replays, any other is closed."""
    taken = session.get(Interview, offer.interview_id) if offer.interview_id is not None else None
    if taken is not None and taken.idempotency_key == _key(offer) and taken.start_at == slot.start:
        return Booking(interview=taken, replayed=True)
    raise OfferClosed("A slot from this offer was already picked.")


def expire_offers(session: Session, now: datetime) -> int:
    """Close open offers whose time ran out; returns how many."""
    expired = update(Offer).where(Offer.status == "open", Offer.expires_at <= now).values(status="expired")
    return affected_rows(session, expired)
