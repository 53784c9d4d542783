"""Patrol findings 巡查: the public-area patrol record 公共区域巡检记录表."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.attachment.models import Attachment
from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.i18n import N_
from storage.people.models import Department, StaffMember


class PatrolCategory(enum.StrEnum):
    SECURITY_HAZARD = "security_hazard"  # 治安隐患
    PUBLIC_FACILITY = "public_facility"  # 公共设施设备
    CLEANLINESS = "cleanliness"  # 清洁卫生
    LANDSCAPING = "landscaping"  # 园林绿化
    RENOVATION_VIOLATION = "renovation_violation"  # 装修违章
    FIRE_VIOLATION = "fire_violation"  # 消防违章
    VACANT_UNIT = "vacant_unit"  # 空置房
    OTHER = "other"  # 其他


PATROL_CATEGORY_LABELS = {
    PatrolCategory.SECURITY_HAZARD: N_("治安隐患"),
    PatrolCategory.PUBLIC_FACILITY: N_("公共设施设备"),
    PatrolCategory.CLEANLINESS: N_("清洁卫生"),
    PatrolCategory.LANDSCAPING: N_("园林绿化"),
    PatrolCategory.RENOVATION_VIOLATION: N_("装修违章"),
    PatrolCategory.FIRE_VIOLATION: N_("消防违章"),
    PatrolCategory.VACANT_UNIT: N_("空置房"),
    PatrolCategory.OTHER: N_("其他"),
}


class FindingStatus(enum.StrEnum):
    OPEN = "open"  # dispatched to a department, waiting for the fix
    FIXED = "fixed"  # fixed, waiting for the patroller's on-site verification
    VERIFIED = "verified"  # verified on site: the record is complete
    # Handed back by the department ("not ours"), for the desk to send elsewhere.
    RETURNED = "returned"


FINDING_STATUS_LABELS = {
    FindingStatus.OPEN: N_("待整改"),
    FindingStatus.FIXED: N_("待验证"),
    FindingStatus.VERIFIED: N_("已验证"),
    FindingStatus.RETURNED: N_("已退回客服"),
}


class PatrolFinding(Base):
    __tablename__ = "patrol_finding"
    __table_args__ = (
        Index("ix_patrol_finding_estate_status", "estate_id", "status"),
        Index("ix_patrol_finding_estate_created", "estate_id", "created_at"),
        Index("ix_patrol_finding_estate_fixed", "estate_id", "fixed_at"),
    )
    audit_type: ClassVar[str] = "finding"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id"))
    place: Mapped[str] = mapped_column(String(200))
    category: Mapped[PatrolCategory] = mapped_column(enum_column(PatrolCategory, extensible=True))
    description: Mapped[str] = mapped_column(Text)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    status: Mapped[FindingStatus] = mapped_column(enum_column(FindingStatus, extensible=False))
    fixed_on_site: Mapped[bool] = mapped_column(default=False)
    # 001 4.4.5: a gas or burning smell is not left for the digest: it pages at once.
    urgent: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Why the department handed it back (退回), for the desk deciding where it goes.
    return_reason: Mapped[str | None] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    due_at: Mapped[datetime | None] = mapped_column(index=True)
    original_due_at: Mapped[datetime | None]
    extended_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    extension_reason: Mapped[str | None] = mapped_column(Text)

    fixed_at: Mapped[datetime | None]
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    fix_note: Mapped[str | None] = mapped_column(Text)

    verified_at: Mapped[datetime | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    verification_passed: Mapped[bool | None]
    verification_note: Mapped[str | None] = mapped_column(Text)

    # Records older than the retention period (001 4.10: two years) are archived, not deleted.
    archived_at: Mapped[datetime | None]

    reporter: Mapped[StaffMember] = relationship(foreign_keys=[reporter_id], lazy="joined")
    department: Mapped[Department | None] = relationship(lazy="joined")
    extended_by: Mapped[StaffMember | None] = relationship(foreign_keys=[extended_by_id])
    fixed_by: Mapped[StaffMember | None] = relationship(foreign_keys=[fixed_by_id])
    verified_by: Mapped[StaffMember | None] = relationship(foreign_keys=[verified_by_id])
    attachments: Mapped[list[Attachment]] = relationship(order_by=Attachment.id)

    @property
    def number(self) -> str:
        return f"XC{self.id:06d}"


class ExtensionStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


EXTENSION_STATUS_LABELS = {
    ExtensionStatus.PENDING: N_("待审批"),
    ExtensionStatus.APPROVED: N_("已批准"),
    ExtensionStatus.REFUSED: N_("已驳回"),
}


class ExtensionRequest(Base):
    """A department asks for more time on a finding; a manager approves or refuses (001)."""

    __tablename__ = "extension_request"
    audit_type: ClassVar[str] = "extension"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(
        ForeignKey("patrol_finding.id", ondelete="CASCADE"), index=True
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id"))
    new_due_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ExtensionStatus] = mapped_column(enum_column(ExtensionStatus, extensible=False))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    finding: Mapped[PatrolFinding] = relationship(lazy="joined")
    requested_by: Mapped[StaffMember] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[StaffMember | None] = relationship(foreign_keys=[decided_by_id])


class RoundKind(enum.StrEnum):
    """The rounds of 001: 巡检规程 3.2-3.5 and 巡查内容 1.2."""

    DAILY_CHECK = "daily_check"  # 日检, 9:30-10:00, each department head their posts
    WEEKLY_CHECK = "weekly_check"  # 周检, 14:00-15:00
    INSPECTION_TOUR = "inspection_tour"  # 巡检, Monday 9:00-10:00, led by the project manager
    FULL_PATROL = "full_patrol"  # 客服全面巡查, weekly, the whole estate
    SPOT_CHECK = "spot_check"  # 主管抽查, weekly
    RECHECK = "recheck"  # 经理复查: last week's findings, one by one


ROUND_KIND_LABELS = {
    RoundKind.DAILY_CHECK: N_("日检"),
    RoundKind.WEEKLY_CHECK: N_("周检"),
    RoundKind.INSPECTION_TOUR: N_("巡检"),
    RoundKind.FULL_PATROL: N_("客服全面巡查"),
    RoundKind.SPOT_CHECK: N_("主管抽查"),
    RoundKind.RECHECK: N_("经理复查"),
}


class PatrolRound(Base):
    """A round the estate file declares: its kind, who walks it, on which days, in which
    window, and the areas it checks (日检区域安排)."""

    __tablename__ = "patrol_round"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[RoundKind] = mapped_column(enum_column(RoundKind, extensible=True))
    # Weekdays (0 = Monday) it runs on; working_days_only: on China's working days only.
    weekdays: Mapped[list[int]] = mapped_column(JSON)
    working_days_only: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    # Staff codes of who walks it; the first leads.
    walkers: Mapped[list[str]] = mapped_column(JSON)
    # [{"name": "1栋", "points": ["楼梯间", "电梯"]}, …]
    areas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)

    def area_names(self) -> list[str]:
        return [str(area["name"]) for area in self.areas]


class RoundStatus(enum.StrEnum):
    DONE = "done"  # recorded
    MISSED = "missed"  # not recorded by the window's end (and the supervisor told)


ROUND_STATUS_LABELS = {RoundStatus.DONE: N_("已完成"), RoundStatus.MISSED: N_("未完成")}


class RoundVisit(Base):
    """One round on one day: recorded, or missed (and perhaps recorded late)."""

    __tablename__ = "round_visit"
    __table_args__ = (UniqueConstraint("round_id", "day"),)
    audit_type: ClassVar[str] = "round"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("patrol_round.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(index=True)
    status: Mapped[RoundStatus] = mapped_column(enum_column(RoundStatus, extensible=False))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_member.id"))
    recorded_at: Mapped[datetime | None]
    missed_at: Mapped[datetime | None]

    round: Mapped[PatrolRound] = relationship(lazy="joined")
    recorded_by: Mapped[StaffMember | None] = relationship(lazy="joined")
    checks: Mapped[list[RoundCheck]] = relationship(
        order_by="RoundCheck.id", cascade="all, delete-orphan"
    )


class RoundCheck(Base):
    """One area of a round (正常, or a finding), or one finding re-checked (经理复查)."""

    __tablename__ = "round_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(
        ForeignKey("round_visit.id", ondelete="CASCADE"), index=True
    )
    area: Mapped[str] = mapped_column(String(200))
    ok: Mapped[bool]
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("patrol_finding.id"))
    note: Mapped[str | None] = mapped_column(Text)

    finding: Mapped[PatrolFinding | None] = relationship()
