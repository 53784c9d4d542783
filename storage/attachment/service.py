"""Attaching photos and voice notes to a ticket or a patrol finding."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from storage.attachment.models import Attachment, AttachmentKind, AttachmentPurpose
from storage.patrol.models import PatrolFinding
from storage.text import required
from storage.ticket.models import Ticket


def attach(
    *,
    session: Session,
    to: Ticket | PatrolFinding,
    purpose: AttachmentPurpose,
    photos: Iterable[str] = (),
    voice_notes: Iterable[str] = (),
) -> list[Attachment]:
    """Keep each reference (a path under the attachments folder, or a platform's file id
    until the channel has downloaded it) with what it belongs to; the attachments made."""
    owner = {"ticket_id": to.id} if isinstance(to, Ticket) else {"finding_id": to.id}
    made = [
        Attachment(
            **owner, kind=kind, ref=required(ref, "附件", max_length=512), purpose=purpose.value
        )
        for kind, refs in ((AttachmentKind.PHOTO, photos), (AttachmentKind.VOICE, voice_notes))
        for ref in refs
    ]
    session.add_all(made)
    return made
