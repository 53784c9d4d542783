"""What happened at an estate on one local day, per department: the digest's facts.

The 18:30 digest (001 4.10) and the morning briefing read these numbers; they
are computed here so that the CLI, the scheduler and the tests agree on them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.callback.models import Callback, Satisfaction
from storage.clock import end_of_local_day, start_of_local_day, utcnow
from storage.database import settings_of
from storage.i18n import N_
from storage.patrol import service as patrols
from storage.patrol.models import FindingStatus, PatrolFinding
from storage.ticket import lifecycle, queries
from storage.ticket.models import Ticket

UNASSIGNED = N_("未分派")


@dataclass
class DepartmentDay:
    department: str
    new_tickets: int = 0
    new_findings: int = 0
    fixed: int = 0
    still_open: int = 0
    overdue: int = 0


@dataclass
class DayActivity:
    estate_id: int
    day: date
    departments: dict[str, DepartmentDay] = field(default_factory=dict)
    callbacks_done: int = 0
    satisfaction: Counter[Satisfaction] = field(default_factory=Counter)

    def row(self, department: str | None) -> DepartmentDay:
        name = department or UNASSIGNED
        return self.departments.setdefault(name, DepartmentDay(name))

    @property
    def quiet(self) -> bool:
        return (
            not any(d.new_tickets or d.new_findings or d.fixed for d in self.departments.values())
            and not self.callbacks_done
        )


def _name(obj: Ticket | PatrolFinding) -> str | None:
    return obj.department.name if obj.department is not None else None


def day_activity(
    *, session: Session, estate_id: int, day: date, now: datetime | None = None
) -> DayActivity:
    tz = settings_of(session).tz
    start, end = start_of_local_day(day, tz), end_of_local_day(day, tz)
    # "Open" and "overdue" are as of the end of that day, or now if the day is not over.
    as_of = min(now or utcnow(), end)
    activity = DayActivity(estate_id=estate_id, day=day)

    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.estate_id == estate_id, Ticket.created_at >= start, Ticket.created_at < end
        )
    ):
        activity.row(_name(ticket)).new_tickets += 1
    # Two range scans, each on its own index: a repair is done, a complaint is answered.
    fixed: dict[int, Ticket] = {}
    for moment in (Ticket.done_at, Ticket.replied_at):
        for ticket in session.scalars(
            select(Ticket).where(Ticket.estate_id == estate_id, moment >= start, moment < end)
        ):
            fixed[ticket.id] = ticket
    for ticket in fixed.values():
        activity.row(_name(ticket)).fixed += 1
    # Unfinished repairs and unanswered complaints in one status list (a repair is never
    # "escalated"), read from the index of unclosed tickets. The day's end is checked here,
    # not in SQL: offered a range on created_at, SQLite would walk the estate's history.
    for ticket in session.scalars(
        select(Ticket).where(
            Ticket.estate_id == estate_id,
            queries.in_open_status(lifecycle.WORK_UNFINISHED | lifecycle.COMPLAINT_UNANSWERED),
        )
    ):
        if ticket.created_at < end:
            activity.row(_name(ticket)).still_open += 1
    # Every deadline a ticket can miss: not dispatched in the desk's day (an urgent one: not
    # accepted), not finished, a complaint not answered; a ticket counted once.
    overdue_tickets = (
        queries.not_dispatched_in_time(session=session, estate_id=estate_id, now=as_of)
        + queries.overdue_work(session=session, estate_id=estate_id, now=as_of)
        + queries.complaints_not_replied(session=session, estate_id=estate_id, now=as_of)
    )
    for ticket in {t.id: t for t in overdue_tickets}.values():
        activity.row(_name(ticket)).overdue += 1

    for finding in patrols.list_findings(session=session, estate_id=estate_id, on=day):
        activity.row(_name(finding)).new_findings += 1
    for finding in session.scalars(
        select(PatrolFinding).where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.fixed_at >= start,
            PatrolFinding.fixed_at < end,
        )
    ):
        activity.row(_name(finding)).fixed += 1
    for finding in session.scalars(
        select(PatrolFinding).where(
            PatrolFinding.estate_id == estate_id, PatrolFinding.status == FindingStatus.OPEN
        )
    ):
        if finding.created_at < end:  # as for tickets: the status index, not a time range
            activity.row(_name(finding)).still_open += 1
    for finding in patrols.overdue(session=session, estate_id=estate_id, now=as_of):
        activity.row(_name(finding)).overdue += 1

    for callback in session.scalars(
        select(Callback)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(Ticket.estate_id == estate_id, Callback.done_at >= start, Callback.done_at < end)
    ):
        activity.callbacks_done += 1
        if callback.satisfaction is not None:
            activity.satisfaction[callback.satisfaction] += 1
    return activity
