"""留言: an owner's question or suggestion for the desk (001 第十条: 咨询、建议), answered in
chat. The desk hears of it at once in its hours (at its opening otherwise); one not
answered in time goes to its supervisor."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.clock import format_local, utcnow
from storage.database import settings_of
from storage.duty import service as duty
from storage.errors import AlreadyRecorded
from storage.i18n import N_
from storage.outbox import service as outbox
from storage.people.models import Person
from storage.text import required
from storage.ticket import intake, notices
from storage.ticket.lifecycle import MESSAGE_FLOW, close, load_for_desk, open_ticket
from storage.ticket.lifecycle import intake as where_from
from storage.ticket.models import Ticket, TicketKind
from storage.ticket.models import TicketStatus as S


def leave_message(
    *, session: Session, actor: Person, text: str, estate_id: int, unit_id: int | None = None
) -> Ticket:
    """A resident's words for the desk, kept as a ticket of its own kind."""
    text = required(text, "留言内容", max_length=2000)
    where = where_from(
        session,
        actor=actor,
        unit_id=unit_id,
        estate_id=estate_id,
        place=None if unit_id is not None else "—",
        on_behalf_of=None,
        doing=N_("留言"),
    )
    settings = settings_of(session)
    now = utcnow()
    ticket = Ticket(
        kind=TicketKind.MESSAGE,
        estate_id=where.estate_id,
        unit_id=unit_id,
        place=where.place if unit_id is None else None,
        reporter=where.reporter,
        recorded_by_id=actor.id,
        subject=text[:50],
        description=text,
        contact_phone=where.reporter.phone,
        created_at=now,
        due_at=now + timedelta(hours=settings.message_reply_hours),
    )
    open_ticket(session, ticket, state=S.NEW, actor=actor, note="留言")
    if duty.desk_open(ticket.estate, now, settings.tz):
        tell_desk_of(session, ticket)
    return ticket


def tell_desk_of(session: Session, ticket: Ticket) -> int:
    """Once per message: at its leaving, or (left after hours) when the desk opens."""
    return intake.tell_desk(
        session,
        ticket.estate,
        notices.message_left(ticket, settings_of(session)),
        key=f"message_left:{ticket.id}",
        now=utcnow(),
    )


def unanswered(*, session: Session, ticket_id: int, actor: Person) -> Ticket:
    """The message, locked, still to be answered by the desk: checked before the answer is
    asked, so nobody types one for a message a colleague answered meanwhile."""
    ticket = load_for_desk(
        session, ticket_id, kind=TicketKind.MESSAGE, actor=actor, doing=N_("答复留言")
    )
    if ticket.status is not S.NEW:
        raise AlreadyRecorded(
            "{number} 已于 {when} 由 {who} 答复：{reply}",
            number=ticket.number,
            when=format_local(ticket.replied_at or utcnow(), settings_of(session).tz),
            who=_answered_by(session, ticket),
            reply=ticket.reply_text or "",
        )
    return ticket


def answer_message(*, session: Session, ticket_id: int, actor: Person, text: str) -> Ticket:
    """The desk's answer, to the owner's chat; the message is closed with it."""
    ticket = unanswered(session=session, ticket_id=ticket_id, actor=actor)
    text = required(text, "答复内容", max_length=2000)
    MESSAGE_FLOW.move(session=session, obj=ticket, target=S.REPLIED, actor=actor, note=text)
    ticket.replied_at, ticket.reply_text = utcnow(), text
    outbox.notify(
        session=session, recipient=ticket.reporter, notice=notices.message_answered(ticket)
    )
    close(session=session, ticket=ticket, actor=actor, note="已答复")
    return ticket


def _answered_by(session: Session, ticket: Ticket) -> str:
    events = audit.history(session=session, object_type=ticket.audit_type, object_id=ticket.id)
    return next((e.actor_label for e in events if e.to_state == S.REPLIED.value), "")


def waiting(*, session: Session, estate_id: int) -> list[Ticket]:
    """Messages not answered yet, the oldest first."""
    return list(
        session.scalars(
            select(Ticket)
            .where(
                Ticket.estate_id == estate_id,
                Ticket.kind == TicketKind.MESSAGE,
                Ticket.status == S.NEW,
            )
            .order_by(Ticket.created_at, Ticket.id)
        )
    )
