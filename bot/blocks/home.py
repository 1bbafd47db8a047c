"""The App Home tab: my availability, my upcoming interviews, and (HR) today's schedule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from slack_sdk.models.views import View

from bot.blocks.common import bullet_chunks, context, divider, header, section
from bot.timefmt import span
from scheduling.intervals import Interval

MAX_ROWS = 20


def _list(title: str, lines: Sequence[str], empty: str) -> list:
    if not lines:
        return [section(f"*{title}*\n_{empty}_")]
    shown = list(lines[:MAX_ROWS])
    if len(lines) > MAX_ROWS:
        shown.append(f"_… and {len(lines) - MAX_ROWS} more_")
    return [section(chunk) for chunk in bullet_chunks([f"*{title}*", *shown])[:10]]


def interview_line(interval: Interval, zone: tzinfo, others: str) -> str:
    return f"• {span(interval, zone)} — {others}"


def home_view(
    *,
    name: str,
    zone: tzinfo,
    roles: set[str],
    windows: Sequence[Interval],
    interviews: Sequence[str],
    today: Sequence[str] | None,
) -> dict:
    zone_key = getattr(zone, "key", str(zone))
    blocks = [
        header(f"Interview scheduling — {name}"),
        context(f"Times in your Slack time zone, {zone_key}. Roles: {', '.join(sorted(roles)) or 'none yet'}."),
    ]
    if not roles:
        blocks.append(section("Register with `/interview-register candidate` or `/interview-register interviewer`."))
    blocks += [divider(), *_list("My upcoming interviews", interviews, "Nothing booked.")]
    blocks += [divider(), *_list("My availability", [f"• {span(w, zone)}" for w in windows],
                                 "None. Add some with `/availability`.")]
    if today is not None:
        blocks += [divider(), *_list("Today's interviews (everyone)", today, "None today.")]
    return View(type="home", blocks=blocks).to_dict()
