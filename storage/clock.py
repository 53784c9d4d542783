"""Time: stored in UTC, reasoned about in the estate's local days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def start_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``tz``."""
    return datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)


def end_of_local_day(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` ends in ``tz`` (the next local midnight, exclusive)."""
    return start_of_local_day(day + timedelta(days=1), tz)


def days_after(moment: datetime, days: int, tz: ZoneInfo) -> datetime:
    """A deadline of "within N days": the end of the N-th local day after ``moment``.

    The procedures count in calendar days, so a leak repair finished on Monday
    at any hour is due for callback by the end of Thursday, local time.
    """
    return end_of_local_day(local_date(moment, tz) + timedelta(days=days), tz)


NOT_SET = "—"  # a moment that has not come, as a person reads it


def format_local(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return NOT_SET
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def format_day(moment: datetime | None, tz: ZoneInfo) -> str:
    """The local calendar day of an end-exclusive deadline: due_at 00:00 Fri reads "Thursday"."""
    if moment is None:
        return NOT_SET
    return (moment.astimezone(tz) - timedelta(microseconds=1)).date().isoformat()
