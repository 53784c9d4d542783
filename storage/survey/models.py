"""业主评议 / 满意度调查 (000 3.10, 002 2(4), 003 篇十二 二): a quarter's questionnaire to a
share of the occupied households, no household twice in a year, and its answers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.estate.models import Unit
from storage.i18n import N_
from storage.people.models import Person


class SurveyStatus(enum.StrEnum):
    OPEN = "open"  # 进行中
    CLOSED = "closed"  # 已结束: results sent


SURVEY_STATUS_LABELS = {SurveyStatus.OPEN: N_("进行中"), SurveyStatus.CLOSED: N_("已结束")}


class Survey(Base):
    __tablename__ = "survey"
    __table_args__ = (UniqueConstraint("estate_id", "period"),)
    audit_type: ClassVar[str] = "survey"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))  # "2026Q4"
    # The questionnaire as it was when the survey began: [{"key", "label"}], so that a
    # later change to the estate file does not change what these answers mean.
    items: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    status: Mapped[SurveyStatus] = mapped_column(enum_column(SurveyStatus, extensible=False))
    occupied: Mapped[int]  # occupied households when drawn: the base of the 20%
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closes_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    started_by: Mapped[str] = mapped_column(String(100))

    invitations: Mapped[list[SurveyInvitation]] = relationship(
        back_populates="survey", order_by="SurveyInvitation.id"
    )


class SurveyInvitation(Base):
    """One household drawn, the resident asked, and their answers once given."""

    __tablename__ = "survey_invitation"
    __table_args__ = (UniqueConstraint("survey_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("survey.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)
    reminded_at: Mapped[datetime | None]
    answered_at: Mapped[datetime | None]
    answers: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # item key → satisfaction
    remark: Mapped[str | None] = mapped_column(Text)

    survey: Mapped[Survey] = relationship(back_populates="invitations")
    unit: Mapped[Unit] = relationship()
    person: Mapped[Person] = relationship()
