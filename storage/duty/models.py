"""The duty roster 值班表: a staff member on duty for a department, every such weekday or
on one date, from a local time to another (past midnight when it ends before it starts)."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import CheckConstraint, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base
from storage.people.models import Department, StaffMember


class DutyShift(Base):
    __tablename__ = "duty_shift"
    __table_args__ = (
        CheckConstraint("(weekday IS NULL) <> (on_date IS NULL)", name="one_kind_of_day"),
        CheckConstraint("weekday IS NULL OR (weekday >= 0 AND weekday <= 6)", name="weekday_range"),
        Index("ix_duty_shift_estate", "estate_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_member.id", ondelete="CASCADE"))
    # Every such weekday (0 Monday … 6 Sunday), or on one date; a date's shifts for a
    # department replace its weekday's on that day (a holiday, a swap).
    weekday: Mapped[int | None]
    on_date: Mapped[date | None]
    starts: Mapped[time]
    ends: Mapped[time]

    department: Mapped[Department] = relationship(lazy="joined")
    staff: Mapped[StaffMember] = relationship(lazy="joined")

    @property
    def overnight(self) -> bool:
        return self.ends <= self.starts
