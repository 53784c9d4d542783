"""The outbox: notifications written in the same transaction as the change that causes them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.people.models import Person


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # permanently: the reason is in last_error


class OutboxMessage(Base):
    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        # Notices by recipient; replies (to a chat, a row or two per message) left out.
        Index(
            "ix_outbox_message_recipient_id",
            "recipient_id",
            sqlite_where=text("recipient_id IS NOT NULL"),
            postgresql_where=text("recipient_id IS NOT NULL"),
        ),
        CheckConstraint(
            "(recipient_id IS NOT NULL) <> (chat_id IS NOT NULL AND platform IS NOT NULL)",
            name="one_destination",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # A person (reached on whichever chat account they have), or a group chat directly.
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    platform: Mapped[str | None] = mapped_column(String(16))
    chat_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, extensible=False), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # (job, estate, recipient, period) for scheduled notices: a second write is a no-op.
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # A reply to a message: its buttons as [key, label] pairs, and the message it answers
    # ("platform:chat:message"). A redelivery of that message finds what is unsent by the
    # reply's idempotency key, "reply:<message>:<n>" (an index every row already has).
    buttons: Mapped[list[list[str]] | None] = mapped_column(JSON)
    in_reply_to: Mapped[str | None] = mapped_column(String(200))

    recipient: Mapped[Person | None] = relationship(lazy="joined")
