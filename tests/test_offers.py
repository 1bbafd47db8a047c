"""Candidate self-scheduling at the storage level: offers, the first valid pick wins, expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from scheduling.errors import SchedulingError
from scheduling.slots import SearchRules
from storage.availability import add_windows
from storage.booking import Booking, SlotTaken
from storage.busy import add_busy
from storage.db import Database
from storage.models import Interview, InterviewParticipant, Offer, Person, Role
from storage.offers import (
    NotYourOffer,
    OfferClosed,
    OfferExpired,
    create_offer,
    expire_offers,
    pick,
)
from tests.factories import add_person
from tests.test_booking import DAY, NOW, book_committed, count, people, slot
from tests.test_booking_concurrency import race

EXPIRES = NOW + timedelta(days=2)
OFFERED = [slot("09:00"), slot("11:00"), slot("14:00")]


def _offer(db: Database, cand: Person, ints: list[Person], slots=OFFERED, expires_at=EXPIRES) -> int:
    with db.unit_of_work() as uow:
        s = uow.session
        offer = create_offer(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, i.id) for i in ints],
                             slots=slots, rules=SearchRules(), now=NOW, expires_at=expires_at, created_by=None)
        uow.commit()
        return offer.id


def _pick(db: Database, offer_id: int, index: int, who: Person, now=NOW) -> Booking:
    with db.unit_of_work() as uow:
        s = uow.session
        result = pick(s, offer_id, index, candidate_person=s.get(Person, who.id), rules=SearchRules(), now=now)
        uow.commit()
        return result


def test_offer_stores_iso_z_slots_and_duration(db: Database) -> None:
    cand, ints = people(db)
    offer_id = _offer(db, cand, ints)
    with db.unit_of_work(write=False) as uow:
        offer = uow.session.get(Offer, offer_id)
        assert offer.slots[0] == {"start": "2026-12-02T09:00:00Z", "end": "2026-12-02T10:00:00Z"}
        assert offer.duration_min == 60 and offer.status == "open" and offer.interviewer_ids == [ints[0].id]


@pytest.mark.parametrize("slots", [[], [slot(f"{h:02d}:00") for h in range(8, 14)]])
def test_an_offer_holds_one_to_five_slots(db: Database, slots) -> None:
    cand, ints = people(db)
    with pytest.raises(SchedulingError, match="between 1 and 5"):
        _offer(db, cand, ints, slots=slots)


def test_a_slot_offered_twice_is_refused_and_the_limit_is_configurable(db: Database) -> None:
    cand, ints = people(db)
    with pytest.raises(SchedulingError, match="offered twice"):
        _offer(db, cand, ints, slots=[slot("09:00"), slot("09:00")])
    with db.unit_of_work() as uow, pytest.raises(SchedulingError, match="between 1 and 2"):
        s = uow.session
        create_offer(s, candidate=s.get(Person, cand.id), interviewers=[s.get(Person, ints[0].id)], slots=OFFERED,
                     rules=SearchRules(), now=NOW, expires_at=EXPIRES, created_by=None, max_slots=2)
    assert count(db, Offer) == 0


def test_every_offered_slot_must_be_bookable_now(db: Database) -> None:
    cand, ints = people(db)
    book_committed(db, cand, ints, slot("11:00"))
    with pytest.raises(SlotTaken):
        _offer(db, cand, ints)
    assert count(db, Offer) == 0


def test_pick_books_the_slot_and_closes_the_offer(db: Database) -> None:
    cand, ints = people(db)
    offer_id = _offer(db, cand, ints)
    booking = _pick(db, offer_id, 1, cand)
    assert not booking.replayed and booking.interview.start_at == slot("11:00").start
    assert booking.interview.idempotency_key == f"offer:{offer_id}"
    with db.unit_of_work(write=False) as uow:
        offer = uow.session.get(Offer, offer_id)
        assert (offer.status, offer.interview_id) == ("taken", booking.interview.id)
    again = _pick(db, offer_id, 1, cand)  # a double click replays
    assert again.replayed and again.interview.id == booking.interview.id
    with pytest.raises(OfferClosed, match="already picked"):
        _pick(db, offer_id, 0, cand)
    assert count(db, Interview) == 1


def test_only_the_offers_candidate_may_pick(db: Database) -> None:
    cand, ints = people(db)
    other = add_person(db, "UOTHER", Role.candidate)
    offer_id = _offer(db, cand, ints)
    for who in (other, ints[0]):
        with pytest.raises(NotYourOffer):
            _pick(db, offer_id, 0, who)
    with pytest.raises(OfferClosed, match="not part"):
        _pick(db, offer_id, 3, cand)
    assert count(db, Interview) == 0


def test_an_expired_offer_cannot_be_picked_and_expire_offers_closes_it(db: Database) -> None:
    cand, ints = people(db)
    offer_id = _offer(db, cand, ints, expires_at=NOW + timedelta(hours=1))
    later = NOW + timedelta(hours=2)
    with pytest.raises(OfferExpired):
        _pick(db, offer_id, 0, cand, now=later)
    with db.unit_of_work() as uow:
        assert expire_offers(uow.session, NOW) == 0
        assert expire_offers(uow.session, later) == 1
        uow.commit()
    with pytest.raises(OfferExpired):
        _pick(db, offer_id, 0, cand)  # closed even if the caller's clock says otherwise
    assert count(db, Interview) == 0


def test_a_slot_taken_meanwhile_suggests_the_offers_other_bookable_slots(db: Database) -> None:
    cand, ints = people(db)
    offer_id = _offer(db, cand, ints)
    other = add_person(db, "UOTHER", Role.candidate)
    with db.unit_of_work() as uow:
        add_windows(uow.session, uow.session.get(Person, other.id), [DAY])
        uow.commit()
    book_committed(db, other, ints, slot("09:00"))
    book_committed(db, other, ints, slot("14:30"))
    with pytest.raises(SlotTaken, match="just taken") as err:
        _pick(db, offer_id, 0, cand)
    assert err.value.alternatives == [slot("11:00")]
    booking = _pick(db, offer_id, 1, cand)  # the failed pick left the offer open
    assert booking.interview.start_at == slot("11:00").start


def test_a_failed_pick_leaves_the_offer_open_even_if_the_caller_commits(db: Database) -> None:
    cand, ints = people(db)
    offer_id = _offer(db, cand, ints)
    _busy_for(db, ints[0], slot("09:00"))
    with db.unit_of_work() as uow:
        s = uow.session
        with pytest.raises(SlotTaken):
            pick(s, offer_id, 0, candidate_person=s.get(Person, cand.id), rules=SearchRules(), now=NOW)
        assert s.get(Offer, offer_id).status == "open"
        uow.commit()
    with db.unit_of_work(write=False) as uow:
        assert (uow.session.get(Offer, offer_id).status, count(db, Interview)) == ("open", 0)
    assert _pick(db, offer_id, 2, cand).interview.start_at == slot("14:00").start


def _busy_for(db: Database, person: Person, at) -> None:
    with db.unit_of_work() as uow:
        add_busy(uow.session, uow.session.get(Person, person.id), at)
        uow.commit()


def test_ten_concurrent_picks_exactly_one_wins(db: Database) -> None:
    cand, ints = people(db)
    offer_id = _offer(db, cand, ints)
    jobs = [lambda n=n: _pick(db, offer_id, n % 3, cand) for n in range(10)]
    results, errors = race(jobs)
    fresh = [r for r in results if not r.replayed]
    assert len(fresh) == 1
    winner = fresh[0].interview
    assert all(r.interview.id == winner.id for r in results)  # same-slot picks replay the winner
    assert all(isinstance(e, OfferClosed) for e in errors), errors
    assert len(results) + len(errors) == 10
    assert count(db, Interview) == 1 and count(db, InterviewParticipant) == 2
    with db.unit_of_work(write=False) as uow:
        offer = uow.session.get(Offer, offer_id)
        assert (offer.status, offer.interview_id) == ("taken", winner.id)
