"""Tickets: repair requests 报修 and complaints 投诉."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.attachment.models import Attachment
from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.estate.models import Estate, Unit
from storage.i18n import N_
from storage.people.models import Department, Person, StaffMember


class TicketKind(enum.StrEnum):
    REPAIR = "repair"
    COMPLAINT = "complaint"
    MESSAGE = "message"  # 留言: a question or a suggestion for the desk (001 第十条: 咨询、建议)


NUMBER_PREFIXES = {TicketKind.REPAIR: "BX", TicketKind.COMPLAINT: "TS", TicketKind.MESSAGE: "LY"}


class CallbackClass(enum.StrEnum):
    """The three callback windows of 003 篇十二 三(四)2."""

    SAFETY = "safety"  # 安全设施维修: 2 days
    LEAK = "leak"  # 房屋渗漏水: 3 days
    OTHER = "other"  # 其他: 7 days


class RepairCategory(enum.StrEnum):
    LIFT = "lift"
    FIRE_SAFETY = "fire_safety"
    GAS = "gas"
    ACCESS_CONTROL = "access_control"
    WATER_LEAK = "water_leak"
    PLUMBING = "plumbing"
    ELECTRICAL = "electrical"
    DOOR_LOCK = "door_lock"
    WALL_CEILING = "wall_ceiling"
    PUBLIC_AREA = "public_area"
    # Urgent by nature (WUYE_URGENT_CATEGORIES), after the first ten so their numbers stay.
    LIFT_ENTRAPMENT = "lift_entrapment"  # 电梯困人
    BURST_PIPE = "burst_pipe"  # 爆管/跑水
    POWER_FAILURE = "power_failure"  # 停电
    OTHER = "other"

    @property
    def callback_class(self) -> CallbackClass:
        return CALLBACK_CLASS[self]

    @property
    def label(self) -> str:
        return REPAIR_CATEGORY_LABELS[self]


# The one place where what owners report meets the procedure's three classes.
CALLBACK_CLASS: dict[RepairCategory, CallbackClass] = {
    RepairCategory.LIFT: CallbackClass.SAFETY,
    RepairCategory.LIFT_ENTRAPMENT: CallbackClass.SAFETY,
    RepairCategory.BURST_PIPE: CallbackClass.LEAK,
    RepairCategory.POWER_FAILURE: CallbackClass.OTHER,
    RepairCategory.FIRE_SAFETY: CallbackClass.SAFETY,
    RepairCategory.GAS: CallbackClass.SAFETY,
    RepairCategory.ACCESS_CONTROL: CallbackClass.SAFETY,
    RepairCategory.WATER_LEAK: CallbackClass.LEAK,
    RepairCategory.PLUMBING: CallbackClass.OTHER,
    RepairCategory.ELECTRICAL: CallbackClass.OTHER,
    RepairCategory.DOOR_LOCK: CallbackClass.OTHER,
    RepairCategory.WALL_CEILING: CallbackClass.OTHER,
    RepairCategory.PUBLIC_AREA: CallbackClass.OTHER,
    RepairCategory.OTHER: CallbackClass.OTHER,
}

REPAIR_CATEGORY_LABELS: dict[RepairCategory, str] = {
    RepairCategory.LIFT: N_("电梯"),
    RepairCategory.LIFT_ENTRAPMENT: N_("电梯困人"),
    RepairCategory.BURST_PIPE: N_("爆管/跑水"),
    RepairCategory.POWER_FAILURE: N_("停电"),
    RepairCategory.FIRE_SAFETY: N_("消防设施"),
    RepairCategory.GAS: N_("燃气"),
    RepairCategory.ACCESS_CONTROL: N_("门禁/防盗"),
    RepairCategory.WATER_LEAK: N_("房屋渗漏水"),
    RepairCategory.PLUMBING: N_("水管/下水"),
    RepairCategory.ELECTRICAL: N_("电路/照明"),
    RepairCategory.DOOR_LOCK: N_("门窗/门锁"),
    RepairCategory.WALL_CEILING: N_("墙面/天花"),
    RepairCategory.PUBLIC_AREA: N_("公共区域设施"),
    RepairCategory.OTHER: N_("其他"),
}


class ReportChannel(enum.StrEnum):
    """How a report reached the estate: the desk registers the first three."""

    PHONE = "phone"  # 电话
    WALK_IN = "walk_in"  # 来访
    WRITTEN = "written"  # 书面
    WECHAT = "wechat"
    TELEGRAM = "telegram"
    WECOM = "wecom"
    CONSOLE = "console"


CHANNEL_LABELS: dict[ReportChannel, str] = {
    ReportChannel.PHONE: N_("电话"),
    ReportChannel.WALK_IN: N_("来访"),
    ReportChannel.WRITTEN: N_("书面"),
    ReportChannel.WECHAT: N_("微信"),
    ReportChannel.TELEGRAM: "Telegram",
    ReportChannel.WECOM: N_("企业微信"),
    ReportChannel.CONSOLE: N_("终端"),
}
# What the desk registers for an owner, in the order it offers them.
DESK_CHANNELS = (ReportChannel.PHONE, ReportChannel.WALK_IN, ReportChannel.WRITTEN)


class ComplaintSeverity(enum.StrEnum):
    GENERAL = "general"  # 一般性投诉
    MAJOR = "major"  # 重大投诉
    WRITTEN = "written"  # 书面投诉


SEVERITY_LABELS = {
    ComplaintSeverity.GENERAL: N_("一般投诉"),
    ComplaintSeverity.MAJOR: N_("重大投诉"),
    ComplaintSeverity.WRITTEN: N_("书面投诉"),
}


class TicketStatus(enum.StrEnum):
    NEW = "new"  # 待派单 / 待受理
    DISPATCHED = "dispatched"  # 已派单 (repair) / 已转部门 (complaint)
    ACCEPTED = "accepted"  # 已接单 / 已受理
    DONE = "done"  # 已完工
    ESCALATED = "escalated"  # 已上报 (major complaint, with the leadership)
    REPLIED = "replied"  # 已答复
    CALLED_BACK = "called_back"  # 已回访 (waiting for rework when unsatisfied)
    CLOSED = "closed"  # 已关闭
    CANCELLED = "cancelled"  # 已撤销


STATUS_LABELS = {
    TicketStatus.NEW: N_("待处理"),
    TicketStatus.DISPATCHED: N_("已派单"),
    TicketStatus.ACCEPTED: N_("处理中"),
    TicketStatus.DONE: N_("已完工"),
    TicketStatus.ESCALATED: N_("已上报"),
    TicketStatus.REPLIED: N_("已答复"),
    TicketStatus.CALLED_BACK: N_("已回访"),
    TicketStatus.CLOSED: N_("已关闭"),
    TicketStatus.CANCELLED: N_("已撤销"),
}

# A complaint is forwarded (to a department) where a repair is dispatched (to a technician).
COMPLAINT_STATUS_LABELS = STATUS_LABELS | {TicketStatus.DISPATCHED: N_("已转部门")}

OPEN_STATUSES = frozenset(TicketStatus) - {TicketStatus.CLOSED, TicketStatus.CANCELLED}


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (
        CheckConstraint(
            "(kind = 'repair' AND category IS NOT NULL AND severity IS NULL)"
            " OR (kind = 'complaint' AND severity IS NOT NULL)"
            " OR (kind = 'message' AND category IS NULL AND severity IS NULL)",
            name="kind_fields",
        ),
        CheckConstraint("unit_id IS NOT NULL OR place IS NOT NULL", name="has_place"),
        # Open work by status: only the unclosed tickets, a sliver of an estate's history, so
        # the index stays small and neither planner mistakes it for a scan of that history.
        Index(
            "ix_ticket_estate_unclosed",
            "estate_id",
            "status",
            sqlite_where=text("closed_at IS NULL"),
            postgresql_where=text("closed_at IS NULL"),
        ),
        # The day's figures of one estate: ranges of time within it, read every evening.
        Index("ix_ticket_estate_created", "estate_id", "created_at"),
        Index("ix_ticket_estate_done", "estate_id", "done_at"),
        Index("ix_ticket_estate_replied", "estate_id", "replied_at"),
    )
    audit_type: ClassVar[str] = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[TicketKind] = mapped_column(enum_column(TicketKind, extensible=False))
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    place: Mapped[str | None] = mapped_column(String(200))
    reporter_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    category: Mapped[RepairCategory | None] = mapped_column(
        enum_column(RepairCategory, extensible=True)
    )
    severity: Mapped[ComplaintSeverity | None] = mapped_column(
        enum_column(ComplaintSeverity, extensible=False)
    )
    subject: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    preferred_time: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"), index=True)
    status: Mapped[TicketStatus] = mapped_column(enum_column(TicketStatus, extensible=False))
    rework_of_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    # A work order made of a patrol finding (转维修单): done, the finding goes to on-site
    # verification instead of an owner's callback. (A name, not a relationship: patrols
    # know tickets, tickets do not import patrols.)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_finding.id"), index=True)
    # 紧急维修: paged through the night, up a ladder until someone accepts.
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())
    channel: Mapped[ReportChannel | None] = mapped_column(
        enum_column(ReportChannel, extensible=True, length=16)
    )
    # The owner asked for the leadership (需要领导处理); the desk decides whether it is major.
    leadership_requested: Mapped[bool] = mapped_column(default=False, server_default=false())

    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    dispatched_at: Mapped[datetime | None]
    accepted_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    done_note: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None]
    reply_text: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    # Work must be finished (rework: 24 h) or, for a complaint, taken up (24 h) by then.
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    # A repair is dispatched by then (the desk's working day), an urgent one accepted.
    dispatch_due_at: Mapped[datetime | None]
    # An urgent repair's technician is on site by then, and says so (arrived_at).
    arrive_due_at: Mapped[datetime | None]
    arrived_at: Mapped[datetime | None]
    # When the technician said they would come, as they said it ("今晚8点").
    expected_time: Mapped[str | None] = mapped_column(String(100))
    # A complaint is answered by then: 72 h, or the date the owner was given.
    reply_due_at: Mapped[datetime | None]

    estate: Mapped[Estate] = relationship()
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    reporter: Mapped[Person] = relationship(foreign_keys=[reporter_id], lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    assignee: Mapped[StaffMember | None] = relationship(lazy="joined")
    attachments: Mapped[list[Attachment]] = relationship(order_by=Attachment.id)
    rework_of: Mapped[Ticket | None] = relationship(remote_side=[id])

    @property
    def number(self) -> str:
        """The number people read out on the phone: 报修 BX…, 投诉 TS…."""
        return f"{NUMBER_PREFIXES[self.kind]}{self.id:06d}"

    @property
    def status_label(self) -> str:
        """The state's name as its kind says it (a message id)."""
        labels = COMPLAINT_STATUS_LABELS if self.kind is TicketKind.COMPLAINT else STATUS_LABELS
        return labels[self.status]

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel, "") if self.channel else ""

    @property
    def where(self) -> str:
        return self.unit.designation if self.unit is not None else (self.place or "")
