"""Who answers when: the desk's hours on China's working and rest days, and the duty
roster's people on duty at a given moment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, defaultload, lazyload

from storage.duty.models import DutyShift
from storage.errors import InvalidInput, NotFound
from storage.estate.models import Estate
from storage.people import service as people
from storage.people.models import Department, DepartmentKind, StaffMember

WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")  # 周一 … 周日


# ---------------------------------------------------------------- the desk's hours


def desk_hours(estate: Estate, day: date) -> tuple[time, time]:
    """When the desk answers on ``day``: working-day or rest-day hours (003 篇十二 三(二))."""
    if estate.is_working_day(day):
        return estate.desk_opens_workday, estate.desk_closes_workday
    return estate.desk_opens_rest_day, estate.desk_closes_rest_day


def desk_open(estate: Estate, at: datetime, tz: ZoneInfo) -> bool:
    local = at.astimezone(tz)
    opens, closes = desk_hours(estate, local.date())
    return opens <= local.time() < closes


def desk_sees(estate: Estate, at: datetime, tz: ZoneInfo) -> datetime:
    """When the desk sees what arrives at ``at``: now when it is open, else its next opening."""
    local = at.astimezone(tz)
    day = local.date()
    for _ in range(30):  # the longest holiday is 8 days; the desk opens on every one anyway
        opens, closes = desk_hours(estate, day)
        start = datetime.combine(day, opens, tzinfo=tz)
        if local < start:
            return start.astimezone(at.tzinfo)
        if local < datetime.combine(day, closes, tzinfo=tz):
            return at
        day += timedelta(days=1)
    raise InvalidInput("客服中心的工作时间设置有误")


def end_of_desk_day(estate: Estate, at: datetime, tz: ZoneInfo) -> datetime:
    """The close of the desk's working day on which it sees what arrives at ``at``."""
    seen = desk_sees(estate, at, tz).astimezone(tz)
    _, closes = desk_hours(estate, seen.date())
    return datetime.combine(seen.date(), closes, tzinfo=tz).astimezone(at.tzinfo)


# ---------------------------------------------------------------- the roster


@dataclass(frozen=True)
class Shift:
    """One line of the roster as a person reads it."""

    department: str
    name: str
    starts: time
    ends: time
    staff_id: int


def shifts_on(session: Session, *, estate_id: int, day: date) -> list[DutyShift]:
    """The roster's shifts of ``day``: a date's own shifts replace its weekday's, per
    department."""
    return _shifts_of(session, estate_id=estate_id, days=(day,))[day]


# Built once: SQLAlchemy building this expression anew (two INs, an OR, a subquery) cost
# four times what running it does, and every confirmed repair asks who is on duty.
_SHIFTS = (
    select(DutyShift)
    .where(
        DutyShift.estate_id == bindparam("estate_id"),
        DutyShift.on_date.in_(bindparam("days", expanding=True))
        | DutyShift.weekday.in_(bindparam("weekdays", expanding=True)),
    )
    .order_by(DutyShift.department_id, DutyShift.starts, DutyShift.id)
)
# Who is on duty needs the people, not their departments (the kind is asked of the query):
# joining both departments in built two more objects a row for every confirmed repair.
_SHIFTS_OF_KIND = _SHIFTS.where(
    DutyShift.department_id.in_(
        select(Department.id).where(
            Department.estate_id == bindparam("estate_id"), Department.kind == bindparam("kind")
        )
    )
).options(
    lazyload(DutyShift.department), defaultload(DutyShift.staff).lazyload(StaffMember.department)
)


def _shifts_of(
    session: Session,
    *,
    estate_id: int,
    days: Sequence[date],
    kind: DepartmentKind | None = None,
) -> dict[date, list[DutyShift]]:
    """Each day's shifts (of departments of ``kind``), in one query for all the days."""
    values = {
        "estate_id": estate_id,
        "days": list(days),
        "weekdays": sorted({day.weekday() for day in days}),
    }
    if kind is None:
        rows = list(session.scalars(_SHIFTS, values))
    else:
        rows = list(session.scalars(_SHIFTS_OF_KIND, {**values, "kind": kind}))
    found: dict[date, list[DutyShift]] = {}
    for day in days:
        of_day = [row for row in rows if row.on_date == day or row.weekday == day.weekday()]
        dated = {row.department_id for row in of_day if row.on_date is not None}
        found[day] = [
            row
            for row in of_day
            if row.staff.active and (row.on_date is not None or row.department_id not in dated)
        ]
    return found


def on_duty(
    session: Session, *, estate_id: int, kind: DepartmentKind, at: datetime, tz: ZoneInfo
) -> list[StaffMember]:
    """Who of a department of this kind is on duty at ``at``: a shift of that day covering
    the time, or the day before's running past midnight."""
    local = at.astimezone(tz)
    clock, today = local.time(), local.date()
    yesterday = today - timedelta(days=1)
    shifts = _shifts_of(session, estate_id=estate_id, days=(today, yesterday), kind=kind)
    found = [
        shift.staff
        for shift in shifts[today]
        if (shift.overnight and clock >= shift.starts) or shift.starts <= clock < shift.ends
    ]
    found += [shift.staff for shift in shifts[yesterday] if shift.overnight and clock < shift.ends]
    return list({member.id: member for member in found}.values())


def roster(session: Session, *, estate_id: int, day: date) -> list[Shift]:
    """今日值班: the day's shifts, by department."""
    return [
        Shift(s.department.name, s.staff.person.name, s.starts, s.ends, s.staff_id)
        for s in shifts_on(session, estate_id=estate_id, day=day)
    ]


def parse_shift(text: str) -> tuple[time, time]:
    """ "08:00-20:00" → (08:00, 20:00); "20:00-08:00" runs past midnight."""
    try:
        starts, ends = (time.fromisoformat(part.strip()) for part in text.split("-", 1))
    except ValueError:
        raise InvalidInput("班次写作 08:00-20:00：{text}", text=text) from None
    if starts == ends:
        raise InvalidInput("班次的开始和结束不能相同：{text}", text=text)
    return starts, ends


def set_shift(
    session: Session,
    *,
    estate_id: int,
    staff_code: str,
    shift: str,
    weekdays: Sequence[int] = (),
    on_date: date | None = None,
) -> list[DutyShift]:
    """Put a staff member on duty for their department: on these weekdays, or on a date.
    The same person's shift on the same day is replaced, not doubled."""
    if bool(weekdays) == (on_date is not None):
        raise InvalidInput("请给出星期几，或者一个日期")
    member = people.staff_by_code(session=session, estate_id=estate_id, code=staff_code)
    if member is None:
        raise NotFound("没有员工编号 {code}", code=staff_code)
    starts, ends = parse_shift(shift)
    made = []
    days: list[int | None] = [*weekdays] if weekdays else [None]
    for weekday in days:
        if weekday is not None and not 0 <= weekday <= 6:
            raise InvalidInput("星期几是 1 到 7")
        existing = session.scalar(
            select(DutyShift).where(
                DutyShift.staff_id == member.id,
                DutyShift.weekday == weekday
                if weekday is not None
                else DutyShift.weekday.is_(None),
                DutyShift.on_date == on_date
                if on_date is not None
                else DutyShift.on_date.is_(None),
            )
        )
        row = existing or DutyShift(
            estate_id=estate_id,
            department_id=member.department_id,
            staff_id=member.id,
            weekday=weekday,
            on_date=on_date,
        )
        row.department_id = member.department_id
        row.starts, row.ends = starts, ends
        session.add(row)
        made.append(row)
    session.flush()
    return made


def remove_shift(
    session: Session,
    *,
    estate_id: int,
    staff_code: str,
    weekdays: Sequence[int] = (),
    on_date: date | None = None,
) -> int:
    """Take a staff member off the roster on these weekdays or that date (all, if neither)."""
    member = people.staff_by_code(session=session, estate_id=estate_id, code=staff_code)
    if member is None:
        raise NotFound("没有员工编号 {code}", code=staff_code)
    query = select(DutyShift).where(DutyShift.staff_id == member.id)
    if weekdays:
        query = query.where(DutyShift.weekday.in_(list(weekdays)))
    if on_date is not None:
        query = query.where(DutyShift.on_date == on_date)
    rows = list(session.scalars(query))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)


def every_shift(session: Session, *, estate_id: int) -> list[DutyShift]:
    """The whole roster: weekdays first, then dates."""
    return list(
        session.scalars(
            select(DutyShift)
            .where(DutyShift.estate_id == estate_id)
            .order_by(
                DutyShift.on_date.is_not(None),
                DutyShift.weekday,
                DutyShift.on_date,
                DutyShift.department_id,
                DutyShift.starts,
            )
        )
    )
