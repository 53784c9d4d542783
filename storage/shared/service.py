"""Reading and writing the values every worker shares."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.clock import utcnow
from storage.shared.models import SharedValue


def get(*, session: Session, key: str) -> str | None:
    """The value, or None when there is none or it has expired."""
    value = session.get(SharedValue, key)
    if value is None or (value.expires_at is not None and value.expires_at <= utcnow()):
        return None
    return value.value


def put(*, session: Session, key: str, value: str, expires_at: datetime | None) -> None:
    found = session.get(SharedValue, key)
    if found is None:
        session.add(SharedValue(key=key, value=value, expires_at=expires_at))
    else:
        found.value, found.expires_at = value, expires_at


def delete(*, session: Session, key: str) -> None:
    found = session.get(SharedValue, key)
    if found is not None:
        session.delete(found)
