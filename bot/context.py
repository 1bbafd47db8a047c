"""What every listener needs: settings, the database and a clock (injectable for tests)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.settings import Settings
from scheduling.intervals import UTC
from storage.db import Database


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class BotContext:
    settings: Settings
    db: Database
    clock: Callable[[], datetime] = field(default=system_clock)

    def now(self) -> datetime:
        return self.clock()
