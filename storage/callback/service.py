"""Recording callbacks, and the queries of what is due and overdue."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.callback import notices
from storage.callback.models import (
    DONE,
    PENDING,
    SATISFACTION_LABELS,
    Callback,
    CallbackChannel,
    Satisfaction,
)
from storage.clock import (
    end_of_local_day,
    format_day,
    format_local,
    local_date,
    start_of_local_day,
    utcnow,
)
from storage.database import settings_of
from storage.errors import AlreadyRecorded, InvalidInput, NotFound
from storage.estate.models import Estate
from storage.i18n import N_, Msg
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage
from storage.people import service as people
from storage.people.models import DESK_ROLES, Person
from storage.text import optional
from storage.ticket import complaints, lifecycle, repairs
from storage.ticket.models import Ticket, TicketKind, TicketStatus


def record(
    *,
    session: Session,
    callback_id: int,
    actor: Person,
    satisfaction: Satisfaction,
    note: str | None = None,
    channel: CallbackChannel | None = None,
    again_on: date | None = None,
) -> Callback:
    """满意 / 较满意 close the ticket; 不满意 sends a repair back for rework (a complaint, up)."""
    callback = session.get(Callback, callback_id, with_for_update={"of": Callback})
    if callback is None:
        raise NotFound("找不到回访 #{callback_id}", callback_id=callback_id)
    ticket = session.get(Ticket, callback.ticket_id, with_for_update={"of": Ticket})
    if ticket is None:
        raise NotFound("找不到回访 #{callback_id}", callback_id=callback_id)
    _not_yet_recorded(session, callback, ticket)
    if actor.id == ticket.reporter_id:
        channel = CallbackChannel.CHAT
    else:
        people.require_staff(
            session=session,
            actor=actor,
            estate_id=ticket.estate_id,
            roles=DESK_ROLES,
            doing=N_("记录回访"),
        )
        channel = channel or CallbackChannel.PHONE
    note = optional(note, "回访意见")

    callback.done_at = utcnow()
    callback.recorded_by = actor
    callback.channel = channel
    callback.satisfaction = satisfaction
    callback.note = note
    label = SATISFACTION_LABELS[satisfaction]
    audit.record(
        session=session,
        obj=callback,
        from_state=PENDING,
        to_state=DONE,
        actor=actor,
        note=f"{label}" + (f"：{note}" if note else ""),
    )
    flow = lifecycle.flow_of(ticket)
    if ticket.status is not TicketStatus.CALLED_BACK:  # a follow-up finds it called back
        flow.move(
            session=session, obj=ticket, target=TicketStatus.CALLED_BACK, actor=actor, note=label
        )
    if satisfaction is not Satisfaction.UNSATISFIED and again_on is not None:
        _call_again_on(session, ticket, again_on, actor)
    elif satisfaction is not Satisfaction.UNSATISFIED:
        lifecycle.close(session=session, ticket=ticket, actor=actor, note=f"回访{label}")
    elif ticket.kind is TicketKind.REPAIR:
        rework = repairs.open_rework(
            session=session, original=ticket, actor=actor, note=note or "业主不满意（未说明原因）"
        )
        callback.rework_ticket_id = rework.id
    else:
        complaints.reopen_unsatisfied_complaint(
            session=session, ticket=ticket, actor=actor, note=note or "业主不满意（未说明原因）"
        )
    return callback


def add_remark(*, session: Session, callback_id: int, actor: Person, note: str) -> Callback:
    """What the owner adds after answering with a notice's button: the answer was recorded
    at the press (nothing waits on a remark that may never come), the words join it. On a
    rework they join its order too, so the technician reads why."""
    callback = session.get(Callback, callback_id, with_for_update={"of": Callback})
    if callback is None or callback.done_at is None:
        raise NotFound("找不到回访 #{callback_id}", callback_id=callback_id)
    if actor.id not in (callback.ticket.reporter_id, callback.recorded_by_id):
        raise NotFound("找不到回访 #{callback_id}", callback_id=callback_id)
    remark = optional(note, "回访意见")
    if remark is None:
        return callback
    callback.note = f"{callback.note}\n{remark}" if callback.note else remark
    audit.record(
        session=session, obj=callback, from_state=DONE, to_state=DONE, actor=actor, note=remark
    )
    if callback.rework_ticket_id is not None:
        rework = session.get_one(Ticket, callback.rework_ticket_id)
        rework.description = f"{rework.description}\n{remark}"
    return callback


def next_working_day(day: date, estate: Estate) -> date:
    following = day + timedelta(days=1)
    while not estate.is_working_day(following):
        following += timedelta(days=1)
    return following


def _call_again_on(session: Session, ticket: Ticket, day: date, actor: Person) -> Callback:
    """002 2(3)A c: not solved at the callback: the desk calls again on the day it set;
    the ticket stays called back until then."""
    settings = settings_of(session)
    if day <= local_date(utcnow(), settings.tz):
        raise InvalidInput("再次回访的日期须在今天之后")
    follow_up = Callback(
        ticket=ticket,
        due_at=end_of_local_day(day, settings.tz),
        ask_at=start_of_local_day(day, settings.tz),
    )
    audit.record_new(
        session=session,
        obj=follow_up,
        state=PENDING,
        actor=actor,
        note=f"问题未解决，{day.isoformat()} 再次回访",
    )
    return follow_up


def no_answer(*, session: Session, callback_id: int, actor: Person) -> Callback:
    """未接通: the desk phoned and nobody answered. Tried again the next working day; after
    the setting's number of tries the owner is recorded as unreachable and the ticket is
    closed with that said (it does not wait for ever)."""
    callback = session.get(Callback, callback_id, with_for_update={"of": Callback})
    if callback is None:
        raise NotFound("找不到回访 #{callback_id}", callback_id=callback_id)
    ticket = session.get_one(Ticket, callback.ticket_id, with_for_update={"of": Ticket})
    _not_yet_recorded(session, callback, ticket)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=ticket.estate_id,
        roles=DESK_ROLES,
        doing=N_("记录回访"),
    )
    settings = settings_of(session)
    now = utcnow()
    callback.attempts += 1
    if callback.attempts < settings.callback_call_attempts:
        callback.call_again_at = start_of_local_day(
            next_working_day(local_date(now, settings.tz), ticket.estate), settings.tz
        )
        audit.record(
            session=session,
            obj=callback,
            from_state=PENDING,
            to_state=PENDING,
            actor=actor,
            note=f"未接通（第 {callback.attempts} 次），"
            f"{format_day(callback.call_again_at, settings.tz)} 再打",
        )
        return callback
    callback.done_at, callback.recorded_by = now, actor
    callback.channel, callback.unreachable = CallbackChannel.PHONE, True
    callback.call_again_at = None
    note = f"未接通 {callback.attempts} 次，无法联系业主"
    audit.record(
        session=session, obj=callback, from_state=PENDING, to_state=DONE, actor=actor, note=note
    )
    flow = lifecycle.flow_of(ticket)
    flow.move(session=session, obj=ticket, target=TicketStatus.CALLED_BACK, actor=actor, note=note)
    lifecycle.close(session=session, ticket=ticket, actor=actor, note=note)
    return callback


def _not_yet_recorded(session: Session, callback: Callback, ticket: Ticket) -> None:
    if callback.done_at is not None:
        who = callback.recorded_by.name if callback.recorded_by else Msg("他人")
        when = format_local(callback.done_at, settings_of(session).tz)
        raise AlreadyRecorded(
            "{number} 的回访已于 {when} 由 {who} 记录", number=ticket.number, when=when, who=who
        )


def waiting(*, session: Session) -> list[Callback]:
    """Every callback still to make, for the clock: asked, reminded, phoned."""
    query = (
        select(Callback).where(Callback.done_at.is_(None)).order_by(Callback.due_at, Callback.id)
    )
    return list(session.scalars(query))


def pending_for_ticket(*, session: Session, ticket_id: int) -> Callback | None:
    return session.scalar(
        select(Callback).where(Callback.ticket_id == ticket_id, Callback.done_at.is_(None))
    )


def due(*, session: Session, estate_id: int | None, on: date) -> list[Callback]:
    """Callbacks waiting whose deadline is ``on`` (local day) or earlier, oldest first."""
    tz = settings_of(session).tz
    query = (
        select(Callback)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(Callback.done_at.is_(None), Callback.due_at <= end_of_local_day(on, tz))
        .order_by(Callback.due_at, Callback.id)
    )
    if estate_id is not None:
        query = query.where(Ticket.estate_id == estate_id)
    return list(session.scalars(query))


def overdue(*, session: Session, estate_id: int | None, now: datetime) -> list[Callback]:
    query = (
        select(Callback)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(Callback.done_at.is_(None), Callback.due_at <= now)
        .order_by(Callback.due_at, Callback.id)
    )
    if estate_id is not None:
        query = query.where(Ticket.estate_id == estate_id)
    return list(session.scalars(query))


def pending_for_owner(*, session: Session, person_id: int) -> list[Callback]:
    """Callbacks an owner can answer in chat: their own tickets, done and waiting."""
    query = (
        select(Callback)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(Ticket.reporter_id == person_id, Callback.done_at.is_(None))
        .order_by(Callback.due_at)
    )
    return list(session.scalars(query))


def pending(*, session: Session, estate_id: int, limit: int = 50) -> list[Callback]:
    """Every callback still to make at an estate, the longest waiting first."""
    query = (
        select(Callback)
        .join(Ticket, Callback.ticket_id == Ticket.id)
        .where(Ticket.estate_id == estate_id, Callback.done_at.is_(None))
        .order_by(Callback.due_at, Callback.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def ask_owner(
    *, session: Session, callback_id: int, now: datetime | None = None
) -> OutboxMessage | None:
    """The callback question, sent to the owner in chat once (whoever asks twice)."""
    callback = session.get(Callback, callback_id)
    if callback is None or callback.done_at is not None:
        return None
    queued = outbox.notify(
        session=session,
        recipient=callback.ticket.reporter,
        notice=notices.callback_due(callback),
        idempotency_key=f"callback_due:{callback.id}",
    )
    if queued is not None:
        callback.asked_at = now or utcnow()
    return queued
