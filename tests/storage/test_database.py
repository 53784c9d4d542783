"""The database: migrations give the models' schema, SQLite is tuned, the audit trail is
append-only in the database itself."""

from __future__ import annotations

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
