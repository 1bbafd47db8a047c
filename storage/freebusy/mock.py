"""The built-in mock source: plausible, deterministic busy days, and the free/busy JSON shape.

Each local day is generated from its own seed `"{seed}:{person_key}:{date}"`, so a person's
Tuesday is the same whichever window asks for it (caching and re-queries agree), and no global
random state is touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from faker import Faker

from scheduling.errors import InvalidInterval, ParseError, UnknownZone
from scheduling.intervals import Interval, clip, normalize

_DURATIONS = (30, 30, 45, 60, 60, 60, 90, 120)  # minutes; hour-long meetings dominate
_LOAD = (("light", 1, 2, 30), ("normal", 3, 4, 50), ("heavy", 5, 7, 20))  # name, min, max, weight


@dataclass(frozen=True)
class MockSource:
    """Faker-generated busy time for one person, in their own zone's working hours."""

    zone: ZoneInfo
    seed: int = 0
    person_key: str = ""
    kind: str = field(default="mock", init=False)

    def fetch(self, window: Interval) -> tuple[Interval, ...]:
        return mock_busy(self.person_key, self.zone, window, self.seed)


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), zone) + timedelta(minutes=minutes)


def _day_busy(fake: Faker, day: date, zone: ZoneInfo) -> list[Interval]:
    """One local day: weekends free, ~4% offsite, lunch most days, 1-7 meetings of 30-120 min."""
    if day.weekday() >= 5:
        return []
    if fake.boolean(chance_of_getting_true=4):
        start = datetime.combine(day, time(), zone)
        return [Interval(start, datetime.combine(day + timedelta(days=1), time(), zone))]
    blocks: list[Interval] = []
    if fake.boolean(chance_of_getting_true=70):
        lunch = fake.random_element((12 * 60, 12 * 60 + 30, 13 * 60))
        blocks.append(Interval(_local(day, lunch, zone), _local(day, lunch + 60, zone)))
    weights = [w for *_, w in _LOAD]
    _name, low, high, _w = fake.random.choices(_LOAD, weights=weights)[0]
    for _ in range(fake.random_int(low, high)):
        minutes = fake.random_element(_DURATIONS)
        for _attempt in range(4):  # real calendars rarely double-book; retry a clash a few times
            if fake.boolean(chance_of_getting_true=90):  # working hours 09:00-18:00
                slot = fake.random_int(18, 36 - minutes // 30)
            else:  # early call, or a late sync with another continent
                slot = fake.random_element((15, 16, 36, 37, 38))
            start = _local(day, slot * 30, zone)
            meeting = Interval(start, start + timedelta(minutes=minutes))
            if not any(meeting.overlaps(b) for b in blocks):
                blocks.append(meeting)
                break
    return blocks


def mock_busy(
    person_key: str, zone: ZoneInfo, window: Interval, seed: int = 0
) -> tuple[Interval, ...]:
    """Busy blocks for `person_key` inside `window`, normalized and clipped."""
    fake = Faker("en_US")
    first = window.start.astimezone(zone).date()
    last = window.end.astimezone(zone).date()
    blocks: list[Interval] = []
    day = first
    while day <= last:
        fake.seed_instance(f"{seed}:{person_key}:{day.isoformat()}")
        blocks.extend(_day_busy(fake, day, zone))
        day += timedelta(days=1)
    return clip(blocks, window)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZone(f"{name!r} is not a known time zone.", example="Europe/Berlin") from exc


def mock_freebusy_json(
    people: Sequence[tuple[int, str, str]], window: Interval, seed: int
) -> list[dict[str, Any]]:
    """The free/busy JSON for `(id, name, tz)` people; the person key is the id."""
    return [
        {
            "interviewerId": pid,
            "name": name,
            "busy": [iv.iso() for iv in mock_busy(str(pid), _zone(tz), window, seed)],
        }
        for pid, name, tz in people
    ]


_EXAMPLE = '[{"interviewerId": 1, "name": "Ana", "busy": [{"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T11:00:00Z"}]}]'


def _bad(where: str, problem: str) -> ParseError:
    prefix = f"Free/busy JSON, {where}" if where else "Free/busy JSON"
    return ParseError(f"{prefix}: {problem}.", example=_EXAMPLE)


def _instant(value: object, where: str) -> datetime:
    if not isinstance(value, str):
        raise _bad(where, f"expected an ISO 8601 string, got {type(value).__name__}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _bad(
            where, f"{value!r} is not an ISO 8601 instant like 2026-12-02T10:00:00Z"
        ) from None
    if moment.tzinfo is None:
        raise _bad(where, f"{value!r} has no time zone; add Z or an offset")
    return moment


def _busy_list(raw: object, where: str) -> list[Interval]:
    if not isinstance(raw, list):
        raise _bad(where, "busy must be a list of {start, end} objects")
    out: list[Interval] = []
    for j, block in enumerate(raw):
        at = f"{where}.busy[{j}]"
        if not isinstance(block, Mapping) or set(block) < {"start", "end"}:
            raise _bad(at, 'expected an object with "start" and "end"')
        start, end = _instant(block["start"], f"{at}.start"), _instant(block["end"], f"{at}.end")
        try:
            out.append(Interval(start, end))
        except InvalidInterval as exc:
            raise _bad(at, str(exc).rstrip(".")) from None
    return out


def parse_freebusy_json(data: str | bytes | Iterable[Any]) -> dict[int, list[Interval]]:
    """Validate the free/busy JSON shape (text or already decoded) into normalized busy lists.

    Entries repeating an interviewerId are merged, so concatenated exports still work.
    """
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise _bad("", f"not valid JSON ({exc})") from None
    if not isinstance(data, list):
        raise _bad("", "the top level must be a list of interviewer objects")
    result: dict[int, list[Interval]] = {}
    for i, item in enumerate(data):
        where = f"item {i}"
        if not isinstance(item, Mapping):
            raise _bad(where, "expected an object")
        pid = item.get("interviewerId")
        if isinstance(pid, bool) or not isinstance(pid, int):
            raise _bad(where, "interviewerId must be an integer")
        if not isinstance(item.get("name", ""), str):
            raise _bad(where, "name must be a string")
        if "busy" not in item:
            raise _bad(where, 'missing "busy"')
        result.setdefault(pid, []).extend(_busy_list(item["busy"], where))
    return {pid: list(normalize(blocks)) for pid, blocks in result.items()}
