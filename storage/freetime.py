"""Each person's free time kept between searches, for as long as their `free_version` stands.

Database triggers give a person a new `free_version` whenever one of their windows, busy blocks
or bookings is written, inside the writing transaction (migration 0005). So one read of the
versions says which kept answers still hold, in any process sharing the database. The versions
are read before the rows: a change committed in between makes the kept copy look older than it
is (one extra reload later), never newer. Versions are never reused, so a copy made inside a
transaction that rolled back can never be taken for other data.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import NamedTuple
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from scheduling.freetime import FreeTime
from scheduling.intervals import Interval
from scheduling.slots import Participant, SearchRules
from storage.models import Person

KEPT_PER_DATABASE = 20_000  # (person, buffers) answers; least recently used go first
AHEAD = timedelta(days=1)  # kept a day past the span asked, so tomorrow's searches still hit

# Loads people's windows and busy time around a span: `storage.matching.load_participants`.
Loader = Callable[[Session, Sequence[Person], Interval], list[Participant]]


_PEOPLE = Person.__table__.c
_VERSIONS = select(_PEOPLE.id, _PEOPLE.free_version).where(_PEOPLE.id.in_(bindparam("ids", expanding=True)))


class _Kept(NamedTuple):
    version: int
    free: FreeTime


class FreeTimeCache:
    """Per database (engine): (person id, buffer before, buffer after in seconds) → kept free time."""

    def __init__(self, size: int = KEPT_PER_DATABASE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._by_engine: WeakKeyDictionary[Engine, OrderedDict[tuple[int, int, int], _Kept]] = (
            WeakKeyDictionary()
        )

    def free_times(
        self, session: Session, people: Sequence[Person], rules: SearchRules, bounds: Interval, load: Loader
    ) -> list[FreeTime]:
        """Each person's free time over at least `bounds`, in the order given; `load` reads the
        rows of those not kept (or kept at an older version or over too short a span)."""
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        before, after = _seconds(rules.buffer_before), _seconds(rules.buffer_after)
        session.flush()  # Core statements do not autoflush; pending changes must count
        rows = session.connection().execute(_VERSIONS, {"ids": [p.id for p in people]}).all()
        versions: dict[int, int] = {pid: version for pid, version in rows}
        with self._lock:
            kept = self._by_engine.setdefault(engine, OrderedDict())
            found: dict[int, FreeTime] = {}
            for p in people:
                entry = kept.get((p.id, before, after))
                if entry and entry.version == versions[p.id] and entry.free.covers.contains(bounds):
                    kept.move_to_end((p.id, before, after))
                    found[p.id] = entry.free
        missing = [p for p in people if p.id not in found]
        if missing:
            covers = Interval(bounds.start, bounds.end + AHEAD)
            margin = rules.buffer_before + rules.buffer_after
            loaded = load(session, missing, Interval(covers.start - margin, covers.end + margin))
            fresh = {p.id: FreeTime.of(part, rules, covers) for p, part in zip(missing, loaded, strict=True)}
            with self._lock:
                for p in missing:
                    kept[(p.id, before, after)] = _Kept(versions[p.id], fresh[p.id])
                while len(kept) > self._size:
                    kept.popitem(last=False)
            found.update(fresh)
        return [found[p.id] for p in people]

    def clear(self) -> None:
        with self._lock:
            self._by_engine.clear()


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


CACHE = FreeTimeCache()
