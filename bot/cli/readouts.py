"""What the desk reads from the command line: tickets, findings, callbacks, the day's
digest, the month's report."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli.common import (
    EstateOption,
    JsonOption,
    emit,
    estate_id,
    estates_named,
    parse_day,
    unit_of_work,
)
from conversations.summaries import month_summary, week_summary
from scheduler import jobs
from scheduler.documents import (
    write_pareto,
    write_patrol_record,
    write_weekly_workbook,
    write_workbook,
)
from storage.callback import service as callbacks
from storage.clock import format_day, format_local, utcnow
from storage.config import Settings
from storage.errors import DomainError
from storage.figures.monthly import month_after, monthly_report
from storage.figures.weekly import week_of, weekly_report
from storage.i18n import translator
from storage.patrol import rounds
from storage.patrol import service as patrols
from storage.patrol.models import (
    FINDING_STATUS_LABELS,
    PATROL_CATEGORY_LABELS,
    FindingStatus,
)
from storage.people import privacy
from storage.ticket import queries
from storage.ticket.models import SEVERITY_LABELS, Ticket, TicketKind

tickets_app = typer.Typer(help="Repair requests and complaints.", no_args_is_help=True)
patrols_app = typer.Typer(help="Patrol findings.", no_args_is_help=True)
callbacks_app = typer.Typer(help="Satisfaction callbacks.", no_args_is_help=True)
report_app = typer.Typer(help="Reports.", no_args_is_help=True)


def _ticket_row(ticket: Ticket, settings: Settings) -> dict[str, Any]:
    tz = settings.tz
    return {
        "number": ticket.number,
        "kind": ticket.kind.value,
        "status": ticket.status.value,
        "status_label": ticket.status_label,
        "category": ticket.category.value if ticket.category else None,
        "category_label": ticket.category.label if ticket.category else None,
        "severity": ticket.severity.value if ticket.severity else None,
        "severity_label": SEVERITY_LABELS[ticket.severity] if ticket.severity else None,
        "subject": ticket.subject,
        # What it is about, in one column: a repair's category, a complaint's subject, a
        # message's first words.
        "about": (
            ticket.category.label
            if ticket.category
            else (ticket.subject or ticket.description[:30])
        ),
        "where": ticket.where,
        "reporter": ticket.reporter.name,
        "department": ticket.department.name if ticket.department else None,
        "assignee": ticket.assignee.person.name if ticket.assignee else None,
        "created_at": format_local(ticket.created_at, tz),
        "due_at": format_local(ticket.due_at, tz) if ticket.due_at else None,
        "reply_due_at": format_local(ticket.reply_due_at, tz) if ticket.reply_due_at else None,
    }


@tickets_app.command("list")
def tickets_list(
    estate: EstateOption = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only tickets not closed.")] = False,
    kind: Annotated[
        TicketKind | None, typer.Option(help="repair, complaint or message (留言).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """List tickets, newest first."""
    with unit_of_work() as (session, settings):
        rows = [
            _ticket_row(t, settings)
            for t in queries.list_tickets(
                session=session,
                estate_id=estate_id(session, estate),
                kind=kind,
                open_only=open_only,
            )
        ]
    emit(
        rows,
        as_json,
        ["number", "status_label", "about", "where", "reporter", "created_at"],
    )


@patrols_app.command("list")
def patrols_list(
    estate: EstateOption = None,
    status: Annotated[FindingStatus | None, typer.Option(help="open, fixed or verified.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List patrol findings, newest first."""
    with unit_of_work() as (session, settings):
        tz = settings.tz
        rows = [
            {
                "number": f.number,
                "status": f.status.value,
                "status_label": FINDING_STATUS_LABELS[f.status],
                "category": f.category.value,
                "category_label": PATROL_CATEGORY_LABELS[f.category],
                "place": f.place,
                "description": f.description,
                "reporter": f.reporter.person.name,
                "department": f.department.name if f.department else None,
                "fixed_on_site": f.fixed_on_site,
                "due_on": format_day(f.due_at, tz) if f.due_at else None,
                "extended_by": f.extended_by.person.name if f.extended_by else None,
                "created_at": format_local(f.created_at, tz),
            }
            for f in patrols.list_findings(
                session=session, estate_id=estate_id(session, estate), status=status
            )
        ]
    emit(
        rows, as_json, ["number", "status_label", "category_label", "place", "department", "due_on"]
    )


def _month(value: str) -> date:
    """The first day of a month given as 2026-11."""
    try:
        return date.fromisoformat(f"{value}-01")
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a month like 2026-11") from None


@patrols_app.command("export")
def patrols_export(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-11.")],
    xlsx: Annotated[Path, typer.Option(help="Write the Excel workbook here.")],
    estate: EstateOption = None,
) -> None:
    """A month's patrol record (公共区域巡检记录表) as an Excel workbook: the findings reported
    in it (archived ones too) and every step of each, the rounds walked or missed, and the
    rounds by kind."""
    first = _month(month)
    last = month_after(first) - timedelta(days=1)
    with unit_of_work() as (session, settings):
        rows = estates_named(session, estate)
        now = utcnow()
        for row in rows:
            findings = patrols.findings_reported(
                session=session, estate_id=row.id, first=first, last=last
            )
            visits = rounds.visits_between(
                session=session, estate_id=row.id, first=first, last=last
            )
            target = xlsx.with_stem(xlsx.stem + (f"-{row.code}" if len(rows) > 1 else ""))
            write_patrol_record(
                estate=row.name,
                month=first,
                findings=findings,
                trails={f.id: patrols.history(session=session, finding=f) for f in findings},
                visits=visits,
                coverage=rounds.coverage(
                    session=session, estate=row, first=first, last=last, now=now
                ),
                tz=settings.tz,
                path=target,
            )
            typer.echo(
                f"{row.name}: {len(findings)} findings, {len(visits)} round visits"
                f" → workbook: {target}"
            )


@callbacks_app.command("due")
def callbacks_due(
    estate: EstateOption = None,
    on: Annotated[str | None, typer.Option("--date", help="Local day, default today.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Callbacks due on a day or earlier and not yet made, oldest first."""
    with unit_of_work() as (session, settings):
        day = parse_day(on, settings)
        now = utcnow()
        # Whoever runs the command is nobody in particular: the desk dials from the chat.
        phone_of = privacy.phones_for(session=session, viewer=None)
        rows = [
            {
                "ticket": c.ticket.number,
                "where": c.ticket.where,
                "owner": c.ticket.reporter.name,
                "phone": phone_of(c.ticket),
                "done_at": format_local(
                    c.ticket.done_at or c.ticket.replied_at or c.created_at, settings.tz
                ),
                "due_on": format_day(c.due_at, settings.tz),
                "overdue": c.due_at <= now,
            }
            for c in callbacks.due(session=session, estate_id=estate_id(session, estate), on=day)
        ]
    emit(rows, as_json, ["ticket", "where", "owner", "due_on", "overdue"])


def digest(
    estate: EstateOption = None,
    on: Annotated[str | None, typer.Option("--date", help="Local day, default today.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Queue it for the heads.")] = False,
) -> None:
    """The daily digest of a day: shown (dry run), or with --send queued for the department
    heads and the project manager (once: a second --send sends nothing)."""
    with unit_of_work() as (session, settings):
        day, now = parse_day(on, settings), utcnow()
        for row in estates_named(session, estate):
            if send:
                queued = jobs.digest(session, row, day, now)
                typer.echo(f"{row.name}: {queued} digests queued")
            else:
                text, _ = jobs.digest_text(session, row, day, now, translator(None))
                typer.echo(text)


@report_app.command("weekly")
def report_weekly(
    week: Annotated[str, typer.Option(help="The ISO week, e.g. 2026-W49.")],
    estate: EstateOption = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the Excel workbook here.")] = None,
) -> None:
    """A week's complaints and patrol findings, and what is still open (the Friday meeting)."""
    try:
        monday = week_of(week)
    except DomainError as error:
        raise typer.BadParameter(translator(None)(error.message)) from None
    with unit_of_work() as (session, _):
        rows = estates_named(session, estate)
        for row in rows:
            figures = weekly_report(session=session, estate_id=row.id, monday=monday, now=utcnow())
            typer.echo(week_summary(figures, row.name, translator(None)))
            if xlsx is not None:
                target = xlsx.with_stem(xlsx.stem + (f"-{row.code}" if len(rows) > 1 else ""))
                write_weekly_workbook(figures, row.name, target)
                typer.echo(f"workbook: {target}")


@report_app.command("monthly")
def report_monthly(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-11.")],
    estate: EstateOption = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the Excel workbook here.")] = None,
    png: Annotated[Path | None, typer.Option(help="Write the Pareto chart (排列图) here.")] = None,
) -> None:
    """A month's statistics: printed, and as an Excel workbook and a Pareto chart."""
    first = _month(month)
    with unit_of_work() as (session, settings):
        rows = estates_named(session, estate)
        for row in rows:
            figures = monthly_report(session=session, estate_id=row.id, month=first)
            typer.echo(month_summary(figures, row.name, translator(None)))
            suffix = f"-{row.code}" if len(rows) > 1 else ""
            if xlsx is not None:
                target = xlsx.with_stem(xlsx.stem + suffix)
                write_workbook(figures, row.name, target, settings.tz)
                typer.echo(f"workbook: {target}")
            if png is not None:
                target = png.with_stem(png.stem + suffix)
                write_pareto(figures, row.name, target)
                typer.echo(f"chart: {target}")
