"""Reading tickets: who may see one, an owner's tickets, a technician's orders, and what
is open or past its deadline at an estate."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.errors import NotFound
from storage.people import service as people
from storage.people.models import DESK_ROLES, DepartmentKind, Person, StaffMember
from storage.ticket.lifecycle import COMPLAINT_UNANSWERED, COMPLAINT_UNHANDLED, WORK_UNFINISHED
from storage.ticket.models import OPEN_STATUSES, Ticket, TicketKind
from storage.ticket.models import TicketStatus as S


def can_view(*, session: Session, ticket: Ticket, viewer: Person) -> bool:
    """Owners see their own unit's repairs and their own complaints; complaints are never
    shown to the line staff (technicians, guards, cleaners) they may be about."""
    if ticket.reporter_id == viewer.id:
        return True
    post = people.staff_post(session=session, person_id=viewer.id, estate_id=ticket.estate_id)
    if post is not None:
        return ticket.kind is TicketKind.REPAIR or post.role in DESK_ROLES
    return (
        ticket.kind is TicketKind.REPAIR
        and ticket.unit_id is not None
        and people.is_resident(session=session, person_id=viewer.id, unit_id=ticket.unit_id)
    )


def get_ticket(*, session: Session, ticket_id: int, viewer: Person) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    # "Not found" either way: a stranger learns nothing about whether the ticket exists.
    if ticket is None or not can_view(session=session, ticket=ticket, viewer=viewer):
        raise NotFound("找不到工单 #{ticket_id}", ticket_id=ticket_id)
    return ticket


def tickets_of_owner(*, session: Session, person: Person, limit: int = 50) -> list[Ticket]:
    """我的工单: what the owner reported, and the repairs of the units they live in."""
    unit_ids = [u.id for u in people.units_of(session=session, person_id=person.id)]
    query = (
        select(Ticket)
        .where(
            or_(
                Ticket.reporter_id == person.id,
                (Ticket.kind == TicketKind.REPAIR) & Ticket.unit_id.in_(unit_ids),
            )
        )
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def work_orders(*, session: Session, staff: StaffMember) -> list[Ticket]:
    """A staff member's open orders, unassigned ones waiting in their department, and, for
    engineering, urgent repairs nobody has taken yet (the urgent first)."""
    waiting = [
        Ticket.assignee_id == staff.id,
        (Ticket.assignee_id.is_(None)) & (Ticket.department_id == staff.department_id),
    ]
    if staff.department.kind == DepartmentKind.ENGINEERING:
        waiting.append(
            (Ticket.status == S.NEW)
            & Ticket.urgent.is_(True)
            & (Ticket.estate_id == staff.estate_id)
            & (Ticket.kind == TicketKind.REPAIR)
        )
    query = (
        select(Ticket)
        .where(in_open_status([S.NEW, S.DISPATCHED, S.ACCEPTED]), or_(*waiting))
        .order_by(Ticket.urgent.desc(), Ticket.due_at.is_(None), Ticket.due_at, Ticket.created_at)
    )
    tickets = list(session.scalars(query))
    return [t for t in tickets if can_view(session=session, ticket=t, viewer=staff.person)]


def list_tickets(
    *,
    session: Session,
    estate_id: int | None = None,
    kind: TicketKind | None = None,
    open_only: bool = False,
    limit: int = 500,
) -> list[Ticket]:
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    if estate_id is not None:
        query = query.where(Ticket.estate_id == estate_id)
    if kind is not None:
        query = query.where(Ticket.kind == kind)
    if open_only:
        query = query.where(in_open_status(OPEN_STATUSES))
    return list(session.scalars(query))


def in_open_status(statuses: Iterable[S]) -> ColumnElement[bool]:
    """Tickets in one of these open statuses.

    ``closed_at`` is set exactly when a ticket is closed or cancelled, so saying it again
    changes no result; it lets both databases read the partial index of unclosed tickets
    instead of an estate's whole history.
    """
    return and_(Ticket.closed_at.is_(None), Ticket.status.in_(statuses))


def _past_deadline(
    session: Session,
    *,
    estate_id: int,
    kind: TicketKind,
    statuses: frozenset[S],
    deadline: InstrumentedAttribute[datetime | None],
    now: datetime,
) -> list[Ticket]:
    query = (
        select(Ticket)
        .where(
            Ticket.estate_id == estate_id,
            Ticket.kind == kind,
            in_open_status(statuses),
            deadline <= now,
        )
        .order_by(deadline)
    )
    return list(session.scalars(query))


def overdue_work(*, session: Session, estate_id: int, now: datetime) -> list[Ticket]:
    """Orders with a deadline (rework: 24 h) that are not done by it."""
    return _past_deadline(
        session,
        estate_id=estate_id,
        kind=TicketKind.REPAIR,
        statuses=WORK_UNFINISHED,
        deadline=Ticket.due_at,
        now=now,
    )


def complaints_not_handled(*, session: Session, estate_id: int, now: datetime) -> list[Ticket]:
    return _past_deadline(
        session,
        estate_id=estate_id,
        kind=TicketKind.COMPLAINT,
        statuses=COMPLAINT_UNHANDLED,
        deadline=Ticket.due_at,
        now=now,
    )


def complaints_not_replied(*, session: Session, estate_id: int, now: datetime) -> list[Ticket]:
    return _past_deadline(
        session,
        estate_id=estate_id,
        kind=TicketKind.COMPLAINT,
        statuses=COMPLAINT_UNANSWERED,
        deadline=Ticket.reply_due_at,
        now=now,
    )


def open_complaints(*, session: Session, estate_id: int) -> list[Ticket]:
    """Complaints not yet answered, the oldest reply deadline first."""
    query = (
        select(Ticket)
        .where(
            Ticket.estate_id == estate_id,
            Ticket.kind == TicketKind.COMPLAINT,
            in_open_status(COMPLAINT_UNANSWERED),
        )
        .order_by(Ticket.reply_due_at, Ticket.id)
    )
    return list(session.scalars(query))


def assignable(*, session: Session, estate_id: int) -> list[Ticket]:
    """Repairs the desk may dispatch or re-assign: new, dispatched or accepted."""
    query = (
        select(Ticket)
        .where(
            Ticket.estate_id == estate_id,
            Ticket.kind == TicketKind.REPAIR,
            in_open_status(WORK_UNFINISHED),
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    return list(session.scalars(query))


def repairs_in(*, session: Session, estate_id: int, statuses: frozenset[S]) -> list[Ticket]:
    """Open repairs in these statuses, the oldest first: the clock's deadlines look at
    them every minute (a few at a time: the unclosed tickets' partial index)."""
    query = (
        select(Ticket)
        .where(
            Ticket.estate_id == estate_id,
            Ticket.kind == TicketKind.REPAIR,
            in_open_status(statuses),
        )
        .order_by(Ticket.created_at, Ticket.id)
    )
    return list(session.scalars(query))


def not_dispatched_in_time(*, session: Session, estate_id: int, now: datetime) -> list[Ticket]:
    """New repairs past their dispatch deadline (an urgent one's: to be accepted)."""
    return _past_deadline(
        session,
        estate_id=estate_id,
        kind=TicketKind.REPAIR,
        statuses=frozenset({S.NEW}),
        deadline=Ticket.dispatch_due_at,
        now=now,
    )
