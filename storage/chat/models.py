"""Conversation state, kept in the database so any worker can take the next message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base
from storage.clock import utcnow


class Conversation(Base):
    """Where one person stands in one chat: the flow, the step, what they answered so far."""

    __tablename__ = "conversation"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))
    flow: Mapped[str | None] = mapped_column(String(32))
    step: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SeenMessage(Base):
    """A message already handled: a platform's redelivery is acknowledged, not handled twice."""

    __tablename__ = "seen_message"
    __table_args__ = (UniqueConstraint("platform", "chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class DepartmentChat(Base):
    """A group chat that receives a department's notices (digests, escalations, dispatches)."""

    __tablename__ = "department_chat"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(
        ForeignKey("department.id", ondelete="CASCADE"), index=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChatWindow(Base):
    """When a person last wrote from a chat account, and what was sent since.

    WeChat lets an account send customer-service messages only within 48 hours of
    the user's last message, and only a few per message; outside it, templates.
    """

    __tablename__ = "chat_window"
    __table_args__ = (UniqueConstraint("platform", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(128))
    last_inbound_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_since_inbound: Mapped[int] = mapped_column(default=0)
    unsubscribed_at: Mapped[datetime | None]
