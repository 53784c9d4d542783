"""Engines, sessions and migrations.

``Database`` is the one object that owns connections: the CLI, the web app and
the scheduler each build one from the settings and take sessions from it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from storage.config import Settings

MIGRATIONS = Path(__file__).with_name("migrations")
SETTINGS_KEY = "wuye.settings"


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    engine = create_engine(url, connect_args={"timeout": settings.sqlite_busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A state change reads then writes; BEGIN IMMEDIATE takes the write lock up
        # front so two workers cannot both read "pending" and both record a callback.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_db_engine(settings: Settings) -> Engine:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        return _sqlite_engine(settings.database_url, settings)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


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
        self._writer: AbstractContextManager[Any] = (
            threading.RLock() if self.engine.dialect.name == "sqlite" else nullcontext()
        )

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
            with self._writer, session.begin():
                yield session
            for hook in tuple(self._after_commit):  # a dispatcher may stop listening meanwhile
                hook(session)

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


def settings_of(session: Session) -> Settings:
    settings = session.info.get(SETTINGS_KEY)
    if not isinstance(settings, Settings):
        raise RuntimeError("session was not made by storage.database.Database")
    return settings
