"""Callbacks 回访: the satisfaction call after a repair or a complaint reply."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.i18n import N_
from storage.people.models import Person
from storage.ticket.models import Ticket


class Satisfaction(enum.StrEnum):
    SATISFIED = "satisfied"  # 满意
    FAIRLY_SATISFIED = "fairly_satisfied"  # 较满意
    UNSATISFIED = "unsatisfied"  # 不满意


SATISFACTION_LABELS = {
    Satisfaction.SATISFIED: N_("满意"),
    Satisfaction.FAIRLY_SATISFIED: N_("较满意"),
    Satisfaction.UNSATISFIED: N_("不满意"),
}


# A callback is waiting until it is recorded (done_at): its two states in the audit trail.
PENDING, DONE = "pending", "done"


class CallbackChannel(enum.StrEnum):
    PHONE = "phone"
    VISIT = "visit"
    CHAT = "chat"  # the owner answered the callback question in chat


class Callback(Base):
    __tablename__ = "callback"
    __table_args__ = (
        # At most one callback waiting per ticket, enforced by the database itself.
        Index(
            "uq_callback_pending_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=text("done_at IS NULL"),
            postgresql_where=text("done_at IS NULL"),
        ),
    )
    audit_type: ClassVar[str] = "callback"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"))
    due_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    channel: Mapped[CallbackChannel | None] = mapped_column(
        enum_column(CallbackChannel, extensible=True)
    )
    satisfaction: Mapped[Satisfaction | None] = mapped_column(
        enum_column(Satisfaction, extensible=False)
    )
    note: Mapped[str | None] = mapped_column(Text)
    # When the owner is asked in chat: the day after the work, so that there is time to
    # answer and to be phoned before the deadline (003 篇十二 三(四)2: "within" N days).
    ask_at: Mapped[datetime | None]
    asked_at: Mapped[datetime | None]  # when the question went out, for its one reminder
    # The desk's calls nobody answered (未接通), when to try again (the next working day),
    # and, after the setting's number of tries, that the owner could not be reached.
    attempts: Mapped[int] = mapped_column(default=0, server_default=text("0"))
    call_again_at: Mapped[datetime | None]
    unreachable: Mapped[bool] = mapped_column(default=False, server_default=false())
    rework_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))

    ticket: Mapped[Ticket] = relationship(foreign_keys=[ticket_id], lazy="joined")
    recorded_by: Mapped[Person | None] = relationship()


class QualityCheckKind(enum.StrEnum):
    WEEKLY = "weekly"  # 000 3.12: the quality specialist's weekly re-check by phone
    MONTHLY = "monthly"  # 003 篇十二 三(四)1: the project manager's monthly spot-check


QUALITY_CHECK_LABELS = {
    QualityCheckKind.WEEKLY: N_("品质抽查"),
    QualityCheckKind.MONTHLY: N_("经理抽查"),
}


class QualityCheck(Base):
    """A finished callback drawn to be checked again, and what the check found."""

    __tablename__ = "quality_check"
    __table_args__ = (UniqueConstraint("callback_id", "kind", "period"),)
    audit_type: ClassVar[str] = "quality_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callback.id", ondelete="CASCADE"))
    kind: Mapped[QualityCheckKind] = mapped_column(enum_column(QualityCheckKind, extensible=True))
    period: Mapped[str] = mapped_column(String(16))  # 2026-W48, 2026-11
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    satisfaction: Mapped[Satisfaction | None] = mapped_column(
        enum_column(Satisfaction, extensible=False)
    )
    note: Mapped[str | None] = mapped_column(Text)

    callback: Mapped[Callback] = relationship(lazy="joined")
    recorded_by: Mapped[Person | None] = relationship()
