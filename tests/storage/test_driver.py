"""Statements on the driver's cursor: the rows the ORM writes, its values, its errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import cast

import pytest
from sqlalchemy import Table, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage.chat.models import Conversation
from storage.database import Database, is_disconnect
from storage.driver import DriverStatement, together
from storage.outbox.models import OutboxMessage, OutboxStatus
from tests.conftest import ON_POSTGRESQL_ONLY, server_drops_connection

CONVERSATION = cast(Table, Conversation.__table__)
OUTBOX = cast(Table, OutboxMessage.__table__)
OPEN = DriverStatement(
    "INSERT INTO conversation (platform, chat_id, user_id, flow, data, updated_at)"
    " VALUES (:platform, :chat_id, :user_id, :flow, :data, :updated_at) RETURNING id",
    binds={"data": CONVERSATION.c.data.type, "updated_at": CONVERSATION.c.updated_at.type},
)
READ = DriverStatement(
    "SELECT flow, data, updated_at FROM conversation WHERE chat_id = :chat_id",
    results=(None, CONVERSATION.c.data.type, CONVERSATION.c.updated_at.type),
)
BEIJING = timezone(timedelta(hours=8))


def test_a_row_written_on_the_cursor_is_the_row_the_orm_reads(db: Database) -> None:
    data = {"description": "卫生间天花板渗水 100%", "photos": ["telegram:AgAD"], "urgent": None}
    at_nine_in_beijing = datetime(2026, 12, 7, 9, 0, 0, 123456, tzinfo=BEIJING)
    with db.transaction() as s:
        [(opened,)] = OPEN.rows(
            session=s,
            values={
                "platform": "telegram",
                "chat_id": "1001",
                "user_id": "1001",
                "flow": "repair",
                "data": data,
                "updated_at": at_nine_in_beijing,
            },
        )
    with db.transaction() as s:
        conversation = s.get_one(Conversation, opened)
        assert (conversation.flow, conversation.data) == ("repair", data)
        assert conversation.updated_at == datetime(2026, 12, 7, 1, 0, 0, 123456, tzinfo=UTC)
        # Read on the cursor, each value as its column's type reads it: the same.
        assert READ.rows(session=s, values={"chat_id": "1001"}) == [
            ("repair", data, conversation.updated_at)
        ]


def test_values_an_enum_names_and_rows_changed_are_the_drivers_own(db: Database) -> None:
    queue = DriverStatement(
        "INSERT INTO outbox_message (platform, chat_id, kind, params, text, status, attempts,"
        " created_at, next_attempt_at)"
        " VALUES ('telegram', :chat_id, 'reply', :params, '您好', :status, 0, :at, :at)",
        binds={
            "params": OUTBOX.c.params.type,
            "status": OUTBOX.c.status.type,
            "at": OUTBOX.c.created_at.type,
        },
    )
    now = datetime.now(UTC)
    with db.transaction() as s:
        queue.run_each(
            session=s,
            values=[
                {"chat_id": chat, "params": {}, "status": OutboxStatus.PENDING, "at": now}
                for chat in ("1001", "1002")
            ],
        )
        sent = DriverStatement(
            "UPDATE outbox_message SET status = :status WHERE chat_id = :chat_id",
            binds={"status": OUTBOX.c.status.type},
        )
        assert sent.run(session=s, values={"status": OutboxStatus.SENT, "chat_id": "1001"}) == 1
    with db.transaction() as s:
        rows = s.execute(select(OutboxMessage.chat_id, OutboxMessage.status)).all()
        assert sorted(rows) == [("1001", OutboxStatus.SENT), ("1002", OutboxStatus.PENDING)]
        stored = s.scalar(text("SELECT status FROM outbox_message WHERE chat_id = '1001'"))
        assert stored == "sent"  # the enum's value, as the ORM stores it


def test_a_drivers_error_comes_out_as_sqlalchemys_and_nothing_of_it_is_kept(
    db: Database,
) -> None:
    values: dict[str, object] = {"platform": "telegram", "chat_id": "1001", "user_id": "1001"}
    values |= {"flow": None, "data": {}, "updated_at": datetime.now(UTC)}
    with db.transaction() as s:
        OPEN.rows(session=s, values=values)

    def another_then_the_same_again() -> None:
        with db.transaction() as s:
            OPEN.rows(session=s, values=values | {"chat_id": "1002", "user_id": "1002"})
            OPEN.rows(session=s, values=values)  # the same conversation again: unique

    with pytest.raises(IntegrityError):
        another_then_the_same_again()
    with db.transaction() as s:
        assert s.scalars(select(Conversation.chat_id)).all() == ["1001"]


@ON_POSTGRESQL_ONLY
def test_a_connection_lost_under_a_cursor_statement_is_invalidated_not_pooled_again(
    db: Database,
) -> None:
    with db.transaction() as s:
        s.execute(text("SELECT 1"))
    dropped = server_drops_connection(db)
    with db.session() as s, pytest.raises(DBAPIError) as lost:
        READ.rows(session=s, values={"chat_id": "1001"})
    # As the statement raised it (not the rollback after): the engine takes the message again.
    assert is_disconnect(lost.value)
    with db.transaction() as s:
        assert s.scalar(text("SELECT pg_backend_pid()")) != dropped
        assert READ.rows(session=s, values={"chat_id": "1001"}) == []


def test_statements_sent_together_land_together_or_not_at_all(db: Database) -> None:
    values: dict[str, object] = {"platform": "telegram", "flow": None, "data": {}}
    values |= {"updated_at": datetime.now(UTC)}
    keep = DriverStatement(
        "INSERT INTO conversation (platform, chat_id, user_id, flow, data, updated_at)"
        " VALUES (:platform, :chat_id, :chat_id, :flow, :data, :updated_at)",
        binds={"data": CONVERSATION.c.data.type, "updated_at": CONVERSATION.c.updated_at.type},
    )
    with db.transaction() as s, together(s):
        keep.run(session=s, values=values | {"chat_id": "1001"})
        keep.run_each(session=s, values=[values | {"chat_id": c} for c in ("1002", "1003")])

    def again_and_a_new_one() -> None:
        with db.transaction() as s, together(s):
            keep.run(session=s, values=values | {"chat_id": "1004"})
            keep.run(session=s, values=values | {"chat_id": "1001"})  # there already

    with pytest.raises(IntegrityError):
        again_and_a_new_one()
    with db.transaction() as s:
        assert sorted(s.scalars(select(Conversation.chat_id))) == ["1001", "1002", "1003"]
