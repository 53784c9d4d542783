"""The week's figures for the Friday meeting (003 篇十二 三(七), 001 例会制度): the week's
complaints and patrol findings, and what is still open, for the project manager and the
department heads; computed once here for the chat, the CLI and the workbook."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.clock import format_day, format_local, start_of_local_day
from storage.database import settings_of
from storage.errors import InvalidInput
from storage.i18n import Msg
from storage.patrol.models import PATROL_CATEGORY_LABELS, FindingStatus, PatrolFinding
from storage.ticket import notices, queries
from storage.ticket.models import SEVERITY_LABELS, Ticket, TicketKind


def week_of(text: str) -> date:
    """The Monday of an ISO week written 2026-W49."""
    try:
        year, week = text.upper().split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    except ValueError:
        raise InvalidInput("{week} 不是周，请写作 2026-W49", week=text) from None


@dataclass(frozen=True)
class OpenItem:
    """A line of what is still open: what, where, whose, by when, and whether late."""

    number: str
    what: str | Msg  # a complaint's subject, a finding's category
    where: str
    holder: str | Msg  # a person's or department's name, or "the project manager"
    due: str
    late: bool


@dataclass
class WeeklyReport:
    estate_id: int
    monday: date
    complaints_new: Counter[str] = field(default_factory=Counter)  # by severity label
    complaints_answered: int = 0
    complaints_open: list[OpenItem] = field(default_factory=list)
    findings_new: Counter[str] = field(default_factory=Counter)  # by department
    findings_by_category: Counter[str] = field(default_factory=Counter)
    findings_fixed: int = 0
    findings_open: list[OpenItem] = field(default_factory=list)

    @property
    def week(self) -> str:
        year, week, _ = self.monday.isocalendar()
        return f"{year}-W{week:02d}"


def weekly_report(*, session: Session, estate_id: int, monday: date, now: datetime) -> WeeklyReport:
    tz = settings_of(session).tz
    start = start_of_local_day(monday, tz)
    end = start_of_local_day(monday + timedelta(days=7), tz)
    as_of = min(now, end)
    report = WeeklyReport(estate_id=estate_id, monday=monday)
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.estate_id == estate_id,
            Ticket.kind == TicketKind.COMPLAINT,
            Ticket.created_at >= start,
            Ticket.created_at < end,
        )
    ):
        if ticket.severity is not None:
            report.complaints_new[SEVERITY_LABELS[ticket.severity]] += 1
    report.complaints_answered = len(
        session.scalars(
            select(Ticket.id).where(
                Ticket.estate_id == estate_id,
                Ticket.kind == TicketKind.COMPLAINT,
                Ticket.replied_at >= start,
                Ticket.replied_at < end,
            )
        ).all()
    )
    for ticket in queries.open_complaints(session=session, estate_id=estate_id):
        report.complaints_open.append(
            OpenItem(
                number=ticket.number,
                what=ticket.subject or "",
                where=ticket.where or "—",
                holder=notices.complaint_holder(ticket),
                due=format_local(ticket.reply_due_at, tz),
                late=ticket.reply_due_at is not None and ticket.reply_due_at <= as_of,
            )
        )
    for finding in session.scalars(
        select(PatrolFinding).where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.created_at >= start,
            PatrolFinding.created_at < end,
        )
    ):
        department = finding.department.name if finding.department else "—"
        report.findings_new[department] += 1
        report.findings_by_category[PATROL_CATEGORY_LABELS[finding.category]] += 1
    report.findings_fixed = len(
        session.scalars(
            select(PatrolFinding.id).where(
                PatrolFinding.estate_id == estate_id,
                PatrolFinding.fixed_at >= start,
                PatrolFinding.fixed_at < end,
            )
        ).all()
    )
    for finding in session.scalars(
        select(PatrolFinding)
        .where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.status == FindingStatus.OPEN,
            PatrolFinding.archived_at.is_(None),
        )
        .order_by(PatrolFinding.due_at, PatrolFinding.id)
    ):
        report.findings_open.append(
            OpenItem(
                number=f"#{finding.id}",
                what=Msg(PATROL_CATEGORY_LABELS[finding.category]),
                where=finding.place,
                holder=finding.department.name if finding.department else "—",
                due=format_day(finding.due_at, tz),
                late=finding.due_at is not None and finding.due_at <= as_of,
            )
        )
    return report
