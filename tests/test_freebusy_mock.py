"""Mock source: determinism, plausibility, and the free/busy JSON shape."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduling.errors import ParseError, UnknownZone
from scheduling.intervals import Interval, normalize
from storage.freebusy import fetch_busy, source_for
from storage.freebusy.mock import mock_busy, mock_freebusy_json, parse_freebusy_json

WINDOW = Interval(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 28, tzinfo=UTC))
PEOPLE = [(1, "Ana", "Europe/Berlin"), (2, "Bo", "America/New_York"), (3, "Chie", "Asia/Tokyo")]


def test_same_seed_and_person_give_identical_json() -> None:
    first = mock_freebusy_json(PEOPLE, WINDOW, seed=7)
    state = random.getstate()
    random.seed(12345)  # global random state must not matter ...
    second = mock_freebusy_json(PEOPLE, WINDOW, seed=7)
    random.setstate(state)
    assert json.dumps(first) == json.dumps(second)
    assert random.getstate() == state  # ... nor be touched


def test_different_person_or_seed_gives_different_busy_time() -> None:
    data = mock_freebusy_json([(1, "Ana", "UTC"), (2, "Bo", "UTC")], WINDOW, seed=7)
    assert data[0]["busy"] != data[1]["busy"]
    other_seed = mock_freebusy_json([(1, "Ana", "UTC")], WINDOW, seed=8)
    assert other_seed[0]["busy"] != data[0]["busy"]


def test_a_day_does_not_depend_on_the_window_that_asks_for_it() -> None:
    zone = ZoneInfo("Europe/Berlin")
    week = Interval(datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 12, tzinfo=UTC))
    inside = mock_busy("ana", zone, week, seed=1)
    assert mock_busy("ana", zone, WINDOW, seed=1) != inside
    assert tuple(b for b in mock_busy("ana", zone, WINDOW, seed=1) if week.contains(b)) == inside


def test_busy_days_are_plausible() -> None:
    zone = ZoneInfo("America/New_York")
    window = Interval(datetime(2026, 1, 5, tzinfo=UTC), datetime(2026, 7, 5, tzinfo=UTC))
    busy = mock_busy("bo", zone, window, seed=3)
    assert busy == normalize(busy)
    local = [(b.start.astimezone(zone), b.end.astimezone(zone)) for b in busy]
    assert all(s.weekday() < 5 for s, _ in local), "weekends stay free"
    offsites = [s for s, e in local if e - s == timedelta(days=1) or (s.hour, e.hour) == (0, 0)]
    assert 0 < len(offsites) < 20
    meetings = [(s, e) for s, e in local if e - s < timedelta(hours=8)]
    in_hours = [s for s, e in meetings if s.hour >= 7 and e.hour <= 21]  # 07:30-21:00
    assert len(in_hours) == len(meetings)
    assert sum(9 <= s.hour < 18 for s, _ in meetings) / len(meetings) > 0.8
    assert any(s.hour == 12 and (e - s) == timedelta(hours=1) for s, e in meetings), "lunch"
    per_day: dict[object, timedelta] = {}
    for s, e in meetings:
        per_day[s.date()] = per_day.get(s.date(), timedelta()) + (e - s)
    assert max(per_day.values()) >= 4 * min(per_day.values()), "some days are heavier"


def test_mock_source_via_factory_and_fetch_busy() -> None:
    source = source_for("mock", "", zone=ZoneInfo("Europe/Berlin"), seed=7, person_key="1")
    result = fetch_busy(source, WINDOW, label="Ana")
    assert result.ok and result.busy
    assert [iv.iso() for iv in result.busy] == mock_freebusy_json(PEOPLE[:1], WINDOW, 7)[0]["busy"]


def test_json_shape_round_trip() -> None:
    data = mock_freebusy_json(PEOPLE, WINDOW, seed=7)
    assert [d["interviewerId"] for d in data] == [1, 2, 3]
    assert data[0]["name"] == "Ana"
    sample = data[0]["busy"][0]
    assert set(sample) == {"start", "end"} and sample["start"].endswith("Z")
    parsed = parse_freebusy_json(json.dumps(data))
    assert parse_freebusy_json(data) == parsed
    for item in data:
        assert [iv.iso() for iv in parsed[item["interviewerId"]]] == item["busy"]


def test_parser_accepts_offsets_and_merges_repeated_ids() -> None:
    data = [
        {
            "interviewerId": 5,
            "name": "E",
            "busy": [{"start": "2026-12-02T11:00:00+01:00", "end": "2026-12-02T11:30:00Z"}],
        },
        {
            "interviewerId": 5,
            "name": "E",
            "busy": [{"start": "2026-12-02T11:30:00Z", "end": "2026-12-02T12:00:00Z"}],
        },
    ]
    assert parse_freebusy_json(data) == {
        5: [Interval(datetime(2026, 12, 2, 10, tzinfo=UTC), datetime(2026, 12, 2, 12, tzinfo=UTC))]
    }


OK_BLOCK = {"start": "2026-12-02T10:00:00Z", "end": "2026-12-02T11:00:00Z"}


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ("not json", "not valid JSON"),
        ({"interviewerId": 1}, "top level must be a list"),
        (["x"], "item 0: expected an object"),
        ([{"interviewerId": "1", "busy": []}], "interviewerId must be an integer"),
        ([{"interviewerId": True, "busy": []}], "interviewerId must be an integer"),
        ([{"interviewerId": 1, "name": 3, "busy": []}], "name must be a string"),
        ([{"interviewerId": 1}], 'missing "busy"'),
        ([{"interviewerId": 1, "busy": {}}], "busy must be a list"),
        (
            [{"interviewerId": 1, "busy": [{"start": "2026-12-02T10:00:00Z"}]}],
            'item 0.busy[0]: expected an object with "start" and "end"',
        ),
        (
            [
                {
                    "interviewerId": 1,
                    "busy": [OK_BLOCK, {"start": "tomorrow", "end": "2026-12-02T11:00:00Z"}],
                }
            ],
            "item 0.busy[1].start: 'tomorrow' is not an ISO 8601 instant",
        ),
        (
            [
                {
                    "interviewerId": 1,
                    "busy": [{"start": "2026-12-02T10:00:00", "end": "2026-12-02T11:00:00Z"}],
                }
            ],
            "has no time zone",
        ),
        (
            [{"interviewerId": 1, "busy": [{"start": 1, "end": "2026-12-02T11:00:00Z"}]}],
            "expected an ISO 8601 string, got int",
        ),
        (
            [
                {
                    "interviewerId": 1,
                    "busy": [{"start": "2026-12-02T11:00:00Z", "end": "2026-12-02T10:00:00Z"}],
                }
            ],
            "must be after the start",
        ),
    ],
)
def test_bad_shapes_are_refused_with_a_clear_message(data: Any, fragment: str) -> None:
    with pytest.raises(ParseError) as err:
        parse_freebusy_json(data)
    assert fragment in str(err.value)
    assert str(err.value).startswith("Free/busy JSON")
    assert err.value.example and "interviewerId" in err.value.example


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(UnknownZone):
        mock_freebusy_json([(1, "Ana", "Mars/Olympus")], WINDOW, seed=1)
