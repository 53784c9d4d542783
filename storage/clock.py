"""Time: stored in UTC, reasoned about in the estate's local days."""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)


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


def format_time(moment: datetime | None, tz: ZoneInfo) -> str:
    """A moment within the day, for deadlines counted in minutes: "23:25"."""
    if moment is None:
        return NOT_SET
    return moment.astimezone(tz).strftime("%H:%M")


def deadline_day(moment: datetime, tz: ZoneInfo) -> date:
    """The local calendar day of an end-exclusive deadline: due_at 00:00 Fri is Thursday."""
    return (moment.astimezone(tz) - timedelta(microseconds=1)).date()


def format_day(moment: datetime | None, tz: ZoneInfo) -> str:
    """The local calendar day of an end-exclusive deadline: due_at 00:00 Fri reads "Thursday"."""
    if moment is None:
        return NOT_SET
    return deadline_day(moment, tz).isoformat()


def is_working_day(day: date) -> bool:
    """China's working days: Monday to Friday, less the public holidays, plus the weekend
    days worked in exchange (调休), as the State Council publishes them each year.

    A year the calendar does not know yet (it is published each November) counts Monday
    to Friday, and the log says so once: update ``chinesecalendar`` when it is out.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        _unknown_year(day.year)
        return day.weekday() < 5


@cache
def _unknown_year(year: int) -> None:
    log.warning("China's holidays of %s are not known yet: Monday to Friday are working", year)


_MOMENT = re.compile(
    r"^(?:(今天|明天|后天)|(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?)?\s*"
    r"(\d{1,2})[:：点](\d{2})?分?$"
)
_DAYS_AHEAD = {"今天": 0, "明天": 1, "后天": 2}


def parse_local_moment(text: str, now: datetime, tz: ZoneInfo) -> datetime | None:
    """A moment as the desk writes it, in local time: 18:00, 今天 18:00, 明天 8点,
    12-05 18:00, 2026-12-05 18:00. A bare time already past today is tomorrow's. None when
    it is none of these."""
    match = _MOMENT.match(text.strip().replace("  ", " "))
    if match is None:
        return None
    word, year, month, day, hour, minute = match.groups()
    local_now = now.astimezone(tz)
    try:
        if month is not None:
            when = local_now.replace(
                year=int(year) if year else local_now.year, month=int(month), day=int(day)
            ).date()
        else:
            when = local_now.date() + timedelta(days=_DAYS_AHEAD.get(word or "今天", 0))
        moment = datetime.combine(when, time(int(hour), int(minute or 0)), tzinfo=tz)
    except ValueError:  # 13-40, 25:00
        return None
    if word is None and month is None and moment <= local_now:
        moment += timedelta(days=1)
    return moment.astimezone(UTC)
