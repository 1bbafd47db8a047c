"""What every listener needs: settings, the database, a clock (injectable for tests) and the
pool that runs work after the ack."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
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
    # Slow work after the ack runs here, not on Bolt's listener pool: a listener returns as soon
    # as it has acked, so a burst of slow searches can never delay the next request's ack.
    background: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=3, thread_name_prefix="after-ack")
    )

    # Set by `run`: gives newly planned reminders their scheduler jobs at once (the scheduler's
    # ticker would find them within a second anyway).
    schedule_reminders: Callable[[Iterable[tuple[int, datetime]]], None] | None = None

    def now(self) -> datetime:
        return self.clock()
