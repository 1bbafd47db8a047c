"""`/interview template …` (HR): panel interview templates in Slack.

    /interview template add "Onsite loop" 90m @ana @ben @cy step=30 notice=48h before=10 after=10 day=2 week=6 programme max=15
    /interview template list
    /interview template remove "Onsite loop"     (or its #id)
"""

from __future__ import annotations

import shlex

from bot.listeners.requests import SlackRequest
from bot.mentions import MENTION, mentioned_users, parse_duration, unescape, whole_number
from bot.render import Help
from bot.usecases import templates
from bot.usecases.context import Context, answer
from scheduling.errors import ParseError
from storage.templates import TemplateRules

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
    name, duration = unescape(words[0]), parse_duration(words[1])
    options: dict[str, object] = {}
    for word in words[2:]:
        key, _, value = word.partition("=")
        key = key.lower()
        if key == "programme" and not value:
            options["programme"] = True
        elif key in MINUTE_OPTIONS and value:
            options[MINUTE_OPTIONS[key]] = parse_duration(value)
        elif key in COUNT_OPTIONS and (number := whole_number(value, 1000)) is not None:
            options[COUNT_OPTIONS[key]] = number
        else:
            raise ParseError(f"I did not understand {word!r}.", example=EXAMPLE)
    if not panel:
        raise ParseError("Mention the interviewers on the panel.", example=EXAMPLE)
    return name, duration, panel, TemplateRules(**options)  # type: ignore[arg-type]


def run_template(ctx: Context, req: SlackRequest, text: str) -> None:
    action, _, args = text.strip().partition(" ")
    action = action.lower()
    if action == "add":
        name, duration, panel, rules = parse_add(args)
        templates.add_template(ctx, templates.AddTemplate(req.workspace, req.user, name, duration, tuple(panel), rules))
    elif action == "list":
        templates.list_templates(ctx, req.workspace, req.user)
    elif action == "remove":
        if not args.strip():
            raise ParseError("Name the template to remove.", example='/interview template remove "Onsite loop"')
        templates.remove_template(ctx, req.workspace, req.user, args.strip().strip('#"'))
    else:
        answer(ctx, req.workspace, Help(__doc__.split("\n\n")[1]))
