"""Repair requests and complaints, from report to closed.

repair:    new → dispatched → accepted → done → called_back → closed
           (unsatisfied callback: called_back waits for a rework order, due in 24 h)
complaint: new → dispatched (general, forwarded) / escalated (major) → accepted → replied
           → called_back → closed  (unsatisfied callback: escalated again)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from storage.attachment.models import Attachment
from storage.audit import service as audit
from storage.callback import rules as callback_rules
from storage.clock import format_day, format_local, utcnow
from storage.database import settings_of
from storage.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from storage.estate import service as estates
from storage.i18n import N_, Msg
from storage.outbox import service as outbox
from storage.people import service as people
from storage.people.models import DESK_ROLES, Department, DepartmentKind, Person, StaffMember
from storage.text import optional, required
from storage.ticket.models import (
    OPEN_STATUSES,
    STATUS_LABELS,
    ComplaintSeverity,
    RepairCategory,
    Ticket,
    TicketKind,
)
from storage.ticket.models import TicketStatus as S
from storage.workflow import StateMachine

REPAIR_FLOW = StateMachine(
    N_("报修单"),
    {
        S.NEW: frozenset({S.DISPATCHED, S.CANCELLED}),
        S.DISPATCHED: frozenset({S.ACCEPTED, S.CANCELLED}),
        S.ACCEPTED: frozenset({S.DONE, S.DISPATCHED}),
        S.DONE: frozenset({S.CALLED_BACK}),
        S.CALLED_BACK: frozenset({S.CLOSED}),
    },
    STATUS_LABELS,
)
COMPLAINT_FLOW = StateMachine(
    N_("投诉单"),
    {
        S.NEW: frozenset({S.DISPATCHED, S.ESCALATED, S.CANCELLED}),
        S.DISPATCHED: frozenset({S.ACCEPTED, S.ESCALATED, S.REPLIED}),
        S.ACCEPTED: frozenset({S.ESCALATED, S.REPLIED}),
        S.ESCALATED: frozenset({S.ACCEPTED, S.REPLIED}),
        S.REPLIED: frozenset({S.CALLED_BACK}),
        S.CALLED_BACK: frozenset({S.CLOSED, S.ESCALATED}),
    },
    STATUS_LABELS,
)
# A complaint is "handled" once a department or the leadership has taken it up (003 篇十: 24 h);
# escalating it is not taking it up, so an escalated complaint waits to be accepted too.
COMPLAINT_UNHANDLED = frozenset({S.NEW, S.DISPATCHED, S.ESCALATED})
COMPLAINT_UNANSWERED = frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED, S.ESCALATED})
WORK_UNFINISHED = frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED})


def flow_of(ticket: Ticket) -> StateMachine[S]:
    return REPAIR_FLOW if ticket.kind is TicketKind.REPAIR else COMPLAINT_FLOW


def _load(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id, with_for_update={"of": Ticket})
    if ticket is None:
        raise NotFound("找不到工单 #{ticket_id}", ticket_id=ticket_id)
    return ticket


def _require_kind(ticket: Ticket, kind: TicketKind) -> None:
    if ticket.kind is not kind:
        what = N_("报修单") if kind is TicketKind.REPAIR else N_("投诉单")
        raise IllegalTransition("{number} 不是{what}", number=ticket.number, what=Msg(what))


def _attach(session: Session, ticket: Ticket, refs: Iterable[str], purpose: str) -> None:
    for ref in refs:
        session.add(
            Attachment(
                ticket_id=ticket.id, ref=required(ref, "附件", max_length=512), purpose=purpose
            )
        )


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return format_local(moment, tz) if moment is not None else "—"


def _tell(session: Session, people_to_tell: Iterable[Person], kind: str, **params: object) -> None:
    for person in people_to_tell:
        outbox.notify(session=session, recipient=person, kind=kind, params=dict(params))


def _where_and_reporter(
    session: Session,
    *,
    actor: Person,
    unit_id: int | None,
    estate_id: int | None,
    place: str | None,
    on_behalf_of: int | None,
    doing: str,
) -> tuple[int, str | None, Person]:
    """Resolve where the problem is and who reports it; only the unit's residents or staff may."""
    place = optional(place, "地点", max_length=200)
    if unit_id is not None:
        unit = estates.get_unit(session=session, unit_id=unit_id)
        estate_id = unit.estate_id
    elif estate_id is None or place is None:
        raise InvalidInput("请说明地点：您的房号，或公共区域的具体位置")
    post = people.staff_post(session=session, person_id=actor.id, estate_id=estate_id)
    if post is not None:
        # The desk registers walk-in and phone reports for an owner (003: 报修登记).
        reporter = actor
        if on_behalf_of is not None:
            reporter = people.get_person(session=session, person_id=on_behalf_of)
            if unit_id is not None and not people.is_resident(
                session=session, person_id=reporter.id, unit_id=unit_id
            ):
                raise PermissionDenied("{name} 不是该房号的住户", name=reporter.name)
        return estate_id, place, reporter
    if on_behalf_of is not None and on_behalf_of != actor.id:
        raise PermissionDenied("只有员工可以代业主{doing}", doing=Msg(doing))
    if unit_id is not None:
        if not people.is_resident(session=session, person_id=actor.id, unit_id=unit_id):
            raise PermissionDenied("您只能为自己绑定的房号{doing}", doing=Msg(doing))
    elif not people.resides_in_estate(session=session, person_id=actor.id, estate_id=estate_id):
        raise PermissionDenied("您不是本小区的住户，不能{doing}", doing=Msg(doing))
    return estate_id, place, actor


# ---------------------------------------------------------------- repairs


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
    preferred_time: str | None = None,
    contact_phone: str | None = None,
) -> Ticket:
    description = required(description, "报修内容")
    estate_id, place, reporter = _where_and_reporter(
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
        estate_id=estate_id,
        unit_id=unit_id,
        place=place,
        reporter=reporter,
        recorded_by_id=actor.id,
        category=category,
        description=description,
        contact_phone=people.normalize_phone(contact_phone) if contact_phone else reporter.phone,
        preferred_time=optional(preferred_time, "预约时间", max_length=100),
        status=S.NEW,
    )
    session.add(ticket)
    session.flush()
    _attach(session, ticket, photos, "report")
    audit.record(
        session=session, obj=ticket, from_state=None, to_state=S.NEW, actor=actor, note="报修"
    )
    return ticket


def dispatch_repair(
    *,
    session: Session,
    ticket_id: int,
    actor: Person,
    assignee_id: int | None = None,
    department_id: int | None = None,
) -> Ticket:
    """Send a repair to the responsible department (engineering unless said otherwise)."""
    ticket = _load(session, ticket_id)
    _require_kind(ticket, TicketKind.REPAIR)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=ticket.estate_id,
        roles=DESK_ROLES,
        doing=N_("派发工单"),
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
    order = {
        "number": ticket.number,
        "where": ticket.where,
        "category": Msg(ticket.category.label) if ticket.category else "",
        "description": ticket.description,
    }
    if assignee is not None:
        _tell(session, [assignee.person], "repair_dispatched", **order)
    else:  # anyone of the department may take it: tell the department
        outbox.notify_department(
            session=session, department=department, kind="repair_dispatched", params=order
        )
    return ticket


def reassign(*, session: Session, ticket_id: int, actor: Person, assignee_id: int) -> Ticket:
    """The desk or a manager gives a dispatched or accepted order to someone else, who must
    accept it anew."""
    ticket = _load(session, ticket_id)
    _require_kind(ticket, TicketKind.REPAIR)
    people.require_staff(
        session=session, actor=actor, estate_id=ticket.estate_id, roles=DESK_ROLES, doing=N_("改派")
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
        audit.record(
            session=session,
            obj=ticket,
            from_state=S.DISPATCHED,
            to_state=S.DISPATCHED,
            actor=actor,
            note=note,
        )
    else:
        REPAIR_FLOW.check(ticket.status, S.DISPATCHED)
    ticket.assignee, ticket.department = assignee, assignee.department
    ticket.accepted_at = None
    _tell(
        session,
        [assignee.person],
        "repair_dispatched",
        number=ticket.number,
        where=ticket.where,
        category=Msg(ticket.category.label) if ticket.category else "",
        description=ticket.description,
    )
    return ticket


def accept(*, session: Session, ticket_id: int, actor: Person) -> Ticket:
    """The assignee (or, with nobody assigned, someone of the department) takes the order up."""
    ticket = _load(session, ticket_id)
    post = people.require_staff(
        session=session, actor=actor, estate_id=ticket.estate_id, doing=N_("接收工单")
    )
    if ticket.assignee_id is not None and ticket.assignee_id != post.id and not post.is_manager:
        holder = ticket.assignee.person.name if ticket.assignee else Msg("他人")
        raise PermissionDenied("{number} 已派给 {holder}", number=ticket.number, holder=holder)
    if (
        ticket.assignee_id is None
        and ticket.department_id not in (None, post.department_id)
        and post.role not in DESK_ROLES
    ):
        raise PermissionDenied("{number} 不是派给您部门的工单", number=ticket.number)
    flow_of(ticket).move(
        session=session,
        obj=ticket,
        target=S.ACCEPTED,
        actor=actor,
        note="受理" if ticket.kind is TicketKind.COMPLAINT else "接单",
    )
    if ticket.assignee_id is None:
        ticket.assignee = post
    ticket.accepted_at = utcnow()
    return ticket


def finish_repair(
    *, session: Session, ticket_id: int, actor: Person, note: str, photos: Sequence[str] = ()
) -> Ticket:
    """Done: the callback clock starts now (2 / 3 / 7 days by the repair's class)."""
    ticket = _load(session, ticket_id)
    _require_kind(ticket, TicketKind.REPAIR)
    post = people.require_staff(
        session=session, actor=actor, estate_id=ticket.estate_id, doing=N_("登记完工")
    )
    if ticket.assignee_id != post.id and not post.is_manager:
        raise PermissionDenied("只有接单人可以登记完工")
    note = required(note, "完工说明")
    REPAIR_FLOW.move(session=session, obj=ticket, target=S.DONE, actor=actor, note=note)
    now = utcnow()
    ticket.done_at, ticket.done_note = now, note
    _attach(session, ticket, photos, "done")
    callback = callback_rules.schedule(session=session, ticket=ticket, start=now, actor=actor)
    _tell(
        session,
        [ticket.reporter],
        "repair_done",
        number=ticket.number,
        note=note,
        callback_due_on=format_day(callback.due_at, settings_of(session).tz),
    )
    return ticket


def open_rework(*, session: Session, original: Ticket, actor: Person, note: str) -> Ticket:
    """003 三(五): what the callback found goes back to the repairer, to be done within 24 h."""
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
        status=S.DISPATCHED,
        rework_of=original,
        dispatched_at=now,
        due_at=now + timedelta(hours=settings.rework_hours),
    )
    session.add(rework)
    session.flush()
    audit.record(
        session=session,
        obj=rework,
        from_state=None,
        to_state=S.DISPATCHED,
        actor=actor,
        note=f"回访不满意，返工（原单 {original.number}）",
    )
    if original.assignee is not None:
        recipients = [original.assignee.person]
    elif original.department is not None:
        recipients = people.responsible_for(session=session, department=original.department)
    else:
        recipients = people.project_managers(session=session, estate_id=original.estate_id)
    _tell(
        session,
        recipients,
        "rework_assigned",
        number=rework.number,
        original=original.number,
        note=note,
        due=_local(rework.due_at, settings.tz),
    )
    return rework


def close(*, session: Session, ticket: Ticket, actor: Person | None, note: str) -> None:
    flow_of(ticket).move(session=session, obj=ticket, target=S.CLOSED, actor=actor, note=note)
    ticket.closed_at = utcnow()
    original = ticket.rework_of
    # The original waited (called back, unsatisfied) for this rework; it is settled with it.
    if original is not None and original.status is S.CALLED_BACK:
        close(
            session=session, ticket=original, actor=actor, note=f"返工单 {ticket.number} 回访满意"
        )


def cancel(*, session: Session, ticket_id: int, actor: Person, reason: str) -> Ticket:
    ticket = _load(session, ticket_id)
    reason = required(reason, "撤销原因", max_length=500)
    if actor.id != ticket.reporter_id:
        people.require_staff(
            session=session,
            actor=actor,
            estate_id=ticket.estate_id,
            roles=DESK_ROLES,
            doing=N_("撤销别人的工单"),
        )
    flow_of(ticket).move(session=session, obj=ticket, target=S.CANCELLED, actor=actor, note=reason)
    ticket.closed_at = utcnow()
    return ticket


# ---------------------------------------------------------------- complaints


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
    """Every complaint is taken up within 24 h and answered within 72 h (003)."""
    subject = required(subject, "投诉事由", max_length=200)
    description = required(description, "投诉内容")
    estate_id, place, reporter = _where_and_reporter(
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
        and people.staff_post(session=session, person_id=actor.id, estate_id=estate_id) is None
    ):
        raise PermissionDenied("书面投诉请交至客服中心登记")
    settings = settings_of(session)
    now = utcnow()
    ticket = Ticket(
        kind=TicketKind.COMPLAINT,
        estate_id=estate_id,
        unit_id=unit_id,
        place=place,
        reporter=reporter,
        recorded_by_id=actor.id,
        severity=severity,
        subject=subject,
        description=description,
        contact_phone=people.normalize_phone(contact_phone) if contact_phone else reporter.phone,
        status=S.NEW,
        created_at=now,
        due_at=now + timedelta(hours=settings.complaint_handle_hours),
        reply_due_at=now + timedelta(hours=settings.complaint_reply_hours),
    )
    session.add(ticket)
    session.flush()
    _attach(session, ticket, photos, "report")
    audit.record(
        session=session, obj=ticket, from_state=None, to_state=S.NEW, actor=actor, note="投诉"
    )
    if severity is ComplaintSeverity.MAJOR:
        _escalate(session, ticket, actor, note="重大投诉，立即上报")
    return ticket


def _escalate(session: Session, ticket: Ticket, actor: Person, *, note: str) -> None:
    """002 五清楚一报告: a major complaint is reported to the leadership at once."""
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.ESCALATED, actor=actor, note=note)
    ticket.severity = ComplaintSeverity.MAJOR
    tz = settings_of(session).tz
    reply_due = _local(ticket.reply_due_at, tz)
    _tell(
        session,
        people.project_managers(session=session, estate_id=ticket.estate_id),
        "major_complaint",
        number=ticket.number,
        subject=ticket.subject,
        where=ticket.where,
        description=ticket.description,
        reply_due=reply_due,
    )
    # The owner is told the complaint went up and by when they will hear back.
    _tell(
        session,
        [ticket.reporter],
        "complaint_reply_date",
        number=ticket.number,
        reply_due=reply_due,
    )


def forward_complaint(
    *, session: Session, ticket_id: int, actor: Person, department_id: int
) -> Ticket:
    ticket = _load(session, ticket_id)
    _require_kind(ticket, TicketKind.COMPLAINT)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=ticket.estate_id,
        roles=DESK_ROLES,
        doing=N_("转办投诉"),
    )
    department = people.get_department(
        session=session, department_id=department_id, estate_id=ticket.estate_id
    )
    COMPLAINT_FLOW.move(
        session=session, obj=ticket, target=S.DISPATCHED, actor=actor, note=f"转至{department.name}"
    )
    ticket.department = department
    ticket.dispatched_at = utcnow()
    tz = settings_of(session).tz
    outbox.notify_department(
        session=session,
        department=department,
        kind="complaint_forwarded",
        params={
            "number": ticket.number,
            "subject": ticket.subject,
            "where": ticket.where,
            "description": ticket.description,
            "handle_due": _local(ticket.due_at, tz),
            "reply_due": _local(ticket.reply_due_at, tz),
        },
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
    ticket = _load(session, ticket_id)
    _require_kind(ticket, TicketKind.COMPLAINT)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=ticket.estate_id,
        roles=DESK_ROLES,
        doing=N_("上报重大投诉"),
    )
    reason = required(reason, "上报原因", max_length=500)
    if reply_due_at is not None:
        if reply_due_at <= utcnow():
            raise InvalidInput("答复日期必须晚于现在")
        ticket.reply_due_at = reply_due_at
    if ticket.status is not S.NEW:
        # Upgraded after it was taken up: the leadership gets its own 24 hours.
        hours = settings_of(session).complaint_handle_hours
        ticket.due_at = utcnow() + timedelta(hours=hours)
    _escalate(session, ticket, actor, note=reason)
    return ticket


def reply_complaint(*, session: Session, ticket_id: int, actor: Person, text: str) -> Ticket:
    ticket = _load(session, ticket_id)
    _require_kind(ticket, TicketKind.COMPLAINT)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=ticket.estate_id,
        roles=DESK_ROLES,
        doing=N_("答复投诉"),
    )
    text = required(text, "答复内容")
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.REPLIED, actor=actor, note=text)
    now = utcnow()
    ticket.replied_at, ticket.reply_text = now, text
    _tell(session, [ticket.reporter], "complaint_replied", number=ticket.number, reply=text)
    callback_rules.schedule(session=session, ticket=ticket, start=now, actor=actor)
    return ticket


def reopen_unsatisfied_complaint(
    *, session: Session, ticket: Ticket, actor: Person, note: str
) -> None:
    """An owner unsatisfied with the answer is heard again, by the leadership, within 72 h."""
    settings = settings_of(session)
    COMPLAINT_FLOW.move(
        session=session, obj=ticket, target=S.ESCALATED, actor=actor, note=f"回访不满意：{note}"
    )
    ticket.severity = ComplaintSeverity.MAJOR
    # A new round: taken up within 24 h and answered within 72 h from now, not from before.
    ticket.due_at = utcnow() + timedelta(hours=settings.complaint_handle_hours)
    ticket.reply_due_at = utcnow() + timedelta(hours=settings.complaint_reply_hours)
    _tell(
        session,
        people.project_managers(session=session, estate_id=ticket.estate_id),
        "complaint_unsatisfied",
        number=ticket.number,
        subject=ticket.subject,
        note=note,
        reply_due=format_local(ticket.reply_due_at, settings.tz),
    )


# ---------------------------------------------------------------- reading


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
    """A staff member's open orders, and unassigned ones waiting in their department."""
    query = (
        select(Ticket)
        .where(
            in_open_status([S.DISPATCHED, S.ACCEPTED]),
            or_(
                Ticket.assignee_id == staff.id,
                (Ticket.assignee_id.is_(None)) & (Ticket.department_id == staff.department_id),
            ),
        )
        .order_by(Ticket.due_at.is_(None), Ticket.due_at, Ticket.created_at)
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
