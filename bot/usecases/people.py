"""People: who someone is (from the directory), self-registration, roles and approvals.

A Slack user's name, email and zone come from the directory and are re-read when older than
PROFILE_TTL. Reading happens before the use case's write transaction, so no database lock is
held while Slack answers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from bot.usecases.context import Context, Profile
from scheduling.errors import ParseError, SchedulingError
from scheduling.zones import zone_of
from storage import people as store
from storage.models import Person, PersonRole, Role, RoleRequest, WorkspaceSetting

log = logging.getLogger(__name__)

PROFILE_TTL = timedelta(hours=24)
APPROVAL_KEY = "require_registration_approval"


def refresh_profiles(ctx: Context, workspace: str, handles: Iterable[str | None]) -> None:
    """Read the profiles of Slack users among `handles` that are new or stale, and store them;
    the people listed in HR_USER_IDS become HR in the installed workspace on first contact."""
    now = ctx.now()
    known = _FRESH.setdefault(ctx.db.engine, {})
    ids = [u for u in dict.fromkeys(h.upper() for h in handles if h and not store.is_email(h))
           if (workspace, u) not in known or now - known[(workspace, u)] > PROFILE_TTL]
    if not ids:
        return  # all read recently (by this process): no query at all
    bootstrap = [u for u in ids if _bootstrap_hr(ctx, workspace, u)]
    with ctx.reading() as uow:
        refreshed = dict(uow.session.execute(
            select(Person.slack_user_id, Person.profile_refreshed_at)
            .where(Person.workspace_id == workspace, Person.slack_user_id.in_(ids))).all())
        if bootstrap:
            already = set(uow.session.scalars(
                select(Person.slack_user_id).join(PersonRole, PersonRole.person_id == Person.id)
                .where(Person.workspace_id == workspace, Person.slack_user_id.in_(bootstrap),
                       PersonRole.role == Role.hr)))
            bootstrap = [u for u in bootstrap if u not in already]
    fresh = {u: at is not None and now - at <= PROFILE_TTL for u, at in refreshed.items()}
    stale = [u for u in ids if not fresh.get(u)] if ctx.directory is not None else []
    profiles = {user: ctx.directory.profile(workspace, user) for user in stale} if ctx.directory else {}
    if profiles or bootstrap:
        with ctx.db.unit_of_work() as uow:
            for user, profile in profiles.items():
                _store_profile(uow.session, workspace, user, profile, ctx)
            for user in bootstrap:
                found = store.find_person(uow.session, workspace, user)
                if found is not None:
                    store.grant(uow.session, found, Role.hr)
            uow.commit()
    for user in ids:  # remembered as fresh from when it was read (or just now)
        at = now if user in profiles else refreshed.get(user)
        if at is not None and (user in profiles or fresh.get(user)):
            known[(workspace, user)] = at


# When this process last knew each profile fresh, per database: most requests come from people
# seen minutes ago, whose check then costs no query.
_FRESH: WeakKeyDictionary[Engine, dict[tuple[str, str], datetime]] = WeakKeyDictionary()


def refresh_named(ctx: Context, workspace: str, actor: str | None, others: Iterable[str | None], role: Role | None,
                action: str) -> None:
    """Refresh the actor's profile, check their role, and only then look up the people they
    named: someone without the right cannot make the bot fetch and store arbitrary users."""
    refresh_profiles(ctx, workspace, [actor])
    others = [o for o in others if o]
    if not others:
        return
    if role is not None and actor is not None:
        with ctx.reading() as uow:
            acting(ctx, uow.session, workspace, actor, role, action)
    refresh_profiles(ctx, workspace, others)


def _bootstrap_hr(ctx: Context, workspace: str, user: str) -> bool:
    return workspace == ctx.hr_workspace and user in ctx.settings.hr_user_ids


def _store_profile(session: Session, workspace: str, user: str, profile: Profile, ctx: Context) -> Person:
    email = profile.email
    person = store.find_person(session, workspace, user)
    if email and person is None:
        clash = store.find_person(session, workspace, email)
        if clash is not None and clash.slack_user_id is None:
            clash.slack_user_id = user  # an email-only candidate HR added earlier now has Slack
        elif clash is not None:
            email = None  # the address belongs to someone else; keep ours unset
    return store.upsert_person(session, workspace, user, name=profile.name, tz=profile.tz, email=email,
                               is_guest=profile.is_guest, refreshed_at=ctx.now())


def person(ctx: Context, session: Session, workspace: str, handle: str) -> Person:
    """The stored person for a handle (call `refresh_profiles` first, for Slack users)."""
    return store.get_person(session, workspace, handle)


def acting(ctx: Context, session: Session, workspace: str, actor: str | None, role: Role | None,
           action: str) -> Person | None:
    """Who acts, checked for `role`; None is the operator at the command line, who may do anything."""
    if actor is None:
        return None
    found = person(ctx, session, workspace, actor)
    if role is not None:
        store.require_role(found, role, action)
    return found


def any_role(found: Person) -> bool:
    return any(found.has_role(role) for role in Role)


def a_role(role: Role) -> str:
    return {"hr": "an HR coordinator", "interviewer": "an interviewer", "candidate": "a candidate"}[role.value]


@dataclass(frozen=True)
class Said:
    """A plain sentence for the person who asked (mrkdwn-escaped by whoever renders it)."""

    text: str


@dataclass(frozen=True)
class Register:
    workspace: str
    actor: str
    role: Role


def approval_required(ctx: Context, session: Session, workspace: str) -> bool:
    row = session.get(WorkspaceSetting, (workspace, APPROVAL_KEY))
    return bool(row.value) if row is not None else ctx.settings.require_registration_approval


@dataclass(frozen=True)
class RegistrationRequested:
    """Tells HR someone asks to register (they approve with /interview-admin)."""

    person: str
    user_id: str
    role: Role


def register(ctx: Context, cmd: Register) -> Said:
    """Self-registration: at once, or as a request HR approves when the workspace asks for that."""
    if cmd.role not in (Role.candidate, Role.interviewer):
        raise ParseError("Say whether you are a candidate or an interviewer.",
                         example="/interview-register interviewer")
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.reading() as uow:
        needs_approval = approval_required(ctx, uow.session, cmd.workspace)
    if needs_approval:
        _hr_from_settings(ctx, cmd.workspace)
    with ctx.unit_of_work(cmd.workspace) as uow:
        me = person(ctx, uow.session, cmd.workspace, cmd.actor)
        if cmd.role is Role.interviewer and me.is_guest:
            raise ParseError("Guests can register as candidates only.")
        if me.has_role(cmd.role):
            result = Said(f"You are already registered as {a_role(cmd.role)}.")
        elif not approval_required(ctx, uow.session, cmd.workspace):
            store.grant(uow.session, me, cmd.role)
            result = Said(f"You are registered as {a_role(cmd.role)}. Add your availability with `/availability`.")
        else:
            uow.session.add(RoleRequest(person_id=me.id, role=cmd.role))
            for hr in store.people_with_role(uow.session, cmd.workspace, Role.hr):
                uow.notify(hr, RegistrationRequested(me.name, me.slack_user_id or "", cmd.role))
            result = Said(f"Thanks! HR will review your registration as {a_role(cmd.role)}.")
        return uow.done(result)


def _hr_from_settings(ctx: Context, workspace: str) -> None:
    """`HR_USER_IDS` coordinators who never used the bot get registration requests too: they
    are looked up (stored, made HR) first. One Slack cannot name is left out, not the request."""
    if workspace != ctx.hr_workspace:
        return
    for user in ctx.settings.hr_user_ids:
        try:
            refresh_profiles(ctx, workspace, [user])
        except SchedulingError:
            log.warning("HR_USER_IDS names %s, whom Slack does not know in %s", user, workspace)


@dataclass(frozen=True)
class ChangeRole:
    workspace: str
    actor: str | None
    target: str
    role: Role
    grant: bool


def change_role(ctx: Context, cmd: ChangeRole) -> Said:
    """Grant or revoke a role (HR only); the last HR coordinator cannot drop their own HR role."""
    refresh_named(ctx, cmd.workspace, cmd.actor, [cmd.target], Role.hr, "change roles and settings")
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "change roles and settings")
        target = person(ctx, uow.session, cmd.workspace, cmd.target)
        if cmd.grant:
            changed = store.grant(uow.session, target, cmd.role, by=hr)
            _close_requests(uow.session, target, cmd.role, hr, "approved", ctx)
            result = Said(f"{target.name} is {'now' if changed else 'already'} {a_role(cmd.role)}.")
        else:
            if cmd.role is Role.hr and hr is not None and target.id == hr.id and not [
                p for p in store.people_with_role(uow.session, cmd.workspace, Role.hr) if p.id != hr.id
            ]:
                raise ParseError("You are the last HR coordinator; grant HR to someone else first.")
            changed = store.revoke(uow.session, target, cmd.role)
            result = Said(f"{target.name} {'is no longer' if changed else 'was not'} {a_role(cmd.role)}.")
        return uow.done(result)


def _close_requests(session: Session, target: Person, role: Role | None, hr: Person | None, status: str,
                    ctx: Context) -> list[RoleRequest]:
    query = select(RoleRequest).where(RoleRequest.person_id == target.id, RoleRequest.status == "pending")
    if role is not None:
        query = query.where(RoleRequest.role == role)
    pending = list(session.scalars(query))
    for request in pending:
        request.status, request.decided_at = status, ctx.now()
        request.decided_by = hr.id if hr else None
    return pending


@dataclass(frozen=True)
class Decide:
    workspace: str
    actor: str | None
    target: str
    approve: bool


@dataclass(frozen=True)
class RegistrationDecided:
    """Tells the person how HR decided on their registration."""

    roles: str
    approved: bool
    by: str


def decide_registration(ctx: Context, cmd: Decide) -> Said:
    """HR approves or rejects someone's pending registration; they are told."""
    refresh_named(ctx, cmd.workspace, cmd.actor, [cmd.target], Role.hr, "change roles and settings")
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "change roles and settings")
        target = person(ctx, uow.session, cmd.workspace, cmd.target)
        pending = _close_requests(uow.session, target, None, hr, "approved" if cmd.approve else "rejected", ctx)
        if not pending:
            raise ParseError(f"{target.name} has no pending registration.")
        if cmd.approve:
            for request in pending:
                store.grant(uow.session, target, request.role, by=hr)
        roles = ", ".join(r.role.value for r in pending)
        uow.notify(target, RegistrationDecided(roles, cmd.approve, hr.name if hr else "HR"))
        result = Said(f"{'Approved' if cmd.approve else 'Rejected'} {target.name} as {roles}.")
        return uow.done(result)


@dataclass(frozen=True)
class AddCandidate:
    """A candidate without Slack, known by email."""

    workspace: str
    actor: str | None
    email: str
    name: str
    tz: str = "UTC"


def add_candidate(ctx: Context, cmd: AddCandidate) -> Said:
    example = "/interview-admin candidate add ana@example.com Ana Lima Europe/Lisbon"
    if "@" not in cmd.email or not cmd.name.strip():
        raise ParseError("Give the candidate's email and full name.", example=example)
    zone_of(cmd.tz)
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        hr = acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "change roles and settings")
        added = store.upsert_person(uow.session, cmd.workspace, cmd.email, name=cmd.name.strip(), tz=cmd.tz)
        store.grant(uow.session, added, Role.candidate, by=hr)
        result = Said(f"Added candidate {added.name} <{cmd.email}> ({cmd.tz}). Enter their availability with "
                      f"`/availability for {cmd.email} add …`.")
        return uow.done(result)


@dataclass(frozen=True)
class SwitchApproval:
    workspace: str
    actor: str | None
    required: bool


def switch_approval(ctx: Context, cmd: SwitchApproval) -> Said:
    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "change roles and settings")
        row = uow.session.get(WorkspaceSetting, (cmd.workspace, APPROVAL_KEY))
        if row is None:
            uow.session.add(WorkspaceSetting(workspace_id=cmd.workspace, key=APPROVAL_KEY, value=cmd.required))
        else:
            row.value = cmd.required
        result = Said(f"Self-registration {'now needs' if cmd.required else 'no longer needs'} HR approval.")
        return uow.done(result)


@dataclass(frozen=True)
class ListPeople:
    workspace: str
    actor: str | None
    role: Role


@dataclass(frozen=True)
class PersonLine:
    name: str
    slack_user_id: str | None
    email: str | None
    tz: str
    calendars: tuple[str, ...] = ()


@dataclass(frozen=True)
class PeopleList:
    role: Role
    people: tuple[PersonLine, ...]


def list_people(ctx: Context, cmd: ListPeople) -> PeopleList:
    """HR's candidate or interviewer list, with each person's linked calendars and their state."""
    from storage.calendars import describe_link, links_of

    refresh_profiles(ctx, cmd.workspace, [cmd.actor])
    with ctx.unit_of_work(cmd.workspace) as uow:
        acting(ctx, uow.session, cmd.workspace, cmd.actor, Role.hr, "see the people lists")
        found = store.people_with_role(uow.session, cmd.workspace, cmd.role)
        links = links_of(uow.session, [p.id for p in found])
        result = PeopleList(cmd.role, tuple(
            PersonLine(p.name, p.slack_user_id, p.email, p.tz, tuple(describe_link(ln) for ln in links[p.id]))
            for p in found))
        return uow.done(result)


@dataclass(frozen=True)
class PersonOption:
    person_id: int
    label: str


def people_options(ctx: Context, workspace: str, actor: str, role: Role, typed: str, limit: int) -> list[PersonOption]:
    """Select-menu choices (HR only; others get none): people with `role` whose name or email
    contains what was typed. Read-only and answered at once, so it runs outside the job queue."""
    typed = typed.strip().lower()
    with ctx.reading() as uow:
        asker = store.find_person(uow.session, workspace, actor)
        if asker is None or not asker.has_role(Role.hr):
            return []
        found = store.people_with_role(uow.session, workspace, role)
        return [PersonOption(p.id, f"{p.name} ({p.tz})") for p in found
                if typed in p.name.lower() or typed in (p.email or "")][:limit]


@dataclass(frozen=True)
class AddPerson:
    """An operator adds or updates someone by hand (the CLI: no chat directory there)."""

    workspace: str
    handle: str
    name: str
    tz: str
    roles: tuple[Role, ...]
    email: str | None = None


@dataclass(frozen=True)
class PersonAdded:
    name: str
    handle: str
    tz: str
    roles: tuple[str, ...]


def add_person(ctx: Context, cmd: AddPerson) -> PersonAdded:
    zone_of(cmd.tz)
    with ctx.unit_of_work(cmd.workspace) as uow:
        added = store.upsert_person(uow.session, cmd.workspace, cmd.handle, name=cmd.name, tz=cmd.tz, email=cmd.email)
        for role in cmd.roles:
            store.grant(uow.session, added, role)
        result = PersonAdded(added.name, added.handle, added.tz, tuple(sorted(added.role_names)))
        uow.commit()
    return result
