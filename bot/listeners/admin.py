"""Roles in Slack: `/interview-admin` (HR only) and `/interview-register` (self-service).

`/interview-admin grant|revoke @user hr|interviewer|candidate`
`/interview-admin candidate add <email> <Full Name> [Zone]`   (a candidate without Slack)
`/interview-admin approve|reject @user`                       (pending registrations)
`/interview-admin approval on|off`                            (require HR approval to register)
"""

from __future__ import annotations

from slack_bolt import Ack, BoltContext

from bot.listeners.requests import UNAVAILABLE, NotRecorded, SlackRequest, record, response_target
from bot.mentions import mentioned_users, unescape
from bot.render import Help
from bot.usecases import people
from bot.usecases.context import Context, answer
from scheduling.errors import ParseError
from storage.models import Role

ADMIN_EXAMPLE = "/interview-admin grant @ana interviewer"


def _accept(ack: Ack, command: dict, context: BoltContext, route: str) -> None:
    try:
        record(context["bot"], context, route=route, args={"text": command.get("text", "")},
               reply=response_target(command), dedupe=command["trigger_id"])
    except NotRecorded:
        ack(text=f":warning: {UNAVAILABLE}")
        return
    ack()


def admin_command(ack: Ack, command: dict, context: BoltContext) -> None:
    _accept(ack, command, context, "admin")


def register_command(ack: Ack, command: dict, context: BoltContext) -> None:
    _accept(ack, command, context, "register")


def _role(word: str) -> Role:
    try:
        return Role(word.lower())
    except ValueError:
        raise ParseError(f"{word!r} is not a role; use hr, interviewer or candidate.", example=ADMIN_EXAMPLE) from None


def _one_mention(words: list[str], example: str) -> str:
    users = mentioned_users(" ".join(words))
    if len(users) != 1:
        raise ParseError("Mention one person.", example=example)
    return users[0]


def run_admin(ctx: Context, req: SlackRequest) -> None:
    words = req.args["text"].split()
    verb, rest = (words[0].lower(), words[1:]) if words else ("help", [])
    ws, actor = req.workspace, req.user
    if verb in ("grant", "revoke"):
        if len(rest) != 2:
            raise ParseError("Mention one person and a role.", example=ADMIN_EXAMPLE)
        target = _one_mention(rest, ADMIN_EXAMPLE)
        people.change_role(ctx, people.ChangeRole(ws, actor, target, _role(rest[-1]), verb == "grant"))
    elif verb in ("approve", "reject"):
        target = _one_mention(rest, "/interview-admin approve @ana")
        people.decide_registration(ctx, people.Decide(ws, actor, target, verb == "approve"))
    elif verb == "candidate":
        people.add_candidate(ctx, _candidate(ws, actor, rest))
    elif verb == "approval":
        if len(rest) != 1 or rest[0].lower() not in ("on", "off"):
            raise ParseError("Say on or off.", example="/interview-admin approval on")
        people.switch_approval(ctx, people.SwitchApproval(ws, actor, rest[0].lower() == "on"))
    else:
        answer(ctx, ws, Help(__doc__.split("\n\n")[1]))


def _candidate(workspace: str, actor: str, words: list[str]) -> people.AddCandidate:
    example = "/interview-admin candidate add ana@example.com Ana Lima Europe/Lisbon"
    if len(words) < 3 or words[0].lower() != "add" or "@" not in words[1]:
        raise ParseError("Give the candidate's email and full name.", example=example)
    email, rest = words[1].strip("<>").split("|")[-1].removeprefix("mailto:"), words[2:]
    tz = rest.pop() if "/" in rest[-1] or rest[-1].upper() == "UTC" else "UTC"
    return people.AddCandidate(workspace, actor, email, unescape(" ".join(rest)), tz)


def run_register(ctx: Context, req: SlackRequest) -> None:
    words = req.args["text"].split()
    if len(words) != 1 or words[0].lower() not in ("candidate", "interviewer"):
        raise ParseError("Say whether you are a candidate or an interviewer.", example="/interview-register interviewer")
    people.register(ctx, people.Register(req.workspace, req.user, Role(words[0].lower())))


ROUTES = {"admin": run_admin, "register": run_register}
