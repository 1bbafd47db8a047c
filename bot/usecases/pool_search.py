"""HR's search with "any k of pool P": each slot comes with the fairest free members chosen,
why they were, and the other free members one could swap in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from bot.usecases.context import Context
from bot.usecases.people import acting, person, refresh_named
from bot.usecases.search import instant_of, terms, with_fresh_calendars
from scheduling.errors import ParseError, SchedulingError
from scheduling.intervals import Interval
from scheduling.zones import zone_of
from storage.models import Person, Role
from storage.pool_matching import find_pool_matches
from storage.pools import get_pool, members_of

ACTION = "find and book interviews"
POOL = re.compile(r"(?P<name>[^*\s]+)(?:\*(?P<k>\d{1,2}))?")


def parse_pool(text: str) -> tuple[str, int]:
    """`backend` or `backend*2`: the pool and how many of it (1 unless said)."""
    match = POOL.fullmatch(text.strip())
    if not match or (match["k"] is not None and not 1 <= int(match["k"]) <= 10):
        raise ParseError(f"I did not understand the pool {text!r}: a name, optionally *k (1–10).",
                         example="--pool backend*2")
    return match["name"], int(match["k"] or 1)


@dataclass(frozen=True)
class SearchPool:
    workspace: str
    actor: str | None
    candidate: str
    interviewers: tuple[str, ...]  # named people who must all attend, besides the pool's k
    pool: str
    k: int = 1
    duration: int | None = None
    start: date | datetime | None = None  # a day is the asker's local day (HR's; the candidate's in the CLI)
    end: date | datetime | None = None  # a day is included
    nonce: str = ""


@dataclass(frozen=True)
class PoolSlot:
    slot: Interval
    interviewers: tuple[str, ...]  # handles: the named ones, then those chosen from the pool
    names: tuple[str, ...]
    ids: tuple[int, ...]  # the same people's ids, as a Book button carries them
    others: tuple[str, ...]  # handles of the other free members, fairest first (for a swap)
    other_names: tuple[str, ...]
    other_ids: tuple[int, ...]
    why: str


@dataclass(frozen=True)
class PoolSlotsFound:
    candidate: str
    candidate_id: int
    candidate_tz: str
    viewer_tz: str  # whose days `from`/`to` were, and the listing's zone
    pool: str
    k: int
    duration: int
    nonce: str
    slots: tuple[PoolSlot, ...]
    notes: tuple[str, ...] = ()
    calendar_errors: tuple[str, ...] = ()


def search_pool(ctx: Context, cmd: SearchPool) -> PoolSlotsFound:
    """Like `search.search_slots`: stale calendars of everyone (pool members included) are
    re-read first, never blocking; with none stale the search runs in the first read."""
    refresh_named(ctx, cmd.workspace, cmd.actor, [cmd.candidate, *cmd.interviewers], Role.hr, ACTION)

    def gather(session: Session) -> list[Person]:
        acting(ctx, session, cmd.workspace, cmd.actor, Role.hr, ACTION)
        pool = get_pool(session, cmd.workspace, cmd.pool)
        fixed = [person(ctx, session, cmd.workspace, h) for h in (cmd.candidate, *cmd.interviewers)]
        return [*fixed, *(p for p in members_of(session, pool) if p.id not in {f.id for f in fixed})]

    result = with_fresh_calendars(ctx, gather, lambda session, errors: _search(ctx, session, cmd, errors))
    with ctx.unit_of_work(cmd.workspace) as uow:
        return uow.done(result)


def _search(ctx: Context, session: Session, cmd: SearchPool, errors: tuple[str, ...]) -> PoolSlotsFound:
    hr = acting(ctx, session, cmd.workspace, cmd.actor, Role.hr, ACTION)
    pool = get_pool(session, cmd.workspace, cmd.pool)
    candidate, *named = [person(ctx, session, cmd.workspace, h) for h in (cmd.candidate, *cmd.interviewers)]
    rules, policy = terms(ctx, session, cmd.workspace, None, cmd.duration)
    viewer_tz = hr.tz if hr else candidate.tz
    viewer = zone_of(viewer_tz)
    start, end = instant_of(cmd.start, viewer, end=False), instant_of(cmd.end, viewer, end=True)
    if start and end and end <= start:
        raise SchedulingError("The end of the range is not after its start.", example="from 2026-12-01 to 2026-12-10")
    outcome = find_pool_matches(session, candidate, named, pool, cmd.k, rules, ctx.now(), start, end, policy=policy)
    people = outcome.people
    slots = tuple(
        PoolSlot(pick.slot, tuple(p.handle for p in named) + pick.chosen,
                 tuple(p.name for p in named) + tuple(people[h].name for h in pick.chosen),
                 tuple(p.id for p in named) + tuple(people[h].id for h in pick.chosen),
                 pick.others, tuple(people[h].name for h in pick.others), tuple(people[h].id for h in pick.others),
                 "; ".join(pick.why))
        for pick in outcome.picks)
    return PoolSlotsFound(candidate.name, candidate.id, candidate.tz, viewer_tz, pool.name, cmd.k,
                          int(rules.duration.total_seconds() // 60), cmd.nonce, slots, tuple(outcome.notes), errors)
