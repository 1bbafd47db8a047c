"""The App Home tab: my availability, my upcoming interviews, and (HR) today's schedule."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.blocks.common import bullet_chunks, context, divider, esc, header, section, to_dicts
from bot.timefmt import span
from bot.usecases.booking import InterviewRow
from bot.usecases.home import HomeView

MAX_ROWS = 20


def _list(title: str, lines: Sequence[str], empty: str) -> list:
    if not lines:
        return [section(f"*{title}*\n_{empty}_")]
    shown = list(lines[:MAX_ROWS])
    if len(lines) > MAX_ROWS:
        shown.append(f"_… and {len(lines) - MAX_ROWS} more_")
    return [section(chunk) for chunk in bullet_chunks([f"*{title}*", *shown])[:10]]


def _rows(rows: Sequence[InterviewRow], zone: ZoneInfo) -> list[str]:
    return [f"• {span(row.when, zone)} — {esc(row.others)}" for row in rows]


def home_view(home: HomeView) -> dict:
    zone = ZoneInfo(home.tz)
    blocks = [
        header(f"Interview scheduling — {home.name}"),
        context(f"Times in your Slack time zone, {zone.key}. Roles: {', '.join(home.roles) or 'none yet'}."),
    ]
    if not home.roles:
        blocks.append(section("Register with `/interview-register candidate` or `/interview-register interviewer`."))
    blocks += [divider(), *_list("My upcoming interviews", _rows(home.mine, zone), "Nothing booked.")]
    blocks += [divider(), *_list("My availability", [f"• {span(w, zone)}" for w in home.windows],
                                 "None. Add some with `/availability`.")]
    if home.today is not None:
        blocks += [divider(), *_list("Today's interviews (everyone)", _rows(home.today, zone), "None today.")]
    return {"type": "home", "blocks": to_dicts(blocks)}
