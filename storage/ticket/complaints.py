"""Complaints 投诉 (002, 003): every one taken up within the handling hours and answered
within the reply hours; a major one goes to the leadership at once (五清楚一报告)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.callback import rules as callback_rules
from storage.clock import utcnow
from storage.database import settings_of
from storage.errors import InvalidInput, PermissionDenied
from storage.i18n import N_
from storage.outbox import service as outbox
from storage.people import service as people
from storage.people.models import Person
from storage.text import required
from storage.ticket import notices
from storage.ticket.lifecycle import COMPLAINT_FLOW, intake, load_for_desk, open_ticket
from storage.ticket.models import ComplaintSeverity, Ticket, TicketKind
from storage.ticket.models import TicketStatus as S


def file_complaint(
    *,
    session: Session,
    actor: Person,
    subject: str,
    description: str,
    severity: ComplaintSeverity = ComplaintSeverity.GENERAL,
    unit_id: int | None = None,
    estate_id: int | None = None,
    place: str | None = None,
    on_behalf_of: int | None = None,
    photos: Sequence[str] = (),
    contact_phone: str | None = None,
) -> Ticket:
    subject = required(subject, "投诉事由", max_length=200)
    description = required(description, "投诉内容")
    where = intake(
        session,
        actor=actor,
        unit_id=unit_id,
        estate_id=estate_id,
        place=place,
        on_behalf_of=on_behalf_of,
        doing=N_("提交投诉"),
    )
    if (
        severity is ComplaintSeverity.WRITTEN
        and people.staff_post(session=session, person_id=actor.id, estate_id=where.estate_id)
        is None
    ):
        raise PermissionDenied("书面投诉请交至客服中心登记")
    settings = settings_of(session)
    now = utcnow()
    ticket = Ticket(
        kind=TicketKind.COMPLAINT,
        estate_id=where.estate_id,
        unit_id=unit_id,
        place=where.place,
        reporter=where.reporter,
        recorded_by_id=actor.id,
        severity=severity,
        subject=subject,
        description=description,
        contact_phone=(
            people.normalize_phone(contact_phone) if contact_phone else where.reporter.phone
        ),
        created_at=now,
        due_at=now + timedelta(hours=settings.complaint_handle_hours),
        reply_due_at=now + timedelta(hours=settings.complaint_reply_hours),
    )
    open_ticket(session, ticket, state=S.NEW, actor=actor, note="投诉", photos=photos)
    if severity is ComplaintSeverity.MAJOR:
        _escalate(session, ticket, actor, note="重大投诉，立即上报")
    return ticket


def _escalate(session: Session, ticket: Ticket, actor: Person, *, note: str) -> None:
    """002 五清楚一报告: a major complaint is reported to the leadership at once."""
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.ESCALATED, actor=actor, note=note)
    ticket.severity = ComplaintSeverity.MAJOR
    settings = settings_of(session)
    outbox.notify_each(
        session=session,
        recipients=people.project_managers(session=session, estate_id=ticket.estate_id),
        notice=notices.major_complaint(ticket, settings),
    )
    # The owner is told the complaint went up and by when they will hear back.
    outbox.notify(
        session=session,
        recipient=ticket.reporter,
        notice=notices.complaint_reply_date(ticket, settings),
    )


def forward_complaint(
    *, session: Session, ticket_id: int, actor: Person, department_id: int
) -> Ticket:
    ticket = load_for_desk(
        session, ticket_id, kind=TicketKind.COMPLAINT, actor=actor, doing=N_("转办投诉")
    )
    department = people.get_department(
        session=session, department_id=department_id, estate_id=ticket.estate_id
    )
    COMPLAINT_FLOW.move(
        session=session, obj=ticket, target=S.DISPATCHED, actor=actor, note=f"转至{department.name}"
    )
    ticket.department = department
    ticket.dispatched_at = utcnow()
    outbox.notify_department(
        session=session,
        department=department,
        notice=notices.complaint_forwarded(ticket, settings_of(session)),
    )
    return ticket


def escalate_complaint(
    *,
    session: Session,
    ticket_id: int,
    actor: Person,
    reason: str,
    reply_due_at: datetime | None = None,
) -> Ticket:
    """The desk upgrades a complaint to major; the owner may be given a later reply date."""
    ticket = load_for_desk(
        session, ticket_id, kind=TicketKind.COMPLAINT, actor=actor, doing=N_("上报重大投诉")
    )
    reason = required(reason, "上报原因", max_length=500)
    if reply_due_at is not None:
        if reply_due_at <= utcnow():
            raise InvalidInput("答复日期必须晚于现在")
        ticket.reply_due_at = reply_due_at
    if ticket.status is not S.NEW:
        # Upgraded after it was taken up: the leadership gets its own handling hours.
        hours = settings_of(session).complaint_handle_hours
        ticket.due_at = utcnow() + timedelta(hours=hours)
    _escalate(session, ticket, actor, note=reason)
    return ticket


def reply_complaint(*, session: Session, ticket_id: int, actor: Person, text: str) -> Ticket:
    ticket = load_for_desk(
        session, ticket_id, kind=TicketKind.COMPLAINT, actor=actor, doing=N_("答复投诉")
    )
    text = required(text, "答复内容")
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.REPLIED, actor=actor, note=text)
    now = utcnow()
    ticket.replied_at, ticket.reply_text = now, text
    outbox.notify(
        session=session, recipient=ticket.reporter, notice=notices.complaint_replied(ticket)
    )
    callback_rules.schedule(session=session, ticket=ticket, start=now, actor=actor)
    return ticket


def reopen_unsatisfied_complaint(
    *, session: Session, ticket: Ticket, actor: Person, note: str
) -> None:
    """An owner unsatisfied with the answer is heard again, by the leadership."""
    settings = settings_of(session)
    COMPLAINT_FLOW.move(
        session=session, obj=ticket, target=S.ESCALATED, actor=actor, note=f"回访不满意：{note}"
    )
    ticket.severity = ComplaintSeverity.MAJOR
    # A new round: taken up and answered within the hours from now, not from before.
    now = utcnow()
    ticket.due_at = now + timedelta(hours=settings.complaint_handle_hours)
    ticket.reply_due_at = now + timedelta(hours=settings.complaint_reply_hours)
    outbox.notify_each(
        session=session,
        recipients=people.project_managers(session=session, estate_id=ticket.estate_id),
        notice=notices.complaint_unsatisfied(ticket, note, settings),
    )
