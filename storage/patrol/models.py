"""Patrol findings 巡查: the public-area patrol record 公共区域巡检记录表."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, Text
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


FINDING_STATUS_LABELS = {
    FindingStatus.OPEN: N_("待整改"),
    FindingStatus.FIXED: N_("待验证"),
    FindingStatus.VERIFIED: N_("已验证"),
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
