"""The monthly statistics (002 回访用户月统计表, 003 七(二) 排列图): figures for one estate
and one month, computed once here for the chat, the workbook and the chart alike."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.callback import quality
from storage.callback.models import (
    QUALITY_CHECK_LABELS,
    SATISFACTION_LABELS,
    Callback,
    Satisfaction,
)
from storage.clock import local_date, start_of_local_day, utcnow
from storage.database import settings_of
from storage.estate.models import Estate
from storage.i18n import N_
from storage.patrol import rounds
from storage.patrol.models import PATROL_CATEGORY_LABELS, PatrolFinding
from storage.patrol.rounds import Coverage
from storage.survey import service as surveys
from storage.survey.service import Results
from storage.ticket.models import SEVERITY_LABELS, RepairCategory, Ticket, TicketKind

NOT_DISPATCHED = N_("未派单")  # the holder of a repair nobody was given


def month_after(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(day: date) -> date:
    return date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


@dataclass
class QualityCheckRow:
    kind: str  # zh-Hans label: 品质抽查 / 经理抽查
    number: str
    where: str
    callback: str  # what the callback found
    found: str  # what the check found
    note: str
    checker: str
    on: str  # local date


@dataclass
class MonthlyReport:
    estate_id: int
    month: date  # its first day
    repairs_by_category: Counter[str] = field(default_factory=Counter)  # zh-Hans labels
    complaints_by_severity: Counter[str] = field(default_factory=Counter)
    findings_by_category: Counter[str] = field(default_factory=Counter)
    findings_by_department: Counter[str] = field(default_factory=Counter)
    satisfaction: Counter[Satisfaction] = field(default_factory=Counter)
    callbacks_due: int = 0
    callbacks_on_time: int = 0
    # Repairs whose finish deadline fell in the month, and those finished by it (an urgent
    # one also on site by its time), by category and by the technician who held it.
    repairs_due_by_category: Counter[str] = field(default_factory=Counter)
    repairs_on_time_by_category: Counter[str] = field(default_factory=Counter)
    repairs_due_by_technician: Counter[str] = field(default_factory=Counter)
    repairs_on_time_by_technician: Counter[str] = field(default_factory=Counter)
    vital_percent: int = 80  # the share of problems the vital few make up (a setting)
    # The quality checks recorded in the month (品质抽查, 经理抽查): one row each, as read.
    quality_checks: list[QualityCheckRow] = field(default_factory=list)
    # The month's rounds by kind (巡检覆盖): due (by ``now``), done, done late, missed.
    rounds: list[Coverage] = field(default_factory=list)
    # 业主评议 closed this month (003 篇十二 七(一): summarised by the 5th of the next).
    surveys: list[Results] = field(default_factory=list)

    @property
    def on_time_rate(self) -> float | None:
        return self.callbacks_on_time / self.callbacks_due if self.callbacks_due else None

    @property
    def repairs_due(self) -> int:
        return sum(self.repairs_due_by_category.values())

    @property
    def repairs_on_time(self) -> int:
        return sum(self.repairs_on_time_by_category.values())

    @property
    def repair_on_time_rate(self) -> float | None:
        return self.repairs_on_time / self.repairs_due if self.repairs_due else None

    @property
    def problems(self) -> list[tuple[str, int]]:
        """Every problem category of the month, most frequent first: the 排列图's bars."""
        counts = self.repairs_by_category + self.findings_by_category
        if sum(self.complaints_by_severity.values()):
            counts["投诉"] += sum(self.complaints_by_severity.values())
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    @property
    def vital_few(self) -> list[str]:
        """The categories that together make up the first ``vital_percent`` of problems."""
        total = sum(count for _, count in self.problems)
        few, running = [], 0
        for label, count in self.problems:
            if total and running * 100 >= self.vital_percent * total:
                break
            few.append(label)
            running += count
        return few


def finished_on_time(ticket: Ticket) -> bool:
    """Done by its deadline; an urgent repair also on site by its time."""
    if ticket.done_at is None or ticket.due_at is None or ticket.done_at > ticket.due_at:
        return False
    if ticket.arrive_due_at is None:
        return True
    return ticket.arrived_at is not None and ticket.arrived_at <= ticket.arrive_due_at


def monthly_report(
    *, session: Session, estate_id: int, month: date, now: datetime | None = None
) -> MonthlyReport:
    """The month's figures; its rounds count as due those whose window ended by ``now``
    (default: the current time)."""
    settings = settings_of(session)
    tz = settings.tz
    start = start_of_local_day(month, tz)
    end = start_of_local_day(month_after(month), tz)
    report = MonthlyReport(
        estate_id=estate_id, month=month, vital_percent=settings.pareto_vital_percent
    )
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.estate_id == estate_id,
            Ticket.created_at >= start,
            Ticket.created_at < end,
            Ticket.rework_of_id.is_(None),
        )
    ):
        if ticket.kind is TicketKind.REPAIR and ticket.category is not None:
            report.repairs_by_category[ticket.category.label] += 1
        elif ticket.severity is not None:
            report.complaints_by_severity[SEVERITY_LABELS[ticket.severity]] += 1
    for finding in session.scalars(
        select(PatrolFinding).where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.created_at >= start,
            PatrolFinding.created_at < end,
        )
    ):
        report.findings_by_category[PATROL_CATEGORY_LABELS[finding.category]] += 1
        if finding.department is not None:
            report.findings_by_department[finding.department.name] += 1
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.estate_id == estate_id,
            Ticket.kind == TicketKind.REPAIR,
            Ticket.due_at >= start,
            Ticket.due_at < end,
        )
    ):
        category = (ticket.category or RepairCategory.OTHER).label
        technician = ticket.assignee.person.name if ticket.assignee else NOT_DISPATCHED
        report.repairs_due_by_category[category] += 1
        report.repairs_due_by_technician[technician] += 1
        if finished_on_time(ticket):
            report.repairs_on_time_by_category[category] += 1
            report.repairs_on_time_by_technician[technician] += 1
    for callback in session.scalars(
        select(Callback)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(Ticket.estate_id == estate_id, Callback.due_at > start, Callback.due_at <= end)
    ):
        report.callbacks_due += 1
        if callback.done_at is not None and callback.done_at <= callback.due_at:
            report.callbacks_on_time += 1
        if callback.satisfaction is not None:
            report.satisfaction[callback.satisfaction] += 1
    for check in quality.done_in(
        session=session, estate_id=estate_id, start=month, end=month_after(month), tz=tz
    ):
        first = check.callback.satisfaction
        report.quality_checks.append(
            QualityCheckRow(
                kind=QUALITY_CHECK_LABELS[check.kind],
                number=check.callback.ticket.number,
                where=check.callback.ticket.where,
                callback=SATISFACTION_LABELS[first] if first else "—",
                found=SATISFACTION_LABELS[check.satisfaction] if check.satisfaction else "—",
                note=check.note or "",
                checker=check.recorded_by.name if check.recorded_by else "",
                on=local_date(check.done_at, tz).isoformat() if check.done_at else "",
            )
        )
    report.rounds = rounds.coverage(
        session=session,
        estate=session.get_one(Estate, estate_id),
        first=month,
        last=month_after(month) - timedelta(days=1),
        now=now or utcnow(),
    )
    report.surveys = [
        surveys.results(session=session, survey=survey)
        for survey in surveys.closed_between(
            session=session,
            estate_id=estate_id,
            start=start_of_local_day(month, tz),
            end=start_of_local_day(month_after(month), tz),
        )
    ]
    return report
