"""What happened at an estate on one local day, per department: the digest's facts.

The 18:30 digest (001 4.10) and the morning briefing read these numbers; they
are computed here so that the CLI, the scheduler and the tests agree on them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.announcement import service as announcements
from storage.announcement.models import ANNOUNCEMENT_KIND_LABELS
from storage.callback.models import Callback, Satisfaction
from storage.clock import end_of_local_day, start_of_local_day, utcnow
from storage.database import settings_of
from storage.estate.models import Estate
from storage.i18n import N_
from storage.patrol import rounds
from storage.patrol import service as patrols
from storage.patrol.models import (
    FINDING_STATUS_LABELS,
    PATROL_CATEGORY_LABELS,
    FindingStatus,
    PatrolFinding,
)
from storage.people import service as people
from storage.people.models import Department, DepartmentKind, StaffRole
from storage.ticket import lifecycle, queries
from storage.ticket.models import Ticket, TicketKind

UNASSIGNED = N_("未分派")
NOT_DISPATCHED = N_("未派单")
COMPLAINT = N_("投诉")
RETURNED_TO_DESK = N_("已退回客服")


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


# ---------------------------------------------------------------- each reader's digest


@dataclass(frozen=True)
class DigestItem:
    """A finding or a work order as a department head reads it in the 18:30 digest."""

    number: str
    place: str
    about: str  # a message id: the patrol or repair category, or 投诉
    due_at: datetime | None
    holder: str  # who has it now: a department, a person, or 未派单
    state: str  # a message id: 待整改, 待验证, 已派单, …
    new: bool  # reported that day
    open: bool  # not fixed (or answered) yet
    overdue: bool
    department_id: int | None  # whose it is; None: nobody's yet (not dispatched)


@dataclass(frozen=True)
class RoundOfDay:
    name: str
    walkers: frozenset[str]  # staff codes
    done: bool


@dataclass(frozen=True)
class OutageOfDay:
    """An outage under way at the estate (停水, 停电, 电梯停运): every reader hears of it."""

    kind: str  # a message id
    title: str
    where: str
    ends_at: datetime | None


@dataclass
class ReaderDigest:
    """A department's day (every department's, for the project manager): its findings and
    work orders new that day, still open or overdue, most urgent first; and the rounds."""

    day: date
    department: str | None
    findings: list[DigestItem] = field(default_factory=list)
    work_orders: list[DigestItem] = field(default_factory=list)
    rounds: list[RoundOfDay] = field(default_factory=list)
    outages: list[OutageOfDay] = field(default_factory=list)

    @property
    def rounds_done(self) -> list[str]:
        return [r.name for r in self.rounds if r.done]

    @property
    def rounds_missed(self) -> list[str]:
        return [r.name for r in self.rounds if not r.done]

    @property
    def quiet(self) -> bool:
        return not (self.findings or self.work_orders)

    def of_department(self, department: Department, staff_codes: set[str]) -> ReaderDigest:
        """What of the estate's day is one department's: its findings and work orders (for
        the desk's head also what nobody has dispatched), and the rounds its people walk."""
        desk = department.kind is DepartmentKind.CUSTOMER_SERVICE

        def mine(item: DigestItem) -> bool:
            return item.department_id == department.id or (desk and item.department_id is None)

        return ReaderDigest(
            day=self.day,
            department=department.name,
            findings=[i for i in self.findings if mine(i)],
            work_orders=[i for i in self.work_orders if mine(i)],
            rounds=[r for r in self.rounds if r.walkers & staff_codes],
            outages=self.outages,
        )


def _ordered(items: list[DigestItem]) -> list[DigestItem]:
    far = datetime.max.replace(tzinfo=UTC)
    return sorted(items, key=lambda i: (not i.overdue, not i.new, i.due_at or far, i.number))


def estate_digest(
    *, session: Session, estate: Estate, day: date, now: datetime | None = None
) -> ReaderDigest:
    """Every department's findings and work orders new that day, still open or overdue, and
    the day's rounds: read once, and cut per department (``of_department``)."""
    tz = settings_of(session).tz
    start, end = start_of_local_day(day, tz), end_of_local_day(day, tz)
    as_of = min(now or utcnow(), end)
    digest = ReaderDigest(day=day, department=None)

    findings = list(
        session.scalars(
            select(PatrolFinding).where(
                PatrolFinding.estate_id == estate.id,
                PatrolFinding.status.in_(
                    [FindingStatus.OPEN, FindingStatus.RETURNED, FindingStatus.FIXED]
                ),
            )
        )
    )
    findings += patrols.list_findings(session=session, estate_id=estate.id, on=day)
    for finding in {f.id: f for f in findings}.values():
        if finding.created_at >= end or finding.fixed_on_site:
            continue
        open_ = finding.status in (FindingStatus.OPEN, FindingStatus.RETURNED)
        if finding.status is FindingStatus.FIXED:
            holder = finding.reporter.person.name  # who is to verify it
        elif finding.status is FindingStatus.RETURNED:
            holder = RETURNED_TO_DESK
        else:
            holder = _name(finding) or UNASSIGNED
        digest.findings.append(
            DigestItem(
                number=finding.number,
                place=finding.place,
                about=PATROL_CATEGORY_LABELS[finding.category],
                due_at=finding.due_at,
                holder=holder,
                state=FINDING_STATUS_LABELS[finding.status],
                new=start <= finding.created_at < end,
                open=open_,
                overdue=open_ and finding.due_at is not None and finding.due_at <= as_of,
                department_id=finding.department_id,
            )
        )
    overdue_ids = {
        t.id
        for t in queries.not_dispatched_in_time(session=session, estate_id=estate.id, now=as_of)
        + queries.overdue_work(session=session, estate_id=estate.id, now=as_of)
        + queries.complaints_not_replied(session=session, estate_id=estate.id, now=as_of)
    }
    unfinished = lifecycle.WORK_UNFINISHED | lifecycle.COMPLAINT_UNANSWERED
    work = [TicketKind.REPAIR, TicketKind.COMPLAINT]
    tickets = list(
        session.scalars(
            select(Ticket).where(
                Ticket.estate_id == estate.id,
                Ticket.kind.in_(work),
                queries.in_open_status(unfinished),
            )
        )
    )
    tickets += session.scalars(
        select(Ticket).where(
            Ticket.estate_id == estate.id,
            Ticket.kind.in_(work),
            Ticket.created_at >= start,
            Ticket.created_at < end,
        )
    )
    for ticket in {t.id: t for t in tickets}.values():
        if ticket.created_at >= end:
            continue
        if ticket.assignee is not None:
            holder = ticket.assignee.person.name
        else:
            holder = _name(ticket) or NOT_DISPATCHED
        digest.work_orders.append(
            DigestItem(
                number=ticket.number,
                place=ticket.where,
                about=ticket.category.label if ticket.category is not None else COMPLAINT,
                due_at=ticket.due_at,
                holder=holder,
                state=ticket.status_label,
                new=start <= ticket.created_at < end,
                open=ticket.status in unfinished,
                overdue=ticket.id in overdue_ids,
                department_id=ticket.department_id,
            )
        )
    digest.findings = _ordered(digest.findings)
    digest.work_orders = _ordered(digest.work_orders)
    done, missed = rounds.day_of_rounds(session=session, estate=estate, day=day, now=as_of)
    digest.rounds = [RoundOfDay(v.round.name, frozenset(v.round.walkers), True) for v in done] + [
        RoundOfDay(r.name, frozenset(r.walkers), False) for r in missed
    ]
    digest.outages = [
        OutageOfDay(
            ANNOUNCEMENT_KIND_LABELS[outage.kind],
            outage.title,
            announcements.places([outage]),
            outage.ends_at,
        )
        for outage in announcements.outages_now(session=session, estate_id=estate.id, now=as_of)
    ]
    return digest


def reader_digest(
    *,
    session: Session,
    estate: Estate,
    day: date,
    department_id: int | None,
    now: datetime | None = None,
) -> ReaderDigest:
    """One reader's digest: ``department_id``'s, or with None every department's."""
    found = estate_digest(session=session, estate=estate, day=day, now=now)
    if department_id is None:
        return found
    department = session.get_one(Department, department_id)
    return found.of_department(department, staff_codes(session=session, department=department))


def staff_codes(*, session: Session, department: Department) -> set[str]:
    posts = people.staff_with_roles(
        session=session, roles=set(StaffRole), department_id=department.id
    )
    return {post.staff_code for post in posts}
