"""The quick text forms of `/availability add`, turned into UTC windows.

Pure: the caller passes `now`, the person's zone and the limits. Grammar (case-insensitive),
one or more segments separated by `;` or `,`, then an optional zone for the whole text:

    segment := [DAY] TIME [("-" | "to") TIME] ["weekly until" DATE]
    DAY     := 2026-12-02 | 2 dec [2026] | dec 2 | today | tomorrow
             | [next | this] WEEKDAYS     (tue, tuesday, mon-fri, mon,wed,fri, weekdays)
    TIME    := 9 | 09:00 | 9:30 | 17.30 | 9am | 9:30pm | 12pm (noon) | 12am (midnight)
             | noon | midnight
    zone    := UTC | Z | GMT | +05:30 | -0800 | UTC+2 | Europe/Berlin  (optionally after "in")

Documented decisions:

* **Bare weekday** (`tue`): the next Tuesday whose window has not ended yet, today included
  (a window already under way today is clipped to `now`). **`next tue`**: the Tuesday of next
  calendar week (weeks start on Monday). **`this tue`**: the Tuesday of this week, which may
  be over (an error). A set of weekdays without a repeat means each day once, by the same rule.
* **Weekly repeats** (`... weekly until 2027-01-31`) are expanded with `dateutil.rrule` in
  local wall time, so 09:00 stays 09:00 across DST changes. The until date is inclusive.
  Occurrences that have already ended are skipped; the repeat must not end before its first date.
* **A single time** (`2026-12-02 09:00`) is a slot of `slot_length` (default one hour) from it.
* **Midnight**: an end strictly earlier on the clock than the start is on the next day
  (`22:00-02:00` runs 22:00 to 02:00 the day after); an equal end is an error; `24:00` and
  `midnight` as an end mean the end of the day.
* **12/24 hours**: `am`/`pm` on the end carries over to a start without one (`9-11am`,
  `11-2pm` is 11:00-14:00). Without am/pm, a one-digit end hour earlier than a start before
  13:00 is read as afternoon (`9-5` is 09:00-17:00); `05:00` or `10:00` never is.
* **Ambiguous local times** (DST fall-back) mean their first occurrence, **nonexistent**
  ones (spring-forward gap) are an error: see `scheduling.zones.resolve_local`.
* **The past**: a window that ends at or before `now` is an error; one under way is clipped
  to start at `now`. **The horizon**: a window may not start after `now + horizon`.
* A zone suffix applies to the whole text. A negative offset right after a lone time
  (`10:00 -11:00`) is read as a range end; write `UTC-11` to name the zone there.
* A segment without a day (`2026-12-02 09:00, 10:00`) reuses the day and repeat before it.

Every error is a `SchedulingError` with a plain message and an `example` that parses at the
same `now`; nothing partial is returned. Windows are sorted, not merged (callers use
`scheduling.intervals.normalize`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import islice
from typing import Literal

from dateutil import parser as date_parser
from dateutil.rrule import WEEKLY, rrule, weekday

from scheduling.errors import (
    BeyondHorizon,
    InvalidInterval,
    ParseError,
    PastTime,
    SchedulingError,
    TooManyWindows,
    UnknownZone,
)
from scheduling.intervals import Interval, as_utc
from scheduling.zones import describe, describe_span, is_zone, parse_zone, resolve_local

__all__ = ["EXAMPLES", "describe_windows", "examples_for", "parse_availability"]

EXAMPLES: list[str] = [
    "2026-12-02 10:00-14:00",
    "tomorrow 9am-12pm",
    "next tue 14:00-17:30",
    "mon-fri 09:00-17:00 weekly until 2027-01-31",
    "mon,wed,fri 10:00-12:00 weekly until 2027-01-31",
    "2026-12-02 09:00, 2026-12-02 10:00",
    "2026-12-02 22:00-02:00",
    "tue 14:00-16:00 Europe/Berlin",
]
MAX_TEXT = 2000

# --- grammar -------------------------------------------------------------------------------

_WD = (
    r"(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:s|nesday)?|thu(?:r(?:s(?:day)?)?)?"
    r"|fri(?:day)?|sat(?:urday)?|sun(?:day)?)(?![a-z])"
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?![a-z])"
)
_ORD = r"(?:st|nd|rd|th)?"
_NAMED_DATE = (
    rf"(?:\d{{1,2}}{_ORD}\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}{_ORD}(?![\d:.]))"
    r"(?:\s+\d{4}(?![\d:.]))?"
)
_DATE = rf"(?:\d{{4}}-\d{{1,2}}-\d{{1,2}}|{_NAMED_DATE}|today|tomorrow)"
_DAYSET = rf"(?:weekdays|weekends?|{_WD}(?:\s*[-,&]\s*{_WD})*)"
_TIME = r"(?:\d{1,2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\.?)?(?![\w:.])|noon|midnight)"
_RANGE_SEP = r"(?:\s*[-–—]\s*|\s+to\s+)"

_SEGMENT = re.compile(
    rf"""\s*
    (?:(?:on\s+)?(?P<day>{_DATE}|(?:(?P<week>next|this)\s+)?(?P<set>{_DAYSET}))\s+)?
    (?:(?:from|at)\s+)?
    (?P<start>{_TIME})(?:{_RANGE_SEP}(?P<end>{_TIME}))?
    (?:\s+(?P<repeat>weekly|every\s+week)(?:\s+until\s+(?P<until>[^,;]+?))?)?
    (?=\s*(?:[,;]|$))""",
    re.IGNORECASE | re.VERBOSE,
)
_SEPARATOR = re.compile(r"\s*[,;]\s*")
_ZONE_SUFFIX = re.compile(
    r"\s+(?:in\s+)?(?P<zone>(?:(?:utc|gmt)\s*)?[+-]\d{1,2}(?::?\d{2})?|\S+)\s*$", re.IGNORECASE
)
_ENDS_WITH_TIME = re.compile(rf"(?<![\w:.]){_TIME}\s*$", re.IGNORECASE)
_ENDS_WITH_RANGE = re.compile(rf"(?:-|\bto)\s*{_TIME}\s*$", re.IGNORECASE)
_ZONEISH = re.compile(r"[a-z_]+/[\w/+-]+|[a-z]{2,5}|(?:utc|gmt)?[+-]\d[\d:]*", re.IGNORECASE)
_CLOCK = re.compile(
    r"(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?:(?P<mer>[ap])\.?m\.?)?", re.IGNORECASE
)
_WEEKDAY_INDEX = {name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

Policy = Literal["strict", "roll", "skip"]
Week = Literal["bare", "this", "next"]
_WEEKS: dict[str, Week] = {"bare": "bare", "this": "this", "next": "next"}


@dataclass(frozen=True, slots=True)
class _Clock:
    """A time as typed: kept raw until the range around it decides am/pm and midnight."""

    hour: int
    minute: int
    meridiem: str | None
    padded: bool  # `09`: surely the 24-hour clock
    one_digit: bool  # `5`: may mean 17:00 after a morning start
    keyword: str | None
    text: str


@dataclass(frozen=True, slots=True)
class _Days:
    """Which day(s) a segment is on, before `now` pins them to dates."""

    text: str
    day: date | None = None
    weekdays: tuple[int, ...] = ()
    week: Week = "bare"


@dataclass(frozen=True, slots=True)
class _Segment:
    text: str
    days: _Days
    start: time
    end: time | None  # None: a slot of `slot_length`
    end_days: int  # 1 when the window crosses midnight
    until: date | None
    until_text: str | None


@dataclass(frozen=True, slots=True)
class _Context:
    zone: tzinfo
    now: datetime
    today: date
    horizon: timedelta
    max_windows: int
    slot_length: timedelta

    @property
    def tomorrow(self) -> date:
        return self.today + timedelta(days=1)


# --- public API ----------------------------------------------------------------------------


def parse_availability(
    text: str,
    *,
    zone: tzinfo,
    now: datetime,
    horizon: timedelta = timedelta(days=90),
    max_windows: int = 200,
    slot_length: timedelta = timedelta(hours=1),
) -> list[Interval]:
    """Windows for the text after `/availability add`, sorted, all validated or none returned.

    Raises a `SchedulingError` subclass whose `example` is a text that parses at this `now`."""
    moment = as_utc(now)
    ctx = _Context(
        zone=zone, now=moment, today=moment.astimezone(zone).date(), horizon=horizon,
        max_windows=max_windows, slot_length=slot_length,
    )
    try:
        return _parse(text, ctx)
    except SchedulingError as err:
        err.example = _checked_example(err.example, ctx)
        raise


def describe_windows(windows: Sequence[Interval], zone: tzinfo) -> str:
    """One line per window in `zone`, e.g. `Wed 2 Dec 10:00–14:00 CET`, for confirmations."""
    return "\n".join(describe_span(w.start, w.end, zone) for w in windows)


def examples_for(today: date) -> list[str]:
    """`EXAMPLES` with their dates moved after `today`, so help text never shows the past."""
    day, until = today + timedelta(days=9), today + timedelta(weeks=9)
    return [
        ex.replace("2026-12-02", day.isoformat()).replace("2027-01-31", until.isoformat())
        for ex in EXAMPLES
    ]


# --- parsing -------------------------------------------------------------------------------


def _parse(text: str, ctx: _Context) -> list[Interval]:
    body, zone, zone_text = _split_zone(_clean(text))
    if zone is None:
        return _windows(body, ctx)
    try:
        return _windows(body, replace(ctx, zone=zone, today=ctx.now.astimezone(zone).date()))
    except SchedulingError as err:
        if err.example and not isinstance(err, UnknownZone):
            err.example = f"{err.example} {zone_text}"  # keep the advice in the named zone
        raise


def _windows(body: str, ctx: _Context) -> list[Interval]:
    occurrences = _occurrences(_segments(body, ctx), ctx)
    windows = [w for seg, day, policy in occurrences if (w := _window(seg, day, policy, ctx))]
    if not windows:
        raise PastTime(
            f"Every time in {body!r} is in the past.", example=_generic_example(ctx)
        )
    return sorted(windows)


def _clean(text: str) -> str:
    """Trimmed text with typographic dashes made plain; empty or huge input is refused."""
    cleaned = " ".join((text or "").replace("–", "-").replace("—", "-").split())
    if not cleaned:
        raise ParseError(
            "Say when you are available: a day and a time range.", example="tomorrow 9am-12pm"
        )
    if len(cleaned) > MAX_TEXT:
        raise ParseError(
            f"That message is too long ({len(cleaned)} characters); send at most {MAX_TEXT}.",
            example="mon-fri 09:00-17:00 weekly until 2027-01-31",
        )
    return cleaned


def _split_zone(text: str) -> tuple[str, tzinfo | None, str]:
    """Peel a zone off the end of the text; it applies to the whole text."""
    match = _ZONE_SUFFIX.search(text)
    if match is None or not is_zone(match["zone"]):
        return text, None, ""
    body, zone_text = text[: match.start()], match["zone"]
    if zone_text.startswith("-") and _lone_time_at_end(body):
        return text, None, ""  # `10:00 -11:00` is a range, not 10:00 at UTC-11
    return body, parse_zone(zone_text), zone_text


def _lone_time_at_end(body: str) -> bool:
    return bool(_ENDS_WITH_TIME.search(body)) and not _ENDS_WITH_RANGE.search(body)


def _segments(body: str, ctx: _Context) -> list[_Segment]:
    """Scan segment after segment; a segment without a day reuses the previous one's."""
    segments: list[_Segment] = []
    pos = 0
    while pos < len(body):
        match = _SEGMENT.match(body, pos)
        if match is None:
            raise _not_understood(body, pos, ctx)
        segments.append(_segment(match, segments[-1] if segments else None, ctx))
        sep = _SEPARATOR.match(body, match.end())
        pos = sep.end() if sep else match.end()
        if sep is None and body[pos:].strip():
            raise _not_understood(body, pos, ctx)
    return segments


def _segment(match: re.Match[str], previous: _Segment | None, ctx: _Context) -> _Segment:
    text = match.group(0).strip()
    start = _clock(match["start"])
    end = _clock(match["end"]) if match["end"] else None
    start_time, end_time, end_days = _clock_range(start, end, text, ctx)
    if match["day"]:
        days = _days(match, ctx)
        until, until_text = _repeat(match, ctx)
    elif previous is not None:
        days, until, until_text = previous.days, previous.until, previous.until_text
        if match["repeat"]:
            until, until_text = _repeat(match, ctx)
    else:
        raise ParseError(
            f"Start with the day for {text!r}: a date, today, tomorrow or a weekday.",
            example=f"tomorrow {text}",
        )
    return _Segment(text, days, start_time, end_time, end_days, until, until_text)


def _not_understood(body: str, pos: int, ctx: _Context) -> SchedulingError:
    """The most helpful error for text the grammar rejects at `pos`."""
    rest = body[pos:].strip()
    piece = re.split(rf"\s*;\s*|\s*,\s*(?!{_WD})", rest, maxsplit=1, flags=re.I)[0]
    head, _, last = piece.rpartition(" ")
    if head and _SEGMENT.fullmatch(head):
        if is_zone(last):
            return ParseError(
                f"Name the time zone once, at the very end: {last!r} applies to the whole text.",
                example=f"{_generic_example(ctx)} {last}",
            )
        if _ZONEISH.fullmatch(last):
            return UnknownZone(
                f"I don't know the time zone {last!r}. Use an IANA name such as Europe/Berlin "
                "or America/New_York, UTC, or an offset such as +05:30.",
                example=f"{head} Europe/Berlin",
            )
    if re.search(r"\d{1,2}/\d{1,2}", piece):
        return ParseError(
            f"I can't tell which date {piece!r} means; write dates as YYYY-MM-DD.",
            example=_generic_example(ctx),
        )
    return ParseError(
        f"I could not understand {piece or rest!r}. Write a day and a time range, "
        "like tomorrow 9am-12pm or mon-fri 09:00-17:00 weekly until a date.",
        example=_generic_example(ctx),
    )


def _days(match: re.Match[str], ctx: _Context) -> _Days:
    text = match["day"]
    if match["set"] is None:
        return _Days(text=text, day=_date(text, ctx))
    week = _WEEKS[(match["week"] or "bare").lower()]
    return _Days(text=text, weekdays=_weekday_set(match["set"]), week=week)


def _weekday_set(text: str) -> tuple[int, ...]:
    """`mon-fri`, `mon,wed,fri`, `sat-mon` (wraps), `weekdays`, `weekends` → sorted indices."""
    lowered = text.lower()
    if lowered == "weekdays":
        return (0, 1, 2, 3, 4)
    if lowered.startswith("weekend"):
        return (5, 6)
    found: set[int] = set()
    for part in re.split(r"\s*[,&]\s*", lowered):
        ends = [_WEEKDAY_INDEX[name.strip()[:3]] for name in part.split("-")]
        first, last = ends[0], ends[-1]
        found.update((first + i) % 7 for i in range((last - first) % 7 + 1))
    return tuple(sorted(found))


def _date(text: str, ctx: _Context) -> date:
    """ISO, `2 dec [2026]`, `dec 2`, today or tomorrow; a month-day without a year is the
    next such day, today included."""
    lowered = text.lower().strip()
    if lowered == "today":
        return ctx.today
    if lowered == "tomorrow":
        return ctx.tomorrow
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", lowered)
    try:
        if iso:
            return date(*(int(g) for g in iso.groups()))
        if re.fullmatch(_NAMED_DATE, lowered, re.IGNORECASE):
            return _named_date(lowered, ctx)
    except (ValueError, OverflowError):
        pass
    raise ParseError(
        f"{text!r} is not a date I can read; write it as YYYY-MM-DD.",
        example=_generic_example(ctx),
    )


def _named_date(text: str, ctx: _Context) -> date:
    parsed = date_parser.parse(text, default=datetime(ctx.today.year, 1, 1)).date()
    if re.search(r"\d{4}", text) is None and parsed < ctx.today:
        parsed = date_parser.parse(text, default=datetime(ctx.today.year + 1, 1, 1)).date()
    return parsed


def _repeat(match: re.Match[str], ctx: _Context) -> tuple[date | None, str | None]:
    if not match["repeat"]:
        return None, None
    if not match["until"]:
        raise ParseError(
            "A weekly repeat needs an end: add `until` and a date.",
            example=f"{match['day'] or 'mon-fri'} 09:00-17:00 weekly until "
            f"{ctx.today + timedelta(weeks=4)}",
        )
    return _date(match["until"], ctx), match["until"]


# --- clock times ---------------------------------------------------------------------------


def _clock(text: str) -> _Clock:
    lowered = text.lower().strip()
    if lowered in ("noon", "midnight"):
        return _Clock(12 if lowered == "noon" else 0, 0, None, False, False, lowered, text)
    match = _CLOCK.fullmatch(lowered)
    if match is None:  # the segment regex only lets clock-shaped text through
        raise ParseError(f"{text!r} is not a time.", example="09:00-17:00")
    hour, minute = int(match["h"]), int(match["m"] or 0)
    mer = match["mer"] + "m" if match["mer"] else None
    digits = match["h"]
    padded, one_digit = len(digits) == 2 and digits.startswith("0"), len(digits) == 1
    return _Clock(hour, minute, mer, padded, one_digit, None, text)


def _minutes(clock: _Clock, meridiem: str | None, *, is_end: bool) -> int:
    """Minutes after midnight; 1440 only for an end at `24:00`/`midnight`."""
    if clock.keyword == "midnight":
        return 1440 if is_end else 0
    if clock.minute > 59:
        raise _bad_time(clock)
    if meridiem is not None:
        if not 1 <= clock.hour <= 12:
            raise _bad_time(clock)
        return (clock.hour % 12 + (12 if meridiem == "pm" else 0)) * 60 + clock.minute
    if clock.hour == 24 and clock.minute == 0 and is_end:
        return 1440
    if clock.hour > 23:
        raise _bad_time(clock)
    return clock.hour * 60 + clock.minute


def _bad_time(clock: _Clock) -> ParseError:
    return ParseError(
        f"{clock.text!r} is not a time of day; use 24-hour 09:00-17:30 or 9am-5:30pm.",
        example="tomorrow 09:00-17:30",
    )


def _start_minutes(start: _Clock, end: _Clock | None) -> int:
    """`9-11am`: a start without am/pm borrows the end's, or the other half if that is later."""
    inherits = bool(
        end is not None and end.meridiem and start.meridiem is None and start.keyword is None
        and not start.padded and 1 <= start.hour <= 12
    )
    if not inherits:
        return _minutes(start, start.meridiem, is_end=False)
    assert end is not None and end.meridiem is not None
    same = _minutes(start, end.meridiem, is_end=False)
    if same <= _minutes(end, end.meridiem, is_end=True):
        return same
    return _minutes(start, "am" if end.meridiem == "pm" else "pm", is_end=False)


def _clock_range(
    start: _Clock, end: _Clock | None, text: str, ctx: _Context
) -> tuple[time, time | None, int]:
    """Wall-clock start, end and how many days later the end falls (0 or 1)."""
    s = _start_minutes(start, end)
    if end is None:
        return _time(s), None, 0
    e = _minutes(end, end.meridiem, is_end=True)
    afternoon = (
        e < s < 13 * 60 and start.meridiem is None and end.meridiem is None
        and end.keyword is None and end.one_digit and end.hour >= 1 and e + 720 > s
    )
    if afternoon:
        e += 720  # `9-5` is 09:00-17:00
    if e == s:
        raise InvalidInterval(
            f"In {text!r} the end is not after the start; give a later end time.",
            example=_generic_example(ctx),
        )
    if e < s:
        e += 1440  # crosses midnight: the end is on the next day
    return _time(s), _time(e % 1440), e // 1440


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


# --- dates and windows ---------------------------------------------------------------------


def _occurrences(
    segments: Sequence[_Segment], ctx: _Context
) -> list[tuple[_Segment, date, Policy]]:
    """Every (segment, local date) pair, at most `max_windows` of them."""
    out: list[tuple[_Segment, date, Policy]] = []
    for seg in segments:
        budget = ctx.max_windows - len(out)
        out.extend((seg, day, policy) for day, policy in islice(_dates(seg, ctx), budget + 1))
        if len(out) > ctx.max_windows:
            raise TooManyWindows(
                f"That makes more than {ctx.max_windows} windows in one message. Use a shorter "
                "repeat, or send it in parts.",
                example=_shorter_repeat(seg, ctx),
            )
    return out


def _dates(seg: _Segment, ctx: _Context) -> Iterator[tuple[date, Policy]]:
    days = seg.days
    if seg.until is not None:
        yield from ((d, "skip") for d in _weekly(seg, ctx))
    elif days.day is not None:
        yield days.day, "strict"
    else:
        for wd in days.weekdays:
            if days.week == "bare":
                yield ctx.today + timedelta(days=(wd - ctx.today.weekday()) % 7), "roll"
            else:
                yield _week_start(days, ctx) + timedelta(days=wd), "strict"


def _week_start(days: _Days, ctx: _Context) -> date:
    monday = ctx.today - timedelta(days=ctx.today.weekday())
    return monday + timedelta(weeks=1) if days.week == "next" else monday


def _weekly(seg: _Segment, ctx: _Context) -> Iterator[date]:
    """Local dates of a weekly repeat, through `until` inclusive, never before today."""
    days = seg.days
    first = days.day if days.day is not None else max(_week_start(days, ctx), ctx.today)
    weekdays = (first.weekday(),) if days.day is not None else days.weekdays
    until = seg.until
    assert until is not None
    if until < ctx.today:
        raise PastTime(
            f"The repeat ends on {until.isoformat()}, which is in the past.",
            example=_with_until(seg, ctx.today + timedelta(weeks=4), ctx),
        )
    if until < first:
        raise InvalidInterval(
            f"The repeat ends on {until.isoformat()}, before its first day "
            f"({first.isoformat()}).",
            example=_with_until(seg, first + timedelta(weeks=4), ctx),
        )
    rule = rrule(
        WEEKLY, dtstart=datetime.combine(max(first, ctx.today), time()),
        until=datetime.combine(until, time()), byweekday=[weekday(w) for w in weekdays],
    )
    found = False
    for moment in rule:
        found = True
        yield moment.date()
    if not found:
        names = ", ".join(_DAY_NAMES[w] for w in weekdays)
        raise InvalidInterval(
            f"There is no {names} between {max(first, ctx.today)} and {until}.",
            example=_with_until(seg, first + timedelta(weeks=4), ctx),
        )


def _window(seg: _Segment, day: date, policy: Policy, ctx: _Context) -> Interval | None:
    """The UTC window of `seg` on local `day`, clipped to `now`; None when skipped."""
    start, end = _instants(seg, day, ctx)
    if end <= ctx.now and policy == "roll":
        day += timedelta(weeks=1)
        start, end = _instants(seg, day, ctx)
    if end <= ctx.now:
        if policy == "skip":
            return None
        raise PastTime(
            f"{describe_span(start, end, ctx.zone, year=True)} is in the past; give a time "
            "in the future.",
            example=_generic_example(ctx),
        )
    limit = ctx.now + ctx.horizon
    if start > limit:
        raise BeyondHorizon(
            f"{describe(start, ctx.zone, year=True)} is too far ahead: availability can be added "
            f"up to {describe(limit, ctx.zone, year=True)} ({ctx.horizon.days} days ahead).",
            example=_with_until(seg, limit.astimezone(ctx.zone).date() - timedelta(days=1), ctx)
            if seg.until else _generic_example(ctx),
        )
    return Interval(max(start, ctx.now), end)


def _instants(seg: _Segment, day: date, ctx: _Context) -> tuple[datetime, datetime]:
    start = resolve_local(day, seg.start, ctx.zone)
    if seg.end is None:
        return start, start + ctx.slot_length
    return start, resolve_local(day + timedelta(days=seg.end_days), seg.end, ctx.zone)


# --- examples for errors -------------------------------------------------------------------


def _generic_example(ctx: _Context) -> str:
    return f"{ctx.tomorrow.isoformat()} 10:00-14:00"


def _with_until(seg: _Segment, until: date, ctx: _Context) -> str:
    if seg.until_text is None:
        return _generic_example(ctx)
    return seg.text.replace(seg.until_text, until.isoformat())


def _shorter_repeat(seg: _Segment, ctx: _Context) -> str:
    return _with_until(seg, ctx.today + timedelta(weeks=4), ctx)


def _checked_example(example: str | None, ctx: _Context) -> str:
    """An example the user can really send now: the specific one if it parses, else a
    generic one (the parser checks its own advice)."""
    candidates = [example] if example else []
    candidates += [_generic_example(ctx), "tomorrow 10:00-12:00", "today 23:00-23:30"]
    for candidate in candidates:
        try:
            _parse(candidate, ctx)
        except SchedulingError:
            continue
        return candidate
    return candidates[0]
