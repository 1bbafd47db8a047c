"""Candidate self-scheduling: HR offers a few slots, the candidate picks one, first valid pick
wins, the offer expires. A pick is a normal booking (same rule path, same guarantees) whose
idempotency key is the offer, so a double click or a retry books once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from scheduling.errors import SchedulingError
from scheduling.intervals import Interval, iso_z
from scheduling.policies import Policy
from scheduling.slots import SearchRules
from storage.booking import Booking, SlotTaken, book, check_bookable
from storage.models import Interview, Offer, Person

MAX_SLOTS = 5


class OfferExpired(SchedulingError):
    """The offer's time ran out."""


class OfferClosed(SchedulingError):
    """Someone already picked a slot from this offer, or HR withdrew it."""


def _slots(offer: Offer) -> list[Interval]:
    return [Interval(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in offer.slots]


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
) -> Offer:
    if not 1 <= len(slots) <= MAX_SLOTS:
        raise SchedulingError(f"Offer between 1 and {MAX_SLOTS} slots.")
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
    offer = session.get(Offer, offer_id)
    if offer is None or offer.candidate_id != candidate_person.id:
        raise OfferClosed("This offer is not yours to pick from.")
    key = f"offer:{offer.id}"
    slots = _slots(offer)
    if not 0 <= slot_index < len(slots):
        raise OfferClosed("That slot is not part of the offer.")
    if offer.status == "taken" and offer.interview_id is not None:
        taken = session.get(Interview, offer.interview_id)
        if taken is not None and taken.idempotency_key == key and taken.start_at == slots[slot_index].start:
            return Booking(interview=taken, replayed=True)  # the same pick, clicked twice
        raise OfferClosed("A slot from this offer was already picked.")
    if offer.status != "open":
        raise OfferClosed("This offer was withdrawn.")
    if now >= offer.expires_at:
        raise OfferExpired("This offer has expired; ask HR for new times.")
    claimed = session.execute(
        update(Offer).where(Offer.id == offer.id, Offer.status == "open").values(status="taken")
    ).rowcount
    if not claimed:
        raise OfferClosed("A slot from this offer was already picked.")
    interviewers = [session.get(Person, pid) for pid in offer.interviewer_ids]
    try:
        booking = book(session, candidate=candidate_person, interviewers=interviewers,  # type: ignore[arg-type]
                       slot=slots[slot_index], rules=rules, now=now, idempotency_key=key,
                       template_id=offer.template_id, policy=policy)
    except SlotTaken as err:
        still = []
        for n, slot in enumerate(slots):
            if n == slot_index:
                continue
            try:
                check_bookable(session, candidate_person, interviewers, slot, rules, now,  # type: ignore[arg-type]
                               policy=policy)
                still.append(slot)
            except SlotTaken:
                pass
        raise SlotTaken(f"{err} Pick another of the offered times.", still) from None
    offer.interview_id = booking.interview.id
    session.flush()
    return booking


def expire_offers(session: Session, now: datetime) -> int:
    return session.execute(
        update(Offer).where(Offer.status == "open", Offer.expires_at <= now).values(status="expired")
    ).rowcount or 0
