"""Engines, sessions and migrations.

``Database`` is the one object that owns connections: the CLI, the web app and
the scheduler each build one from the settings and take sessions from it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from storage.config import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
SETTINGS_KEY = "wuye.settings"
RETURNED_AT = "wuye.returned_at"

T = TypeVar("T")

# Set while a thread does work that must not wait for SQLite's file (the event loop's):
# another process's writer then makes its first BEGIN raise WouldWait, not wait.
_without_waiting = threading.local()


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000})
    waiting = f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(waiting)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A state change reads then writes; BEGIN IMMEDIATE takes the write lock up
        # front so two workers cannot both read "pending" and both record a callback.
        if not getattr(_without_waiting, "active", False):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # Only BEGIN IMMEDIATE waits for another process's writer: in WAL mode, once it
        # holds the write lock, neither the statements nor the COMMIT wait for anyone.
        raw = connection.connection.dbapi_connection
        raw.execute("PRAGMA busy_timeout=0")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except DBAPIError as error:
            if getattr(error.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                raise WouldWait("another process is writing the SQLite file") from error
            raise
        finally:
            raw.execute(waiting)
        # Only the first may give up: once it has begun, the work may have committed
        # something, and doing it again elsewhere would do that twice.
        _without_waiting.active = False

    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """``pool_pre_ping`` for connections that sat in the pool a while, not for every use.

    A connection dies idle: a proxy's or firewall's idle timeout, a restarted server. Tested
    before every use, a connection in steady use pays a round trip per message for nothing;
    one that dies in use anyway fails its transaction, and the caller may take it again on a
    fresh connection (see ``is_disconnect``).
    """

    def note_return(_dbapi_connection: Any, record: Any) -> None:
        record.info[RETURNED_AT] = time.monotonic()

    event.listen(engine, "connect", note_return)
    event.listen(engine, "checkin", note_return)

    @event.listens_for(engine, "checkout")
    def _test_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(RETURNED_AT, 0.0) < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
            dbapi_connection.rollback()  # the ping began a transaction
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool throws this connection away and checks out another.
            raise DisconnectionError(f"an idle connection is gone: {error}") from error


class Busy(Exception):
    """The database could not be written within its busy timeout; nothing was done."""


class WouldWait(Exception):
    """Work meant not to wait found SQLite's writer taken by another process; nothing was
    done, and it is done again where waiting is allowed."""


def is_disconnect(error: BaseException) -> bool:
    """The transaction failed because its connection was lost: nothing was written
    (unless it was lost during COMMIT), and the same work may be done again."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(settings.database_url, settings)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    engine = create_engine(url)
    _ping_when_idle(engine, settings.database_ping_after_idle_seconds)
    return engine


class Database:
    def __init__(self, settings: Settings, engine: Engine | None = None) -> None:
        self.settings = settings
        self.engine = engine or create_db_engine(settings)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._after_commit: list[Callable[[Session], None]] = []
        # SQLite has one writer at a time, and every transaction here begins IMMEDIATE.
        # Queued on SQLite's busy handler, waiting threads sleep in steps of up to 100 ms
        # and start late; queued on a lock, the next one starts the moment the last commits.
        # (Another process on the same file still waits on the busy handler.)
        self._writer = threading.RLock() if self.engine.dialect.name == "sqlite" else None

    def session(self) -> Session:
        session = self._sessions()
        # The rules' numbers travel with the unit of work, so a service called
        # from a chat flow, the CLI or a job always applies this Database's settings.
        session.info[SETTINGS_KEY] = self.settings
        return session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error."""
        with self.session() as session:
            with self._writing(), session.begin():
                yield session
            for hook in tuple(self._after_commit):  # a dispatcher may stop listening meanwhile
                hook(session)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """SQLite's one writer, queued for at most its busy timeout: when another process
        holds the file, each waiting thread gives up at its own timeout, not after every
        thread before it has waited out its own."""
        if self._writer is None:
            yield
            return
        if not self._writer.acquire(timeout=self.settings.sqlite_busy_timeout_ms / 1000):
            raise Busy("SQLite is busy: another writer held it past the busy timeout")
        try:
            yield
        finally:
            self._writer.release()

    async def run(self, work: Callable[[], T]) -> T:
        """``work`` (its own transactions) done for a coroutine. On SQLite, when nothing
        else in the process is writing, it runs right here on the event loop: a
        transaction takes a millisecond there, and handing it to a thread and back cost
        the server a quarter of its CPU an Update and left its core idle in between
        (bench/README.md, 2026-12-08). Otherwise, and on PostgreSQL, whose round trips
        would stall every chat's messages, it runs in a thread, waiting its turn there.
        """
        if self._writer is not None and self._writer.acquire(blocking=False):
            _without_waiting.active = True
            try:
                return work()
            except WouldWait:
                pass  # another process holds the file: wait for it in a thread
            finally:
                _without_waiting.active = False
                self._writer.release()
        return await asyncio.to_thread(work)

    def after_commit(self, hook: Callable[[Session], None]) -> Callable[[], None]:
        """Run ``hook`` after each unit of work commits, in the thread that committed it;
        returns the function that takes it away again."""
        self._after_commit.append(hook)
        return lambda: self._after_commit.remove(hook)

    def alembic_config(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(self.alembic_config(), revision)

    def is_current(self) -> bool:
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() == head

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def opened(settings: Settings, *, upgrade: bool = True) -> Iterator[Database]:
    """A database for one command: migrated first (unless told not to), closed after."""
    db = Database(settings)
    try:
        if upgrade:
            db.upgrade()
        yield db
    finally:
        db.dispose()


def settings_of(session: Session) -> Settings:
    settings = session.info.get(SETTINGS_KEY)
    if not isinstance(settings, Settings):
        raise RuntimeError("session was not made by storage.database.Database")
    return settings
