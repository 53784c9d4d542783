"""Estate 小区/项目 → building 楼栋 → unit 房号."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import ClassVar

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import is_working_day, utcnow
from storage.i18n import N_


class Estate(Base):
    __tablename__ = "estate"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Local times of the estate's daily notices (001 4.10: before 18:30; 晨会 at 8:30).
    digest_time: Mapped[time] = mapped_column(default=time(18, 30))
    briefing_time: Mapped[time] = mapped_column(default=time(8, 30))
    # 003 篇十二 三(二): the desk answers 8:30–18:00 on working days, 9:00–17:00 on rest days
    # (weekends and China's public holidays); outside them only emergencies are taken.
    desk_opens_workday: Mapped[time] = mapped_column(default=time(8, 30))
    desk_closes_workday: Mapped[time] = mapped_column(default=time(18, 0))
    desk_opens_rest_day: Mapped[time] = mapped_column(default=time(9, 0))
    desk_closes_rest_day: Mapped[time] = mapped_column(default=time(17, 0))
    # The estate's corrections to China's calendar: {"holidays": [...], "workdays": [...]},
    # ISO dates (a day the company closes, a day it works that the State Council does not).
    calendar: Mapped[dict[str, list[str]] | None] = mapped_column(JSON)
    # 业主评议's questionnaire (the estate file's survey.items); None: the seed's items.
    survey_items: Mapped[list[str] | None] = mapped_column(JSON)

    def is_working_day(self, day: date) -> bool:
        """China's working days (``storage.clock.is_working_day``), as the estate corrects
        them."""
        corrections = self.calendar or {}
        if day.isoformat() in corrections.get("workdays", ()):
            return True
        if day.isoformat() in corrections.get("holidays", ()):
            return False
        return is_working_day(day)

    buildings: Mapped[list[Building]] = relationship(
        back_populates="estate", order_by="Building.code"
    )


class Building(Base):
    __tablename__ = "building"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(50))

    estate: Mapped[Estate] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="Unit.number")


class UnitState(enum.StrEnum):
    """Whether anyone lives there: the owners' survey draws occupied households only."""

    OCCUPIED = "occupied"  # 已入住
    VACANT = "vacant"  # 空置
    RENOVATING = "renovating"  # 装修中


UNIT_STATE_LABELS = {
    UnitState.OCCUPIED: N_("已入住"),
    UnitState.VACANT: N_("空置"),
    UnitState.RENOVATING: N_("装修中"),
}


class Unit(Base):
    """A room, written ``<building>-<number>`` as owners say it, e.g. ``3-1-502``."""

    __tablename__ = "unit"
    audit_type: ClassVar[str] = "unit"  # its state: occupied, vacant, renovating
    __table_args__ = (UniqueConstraint("building_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(32))
    state: Mapped[UnitState] = mapped_column(
        enum_column(UnitState, extensible=True), default=UnitState.OCCUPIED
    )

    building: Mapped[Building] = relationship(back_populates="units", lazy="joined")

    @property
    def designation(self) -> str:
        return f"{self.building.code}-{self.number}"

    @property
    def estate_id(self) -> int:
        return self.building.estate_id
