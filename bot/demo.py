"""`interview-bot demo`: a seeded local database of Faker people, their availability and busy
calendars, then the matches a coordinator would look at. No Slack, no network."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from faker import Faker
from sqlalchemy import delete, func, select

from bot.messenger import DM_JOB, SlackMessenger
from bot.report import render_found
from bot.settings import Settings
from bot.timefmt import when
from bot.usecases import booking, search
from bot.usecases.context import Context
from scheduling.availability_text import parse_availability
from scheduling.intervals import UTC, Interval, iso_z
from scheduling.zones import zone_of
from storage import people as people_store
from storage.availability import add_windows
from storage.busy import replace_source_blocks
from storage.db import Database
from storage.freebusy.mock import mock_freebusy_json, parse_freebusy_json
from storage.matching import find_matches
from storage.migrate import upgrade
from storage.models import Interview, Job, Person, Reminder, Role, Workspace

WORKSPACE = "demo"
ZONES = [
    "Europe/London",
    "Europe/Berlin",
    "Europe/Lisbon",
    "America/New_York",
    "America/Chicago",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Asia/Singapore",
]


def _make_people(uow, fake: Faker, rng: random.Random) -> dict[Role, list[Person]]:
    made: dict[Role, list[Person]] = {role: [] for role in Role}
    counts = {Role.hr: 3, Role.interviewer: 10, Role.candidate: 20}
    serial = itertools.count(1)
    for role, count in counts.items():
        for _ in range(count):
            name = fake.unique.name()
            words = ["".join(c for c in w if c.isalnum()) for w in name.lower().split()]
            email = ".".join(w for w in words if w) + "@example.com"
            zone = rng.choice(ZONES[:5]) if role is not Role.candidate else rng.choice(ZONES)
            # Demo people are Slack members (ids made up), so their reminders would be sent.
            handle = f"UDEMO{next(serial):04d}"
            person = people_store.upsert_person(uow.session, WORKSPACE, handle, name=name, tz=zone, email=email)
            people_store.grant(uow.session, person, role)
            made[role].append(person)
    return made


def _availability(uow, person: Person, rng: random.Random, now: datetime, role: Role) -> None:
    zone = zone_of(person.tz)
    until = (now + timedelta(days=28)).astimezone(zone).date().isoformat()
    if role is Role.interviewer:
        start = rng.choice(["08:00", "09:00", "10:00"])
        end = rng.choice(["16:00", "17:00", "18:00"])
        text = f"mon-fri {start}-{end} weekly until {until}"
    else:
        days = ",".join(sorted(rng.sample(["mon", "tue", "wed", "thu", "fri"], 3), key="montuewedthufri".index))
        start = rng.choice(["09:00", "11:00", "13:00", "15:00"])
        text = f"{days} {start}-{int(start[:2]) + 4:02d}:00 weekly until {until}"
    windows = parse_availability(text, zone=zone, now=now, horizon=timedelta(days=90))
    add_windows(uow.session, person, windows, note=text)


def build(db: Database, seed: int, now: datetime) -> dict[Role, list[Person]]:
    """(Re)create the demo workspace: deterministic for a given seed and day."""
    fake = Faker()
    fake.seed_instance(seed)
    rng = random.Random(seed)
    with db.unit_of_work() as uow:
        uow.session.execute(delete(Job).where(Job.workspace_id == WORKSPACE))
        uow.session.execute(delete(Interview).where(Interview.workspace_id == WORKSPACE))
        uow.session.execute(delete(Person).where(Person.workspace_id == WORKSPACE))
        uow.session.execute(delete(Workspace).where(Workspace.key == WORKSPACE))
        people = _make_people(uow, fake, rng)
        for role in (Role.interviewer, Role.candidate):
            for person in people[role]:
                _availability(uow, person, rng, now, role)
        horizon = Interval(now, now + timedelta(days=28))
        interviewers = people[Role.interviewer]
        feed = mock_freebusy_json([(p.id, p.name, p.tz) for p in interviewers], horizon, seed=seed)
        busy = parse_freebusy_json(feed)
        for person in interviewers:
            replace_source_blocks(uow.session, person, "mock", horizon, busy.get(person.id, []))
        uow.commit()
    return people


def _print_people(title: str, people: list[Person]) -> None:
    print(f"\n{title} ({len(people)})")
    for p in people:
        print(f"  {p.name:<26} {p.email:<38} {p.tz}")


def _best_pair(db: Database, people, rules, now):
    """The candidate–interviewer pair (and a 3-person panel) that shows the most slots."""
    with db.unit_of_work(write=False) as uow:
        cands = [uow.session.get_one(Person, p.id) for p in people[Role.candidate]]
        ints = [uow.session.get_one(Person, p.id) for p in people[Role.interviewer]]
        best = max(((c, [i]) for c in cands[:5] for i in ints),
                   key=lambda pair: len(find_matches(uow.session, pair[0], pair[1], rules, now).slots))
        panel = sorted(ints, key=lambda p: p.tz)[:3]
        best_panel = max(((c, panel) for c in cands[:5]),
                         key=lambda pair: len(find_matches(uow.session, pair[0], pair[1], rules, now).slots))
        return [(c.handle, tuple(i.handle for i in group)) for c, group in (best, best_panel)]


def run_demo(database_url: str, *, seed: int = 2026, now: datetime | None = None) -> None:
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    db = Database(database_url)
    upgrade(db)
    settings = Settings.from_env({})
    people = build(db, seed, now)
    # The same use cases as Slack; what they would send is queued as jobs, as it would be there.
    ctx = Context(db=db, settings=settings, clock=lambda: now, messenger=SlackMessenger(lambda: now))
    hr = people[Role.hr][0].handle
    print(f"Demo database: {database_url}  (seed {seed}, now {now:%Y-%m-%d %H:%M} UTC)")
    _print_people("HR coordinators", people[Role.hr])
    _print_people("Interviewers", people[Role.interviewer])
    _print_people("Candidates", people[Role.candidate])
    (cand, ints), (panel_cand, panel) = _best_pair(db, people, settings.rules(), now)
    pair = search.search_slots(ctx, search.SearchSlots(WORKSPACE, hr, cand, ints, nonce=f"demo{seed}"))
    print("\n== One candidate, one interviewer ==")
    print(render_found(pair, limit_days=4))
    print("\n== One candidate, a panel of three ==")
    print(render_found(search.search_slots(ctx, search.SearchSlots(WORKSPACE, hr, panel_cand, panel)), limit_days=4))
    if pair.slots:
        _book_and_show(ctx, db, hr, pair, now)
    db.dispose()


def _book_and_show(ctx: Context, db: Database, hr: str, found: search.SlotsFound, now: datetime) -> None:
    """Book the first common slot of the pair through the same use case as Slack's Book button."""
    slot = found.slots[0]
    booked = booking.book(ctx, booking.Book(WORKSPACE, hr, found.query, slot.start))
    if isinstance(booked, booking.SlotGone):
        print(f"\n== Not booked: {booked.reason} ==")
        return
    with db.unit_of_work(write=False) as uow:
        s = uow.session
        interview = s.get_one(Interview, booked.interview_id)
        names = {p.person_id: p.person for p in interview.participants}
        booker = s.get_one(Person, interview.booked_by)
        notices = s.scalar(select(func.count()).select_from(Job).where(Job.workspace_id == WORKSPACE,
                                                                        Job.kind == DM_JOB)) or 0
        print(f"\n== Booked by {booker.name} ==")
        print(f"  {slot.iso()['start']} – {slot.iso()['end']}")
        for person in names.values():
            print(f"    {person.name:<26} {when(slot.start, zone_of(person.tz))}")
        print(f"  Notices queued for Slack: {notices} (each with its .ics invitation)")
        print("  Scheduled reminders:")
        reminders = s.scalars(select(Reminder).where(Reminder.interview_id == interview.id)).all()
        for r in sorted(reminders, key=lambda r: (r.due_at, r.person_id)):
            kind = "grade request" if r.offset_min < 0 else f"{r.offset_min // 60} h before"
            print(f"    {iso_z(r.due_at)}  {kind:<14} → {names[r.person_id].name} "
                  f"({when(r.due_at, zone_of(names[r.person_id].tz))}) [{r.status.value}]")
