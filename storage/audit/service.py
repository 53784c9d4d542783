"""Writing and reading the audit trail."""

from __future__ import annotations

from typing import ClassVar, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit.models import AuditEvent
from storage.clock import utcnow
from storage.people.models import Person

SYSTEM = "system"


class Audited(Protocol):
    audit_type: ClassVar[str]
    id: int


def record(
    *,
    session: Session,
    obj: Audited,
    from_state: str | None,
    to_state: str,
    actor: Person | None,
    note: str | None = None,
) -> AuditEvent:
    if obj.id is None:
        session.flush()
    event = AuditEvent(
        object_type=obj.audit_type,
        object_id=obj.id,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor.id if actor is not None else None,
        actor_label=actor.name if actor is not None else SYSTEM,
        at=utcnow(),
        note=note,
    )
    session.add(event)
    return event


def record_new(
    *, session: Session, obj: Audited, state: str, actor: Person | None, note: str | None = None
) -> AuditEvent:
    """A new object: stored (flushed, so that it has its id) with the first line of its trail."""
    session.add(obj)
    session.flush()
    return record(session=session, obj=obj, from_state=None, to_state=state, actor=actor, note=note)


def history(*, session: Session, object_type: str, object_id: int) -> list[AuditEvent]:
    query = (
        select(AuditEvent)
        .where(AuditEvent.object_type == object_type, AuditEvent.object_id == object_id)
        .order_by(AuditEvent.id)
    )
    return list(session.scalars(query))
