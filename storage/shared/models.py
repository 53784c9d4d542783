"""Values every worker shares, with an expiry: e.g. WeChat's two-hour access token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from storage.base import Base


class SharedValue(Base):
    __tablename__ = "shared_value"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))
    expires_at: Mapped[datetime | None]
