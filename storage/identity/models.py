"""Chat identities: (platform, external user id) → a person, one-time binding codes, and the
wrong answers that pause guessing."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, enum_column
from storage.clock import utcnow
from storage.i18n import N_
from storage.people.models import Person, ResidentRelation


class ChatIdentity(Base):
    __tablename__ = "chat_identity"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The channel's name ("telegram", "wechat"): platforms are the channels wuye is given,
    # a vocabulary that grows without a migration.
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    person: Mapped[Person] = relationship(lazy="joined")


class InviteCode(Base):
    """A one-time code from the desk. Only its hash is stored: a leaked table binds nobody."""

    __tablename__ = "invite_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    used_by_identity_id: Mapped[int | None] = mapped_column(
        ForeignKey("chat_identity.id", ondelete="SET NULL")
    )

    person: Mapped[Person] = relationship(lazy="joined")


class BindingStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


BINDING_STATUS_LABELS = {
    BindingStatus.PENDING: N_("待审核"),
    BindingStatus.APPROVED: N_("已通过"),
    BindingStatus.REFUSED: N_("未通过"),
}


class BindingRequest(Base):
    """Unit and phone matched, waiting for the desk (WUYE_BIND_REQUIRES_APPROVAL)."""

    __tablename__ = "binding_request"
    audit_type: ClassVar[str] = "binding"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    estate_id: Mapped[int] = mapped_column(ForeignKey("estate.id", ondelete="CASCADE"))
    unit_designation: Mapped[str] = mapped_column(String(64))
    # Someone not on the roster asking to be added to the unit (as owner, family or tenant):
    # approving it records them as living there, then binds them. None for a binding of
    # someone the roster already has.
    joins_as: Mapped[ResidentRelation | None] = mapped_column(
        enum_column(ResidentRelation, extensible=True)
    )
    status: Mapped[BindingStatus] = mapped_column(enum_column(BindingStatus, extensible=False))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decided_at: Mapped[datetime | None]

    person: Mapped[Person] = relationship(foreign_keys=[person_id], lazy="joined")


class FailedBinding(Base):
    """A wrong binding code, or a unit + phone that does not match, counted to pause guessing
    (``storage/identity/attempts.py``). What was typed is not kept, neither the code nor the
    phone: only who answered, when, and the unit when the unit exists."""

    __tablename__ = "failed_binding"
    __table_args__ = (
        Index("ix_failed_binding_account", "platform", "external_id", "failed_at"),
        Index("ix_failed_binding_unit", "unit_id", "failed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(128))
    # None for a wrong code or a unit that does not exist: those count against the account only.
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    failed_at: Mapped[datetime] = mapped_column(default=utcnow)
