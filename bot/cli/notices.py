"""``wuye notice …`` (通知公告) and ``wuye survey …`` (业主评议): what the estate tells its
residents, and what it asks them each quarter."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import unit_of_work
from bot.cli.person import operator
from scheduler.documents import write_survey_workbook
from storage.announcement import service as announcements
from storage.announcement.models import (
    ANNOUNCEMENT_KIND_LABELS,
    ANNOUNCEMENT_STATUS_LABELS,
    AnnouncementKind,
)
from storage.announcement.service import Audience
from storage.callback.models import Satisfaction
from storage.clock import format_local, parse_local_moment, utcnow
from storage.config import Settings
from storage.estate import service as estates
from storage.survey import service as surveys
from storage.text import percent

notice_app = typer.Typer(
    help="Notices to residents (通知公告): a water cut, a lift under maintenance, a typhoon.",
    no_args_is_help=True,
)
survey_app = typer.Typer(
    help="The owners' satisfaction survey (业主评议), each quarter.", no_args_is_help=True
)

EstateCode = Annotated[str, typer.Option("--estate", help="Estate code.")]
KINDS = {
    "general": AnnouncementKind.GENERAL,
    "water": AnnouncementKind.WATER_OUTAGE,
    "power": AnnouncementKind.POWER_OUTAGE,
    "lift": AnnouncementKind.LIFT_OUTAGE,
}


def _moment(value: str | None, settings: Settings, option: str) -> datetime | None:
    if value is None:
        return None
    moment = parse_local_moment(value, utcnow(), settings.tz)
    if moment is None:
        raise typer.BadParameter(f"{option} {value!r}: write a local time like 2026-12-03 08:00")
    return moment


@notice_app.command("send")
def notice_send(
    estate: EstateCode,
    title: Annotated[str, typer.Option("--title", help="标题")],
    text: Annotated[str, typer.Option("--text", help="通知内容")],
    kind: Annotated[
        str, typer.Option("--kind", help="general, or an outage: water, power, lift.")
    ] = "general",
    building: Annotated[
        list[str] | None, typer.Option("--building", help="A building (repeat for more).")
    ] = None,
    entrance: Annotated[
        list[str] | None, typer.Option("--entrance", help="An entrance, e.g. 3-1 (repeatable).")
    ] = None,
    unit: Annotated[
        list[str] | None, typer.Option("--unit", help="A unit, e.g. 3-1-1204 (repeatable).")
    ] = None,
    open_tickets: Annotated[
        bool, typer.Option("--open-tickets", help="Only residents with an open ticket.")
    ] = False,
    at: Annotated[
        str | None, typer.Option("--at", help='When to send, local: "2026-12-03 08:00".')
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="An outage's expected end, local time.")
    ] = None,
    emergency: Annotated[
        bool, typer.Option("--emergency", help="Goes through quiet hours at once.")
    ] = False,
) -> None:
    """Send a notice to the residents of the estate, or of some buildings, entrances or
    units. Without --emergency an ordinary notice due at night waits for the morning. From
    the command line it needs no approval (the trail names the login that sent it)."""
    if kind not in KINDS:
        raise typer.BadParameter(f"--kind {kind!r} is not one of {', '.join(KINDS)}")
    with unit_of_work() as (session, settings):
        estate_row = estates.get_estate(session=session, code=estate)
        audience = Audience(
            buildings=tuple(estates.normalize_designation(b) for b in building or ()),
            entrances=tuple(estates.normalize_designation(e) for e in entrance or ()),
            units=tuple(estates.normalize_designation(u) for u in unit or ()),
            open_tickets=open_tickets,
        )
        announcement = announcements.create(
            session=session,
            estate_id=estate_row.id,
            kind=KINDS[kind],
            title=title,
            text=text,
            audience=audience,
            actor=None,
            by=operator(),
            send_at=_moment(at, settings, "--at"),
            ends_at=_moment(until, settings, "--until"),
            emergency=emergency,
        )
        counts = announcements.counts(session=session, announcement_id=announcement.id)
        state = ANNOUNCEMENT_STATUS_LABELS[announcement.status]
        typer.echo(f"{announcement.number} {state}: {title} → {audience.describe()}")
        if announcement.sent_at is not None:
            typer.echo(
                f"  queued for {counts.residents - counts.not_bound} residents; "
                f"{counts.not_bound} not bound"
            )
        elif announcement.send_at <= utcnow():
            typer.echo(
                f"  quiet hours until {settings.quiet_hours_end:%H:%M}: it goes out then "
                "(--emergency sends at once)"
            )
        else:
            typer.echo(f"  goes out at {format_local(announcement.send_at, settings.tz)}")


@notice_app.command("list")
def notice_list(
    estate: EstateCode,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="How many, the latest first.")] = 20,
) -> None:
    """The estate's notices, with delivered / failed / not bound and 收到 counts."""
    with unit_of_work() as (session, settings):
        estate_row = estates.get_estate(session=session, code=estate)
        rows = []
        for found in announcements.listing(session=session, estate_id=estate_row.id, limit=limit):
            counts = announcements.counts(session=session, announcement_id=found.id)
            rows.append(
                {
                    "number": found.number,
                    "kind": found.kind.value,
                    "title": found.title,
                    "audience": Audience.of(found).describe(),
                    "status": found.status.value,
                    "emergency": found.emergency,
                    "send_at": format_local(found.send_at, settings.tz),
                    "ends_at": format_local(found.ends_at, settings.tz) if found.ends_at else None,
                    "sent_at": format_local(found.sent_at, settings.tz) if found.sent_at else None,
                    "ended_at": (
                        format_local(found.ended_at, settings.tz) if found.ended_at else None
                    ),
                    "residents": counts.residents,
                    "delivered": counts.delivered,
                    "waiting": counts.waiting,
                    "failed": counts.failed,
                    "not_bound": counts.not_bound,
                    "received": counts.acknowledged,
                }
            )
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        typer.echo(
            f"{row['number']}  {ANNOUNCEMENT_KIND_LABELS[AnnouncementKind(str(row['kind']))]}"
            f"  {row['title']}  {row['audience']}  {row['status']}  送达 {row['delivered']}"
            f"/{row['residents']}  未绑定 {row['not_bound']}  收到 {row['received']}"
        )
    if not rows:
        typer.echo("（无）")


@survey_app.command("start")
def survey_start(
    estate: EstateCode,
    quarter: Annotated[str, typer.Option("--quarter", help="The quarter, e.g. 2026Q4.")],
) -> None:
    """Draw the quarter's households (at least 20% of the occupied ones, none asked in the
    past year) and ask one bound resident of each in chat."""
    with unit_of_work() as (session, settings):
        estate_row = estates.get_estate(session=session, code=estate)
        drawn = surveys.start(
            session=session, estate_id=estate_row.id, period=quarter, by=operator()
        )
        survey = drawn.survey
        typer.echo(
            f"{survey.period}: {survey.occupied} occupied households, {drawn.wanted} wanted, "
            f"{drawn.asked} asked in chat; closes {format_local(survey.closes_at, settings.tz)}"
        )
        if drawn.asked < drawn.wanted:
            typer.echo(
                f"  {drawn.wanted - drawn.asked} more are needed: not enough households not "
                "asked this year have a resident bound to a chat; ask the rest by phone or on paper"
            )


@survey_app.command("close")
def survey_close(estate: EstateCode, quarter: Annotated[str, typer.Option("--quarter")]) -> None:
    """Close a survey before its days are up; its results go to the project manager and
    the quality specialist."""
    with unit_of_work() as (session, _):
        estate_row = estates.get_estate(session=session, code=estate)
        survey = surveys.get(session=session, estate_id=estate_row.id, period=quarter)
        found = surveys.close(session=session, survey=survey, now=utcnow(), by=operator())
        typer.echo(f"{survey.period} closed: {found.answered}/{found.asked} answered")


@survey_app.command("results")
def survey_results(
    estate: EstateCode,
    quarter: Annotated[str, typer.Option("--quarter", help="The quarter, e.g. 2026Q4.")],
    xlsx: Annotated[Path | None, typer.Option(help="Write the Excel workbook here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A survey's satisfaction rates per item (满意 + 较满意 of the answers), response rate
    and remarks; as a workbook with --xlsx."""
    with unit_of_work() as (session, settings):
        estate_row = estates.get_estate(session=session, code=estate)
        survey = surveys.get(session=session, estate_id=estate_row.id, period=quarter)
        found = surveys.results(session=session, survey=survey)
        rows = {
            "period": survey.period,
            "status": survey.status.value,
            "occupied": survey.occupied,
            "asked": found.asked,
            "answered": found.answered,
            "response_rate": found.response_rate,
            "overall": found.overall,
            "items": [
                {
                    "item": item.label,
                    "satisfied": item.counts[Satisfaction.SATISFIED],
                    "fairly_satisfied": item.counts[Satisfaction.FAIRLY_SATISFIED],
                    "unsatisfied": item.counts[Satisfaction.UNSATISFIED],
                    "rate": item.rate,
                }
                for item in found.items
            ],
            "remarks": [{"unit": unit, "remark": remark} for unit, remark in found.remarks],
        }
        if xlsx is not None:
            write_survey_workbook(found, estate_row.name, xlsx, settings.tz)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"{survey.period}: {found.answered}/{found.asked} answered, "
            f"overall {percent(found.overall)}"
        )
        for item in found.items:
            typer.echo(f"  {item.label}: {percent(item.rate)} ({item.answered})")
    if xlsx is not None:
        typer.echo(f"workbook: {xlsx}")
