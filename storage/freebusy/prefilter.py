"""Cheap text pass that shrinks an iCalendar feed before icalendar parses it.

Parsing dominates the cost of a big feed (~50 µs per content line), yet a busy-time query
needs only a few properties of the events near the window. This pass keeps every VTIMEZONE and
VFREEBUSY verbatim, keeps only the time-relevant properties of each VEVENT, and drops single
events and finished/future series that provably cannot touch `[keep_from, keep_to]`. Whenever a
value is not in the simple form it understands, it keeps the event: being wrong here would
hide busy time, being cautious only costs speed.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_UNFOLD = re.compile(r"\r?\n[ \t]")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EVENT_PROPS = frozenset(
    {
        "UID", "DTSTART", "DTEND", "DURATION", "RRULE", "RDATE", "EXDATE", "EXRULE",
        "RECURRENCE-ID", "STATUS", "TRANSP", "X-MICROSOFT-CDO-BUSYSTATUS", "SEQUENCE",
    }
)  # fmt: skip
_VERBATIM = frozenset({"VTIMEZONE", "VFREEBUSY"})
SLACK = timedelta(days=2)  # any zone's local date is within a day of the UTC date


def _name_and_value(line: str) -> tuple[str, str]:
    """Property name (upper case, without parameters) and raw value of one unfolded line."""
    if '"' not in line:  # fast path: no quoted parameter can hide a colon
        head, _, value = line.partition(":")
        return head.split(";", 1)[0].strip().upper(), value
    quoted = False
    split = -1
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            split = i
            break
    head = line if split < 0 else line[:split]
    name = head.split(";", 1)[0].strip().upper()
    return name, ("" if split < 0 else line[split + 1 :])


def _date_of(value: str) -> date | None:
    match = _DATE.match(value.strip())
    if not match:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _keep_event(props: dict[str, list[str]], keep_from: date, keep_to: date) -> bool:
    if "RECURRENCE-ID" in props or "DTSTART" not in props or "DURATION" in props:
        return True  # overrides are few and must reach their series; durations: be safe
    start = _date_of(props["DTSTART"][0])
    end = _date_of(props["DTEND"][0]) if "DTEND" in props else start
    if start is None or end is None:
        return True
    if "RDATE" in props or "EXRULE" in props:
        return True
    if start > keep_to:
        return False  # neither a single event nor any instance of a series starts earlier
    rules = props.get("RRULE")
    if not rules:
        return end >= keep_from
    span = end - start
    for rule in rules:
        parts = dict(p.split("=", 1) for p in rule.upper().split(";") if "=" in p)
        until = _date_of(parts.get("UNTIL", ""))
        if until is None or until + span >= keep_from:
            return True  # endless, COUNT-limited, or still running: keep
    return False


def slim_ics(text: str, keep_from: date, keep_to: date) -> str:
    """`text` reduced to what busy time in `[keep_from, keep_to]` (dates, any zone) needs.

    Callers should widen their window's UTC dates by `SLACK` on each side. Raises ValueError
    on unbalanced BEGIN/END, which usually means a truncated download: better an error than
    silently missing busy time.
    """
    out: list[str] = []
    depth_skip = 0  # >0 while inside a component we drop (VALARM, VTODO, ...)
    verbatim = 0  # >0 while inside a component we copy unchanged
    event: list[tuple[str, str, str]] | None = None  # (name, value, raw line) of kept props
    calendars = 0  # open VCALENDARs
    for line in _UNFOLD.sub("", text).splitlines():
        if not line.strip():
            continue
        name, value = _name_and_value(line)
        kind = value.strip().upper()
        if depth_skip:
            depth_skip += 1 if name == "BEGIN" else -1 if name == "END" else 0
            continue
        if verbatim:
            out.append(line)
            verbatim += 1 if name == "BEGIN" else -1 if name == "END" else 0
            continue
        if event is not None:
            if name == "BEGIN":
                depth_skip = 1  # VALARM and friends inside an event
            elif name == "END" and kind == "VEVENT":
                props: dict[str, list[str]] = {}
                for pname, pvalue, _raw in event:
                    props.setdefault(pname, []).append(pvalue)
                if _keep_event(props, keep_from, keep_to):
                    out.append("BEGIN:VEVENT")
                    out.extend(raw for _name, _value, raw in event)
                    out.append(line)
                event = None
            elif name in _EVENT_PROPS:
                event.append((name, value, line))
            continue
        if name in ("BEGIN", "END") and kind == "VCALENDAR":
            calendars += 1 if name == "BEGIN" else -1
            if calendars not in (0, 1):
                raise ValueError("VCALENDAR BEGIN/END lines do not match")
            out.append(line)
        elif name == "BEGIN" and kind == "VEVENT":
            event = []
        elif name == "BEGIN" and kind in _VERBATIM:
            out.append(line)
            verbatim = 1
        elif name == "BEGIN":
            depth_skip = 1
        else:
            out.append(line)  # VCALENDAR begin/end and calendar-level properties
    if event is not None or depth_skip or verbatim or calendars:
        raise ValueError("the file ends inside a component (truncated?)")
    return "\r\n".join(out) + "\r\n"
