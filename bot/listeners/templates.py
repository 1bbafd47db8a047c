"""`/interview template …` (HR): panel interview templates in Slack.

    /interview template add "Onsite loop" 90m @ana @ben @cy step=30 notice=48h before=10 after=10 day=2 week=6 programme max=15
    /interview template list
    /interview template remove "Onsite loop"     (or its #id)
"""

from __future__ import annotations

import shlex

from slack_sdk import WebClient

from bot.blocks.common import bullet_chunks, section, text_blocks, to_dicts
from bot.context import BotContext
from bot.directory import ensure_person
from bot.listeners.after_ack import Reply
from bot.mentions import MENTION, mentioned_users, parse_duration
from scheduling.errors import ParseError
from storage import people as people_store
from storage.models import InterviewTemplate, Role
from storage.templates import (
    TemplateRules,
    create_template,
    list_templates,
    panel_of,
    remove_template,
)

EXAMPLE = '/interview template add "Onsite loop" 90m @ana @ben step=30 notice=24h day=2 week=6'
MINUTE_OPTIONS = {"step": "step_min", "notice": "notice_min", "before": "buffer_before_min",
                  "after": "buffer_after_min"}
COUNT_OPTIONS = {"day": "cap_per_day", "week": "cap_per_week", "max": "programme_max"}


def parse_add(text: str) -> tuple[str, int, list[str], TemplateRules]:
    """Name, duration, mentioned panel and rules from the words after `add`."""
    panel = mentioned_users(text)
    try:
        words = shlex.split(MENTION.sub(" ", text))
    except ValueError:
        raise ParseError("A quote is not closed.", example=EXAMPLE) from None
    if len(words) < 2:
        raise ParseError("Give the template a name and a duration, then mention the panel.", example=EXAMPLE)
    name, duration = words[0], parse_duration(words[1])
    options: dict[str, object] = {}
    for word in words[2:]:
        key, _, value = word.partition("=")
        key = key.lower()
        if key == "programme" and not value:
            options["programme"] = True
        elif key in MINUTE_OPTIONS and value:
            options[MINUTE_OPTIONS[key]] = parse_duration(value)
        elif key in COUNT_OPTIONS and value.isdigit():
            options[COUNT_OPTIONS[key]] = int(value)
        else:
            raise ParseError(f"I did not understand {word!r}.", example=EXAMPLE)
    if not panel:
        raise ParseError("Mention the interviewers on the panel.", example=EXAMPLE)
    return name, duration, panel, TemplateRules(**options)  # type: ignore[arg-type]


def describe(template: InterviewTemplate, names: list[str]) -> str:
    rules = [f"{template.duration_min} min on a {template.step_min}-min grid",
             f"{template.min_notice_min // 60} h notice"]
    if template.buffer_before_min or template.buffer_after_min:
        rules.append(f"buffers {template.buffer_before_min}/{template.buffer_after_min} min")
    if template.cap_per_day or template.cap_per_week:
        rules.append(f"caps {template.cap_per_day or '–'}/day, {template.cap_per_week or '–'}/week")
    if template.programme_rules:
        rules.append(f"programme rules (max {template.programme_max_interviews})")
    return f"`#{template.id}` *{template.name}* — {', '.join(rules)}; panel: {', '.join(names)}"


def template_command(ctx: BotContext, client: WebClient, command: dict, reply: Reply) -> None:
    team = command["team_id"]
    rest = command.get("text", "").split(None, 2)[1:]
    action = rest[0].lower() if rest else "help"
    args = rest[1] if len(rest) > 1 else ""
    with ctx.db.unit_of_work() as uow:
        actor = ensure_person(ctx, uow.session, client, team, command["user_id"])
        people_store.require_role(actor, Role.hr, "manage interview templates")
        if action == "add":
            name, duration, mentions, rules = parse_add(args)
            panel = [ensure_person(ctx, uow.session, client, team, u) for u in mentions]
            template = create_template(uow.session, team, name, duration, [p.id for p in panel], rules)
            text = ":white_check_mark: Template saved: " + describe(template, [p.name for p in panel])
        elif action == "list":
            found = list_templates(uow.session, team)
            lines = [describe(t, [p.name for p in panel_of(uow.session, t)]) for t in found]
            chunks = bullet_chunks([f"*Interview templates* ({len(found)})", *(lines or ["_None yet._"])])
            uow.commit()
            reply("Interview templates", to_dicts(section(c) for c in chunks[:45]))
            return
        elif action == "remove":
            if not args.strip():
                raise ParseError("Name the template to remove.", example='/interview template remove "Onsite loop"')
            removed = remove_template(uow.session, team, args.strip().strip('#"'))
            text = f":wastebasket: Removed template {removed}."
        else:
            text = __doc__.split("\n\n")[1]
        uow.commit()
    reply(text, text_blocks(text))
