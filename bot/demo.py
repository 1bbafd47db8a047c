"""`interview-bot demo`: a seeded local database of Faker people, their availability and busy
calendars, then the matches a coordinator would look at. No Slack, no network."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta

from faker import Faker
from sqlalchemy import delete

from bot.report import render_outcome
from bot.settings import Settings
from bot.timefmt import when
from scheduling.availability_text import parse_availability
from scheduling.intervals import UTC, Interval, iso_z
from scheduling.zones import zone_of
from storage import people as people_store
from storage.availability import add_windows
from storage.booking import book
from storage.busy import replace_source_blocks
from storage.db import Database
from storage.freebusy.mock import mock_freebusy_json, parse_freebusy_json
from storage.matching import find_matches
from storage.migrate import upgrade
from storage.models import Interview, Person, Role
from storage.reminders import plan_reminders

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
        uow.session.execute(delete(Interview).where(Interview.workspace_id == WORKSPACE))
        uow.session.execute(delete(Person).where(Person.workspace_id == WORKSPACE))
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
        cands = [uow.session.get(Person, p.id) for p in people[Role.candidate]]
        ints = [uow.session.get(Person, p.id) for p in people[Role.interviewer]]
        best = None
        for cand in cands[:5]:
            for interviewer in ints:
                outcome = find_matches(uow.session, cand, [interviewer], rules, now)
                if best is None or len(outcome.slots) > len(best.slots):
                    best = outcome
        panel_best = None
        for cand in cands[:5]:
            panel = sorted(ints, key=lambda p: p.tz)[:3]
            outcome = find_matches(uow.session, cand, panel, rules, now)
            if panel_best is None or len(outcome.slots) > len(panel_best.slots):
                panel_best = outcome
        return best, panel_best


def run_demo(database_url: str, *, seed: int = 2026, now: datetime | None = None) -> None:
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    db = Database(database_url)
    upgrade(db)
    settings = Settings.from_env({})
    rules = settings.rules()
    people = build(db, seed, now)
    print(f"Demo database: {database_url}  (seed {seed}, now {now:%Y-%m-%d %H:%M} UTC)")
    _print_people("HR coordinators", people[Role.hr])
    _print_people("Interviewers", people[Role.interviewer])
    _print_people("Candidates", people[Role.candidate])
    pair, panel = _best_pair(db, people, rules, now)
    print("\n== One candidate, one interviewer ==")
    print(render_outcome(pair, limit_days=4))
    print("\n== One candidate, a panel of three ==")
    print(render_outcome(panel, limit_days=4))
    if pair.slots:
        _book_and_show(db, pair, settings, rules, now)
    db.dispose()


def _book_and_show(db: Database, outcome, settings: Settings, rules, now: datetime) -> None:
    """Book the first common slot of the pair, as HR would, and list its reminders."""
    slot = outcome.slots[0]
    with db.unit_of_work() as uow:
        s = uow.session
        hr = people_store.people_with_role(s, WORKSPACE, Role.hr)[0]
        candidate = s.get(Person, outcome.candidate.id)
        interviewers = [s.get(Person, p.id) for p in outcome.interviewers]
        interview = book(s, candidate=candidate, interviewers=interviewers, slot=slot, rules=rules, now=now,
                         booked_by=hr, policy=settings.policy()).interview
        reminders = plan_reminders(s, interview, settings.reminder_offsets_min, now)
        uow.commit()
        names = {p.person_id: p.person for p in interview.participants}
        print(f"\n== Booked by {hr.name} ==")
        print(f"  {slot.iso()['start']} – {slot.iso()['end']}")
        for person in names.values():
            print(f"    {person.name:<26} {when(slot.start, zone_of(person.tz))}")
        print("  Scheduled reminders:")
        for r in sorted(reminders, key=lambda r: (r.due_at, r.person_id)):
            kind = "grade request" if r.offset_min < 0 else f"{r.offset_min // 60} h before"
            print(f"    {iso_z(r.due_at)}  {kind:<14} → {names[r.person_id].name} "
                  f"({when(r.due_at, zone_of(names[r.person_id].tz))}) [{r.status.value}]")
