"""People: residents bound to units, staff in departments with a role."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.estate.models import Estate, Unit
from storage.i18n import N_


class ResidentRelation(enum.StrEnum):
    OWNER = "owner"  # 业主
    TENANT = "tenant"  # 租户
    FAMILY = "family"  # 家属


RELATION_LABELS = {
    ResidentRelation.OWNER: N_("业主"),
    ResidentRelation.FAMILY: N_("家属"),
    ResidentRelation.TENANT: N_("租户"),
}


class DepartmentKind(enum.StrEnum):
    CUSTOMER_SERVICE = "customer_service"  # 客服中心
    ENGINEERING = "engineering"  # 工程部
    SECURITY = "security"  # 秩序维护部
    CLEANING = "cleaning"  # 保洁部
    LANDSCAPING = "landscaping"  # 绿化部
    QUALITY = "quality"  # 品质部
    MANAGEMENT = "management"  # 项目管理处


class StaffRole(enum.StrEnum):
    CUSTOMER_SERVICE = "customer_service"  # 客服/管家
    ENGINEERING = "engineering"  # 工程/维修
    SECURITY = "security"  # 秩序维护/保安
    CLEANING = "cleaning"  # 保洁
    LANDSCAPING = "landscaping"  # 绿化
    SUPERVISOR = "supervisor"  # 主管/部门负责人
    PROJECT_MANAGER = "project_manager"  # 项目经理/服务中心主任
    QUALITY_SPECIALIST = "quality_specialist"  # 品质专员
    # The company's leader above the project manager (公司领导), optional in an estate file:
    # hears of major complaints with the project manager, and of what the leadership lets
    # run late.
    COMPANY_LEADER = "company_leader"


ROLE_LABELS = {
    StaffRole.CUSTOMER_SERVICE: N_("客服"),
    StaffRole.ENGINEERING: N_("工程维修"),
    StaffRole.SECURITY: N_("秩序维护"),
    StaffRole.CLEANING: N_("保洁"),
    StaffRole.LANDSCAPING: N_("绿化"),
    StaffRole.SUPERVISOR: N_("主管"),
    StaffRole.PROJECT_MANAGER: N_("项目经理"),
    StaffRole.QUALITY_SPECIALIST: N_("品质专员"),
    StaffRole.COMPANY_LEADER: N_("公司领导"),
}

# Who approves a longer deadline (001: 经理、主管审批) and receives escalations.
MANAGER_ROLES = frozenset({StaffRole.SUPERVISOR, StaffRole.PROJECT_MANAGER})
# Who runs the desk: registers tickets, forwards complaints, calls owners back.
DESK_ROLES = frozenset(
    {
        StaffRole.CUSTOMER_SERVICE,
        StaffRole.SUPERVISOR,
        StaffRole.PROJECT_MANAGER,
        StaffRole.QUALITY_SPECIALIST,
    }
)
# Who patrols and therefore verifies fixes on site (001: 客服巡查, 主管抽查, 项目负责人复查).
VERIFIER_ROLES = DESK_ROLES


class Person(Base):
    __tablename__ = "person"
    # A person's own trail: their personal information exported or erased (个人信息保护法).
    audit_type: ClassVar[str] = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    # 备用电话 from the company's roster: the desk's second number to call.
    alt_phone: Mapped[str | None] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    residencies: Mapped[list[Residency]] = relationship(back_populates="person")
    staff_posts: Mapped[list[StaffMember]] = relationship(back_populates="person")


class Residency(Base):
    __tablename__ = "residency"
    __table_args__ = (UniqueConstraint("person_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    relation: Mapped[ResidentRelation] = mapped_column(
        enum_column(ResidentRelation, extensible=True), default=ResidentRelation.OWNER
    )
    moved_in_on: Mapped[date | None]  # 入住日期, from the roster

    person: Mapped[Person] = relationship(back_populates="residencies")
    unit: Mapped[Unit] = relationship(lazy="joined")


class Department(Base):
    __tablename__ = "department"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[DepartmentKind] = mapped_column(enum_column(DepartmentKind, extensible=True))

    estate: Mapped[Estate] = relationship()


class StaffMember(Base):
    """A person's post at one estate: a role in a department."""

    __tablename__ = "staff_member"
    __table_args__ = (
        UniqueConstraint("estate_id", "staff_code"),
        UniqueConstraint("person_id", "estate_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    role: Mapped[StaffRole] = mapped_column(enum_column(StaffRole, extensible=True))
    staff_code: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)

    person: Mapped[Person] = relationship(back_populates="staff_posts", lazy="joined")
    department: Mapped[Department] = relationship(lazy="joined")

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGER_ROLES
