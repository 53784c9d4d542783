"""Repair requests 报修 (003, 004): reported, dispatched, accepted, done, called back,
and sent back for rework when the owner was not satisfied."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.attachment import service as attachments
from storage.attachment.models import AttachmentPurpose
from storage.callback import rules as callback_rules
from storage.clock import days_after, utcnow
from storage.config import Settings
from storage.database import settings_of
from storage.duty import service as duty
from storage.errors import InvalidInput, PermissionDenied
from storage.estate.models import Estate
from storage.i18n import N_
from storage.outbox import service as outbox
from storage.outbox.notice import Notice
from storage.patrol import service as patrols
from storage.people import service as people
from storage.people.models import Department, DepartmentKind, Person
from storage.text import optional, required
from storage.ticket import intake as announcing
from storage.ticket import notices
from storage.ticket.lifecycle import (
    REPAIR_FLOW,
    accept,
    intake,
    load,
    load_for_desk,
    open_ticket,
    require_kind,
)
from storage.ticket.models import RepairCategory, ReportChannel, Ticket, TicketKind
from storage.ticket.models import TicketStatus as S


def report_repair(
    *,
    session: Session,
    actor: Person,
    category: RepairCategory,
    description: str,
    unit_id: int | None = None,
    estate_id: int | None = None,
    place: str | None = None,
    on_behalf_of: int | None = None,
    photos: Sequence[str] = (),
    voice_notes: Sequence[str] = (),
    preferred_time: str | None = None,
    contact_phone: str | None = None,
    urgent: bool = False,
    channel: ReportChannel | None = None,
    finding_id: int | None = None,
) -> Ticket:
    """A repair reported (by its owner, or registered by the desk for one): its deadlines
    set, and announced at once to whoever receives it (``intake.announce``)."""
    description = required(description, "报修内容")
    where = intake(
        session,
        actor=actor,
        unit_id=unit_id,
        estate_id=estate_id,
        place=place,
        on_behalf_of=on_behalf_of,
        doing=N_("提交报修"),
    )
    ticket = Ticket(
        kind=TicketKind.REPAIR,
        estate_id=where.estate_id,
        unit=where.unit,
        place=where.place,
        reporter=where.reporter,
        recorded_by_id=actor.id,
        category=category,
        description=description,
        contact_phone=(
            people.normalize_phone(contact_phone) if contact_phone else where.reporter.phone
        ),
        preferred_time=optional(preferred_time, "预约时间", max_length=100),
        urgent=is_urgent(category, urgent, settings_of(session)),
        channel=channel,
        finding_id=finding_id,
    )
    now = utcnow()
    ticket.estate = session.get_one(Estate, where.estate_id)
    set_deadlines(ticket, now, settings_of(session))
    registered = on_behalf_of is not None and where.reporter.id != actor.id
    open_ticket(
        session,
        ticket,
        state=S.NEW,
        actor=actor,
        note=("紧急报修" if ticket.urgent else "报修")
        + (f"（{ticket.channel_label}登记）" if registered and ticket.channel else ""),
        photos=photos,
        voice_notes=voice_notes,
    )
    session.flush()
    announcing.announce(session, ticket, now)
    if registered:
        outbox.notify(
            session=session, recipient=ticket.reporter, notice=notices.repair_received(ticket)
        )
    return ticket


def is_urgent(category: RepairCategory, asked: bool, settings: Settings) -> bool:
    """Urgent when the reporter says so, or by nature (gas, someone in a lift, …)."""
    return asked or category.value in settings.urgent_categories


def set_deadlines(ticket: Ticket, now: datetime, settings: Settings) -> None:
    """A deadline for every stage, from the settings: an urgent repair is accepted and on
    site within minutes; an ordinary one dispatched within the desk's working day. Both
    are finished within the repair days."""
    if ticket.urgent:
        ticket.dispatch_due_at = now + timedelta(minutes=settings.urgent_accept_minutes)
        ticket.arrive_due_at = now + timedelta(minutes=settings.urgent_arrive_minutes)
    else:
        ticket.dispatch_due_at = duty.end_of_desk_day(ticket.estate, now, settings.tz)
        ticket.arrive_due_at = None
    ticket.due_at = days_after(now, settings.repair_finish_days, settings.tz)


def dispatch_repair(
    *,
    session: Session,
    ticket_id: int,
    actor: Person,
    assignee_id: int | None = None,
    department_id: int | None = None,
) -> Ticket:
    """Send a repair to the responsible department (engineering unless said otherwise)."""
    ticket = load_for_desk(
        session, ticket_id, kind=TicketKind.REPAIR, actor=actor, doing=N_("派发工单")
    )
    assignee = (
        people.get_staff(session=session, staff_id=assignee_id, estate_id=ticket.estate_id)
        if assignee_id is not None
        else None
    )
    department: Department
    if department_id is not None:
        department = people.get_department(
            session=session, department_id=department_id, estate_id=ticket.estate_id
        )
    elif assignee is not None:
        department = assignee.department
    else:
        department = people.department_of_kind(
            session=session, estate_id=ticket.estate_id, kind=DepartmentKind.ENGINEERING
        )
    REPAIR_FLOW.move(
        session=session,
        obj=ticket,
        target=S.DISPATCHED,
        actor=actor,
        note=f"派至{department.name}" + (f"：{assignee.person.name}" if assignee else ""),
    )
    ticket.department = department
    ticket.assignee = assignee
    ticket.dispatched_at = utcnow()
    if assignee is not None:
        outbox.notify(
            session=session, recipient=assignee.person, notice=notices.repair_dispatched(ticket)
        )
    else:  # anyone of the department may take it: tell the department
        outbox.notify_department(
            session=session, department=department, notice=notices.repair_dispatched(ticket)
        )
    _tell_owner(session, ticket, actor, notices.repair_on_its_way(ticket))
    return ticket


def _tell_owner(session: Session, ticket: Ticket, actor: Person, notice: Notice) -> None:
    if ticket.reporter_id != actor.id:  # staff who reported a public place know already
        outbox.notify(session=session, recipient=ticket.reporter, notice=notice)


def take(*, session: Session, ticket_id: int, actor: Person) -> Ticket:
    """接单: the order dispatched to the technician (or their department) accepted; an
    urgent repair nobody dispatched yet is taken straight from the page. The owner hears
    who has it."""
    ticket = load(session, ticket_id)
    require_kind(ticket, TicketKind.REPAIR)
    if ticket.status is S.NEW and ticket.urgent:
        post = people.require_staff(
            session=session, actor=actor, estate_id=ticket.estate_id, doing=N_("接收工单")
        )
        REPAIR_FLOW.move(
            session=session, obj=ticket, target=S.DISPATCHED, actor=actor, note="紧急维修，自行接单"
        )
        ticket.assignee, ticket.department = post, post.department
        ticket.dispatched_at = utcnow()
    accept(session=session, ticket_id=ticket.id, actor=actor)
    _tell_owner(session, ticket, actor, notices.repair_taken(ticket))
    return ticket


def expect(*, session: Session, ticket_id: int, actor: Person, expected_time: str) -> Ticket:
    """The holder says when they will come; the owner is told."""
    ticket = load(session, ticket_id)
    require_kind(ticket, TicketKind.REPAIR)
    if ticket.assignee is None or ticket.assignee.person_id != actor.id:
        raise PermissionDenied("只有接单人可以填写上门时间")
    ticket.expected_time = required(expected_time, "上门时间", max_length=100)
    REPAIR_FLOW.keep(
        session=session, obj=ticket, actor=actor, note=f"预计上门：{ticket.expected_time}"
    )
    _tell_owner(session, ticket, actor, notices.repair_expected(ticket))
    return ticket


def arrive(*, session: Session, ticket_id: int, actor: Person) -> Ticket:
    """到场: the technician of an accepted order is on site (an urgent one's deadline)."""
    ticket = load(session, ticket_id)
    require_kind(ticket, TicketKind.REPAIR)
    if ticket.assignee is None or ticket.assignee.person_id != actor.id:
        raise PermissionDenied("只有接单人可以登记到场")
    if ticket.status is not S.ACCEPTED:
        REPAIR_FLOW.check(ticket.status, S.DONE)  # says why, in the machine's words
    if ticket.arrived_at is None:
        ticket.arrived_at = utcnow()
        REPAIR_FLOW.keep(session=session, obj=ticket, actor=actor, note="到场")
        outbox.notify(
            session=session, recipient=ticket.reporter, notice=notices.repair_arrived(ticket)
        )
    return ticket


def reassign(*, session: Session, ticket_id: int, actor: Person, assignee_id: int) -> Ticket:
    """The desk or a manager gives a dispatched or accepted order to someone else, who must
    accept it anew."""
    ticket = load_for_desk(
        session, ticket_id, kind=TicketKind.REPAIR, actor=actor, doing=N_("改派")
    )
    assignee = people.get_staff(session=session, staff_id=assignee_id, estate_id=ticket.estate_id)
    if ticket.status is S.NEW:
        return dispatch_repair(
            session=session, ticket_id=ticket_id, actor=actor, assignee_id=assignee_id
        )
    if ticket.assignee_id == assignee.id:
        raise InvalidInput(
            "{number} 已经派给 {name} 了", number=ticket.number, name=assignee.person.name
        )
    note = f"改派给{assignee.person.name}"
    if ticket.status is S.ACCEPTED:
        REPAIR_FLOW.move(session=session, obj=ticket, target=S.DISPATCHED, actor=actor, note=note)
    elif ticket.status is S.DISPATCHED:
        REPAIR_FLOW.keep(session=session, obj=ticket, actor=actor, note=note)  # a new holder
    else:
        REPAIR_FLOW.check(ticket.status, S.DISPATCHED)
    before = ticket.assignee
    ticket.assignee, ticket.department = assignee, assignee.department
    ticket.accepted_at = None
    outbox.notify(
        session=session, recipient=assignee.person, notice=notices.repair_dispatched(ticket)
    )
    if before is not None and before.person_id != actor.id:
        outbox.notify(
            session=session,
            recipient=before.person,
            notice=notices.repair_taken_away(ticket, assignee.person.name),
        )
    _tell_owner(session, ticket, actor, notices.repair_on_its_way(ticket))
    return ticket


def finish_repair(
    *, session: Session, ticket_id: int, actor: Person, note: str, photos: Sequence[str] = ()
) -> Ticket:
    """Done: the callback clock starts now (2 / 3 / 7 days by the repair's class)."""
    ticket = load(session, ticket_id)
    require_kind(ticket, TicketKind.REPAIR)
    post = people.require_staff(
        session=session, actor=actor, estate_id=ticket.estate_id, doing=N_("登记完工")
    )
    if ticket.assignee_id != post.id and not post.is_manager:
        raise PermissionDenied("只有接单人可以登记完工")
    note = required(note, "完工说明")
    REPAIR_FLOW.move(session=session, obj=ticket, target=S.DONE, actor=actor, note=note)
    now = utcnow()
    ticket.done_at, ticket.done_note = now, note
    attachments.attach(session=session, to=ticket, purpose=AttachmentPurpose.DONE, photos=photos)
    if ticket.finding_id is not None:
        # A patrol finding's work order: the patroller verifies it on site (001 4.9.4), in
        # place of an owner's callback.
        patrols.fixed_by_work_order(
            session=session,
            finding_id=ticket.finding_id,
            post=post,
            note=f"维修单 {ticket.number} 完工：{note}",
            photos=photos,
        )
        return ticket
    callback = callback_rules.schedule(session=session, ticket=ticket, start=now, actor=actor)
    outbox.notify(
        session=session,
        recipient=ticket.reporter,
        notice=notices.repair_done(ticket, callback.due_at, settings_of(session)),
    )
    return ticket


def _repairer(session: Session, original: Ticket) -> list[Person]:
    """Who did the work, or who answers for their department."""
    if original.assignee is not None:
        return [original.assignee.person]
    if original.department is not None:
        return people.responsible_for(session=session, department=original.department)
    return people.project_managers(session=session, estate_id=original.estate_id)


def open_rework(
    *, session: Session, original: Ticket, actor: Person, note: str, why: str = "回访不满意"
) -> Ticket:
    """003 三(五): what the callback (or a finding's on-site verification) found goes back
    to the repairer, to be done within the rework hours."""
    settings = settings_of(session)
    now = utcnow()
    rework = Ticket(
        kind=TicketKind.REPAIR,
        estate_id=original.estate_id,
        unit_id=original.unit_id,
        place=original.place,
        reporter=original.reporter,
        recorded_by_id=actor.id,
        category=original.category,
        description=f"返工：{note}\n原报修：{original.description}",
        contact_phone=original.contact_phone,
        department_id=original.department_id,
        assignee_id=original.assignee_id,
        rework_of=original,
        finding_id=original.finding_id,
        dispatched_at=now,
        due_at=now + timedelta(hours=settings.rework_hours),
    )
    open_ticket(
        session,
        rework,
        state=S.DISPATCHED,
        actor=actor,
        note=f"{why}，返工（原单 {original.number}）",
    )
    outbox.notify_each(
        session=session,
        recipients=_repairer(session, original),
        notice=notices.rework_assigned(rework, original, note, settings),
    )
    return rework
