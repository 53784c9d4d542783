"""Quality checks of callbacks: the quality specialist's weekly re-check by phone (000 3.12)
and the project manager's monthly spot-check (003 篇十二 三(四)1). Each drawn callback is a
row, recorded in chat with what the check found; 不满意 reopens the ticket as an unsatisfied
callback would: a repair gets a rework order, a complaint goes up to the leadership."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.callback.models import (
    SATISFACTION_LABELS,
    Callback,
    QualityCheck,
    QualityCheckKind,
    Satisfaction,
)
from storage.clock import format_local, start_of_local_day, utcnow
from storage.database import settings_of
from storage.errors import AlreadyRecorded, NotFound, PermissionDenied
from storage.people import service as people
from storage.people.models import Person, StaffRole
from storage.text import optional
from storage.ticket import complaints, repairs
from storage.ticket.models import Ticket, TicketKind, TicketStatus

# Who checks which kind.
CHECKERS = {
    QualityCheckKind.WEEKLY: StaffRole.QUALITY_SPECIALIST,
    QualityCheckKind.MONTHLY: StaffRole.PROJECT_MANAGER,
}


def draw(
    *,
    session: Session,
    estate_id: int,
    kind: QualityCheckKind,
    period: str,
    done_from: datetime,
    done_until: datetime,
    size: int,
) -> list[QualityCheck]:
    """A random sample of the callbacks done in the period, seeded by (estate, period): a
    rerun draws the same and adds nothing."""
    done = list(
        session.scalars(
            select(Callback)
            .join(Ticket, Callback.ticket_id == Ticket.id)
            .where(
                Ticket.estate_id == estate_id,
                Callback.done_at >= done_from,
                Callback.done_at < done_until,
                Callback.unreachable.is_(False),
            )
            .order_by(Callback.id)
        )
    )
    picked = random.Random(f"{estate_id}:{kind.value}:{period}").sample(  # noqa: S311
        done, min(size, len(done))
    )
    drawn = []
    for callback in sorted(picked, key=lambda c: c.id):
        check = session.scalar(
            select(QualityCheck).where(
                QualityCheck.callback_id == callback.id,
                QualityCheck.kind == kind,
                QualityCheck.period == period,
            )
        )
        if check is None:
            check = QualityCheck(callback=callback, kind=kind, period=period)
            audit.record_new(
                session=session, obj=check, state="pending", actor=None, note=f"{period} 抽查"
            )
        drawn.append(check)
    return drawn


def pending(*, session: Session, estate_id: int, actor: Person) -> list[QualityCheck]:
    """The checks this person is to make: the specialist's weekly ones, the manager's monthly."""
    post = people.staff_post(session=session, person_id=actor.id, estate_id=estate_id)
    kinds = [kind for kind, role in CHECKERS.items() if post is not None and post.role is role]
    if not kinds:
        return []
    query = (
        select(QualityCheck)
        .join(Callback, QualityCheck.callback_id == Callback.id)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(
            Ticket.estate_id == estate_id,
            QualityCheck.done_at.is_(None),
            QualityCheck.kind.in_(kinds),
        )
        .order_by(QualityCheck.id)
    )
    return list(session.scalars(query))


def record(
    *,
    session: Session,
    check_id: int,
    actor: Person,
    satisfaction: Satisfaction,
    note: str | None = None,
) -> QualityCheck:
    check = session.get(QualityCheck, check_id, with_for_update={"of": QualityCheck})
    if check is None:
        raise NotFound("找不到抽查 #{check_id}", check_id=check_id)
    ticket = session.get_one(Ticket, check.callback.ticket_id, with_for_update={"of": Ticket})
    if check.done_at is not None:
        raise AlreadyRecorded(
            "{number} 的抽查已于 {when} 由 {who} 记录",
            number=ticket.number,
            when=format_local(check.done_at, settings_of(session).tz),
            who=check.recorded_by.name if check.recorded_by else "—",
        )
    post = people.staff_post(session=session, person_id=actor.id, estate_id=ticket.estate_id)
    if post is None or post.role is not CHECKERS[check.kind]:
        if check.kind is QualityCheckKind.WEEKLY:
            raise PermissionDenied("只有品质专员可以记录这项抽查")
        raise PermissionDenied("只有项目负责人可以记录这项抽查")
    check.done_at, check.recorded_by = utcnow(), actor
    check.satisfaction, check.note = satisfaction, optional(note, "抽查意见")
    label = SATISFACTION_LABELS[satisfaction]
    audit.record(
        session=session,
        obj=check,
        from_state="pending",
        to_state="done",
        actor=actor,
        note=label + (f"：{check.note}" if check.note else ""),
    )
    if satisfaction is Satisfaction.UNSATISFIED:
        _reopen(session, ticket, actor, check.note or "抽查不满意（未说明原因）")
    return check


def _reopen(session: Session, ticket: Ticket, actor: Person, note: str) -> None:
    """As an unsatisfied callback would: the repair back to its repairer, the complaint up."""
    if ticket.kind is TicketKind.REPAIR:
        repairs.open_rework(session=session, original=ticket, actor=actor, note=f"抽查：{note}")
        return
    if ticket.status is TicketStatus.CLOSED:
        ticket.closed_at = None
    complaints.reopen_unsatisfied_complaint(
        session=session, ticket=ticket, actor=actor, note=f"抽查：{note}"
    )


def done_in(
    *, session: Session, estate_id: int, start: date, end: date, tz: ZoneInfo
) -> Sequence[QualityCheck]:
    """The checks recorded in [start, end), for the monthly workbook."""
    query = (
        select(QualityCheck)
        .join(Callback, QualityCheck.callback_id == Callback.id)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(
            Ticket.estate_id == estate_id,
            QualityCheck.done_at >= start_of_local_day(start, tz),
            QualityCheck.done_at < start_of_local_day(end, tz),
        )
        .order_by(QualityCheck.done_at)
    )
    return list(session.scalars(query))
