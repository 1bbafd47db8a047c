"""Slots for a candidate with any k interviewers of a pool (and any named ones), the fairest
free members chosen for each slot: stored free time and load fed to `scheduling.pools`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from scheduling.policies import Policy, apply_caps
from scheduling.pools import PoolPick, pick_from_pool
from scheduling.slots import SearchRules, search_bounds
from storage.freetime import CACHE
from storage.loads import as_members
from storage.matching import InvalidPanel, check_panel, interviewer_loads, load_participants
from storage.models import Person, Pool, Role
from storage.pools import members_of


@dataclass
class PoolOutcome:
    """Each slot with who was chosen and why; `people` maps the keys used (handles) to people."""

    picks: list[PoolPick]
    candidate: Person
    named: list[Person]
    pool: str
    k: int
    people: dict[str, Person] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def find_pool_matches(
    session: Session,
    candidate: Person,
    named: Sequence[Person],
    pool: Pool,
    k: int,
    rules: SearchRules,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    *,
    policy: Policy | None = None,
) -> PoolOutcome:
    """Named interviewers must all attend; k more come from the pool (never someone named)."""
    if named:
        check_panel(candidate, named)
    elif not candidate.has_role(Role.candidate):
        raise InvalidPanel(f"{candidate.name} is not registered as a candidate.")
    taken = {candidate.id, *(p.id for p in named)}
    members = [p for p in members_of(session, pool) if p.id not in taken and p.has_role(Role.interviewer)]
    outcome = PoolOutcome([], candidate, list(named), pool.name, k,
                          {p.handle: p for p in [candidate, *named, *members]})
    if len(members) < k:
        outcome.notes.append(f"The pool {pool.name} has {len(members)} interviewer(s) to choose from; {k} asked.")
        return outcome
    full = search_bounds(rules, now)
    if full is None:
        return outcome
    fixed = [candidate, *named]
    free = CACHE.free_times(session, [*fixed, *members], rules, full, load_participants)
    by_id = as_members(session, members, {p.id: f for p, f in zip(members, free[len(fixed):], strict=True)},
                       now, full.end)
    picks = pick_from_pool(free[:len(fixed)], [by_id[p.id] for p in members], k, rules, now, start, end, policy)
    policy = policy or Policy()
    if named and policy.has_caps and picks:  # the pool's members are capped in the core
        capped = apply_caps([p.slot for p in picks], interviewer_loads(session, named, full, None), policy)
        kept = set(capped.slots)
        picks = [p for p in picks if p.slot in kept]
        outcome.notes.extend(capped.notes)
    outcome.picks = picks
    return outcome
