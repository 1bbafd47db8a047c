"""Engines, the UTC column type and the unit of work.

Every instant is stored as UTC and read back as an aware UTC datetime, on PostgreSQL
(`timestamptz`) and on SQLite (which keeps no zone, so the type restores it).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator

UTC = UTC


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; naive values are a programming error."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Any, coltype: Any) -> Any:
        """On SQLite, the stored text straight to an aware UTC datetime in one C call: searches
        decode thousands of these, and parsing then `replace(tzinfo=...)` costs 7x as much."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")  # stored naive, in UTC (process_bind_param)
            except ValueError:  # text written with an offset by something else
                return parse(value).astimezone(UTC)
        return process


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs that name no driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# The request path (recording a Slack request before its ack, select-menu options) must answer
# within Slack's 3 s even when the database is slow or gone: it gives up after these.
INTERACTIVE_TIMEOUT_S = 1.5


def make_engine(url: str, *, interactive: bool = False, **kwargs: Any) -> Engine:
    """An engine with the per-dialect settings the bot relies on; `interactive` bounds every
    wait (connect, pool, lock, statement) so a stalled database fails fast instead of hanging."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        timeout = INTERACTIVE_TIMEOUT_S if interactive else 30
        engine = create_engine(url, connect_args={"timeout": timeout, "check_same_thread": False}, **kwargs)
        _configure_sqlite(engine, timeout, urgent=interactive)
        return engine
    if interactive:
        kwargs.setdefault("pool_timeout", INTERACTIVE_TIMEOUT_S)
        kwargs["connect_args"] = _bounded_postgres_args(url)
    # Enough connections for the job runner's threads (4 + 16) and the web server's.
    kwargs.setdefault("pool_size", 20)
    kwargs.setdefault("max_overflow", 20)
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _bounded_postgres_args(url: str) -> dict[str, Any]:
    """libpq settings that bound connecting, waiting for locks, statements and a dead peer
    (tcp_user_timeout: unacknowledged data fails the socket), keeping options the URL has."""
    ms = int(INTERACTIVE_TIMEOUT_S * 1000)
    existing = make_url(url).query.get("options", "")
    existing = existing if isinstance(existing, str) else " ".join(existing)
    options = f"{existing} -c statement_timeout={ms} -c lock_timeout={ms}".strip()
    return {"connect_timeout": 2, "options": options, "tcp_user_timeout": ms + 500,
            "keepalives": 1, "keepalives_idle": 1, "keepalives_interval": 1, "keepalives_count": 2}


def _configure_sqlite(engine: Engine, timeout: float, *, urgent: bool = False) -> None:
    """WAL, foreign keys, and explicit BEGIN so writers can take the lock up front.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINT/serialisation; the
    SQLAlchemy documentation's recipe is to disable it and emit BEGIN ourselves. A unit of work
    opened for writing emits BEGIN IMMEDIATE: concurrent writers queue on the database lock
    instead of failing on upgrade from a read lock.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    writers = _writer_lock(engine.url.database or "")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_begin_immediate", False)
        if immediate:
            if not writers.acquire(timeout=timeout, urgent=urgent):
                raise sqlite3.OperationalError("database is locked (by another writer of this process)")
            conn.info["holds_writer_lock"] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Any) -> None:
        if conn.info.pop("holds_writer_lock", False):
            writers.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


class WriterLock:
    """One per SQLite file in this process: its writers queue here instead of in SQLite's busy
    handler (which sleeps in growing steps while it polls the file lock), and an urgent writer
    (a request Slack is waiting to see acknowledged) goes before the background ones."""

    def __init__(self) -> None:
        self._free = threading.Condition()
        self._held = False
        self._urgent_waiting = 0

    def acquire(self, *, timeout: float, urgent: bool) -> bool:
        deadline = time.monotonic() + timeout
        with self._free:
            self._urgent_waiting += urgent
            try:
                while self._held or (not urgent and self._urgent_waiting):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._free.wait(remaining):
                        return False
                self._held = True
                return True
            finally:
                self._urgent_waiting -= urgent

    def release(self) -> None:
        with self._free:
            self._held = False
            self._free.notify_all()


_WRITER_LOCKS: dict[str, WriterLock] = {}
_LOCKS_LOCK = threading.Lock()


def _writer_lock(path: str) -> WriterLock:
    with _LOCKS_LOCK:
        return _WRITER_LOCKS.setdefault(path, WriterLock())


class Database:
    """One engine and its session factories (read and write)."""

    def __init__(self, url: str, *, interactive: bool = False, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, interactive=interactive, **engine_kwargs)
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        writer = self.engine.execution_options(sqlite_begin_immediate=True)
        self._write = sessionmaker(writer, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def unit_of_work(self, *, write: bool = True) -> UnitOfWork:
        return UnitOfWork(self._write if write else self._read)

    def create_schema(self) -> None:
        """Bring the schema to head with the project's migrations."""
        from storage.migrate import upgrade

        upgrade(self)

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """Owns one transaction: nothing is kept unless `commit()` is called inside the block."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        return self

    def __exit__(self, *exc: object) -> None:
        # close() rolls back whatever was not committed, but unlike rollback() it does not
        # expire loaded objects, so results read inside the block stay usable after it.
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()


def upsert_insert(session: Session, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT (PostgreSQL and SQLite spell it alike): concurrent
    first writes of the same key then neither fail nor duplicate."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def affected_rows(session: Session, statement: Executable) -> int:
    """Run an INSERT, UPDATE or DELETE and return how many rows it matched.

    `Session.execute` is typed as returning a plain `Result`; for DML it is a `CursorResult`,
    the only kind that has a rowcount.
    """
    return cast(CursorResult[Any], session.execute(statement)).rowcount
