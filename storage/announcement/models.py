"""通知公告: what the estate tells its residents (a water cut, a lift under maintenance, a
typhoon, a fee reminder), to whom, approved by whom, and who received it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.i18n import N_
from storage.outbox.models import OutboxMessage
from storage.people.models import Person


class AnnouncementKind(enum.StrEnum):
    GENERAL = "general"  # 通知
    WATER_OUTAGE = "water_outage"  # 停水
    POWER_OUTAGE = "power_outage"  # 停电
    LIFT_OUTAGE = "lift_outage"  # 电梯停运

    @property
    def is_outage(self) -> bool:
        return self is not AnnouncementKind.GENERAL


ANNOUNCEMENT_KIND_LABELS = {
    AnnouncementKind.GENERAL: N_("通知"),
    AnnouncementKind.WATER_OUTAGE: N_("停水"),
    AnnouncementKind.POWER_OUTAGE: N_("停电"),
    AnnouncementKind.LIFT_OUTAGE: N_("电梯停运"),
}


class AnnouncementStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"  # 待审批: a supervisor approves it (or sends it back)
    SCHEDULED = "scheduled"  # 待发送: approved, waiting for its time (or for the morning)
    SENT = "sent"  # 已发送: queued to every bound resident of its audience
    ENDED = "ended"  # 已结束: an outage over, its residents told so
    REFUSED = "refused"  # 已退回: the supervisor sent it back; nothing went out
    CANCELLED = "cancelled"  # 已撤回: withdrawn before it went out


ANNOUNCEMENT_STATUS_LABELS = {
    AnnouncementStatus.PENDING_APPROVAL: N_("待审批"),
    AnnouncementStatus.SCHEDULED: N_("待发送"),
    AnnouncementStatus.SENT: N_("已发送"),
    AnnouncementStatus.ENDED: N_("已结束"),
    AnnouncementStatus.REFUSED: N_("已退回"),
    AnnouncementStatus.CANCELLED: N_("已撤回"),
}


class Announcement(Base):
    __tablename__ = "announcement"
    __table_args__ = (Index("ix_announcement_due", "status", "send_at"),)
    audit_type: ClassVar[str] = "announcement"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    kind: Mapped[AnnouncementKind] = mapped_column(enum_column(AnnouncementKind, extensible=True))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    # Who it is for: {"buildings": ["3"], "entrances": ["3-1"], "units": ["3-1-1204"],
    # "open_tickets": false}; all empty is the whole estate. The residents are resolved when
    # it is sent, so a resident bound between writing and sending is included.
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Goes through quiet hours, and needs no approval unless
    # WUYE_ANNOUNCEMENT_EMERGENCY_SKIPS_APPROVAL is turned off.
    emergency: Mapped[bool] = mapped_column(default=False)
    status: Mapped[AnnouncementStatus] = mapped_column(
        enum_column(AnnouncementStatus, extensible=False)
    )
    send_at: Mapped[datetime]
    # An outage's expected end: its residents are told it is over then.
    ends_at: Mapped[datetime | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]

    created_by: Mapped[Person | None] = relationship(foreign_keys=[created_by_id])

    @property
    def number(self) -> str:
        return f"GG{self.id:05d}"


class AnnouncementDelivery(Base):
    """One resident's copy: its outbox row (None when they are not bound to any chat), and
    when they pressed 收到."""

    __tablename__ = "announcement_delivery"
    __table_args__ = (UniqueConstraint("announcement_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcement.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    acknowledged_at: Mapped[datetime | None]

    outbox: Mapped[OutboxMessage | None] = relationship()
