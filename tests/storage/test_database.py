"""The database: migrations give the models' schema, SQLite is tuned, the audit trail is
append-only in the database itself."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from functools import partial

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from storage.audit.models import AuditEvent
from storage.base import Base
from storage.config import load_settings
from storage.database import Database, is_disconnect, settings_of
from storage.ticket import repairs
from storage.ticket.models import RepairCategory
from tests.conftest import ON_POSTGRESQL_ONLY, SampleEstate, server_drops_connection


def test_the_migrations_build_exactly_the_models_schema(db: Database) -> None:
    db.upgrade()
    assert db.is_current()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrading_twice_is_harmless(db: Database) -> None:
    db.upgrade()
    db.upgrade()
    assert db.is_current()


def test_a_fresh_sqlite_file_is_created_migrated_and_tuned(tmp_path: object) -> None:
    db = Database(
        load_settings(
            database_url=f"sqlite:///{tmp_path}/sub/dir/new.db", sqlite_busy_timeout_ms=7000
        )
    )
    assert not db.is_current()
    db.upgrade()
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 7000
    db.dispose()


def test_sessions_carry_their_databases_settings(db: Database) -> None:
    with db.session() as session:
        assert settings_of(session) is db.settings


def test_the_audit_trail_cannot_be_edited_or_deleted(cuihu: SampleEstate, db: Database) -> None:
    repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.OTHER,
        description="窗户关不上",
    )
    cuihu.session.commit()
    for statement in (
        update(AuditEvent).values(actor_label="someone else"),
        text("DELETE FROM audit_event"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.transaction() as s:
            s.execute(statement)
    with db.transaction() as s:
        assert s.scalars(select(AuditEvent.actor_label)).all() == ["张伟"]


def test_every_migration_goes_down_and_up_again(db: Database) -> None:
    from alembic import command

    config = db.alembic_config()
    command.downgrade(config, "base")
    assert not db.is_current()
    db.upgrade()
    assert db.is_current()
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


@ON_POSTGRESQL_ONLY
def test_a_connection_idle_past_the_setting_is_tested_and_a_dropped_one_replaced(
    db_url: str,
) -> None:
    db = Database(load_settings(database_url=db_url, database_ping_after_idle_seconds=0))
    dropped = server_drops_connection(db)
    with db.transaction() as s:
        assert s.scalar(text("SELECT pg_backend_pid()")) != dropped
    db.dispose()


@ON_POSTGRESQL_ONLY
def test_a_connection_in_steady_use_is_not_tested_so_its_loss_fails_one_transaction(
    db: Database,
) -> None:
    dropped = server_drops_connection(db)  # used a moment ago: not tested before the next use
    with pytest.raises(DBAPIError) as lost, db.transaction() as s:
        s.execute(text("SELECT 1"))
    assert is_disconnect(lost.value)
    with db.transaction() as s:  # the pool has let the dead connection go
        assert s.scalar(text("SELECT pg_backend_pid()")) != dropped


def _thread_of(db: Database) -> str:
    """A unit of work that writes, done by ``Database.run``: the thread it ran in."""
    with db.transaction() as s:
        s.execute(text("SELECT 1"))
        return threading.current_thread().name


async def test_on_sqlite_a_unit_of_work_runs_on_the_event_loop_when_nothing_else_writes(
    db: Database,
) -> None:
    # No hand-over to a thread and back: on SQLite a transaction is quicker than that.
    expected = threading.current_thread().name
    if db.engine.dialect.name == "postgresql":  # its round trips would stall the loop
        assert await db.run(partial(_thread_of, db)) != expected
        return
    assert await db.run(partial(_thread_of, db)) == expected


async def test_while_another_thread_writes_a_unit_of_work_waits_its_turn_in_a_thread(
    db: Database,
) -> None:
    writing, done = threading.Event(), threading.Event()

    def long_write() -> None:
        with db.transaction() as s:
            s.execute(text("SELECT 1"))
            writing.set()
            done.wait(10)

    other = asyncio.ensure_future(asyncio.to_thread(long_write))
    await asyncio.to_thread(writing.wait, 10)
    mine = asyncio.ensure_future(db.run(partial(_thread_of, db)))
    await asyncio.sleep(0)  # the loop is free while it waits
    assert not mine.done()
    done.set()
    assert await mine != threading.current_thread().name
    await other


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_another_process_writing_the_sqlite_file_stalls_no_message_on_the_loop(
    db: Database,
) -> None:
    """Only this process's writers queue on its lock: another process (a CLI command, a
    second worker) holds SQLite's own. Waiting for it on the event loop would stop every
    chat; the unit of work waits in a thread instead, then does all it had to."""
    other_process = sqlite3.connect(db.engine.url.database or "", isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")

    def record() -> str:
        with db.transaction() as s:
            s.execute(text("CREATE TABLE waited (n INTEGER)"))
            s.execute(text("INSERT INTO waited VALUES (1)"))
            return threading.current_thread().name

    mine = asyncio.ensure_future(db.run(record))
    for _ in range(3):  # the loop keeps turning while the other process writes
        await asyncio.sleep(0)
    assert not mine.done()
    other_process.execute("COMMIT")
    other_process.close()
    assert await mine != threading.current_thread().name
    with db.transaction() as s:
        assert s.scalar(text("SELECT n FROM waited")) == 1
        # The loop's attempt gave up at once; the connection waits as long as it should.
        assert s.connection().exec_driver_sql("PRAGMA busy_timeout").scalar() == (
            db.settings.sqlite_busy_timeout_ms
        )
