"""The duty roster 值班表: who is on duty for a department, by weekday or on a date."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from bot.cli.common import unit_of_work
from storage.clock import local_date, utcnow
from storage.duty import service as duty
from storage.errors import InvalidInput
from storage.estate import service as estates

duty_app = typer.Typer(
    help="The duty roster (值班表): who answers for each department, when.",
    no_args_is_help=True,
)

Estate = Annotated[str, typer.Option("--estate", help="Estate code.")]
Staff = Annotated[str, typer.Option("--staff", help="Staff code (工号).")]
Days = Annotated[
    str | None,
    typer.Option("--days", help="Weekdays, 1 (Monday) to 7 (Sunday): 1-5, or 6,7."),
]
On = Annotated[
    str | None, typer.Option("--date", help="One date (YYYY-MM-DD): replaces that weekday.")
]


def weekdays(text: str | None) -> list[int]:
    """ "1-5" → Monday to Friday (0-4); "6,7" → the weekend."""
    if not text:
        return []
    days: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        try:
            start, end = int(first), int(last or first)
        except ValueError:
            raise InvalidInput("星期几写作 1-5 或 6,7：{text}", text=text) from None
        if not 1 <= start <= end <= 7:
            raise InvalidInput("星期几是 1 到 7：{text}", text=text)
        days += range(start - 1, end)
    return sorted(set(days))


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("日期写作 2026-12-05：{text}", text=text) from None


@duty_app.command("show")
def duty_show(
    estate: Estate,
    on: On = None,
) -> None:
    """The roster of a day (today if no --date), then every line of it."""
    with unit_of_work() as (session, settings):
        estate_row = estates.get_estate(session=session, code=estate)
        day = _date(on) or local_date(utcnow(), settings.tz)
        opens, closes = duty.desk_hours(estate_row, day)
        typer.echo(f"{day.isoformat()} 客服中心 {opens:%H:%M}-{closes:%H:%M}")
        for shift in duty.roster(session, estate_id=estate_row.id, day=day):
            typer.echo(f"  {shift.department} {shift.name} {shift.starts:%H:%M}-{shift.ends:%H:%M}")
        typer.echo("值班表：")
        for row in duty.every_shift(session, estate_id=estate_row.id):
            when = (
                row.on_date.isoformat()
                if row.on_date is not None
                else f"周{duty.WEEKDAYS[row.weekday or 0]}"
            )
            typer.echo(
                f"  {when} {row.department.name} {row.staff.staff_code} {row.staff.person.name}"
                f" {row.starts:%H:%M}-{row.ends:%H:%M}"
            )


@duty_app.command("set")
def duty_set(
    estate: Estate,
    staff: Staff,
    shift: Annotated[str, typer.Option("--shift", help="08:00-20:00; 20:00-08:00 runs overnight.")],
    days: Days = None,
    on: On = None,
) -> None:
    """Put a staff member on duty for their department: on weekdays, or on one date."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        made = duty.set_shift(
            session,
            estate_id=estate_row.id,
            staff_code=staff,
            shift=shift,
            weekdays=weekdays(days),
            on_date=_date(on),
        )
        typer.echo(f"{staff}: {len(made)} 个班次已排 {shift}")


@duty_app.command("remove")
def duty_remove(estate: Estate, staff: Staff, days: Days = None, on: On = None) -> None:
    """Take a staff member off the roster: on those weekdays, that date, or altogether."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        removed = duty.remove_shift(
            session,
            estate_id=estate_row.id,
            staff_code=staff,
            weekdays=weekdays(days),
            on_date=_date(on),
        )
        typer.echo(f"{staff}: 已取消 {removed} 个班次")
