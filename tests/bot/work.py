"""A repair with the owner's photos, dispatched to its technician: the notice that brings
him the work, and the pictures that go with it, for each platform's tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import select

from storage.attachment.files import Shelf
from storage.attachment.models import AttachmentKind
from storage.config import Settings
from storage.database import Database
from storage.estate import service as estates
from storage.people.models import Person, StaffMember
from storage.ticket import repairs
from storage.ticket.models import RepairCategory

TECHNICIAN = "周师傅"


def owners_photos(settings: Settings, platform: str, *photos: bytes) -> list[str]:
    """The photos as the channel keeps what the owner sent: checked and named by their
    content in the platform's folder under the attachments."""
    shelf = Shelf.of(settings, platform)
    return [str(shelf.keep(photo, kind=AttachmentKind.PHOTO)) for photo in photos]


def leak_dispatched(db: Database, photos: Sequence[str]) -> None:
    """张伟 reports a leak with these photos; the desk dispatches it to 周师傅, whose
    【新维修单】 notice carries them."""
    with db.transaction() as session:
        owner = session.scalars(select(Person).where(Person.name == "张伟")).one()
        desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        technician = session.scalars(
            select(StaffMember).join(Person).where(Person.name == TECHNICIAN)
        ).one()
        unit = estates.find_unit(session=session, estate_id=1, designation="1-1-502")
        ticket = repairs.report_repair(
            session=session,
            actor=owner,
            unit_id=unit.id,
            category=RepairCategory.WATER_LEAK,
            description="卫生间天花板渗水",
            photos=photos,
        )
        repairs.dispatch_repair(
            session=session, ticket_id=ticket.id, actor=desk, assignee_id=technician.id
        )


def contents(refs: Sequence[str]) -> list[bytes]:
    """What the kept photos hold, to compare with what a platform was sent."""
    return [Path(ref).read_bytes() for ref in refs]
