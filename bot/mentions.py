"""Slash-command text: mentions as Slack escapes them (`<@U123|name>`) and simple options."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from scheduling.errors import ParseError

MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
DURATION = re.compile(r"^(\d{1,3})\s*(m|min|mins|minutes|h|hr|hours?)?$", re.IGNORECASE)


UNIT_DURATION = re.compile(r"^(\d{1,3})\s*(m|min|mins|minutes|h|hr|hours?)$", re.IGNORECASE)
COUNT = re.compile(r"^count=(\d{1,2})$", re.IGNORECASE)


# A person in an interview: a Slack mention, or the email of someone without Slack (Slack sends
# a typed address as `<mailto:a@b.c|a@b.c>`; a bare one is taken too).
PERSON = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>|<mailto:([^|>\s]+)(?:\|[^>]*)?>"
                    r"|(?<![\w.@<|])([^\s<>|@]+@[^\s<>|@]+\.[A-Za-z]{2,})(?![\w>|])")


def mentioned_users(text: str) -> list[str]:
    return MENTION.findall(text)


def named_people(text: str) -> list[str]:
    """Slack user ids and email addresses, in the order written."""
    return [user or mailto or bare for user, mailto, bare in PERSON.findall(text)]


def whole_number(text: str, maximum: int = 10**9) -> int | None:
    """An ASCII whole number up to `maximum`, else None (`"²".isdigit()` is True, and a long
    one would not fit a database column)."""
    text = text.strip()
    if not (text.isascii() and text.isdecimal()) or len(text) > len(str(maximum)) or int(text) > maximum:
        return None
    return int(text)


def unescape(text: str) -> str:
    """Slack sends `&`, `<` and `>` typed in a command as entities; the words mean the characters."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


LINK = re.compile(r"<((?:https?|mailto|tel):[^|>\s]+)(?:\|[^>]*)?>")
LOCATION_EXAMPLE = "/interview location 12 https://meet.example.com/abc-defg-hij"


def parse_location(text: str) -> tuple[int, str | None]:
    """`#12 Room 4.01` or `12 https://…` → (12, "Room 4.01"); `12 clear` → (12, None). Links
    as Slack sends them (`<https://…|label>`) become the address itself."""
    number, _, rest = text.strip().partition(" ")
    interview_id = whole_number(number.removeprefix("#"), 2**53)
    if interview_id is None or not rest.strip():
        raise ParseError("Give the interview number and where it is (or `clear`).", example=LOCATION_EXAMPLE)
    place = unescape(LINK.sub(lambda m: m.group(1), rest)).strip()
    return interview_id, None if place.lower() in ("clear", "none", "-") else place


@dataclass
class OfferQuery:
    """`/interview offer @cand @int [@int …] [60m] [3 slots | count=3]`"""

    candidate: str
    interviewers: list[str]
    duration_min: int | None
    count: int


OFFER_EXAMPLE = "/interview offer @candidate @interviewer 60m 3 slots"


def parse_offer(text: str, default_count: int = 3) -> OfferQuery:
    """Durations carry a unit and counts say so (`3 slots`, `count=3`): a bare number is refused
    rather than guessed, so `8` can never become an 8-minute interview."""
    users = named_people(text)
    words = PERSON.sub(" ", text).split()
    duration, count = None, None
    i = 0
    while i < len(words):
        word = words[i]
        if UNIT_DURATION.match(word):
            duration = parse_duration(word)
        elif (match := COUNT.match(word)) or (whole_number(word, 99) is not None and i + 1 < len(words)
                                              and words[i + 1].lower() in ("slot", "slots")):
            count = int(match.group(1)) if match else int(word)
            i += 0 if match else 1
        else:
            hint = f" Say `{word}m` for a duration or `{word} slots` for how many." if word.isdecimal() else ""
            raise ParseError(f"I did not understand {word!r}.{hint}", example=OFFER_EXAMPLE)
        i += 1
    if len(users) < 2:
        raise ParseError("Mention the candidate (or give their email), then the interviewers.", example=OFFER_EXAMPLE)
    return OfferQuery(users[0], users[1:], duration, default_count if count is None else count)


def parse_duration(token: str) -> int:
    """`60m`, `90min`, `1h`, `2h` → minutes."""
    match = DURATION.match(token.strip())
    if not match or not match.group(1).isascii():
        raise ParseError(f"{token!r} is not a duration.", example="60m")
    value = int(match.group(1))
    unit = (match.group(2) or "m").lower()
    return value * 60 if unit.startswith("h") else value


def parse_date(token: str, today: date) -> date:
    """`2026-12-02`, `today`, `tomorrow`, or `+N` days."""
    token = token.strip().lower()
    if token == "today":
        return today
    if token == "tomorrow":
        return today + timedelta(days=1)
    if token.startswith("+") and (days := whole_number(token[1:], 3650)) is not None:
        return today + timedelta(days=days)
    try:
        return datetime.strptime(token, "%Y-%m-%d").date()
    except ValueError:
        raise ParseError(f"{token!r} is not a date.", example="2026-12-02") from None


@dataclass
class SlotsQuery:
    """`/interview slots @cand @int [@int …] [60m] [from DATE] [to DATE]`"""

    candidate: str
    interviewers: list[str]
    duration_min: int | None
    start: date | None
    end: date | None
    pool: str | None = None  # `pool:NAME` or `pool:NAME*k`, as written after `pool:`


SLOTS_EXAMPLE = "/interview slots @candidate @interviewer 60m from 2026-12-01 to 2026-12-10"


def parse_slots_query(text: str, today: date) -> SlotsQuery:
    users = named_people(text)
    rest = PERSON.sub(" ", text).split()
    duration = start = end = None
    pool: str | None = None
    i = 0
    while i < len(rest):
        word = rest[i].lower()
        if word in ("from", "to") and i + 1 < len(rest):
            value = parse_date(rest[i + 1], today)
            start, end = (value, end) if word == "from" else (start, value)
            i += 2
            continue
        if DURATION.match(word):
            duration = parse_duration(word)
            i += 1
            continue
        if word.startswith("pool:") and len(word) > 5 and pool is None:
            pool = rest[i][5:]
            i += 1
            continue
        raise ParseError(f"I did not understand {rest[i]!r}.", example=SLOTS_EXAMPLE)
    if not users or (len(users) < 2 and pool is None):
        raise ParseError("Mention the candidate (or give their email) first, then one or more interviewers "
                         "or `pool:NAME`.", example=SLOTS_EXAMPLE)
    if start and end and end < start:
        raise ParseError("The `to` date is before the `from` date.", example=SLOTS_EXAMPLE)
    return SlotsQuery(users[0], users[1:], duration, start, end, pool)
