"""Roles in Slack: `/interview-admin` (HR only) and `/interview-register` (self-service).

`/interview-admin grant|revoke @user hr|interviewer|candidate`
`/interview-admin candidate add <email> <Full Name> [Zone]`   (a candidate without Slack)
`/interview-admin approve|reject @user`                       (pending registrations)
`/interview-admin approval on|off`                            (require HR approval to register)
"""

from __future__ import annotations

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.blocks.common import text_blocks
from bot.context import BotContext
from bot.directory import ensure_person
from bot.listeners.after_ack import later, responder
from bot.mentions import mentioned_users
from scheduling.errors import ParseError
from scheduling.zones import zone_of
from storage import people as people_store
from storage.models import Person, Role, RoleRequest, WorkspaceSetting

ADMIN_EXAMPLE = "/interview-admin grant @ana interviewer"
APPROVAL_KEY = "require_registration_approval"


def approval_required(ctx: BotContext, session: Session, team: str) -> bool:
    row = session.get(WorkspaceSetting, (team, APPROVAL_KEY))
    return bool(row.value) if row is not None else ctx.settings.require_registration_approval


def _role(word: str) -> Role:
    try:
        return Role(word.lower())
    except ValueError:
        raise ParseError(f"{word!r} is not a role; use hr, interviewer or candidate.", example=ADMIN_EXAMPLE) from None


def _grant_or_revoke(ctx, session, client, team, actor, verb, words) -> str:
    users = mentioned_users(" ".join(words))
    if len(users) != 1 or len(words) != 2:
        raise ParseError("Mention one person and a role.", example=ADMIN_EXAMPLE)
    role = _role(words[-1])
    target = ensure_person(ctx, session, client, team, users[0])
    if verb == "grant":
        changed = people_store.grant(session, target, role, by=actor)
        _close_requests(session, target, role, actor, "approved")
        return f"{target.name} is {'now' if changed else 'already'} {_a(role)}."
    if role is Role.hr and target.id == actor.id:
        others = [p for p in people_store.people_with_role(session, team, Role.hr) if p.id != actor.id]
        if not others:
            raise ParseError("You are the last HR coordinator; grant HR to someone else first.")
    changed = people_store.revoke(session, target, role)
    return f"{target.name} {'is no longer' if changed else 'was not'} {_a(role)}."


def _a(role: Role) -> str:
    return {"hr": "an HR coordinator", "interviewer": "an interviewer", "candidate": "a candidate"}[role.value]


def _close_requests(session, person: Person, role: Role, actor: Person, status: str) -> int:
    pending = session.scalars(select(RoleRequest).where(
        RoleRequest.person_id == person.id, RoleRequest.role == role, RoleRequest.status == "pending")).all()
    for req in pending:
        req.status, req.decided_by = status, actor.id
    return len(pending)


def _decide(ctx, session, client, team, actor, verb, words) -> str:
    users = mentioned_users(" ".join(words))
    if len(users) != 1:
        raise ParseError("Mention the person whose registration you decide.", example="/interview-admin approve @ana")
    target = ensure_person(ctx, session, client, team, users[0])
    pending = session.scalars(select(RoleRequest).where(
        RoleRequest.person_id == target.id, RoleRequest.status == "pending")).all()
    if not pending:
        raise ParseError(f"{target.name} has no pending registration.")
    for req in pending:
        if verb == "approve":
            people_store.grant(session, target, req.role, by=actor)
        req.status, req.decided_by = ("approved" if verb == "approve" else "rejected"), actor.id
    roles = ", ".join(r.role.value for r in pending)
    if target.slack_user_id:
        outcome = "approved" if verb == "approve" else "declined"
        client.chat_postMessage(channel=target.slack_user_id,
                                text=f"Your registration as {roles} was {outcome} by {actor.name}.")
    return f"{'Approved' if verb == 'approve' else 'Rejected'} {target.name} as {roles}."


def _add_candidate(session, team, actor, words) -> str:
    example = "/interview-admin candidate add ana@example.com Ana Lima Europe/Lisbon"
    if len(words) < 3 or words[0].lower() != "add" or "@" not in words[1]:
        raise ParseError("Give the candidate's email and full name.", example=example)
    email, rest = words[1].strip("<>").split("|")[-1].removeprefix("mailto:"), words[2:]
    tz = "UTC"
    if "/" in rest[-1] or rest[-1].upper() == "UTC":
        tz = rest.pop()
        zone_of(tz)
    if not rest:
        raise ParseError("Give the candidate's full name.", example=example)
    person = people_store.upsert_person(session, team, email, name=" ".join(rest), tz=tz)
    people_store.grant(session, person, Role.candidate, by=actor)
    return (f"Added candidate {person.name} <{email}> ({tz}). Enter their availability with "
            f"`/availability for {email} add …`.")


def _approval_switch(session, team, words) -> str:
    if len(words) != 1 or words[0].lower() not in ("on", "off"):
        raise ParseError("Say on or off.", example="/interview-admin approval on")
    value = words[0].lower() == "on"
    row = session.get(WorkspaceSetting, (team, APPROVAL_KEY))
    if row is None:
        session.add(WorkspaceSetting(workspace_id=team, key=APPROVAL_KEY, value=value))
    else:
        row.value = value
    return f"Self-registration {'now needs' if value else 'no longer needs'} HR approval."


def admin(ctx: BotContext, client: WebClient, command: dict) -> str:
    team = command["team_id"]
    words = command.get("text", "").split()
    verb = words[0].lower() if words else "help"
    with ctx.db.unit_of_work() as uow:
        actor = ensure_person(ctx, uow.session, client, team, command["user_id"])
        people_store.require_role(actor, Role.hr, "change roles and settings")
        if verb in ("grant", "revoke"):
            text = _grant_or_revoke(ctx, uow.session, client, team, actor, verb, words[1:])
        elif verb in ("approve", "reject"):
            text = _decide(ctx, uow.session, client, team, actor, verb, words[1:])
        elif verb == "candidate":
            text = _add_candidate(uow.session, team, actor, words[1:])
        elif verb == "approval":
            text = _approval_switch(uow.session, team, words[1:])
        else:
            text = __doc__.split("\n\n")[1]
        uow.commit()
        return text


def register_self(ctx: BotContext, client: WebClient, command: dict) -> str:
    team = command["team_id"]
    words = command.get("text", "").split()
    if len(words) != 1 or words[0].lower() not in ("candidate", "interviewer"):
        raise ParseError("Say whether you are a candidate or an interviewer.", example="/interview-register interviewer")
    role = Role(words[0].lower())
    with ctx.db.unit_of_work() as uow:
        person = ensure_person(ctx, uow.session, client, team, command["user_id"])
        if role is Role.interviewer and person.is_guest:
            raise ParseError("Guests can register as candidates only.")
        if person.has_role(role):
            return f"You are already registered as {_a(role)}."
        if not approval_required(ctx, uow.session, team):
            people_store.grant(uow.session, person, role)
            uow.commit()
            return f"You are registered as {_a(role)}. Add your availability with `/availability`."
        uow.session.add(RoleRequest(person_id=person.id, role=role))
        hr_people = people_store.people_with_role(uow.session, team, Role.hr)
        uow.commit()
    for hr in hr_people:
        if hr.slack_user_id:
            client.chat_postMessage(
                channel=hr.slack_user_id,
                text=f"<@{command['user_id']}> asks to register as {role.value}. "
                     f"`/interview-admin approve <@{command['user_id']}>` or `reject`.")
    return f"Thanks! HR will review your registration as {_a(role)}."


def _say(reply, text: str) -> None:
    reply(text, text_blocks(text))


def register(app: App, ctx: BotContext) -> None:
    @app.command("/interview-admin")
    def interview_admin(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        reply = responder(respond)
        later(ctx.background, reply, "/interview-admin",
              lambda: _say(reply, admin(ctx, client, command)))

    @app.command("/interview-register")
    def interview_register(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        reply = responder(respond)
        later(ctx.background, reply, "/interview-register",
              lambda: _say(reply, register_self(ctx, client, command)))
