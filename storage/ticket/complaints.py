"""Complaints 投诉 (002, 003): every one reaches the desk at once, is taken up within the
handling hours and answered within the reply hours; a major one goes to the leadership at
once (五清楚一报告), which takes it up and gives the owner a date.

Who holds a complaint, and what they may do with it (``handlings``), is decided here once:
the chat offers exactly these, and each function below refuses anything else.

| state                | held by            | may                                        |
|----------------------|--------------------|--------------------------------------------|
| 待处理 new           | the desk           | 受理, 答复业主, 转部门处理, 上报领导       |
| 已转部门 dispatched  | the department     | 受理, 退回                                 |
| 已上报 escalated     | the leadership     | 受理 (choosing the reply date), 转部门处理, |
|                      |                    | 答复业主                                   |
| 处理中 accepted      | who took it up     | 记录处理情况, 答复业主, and: the desk and the   |
|                      |                    | leadership 转部门处理, a department 退回;  |
|                      |                    | all but the leadership 上报领导            |
| 已答复 replied       | the desk           | the callback (回访)                         |
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.callback import rules as callback_rules
from storage.clock import format_local, utcnow
from storage.database import settings_of
from storage.duty import service as duty
from storage.errors import AlreadyRecorded, InvalidInput, PermissionDenied
from storage.i18n import N_, Msg
from storage.outbox import service as outbox
from storage.people import service as people
from storage.people.models import DESK_ROLES, DepartmentKind, Person, StaffMember, StaffRole
from storage.text import required
from storage.ticket import intake, notices, queries
from storage.ticket.lifecycle import COMPLAINT_FLOW, load, open_ticket, require_kind
from storage.ticket.lifecycle import intake as where_from
from storage.ticket.models import ComplaintSeverity, ReportChannel, Ticket, TicketKind
from storage.ticket.models import TicketStatus as S


class Handling(enum.StrEnum):
    TAKE_UP = "take_up"  # 受理
    REPLY = "reply"  # 答复业主
    FORWARD = "forward"  # 转部门处理
    ESCALATE = "escalate"  # 上报领导 (重大投诉)
    HAND_BACK = "hand_back"  # 退回 (not ours)
    PROGRESS = "progress"  # 记录处理情况


HANDLING_LABELS = {
    Handling.TAKE_UP: N_("受理"),
    Handling.REPLY: N_("答复业主"),
    Handling.FORWARD: N_("转部门处理"),
    Handling.ESCALATE: N_("上报领导（重大投诉）"),
    Handling.HAND_BACK: N_("退回"),
    Handling.PROGRESS: N_("记录处理情况"),
}


def _is_leader(post: StaffMember) -> bool:
    return post.role in (StaffRole.PROJECT_MANAGER, StaffRole.COMPANY_LEADER)


def is_desk(post: StaffMember) -> bool:
    """Who handles a new complaint: customer service and its supervisor, the quality
    specialist, the project manager; not another department's head."""
    if post.role is StaffRole.SUPERVISOR:
        return post.department.kind is DepartmentKind.CUSTOMER_SERVICE
    return post.role in DESK_ROLES


def handlings(*, session: Session, ticket: Ticket, actor: Person) -> list[Handling]:
    """What this person may do with the complaint now, in the order it is offered."""
    if ticket.kind is not TicketKind.COMPLAINT:
        return []
    post = people.staff_post(session=session, person_id=actor.id, estate_id=ticket.estate_id)
    return [] if post is None else _handlings(session, ticket, post)


def _handlings(session: Session, ticket: Ticket, post: StaffMember) -> list[Handling]:
    desk, leader = is_desk(post), _is_leader(post)
    # A department's complaints are its head's to handle: never shown to the line staff
    # they may be about (``queries.can_view``).
    ours = (
        ticket.department_id is not None
        and ticket.department_id == post.department_id
        and (post.is_manager or ticket.assignee_id == post.id)
    )
    if ticket.status is S.NEW and desk:
        return [Handling.TAKE_UP, Handling.REPLY, Handling.FORWARD, Handling.ESCALATE]
    if ticket.status is S.DISPATCHED:
        # A department without a head of its own is answered for by the project manager
        # (``people.responsible_for``), who was told of it.
        headless = ticket.department is not None and not people.department_heads(
            session=session, department_id=ticket.department.id
        )
        if ours or (leader and headless):
            return [Handling.TAKE_UP, Handling.HAND_BACK]
        if desk:
            # Nobody there took it up (no one reachable, no one answering): the desk may send
            # it elsewhere, or up.
            minor = ticket.severity is not ComplaintSeverity.MAJOR
            return [Handling.FORWARD, *([Handling.ESCALATE] if minor else [])]
        return []
    if ticket.status is S.ESCALATED and leader:
        return [Handling.TAKE_UP, Handling.FORWARD, Handling.REPLY]
    if ticket.status is S.ACCEPTED:
        holds = ticket.assignee_id == post.id or leader or ours
        if not holds:
            return []
        found = [Handling.PROGRESS, Handling.REPLY]
        if ticket.department_id is not None:
            found.append(Handling.HAND_BACK)
        else:
            found.append(Handling.FORWARD)
        if ticket.severity is not ComplaintSeverity.MAJOR:
            found.append(Handling.ESCALATE)
        return found
    return []


def waiting_for(*, session: Session, estate_id: int, actor: Person) -> list[Ticket]:
    """The complaints this person is expected to act on: the desk's new ones, their
    department's forwarded ones, the leadership's major ones, those they took up."""
    post = people.staff_post(session=session, person_id=actor.id, estate_id=estate_id)
    if post is None:
        return []
    found = []
    for ticket in queries.open_complaints(session=session, estate_id=estate_id):
        may = _handlings(session, ticket, post)
        # The desk waits for a department until the day to take it up has passed.
        late = ticket.due_at is not None and ticket.due_at <= utcnow()
        if may and (ticket.status is not S.DISPATCHED or Handling.TAKE_UP in may or late):
            found.append(ticket)
    return found


def _require(session: Session, ticket: Ticket, actor: Person, handling: Handling) -> None:
    require_kind(ticket, TicketKind.COMPLAINT)
    if handling in handlings(session=session, ticket=ticket, actor=actor):
        return
    # The state allows it but not from this person: say so; otherwise the machine explains.
    target = TARGETS.get(handling)
    if target is not None:
        COMPLAINT_FLOW.check(ticket.status, target)
    raise PermissionDenied(
        "您不能对 {number} {doing}（现由{holder}负责）",
        number=ticket.number,
        doing=Msg(HANDLING_LABELS[handling]),
        holder=notices.complaint_holder(ticket),
    )


TARGETS = {
    Handling.TAKE_UP: S.ACCEPTED,
    Handling.REPLY: S.REPLIED,
    Handling.FORWARD: S.DISPATCHED,
    Handling.ESCALATE: S.ESCALATED,
}


def holders(*, session: Session, ticket: Ticket) -> list[Person]:
    """Who has the complaint in hand: warned before its reply date."""
    if ticket.status is S.ACCEPTED and ticket.assignee is not None:
        return [ticket.assignee.person]
    if ticket.status is S.DISPATCHED and ticket.department is not None:
        return people.responsible_for(session=session, department=ticket.department)
    if ticket.status is S.ESCALATED:
        return people.project_managers(session=session, estate_id=ticket.estate_id)
    return intake.desk_on_duty(session, ticket.estate, utcnow())


def held_by_leadership(ticket: Ticket) -> bool:
    return ticket.status is S.ESCALATED or (
        ticket.status is S.ACCEPTED and ticket.assignee is not None and _is_leader(ticket.assignee)
    )


def answerable(*, session: Session, ticket: Ticket) -> list[Person]:
    """Who answers for its holder, and hears when it is late: the department's head, the
    desk's supervisor, or, for what the leadership holds, the project manager and the
    company's leader above them (where the estate file names one)."""
    if held_by_leadership(ticket):
        return people.leadership(session=session, estate_id=ticket.estate_id)
    if ticket.department is not None and ticket.status in (S.DISPATCHED, S.ACCEPTED):
        return people.responsible_for(session=session, department=ticket.department)
    return people.desk_heads(session=session, estate_id=ticket.estate_id)


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
    leadership_requested: bool = False,
    channel: ReportChannel | None = None,
) -> Ticket:
    """A complaint reaches the desk at once (at its opening, after hours); a major one the
    leadership too. Only staff decide that a complaint is major or written: an owner may
    ask for the leadership, and the desk confirms or changes it."""
    subject = required(subject, "投诉事由", max_length=200)
    description = required(description, "投诉内容")
    where = where_from(
        session,
        actor=actor,
        unit_id=unit_id,
        estate_id=estate_id,
        place=place,
        on_behalf_of=on_behalf_of,
        doing=N_("提交投诉"),
    )
    staff = people.staff_post(session=session, person_id=actor.id, estate_id=where.estate_id)
    if severity is not ComplaintSeverity.GENERAL and staff is None:
        raise PermissionDenied("是否为重大投诉由客服中心判断，您可以选择「需要领导处理」")
    settings = settings_of(session)
    now = utcnow()
    registered = staff is not None and where.reporter.id != actor.id
    ticket = Ticket(
        kind=TicketKind.COMPLAINT,
        estate_id=where.estate_id,
        unit_id=unit_id,
        place=where.place,
        reporter=where.reporter,
        recorded_by_id=actor.id,
        severity=severity,
        leadership_requested=leadership_requested,
        subject=subject,
        description=description,
        contact_phone=(
            people.normalize_phone(contact_phone) if contact_phone else where.reporter.phone
        ),
        channel=channel,
        created_at=now,
        due_at=now + timedelta(hours=settings.complaint_handle_hours),
        reply_due_at=now + timedelta(hours=settings.complaint_reply_hours),
    )
    note = "投诉" + (f"（{ticket.channel_label}登记）" if registered and channel else "")
    open_ticket(session, ticket, state=S.NEW, actor=actor, note=note, photos=photos)
    if severity is not ComplaintSeverity.MAJOR:  # a major one is the leadership's at once
        announce(session, ticket, now)
    if severity is ComplaintSeverity.MAJOR:
        _escalate(session, ticket, actor, note="重大投诉，立即上报", tell_owner=False)
    if registered:
        outbox.notify(
            session=session,
            recipient=ticket.reporter,
            notice=notices.complaint_received(ticket, settings),
        )
    return ticket


def announce(session: Session, ticket: Ticket, now: datetime) -> int:
    """The desk hears of a new complaint now when it is open, else at its opening (the
    clock sends it then, with the same key)."""
    if not duty.desk_open(ticket.estate, now, settings_of(session).tz):
        return 0
    return intake.tell_desk(
        session,
        ticket.estate,
        notices.complaint_reported(ticket, settings_of(session)),
        key=f"complaint_reported:{ticket.id}",
        now=now,
    )


def _escalate(
    session: Session, ticket: Ticket, actor: Person, *, note: str, tell_owner: bool
) -> None:
    """002 五清楚一报告: a major complaint is reported to the leadership at once, which then
    holds it: taken up and answered by the project manager."""
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.ESCALATED, actor=actor, note=note)
    ticket.severity = ComplaintSeverity.MAJOR
    ticket.department, ticket.assignee = None, None
    outbox.notify_each(
        session=session,
        recipients=people.leadership(session=session, estate_id=ticket.estate_id),
        notice=notices.major_complaint(ticket, settings_of(session)),
    )
    if tell_owner:  # who filed it was told in the chat where they filed it
        outbox.notify(
            session=session, recipient=ticket.reporter, notice=notices.complaint_went_up(ticket)
        )


def take_up(
    *, session: Session, ticket_id: int, actor: Person, reply_due_at: datetime | None = None
) -> Ticket:
    """受理: the desk, the department it was forwarded to, or the leadership takes the
    complaint up and holds it. The leadership chooses the date the owner is promised
    (002 五清楚一报告), and the owner is told it, once."""
    ticket = load(session, ticket_id)
    _require(session, ticket, actor, Handling.TAKE_UP)
    post = people.require_staff(
        session=session, actor=actor, estate_id=ticket.estate_id, doing=N_("受理投诉")
    )
    leadership = ticket.status is S.ESCALATED
    now = utcnow()
    if reply_due_at is not None:
        if not leadership:
            raise PermissionDenied("答复日期由项目负责人确定")
        if reply_due_at <= now:
            raise InvalidInput("答复日期必须晚于现在")
        ticket.reply_due_at = reply_due_at
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.ACCEPTED, actor=actor, note="受理")
    ticket.assignee, ticket.accepted_at = post, now
    if leadership:
        outbox.notify(
            session=session,
            recipient=ticket.reporter,
            notice=notices.complaint_reply_date(ticket, settings_of(session)),
        )
    return ticket


def record_progress(*, session: Session, ticket_id: int, actor: Person, note: str) -> Ticket:
    """What was done so far, in the complaint's trail (003 篇十: 处理过程有记录)."""
    ticket = load(session, ticket_id)
    _require(session, ticket, actor, Handling.PROGRESS)
    COMPLAINT_FLOW.keep(
        session=session,
        obj=ticket,
        actor=actor,
        note=required(note, "处理情况", max_length=2000),
    )
    return ticket


def forward_complaint(
    *, session: Session, ticket_id: int, actor: Person, department_id: int
) -> Ticket:
    ticket = load(session, ticket_id)
    _require(session, ticket, actor, Handling.FORWARD)
    department = people.get_department(
        session=session, department_id=department_id, estate_id=ticket.estate_id
    )
    COMPLAINT_FLOW.move(
        session=session, obj=ticket, target=S.DISPATCHED, actor=actor, note=f"转至{department.name}"
    )
    ticket.department, ticket.assignee = department, None
    ticket.dispatched_at = utcnow()
    outbox.notify_department(
        session=session,
        department=department,
        notice=notices.complaint_forwarded(ticket, settings_of(session)),
    )
    return ticket


def hand_back(*, session: Session, ticket_id: int, actor: Person, reason: str) -> Ticket:
    """退回: not the department's to handle. A general complaint goes back to the desk, a
    major one to the leadership, with the reason."""
    ticket = load(session, ticket_id)
    _require(session, ticket, actor, Handling.HAND_BACK)
    reason = required(reason, "退回原因", max_length=500)
    department = ticket.department.name if ticket.department else ""
    major = ticket.severity is ComplaintSeverity.MAJOR
    target = S.ESCALATED if major else S.NEW
    COMPLAINT_FLOW.move(
        session=session, obj=ticket, target=target, actor=actor, note=f"{department}退回：{reason}"
    )
    ticket.department, ticket.assignee = None, None
    notice, now = notices.complaint_handed_back(ticket, department, reason), utcnow()
    if major:
        outbox.notify_each(
            session=session,
            recipients=people.project_managers(session=session, estate_id=ticket.estate_id),
            notice=notice,
        )
    else:
        intake.tell_desk(
            session,
            ticket.estate,
            notice,
            # Each hand-back is news of its own: keyed by when it happened.
            key=f"complaint_handed_back:{ticket.id}:{now.isoformat()}",
            now=now,
        )
    return ticket


def escalate_complaint(
    *,
    session: Session,
    ticket_id: int,
    actor: Person,
    reason: str,
) -> Ticket:
    """The desk (or the department holding it) reports a complaint to the leadership as
    major; the owner hears that it went up, and the date once the leadership takes it up."""
    ticket = load(session, ticket_id)
    _require(session, ticket, actor, Handling.ESCALATE)
    reason = required(reason, "上报原因", max_length=500)
    # The leadership gets its own handling hours from now.
    ticket.due_at = utcnow() + timedelta(hours=settings_of(session).complaint_handle_hours)
    _escalate(session, ticket, actor, note=reason, tell_owner=True)
    return ticket


def reply_complaint(*, session: Session, ticket_id: int, actor: Person, text: str) -> Ticket:
    """答复业主: in chat, or a written complaint's reply as the desk sent it (书面答复)."""
    ticket = load(session, ticket_id)
    _require(session, ticket, actor, Handling.REPLY)
    text = required(text, "答复内容")
    COMPLAINT_FLOW.move(session=session, obj=ticket, target=S.REPLIED, actor=actor, note=text)
    now = utcnow()
    ticket.replied_at, ticket.reply_text = now, text
    if ticket.accepted_at is None:
        ticket.accepted_at = now  # answered at once (002 2(2)B): taken up with the answer
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
    ticket.department, ticket.assignee = None, None
    # A new round: taken up and answered within the hours from now, not from before.
    now = utcnow()
    ticket.due_at = now + timedelta(hours=settings.complaint_handle_hours)
    ticket.reply_due_at = now + timedelta(hours=settings.complaint_reply_hours)
    outbox.notify_each(
        session=session,
        recipients=people.project_managers(session=session, estate_id=ticket.estate_id),
        notice=notices.complaint_unsatisfied(ticket, note, settings),
    )


def reply_date_choices(ticket: Ticket, now: datetime) -> list[datetime]:
    """The reply dates the leadership is offered, all still ahead: the default first, then
    sooner and later; a complaint already past its date is offered one, three, seven days."""
    default = ticket.reply_due_at or now
    if default <= now:
        return [now + timedelta(days=d) for d in (1, 3, 7)]
    found = [default, *(default + timedelta(days=d) for d in (2, 5))]
    sooner = default - timedelta(days=1)
    if sooner > now:
        found.insert(1, sooner)
    return found


def in_hand(*, session: Session, ticket_id: int, actor: Person) -> Ticket:
    """The complaint, if this person may do something with it now; else who did what
    last, and when (a notice's button pressed after a colleague acted)."""
    ticket = load(session, ticket_id)
    require_kind(ticket, TicketKind.COMPLAINT)
    if handlings(session=session, ticket=ticket, actor=actor):
        return ticket
    last = audit.history(session=session, object_type=Ticket.audit_type, object_id=ticket.id)[-1]
    raise AlreadyRecorded(
        "{number} 已于 {when} 由 {who} 处理（{what}），现为「{status}」",
        number=ticket.number,
        when=format_local(last.at, settings_of(session).tz),
        who=last.actor_label,
        what=last.note or "",
        status=Msg(ticket.status_label),
    )
