"""Photos and voice notes attached to a ticket or a patrol finding."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base, enum_column
from storage.clock import utcnow


class AttachmentKind(enum.StrEnum):
    PHOTO = "photo"
    VOICE = "voice"


class AttachmentPurpose(enum.StrEnum):
    """What an attachment shows: the problem as reported, or the proof that it is fixed."""

    REPORT = "report"
    DONE = "done"
    VERIFIED = "verified"  # what the verifier saw on site (现场验证)


class Attachment(Base):
    __tablename__ = "attachment"
    __table_args__ = (
        CheckConstraint(
            "(ticket_id IS NULL) <> (finding_id IS NULL)", name="belongs_to_exactly_one"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="CASCADE"), index=True
    )
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrol_finding.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AttachmentKind] = mapped_column(
        enum_column(AttachmentKind, extensible=True), default=AttachmentKind.PHOTO
    )
    # Key in the attachment store (a path under WUYE_ATTACHMENTS_DIR, or a platform file id
    # until the adapter has downloaded it).
    ref: Mapped[str] = mapped_column(String(512))
    # An AttachmentPurpose, kept as its plain value.
    purpose: Mapped[str] = mapped_column(String(16), default=AttachmentPurpose.REPORT.value)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
