"""How every ticket moves: its two state machines, who may report one, a ticket loaded to
be changed, taking one up, closing and cancelling.

message:   new → replied → closed (留言: the desk answers in chat)
repair:    new → dispatched → accepted → done → called_back → closed
           (unsatisfied callback: called_back waits for its rework order)
complaint: new → (accepted →) replied → called_back → closed, forwarded to a department
           (dispatched) or reported up (escalated) on the way; who may do what when is
           ``storage.ticket.complaints.handlings`` (unsatisfied callback: escalated again)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from storage.attachment import service as attachments
from storage.attachment.models import AttachmentPurpose
from storage.clock import utcnow
from storage.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from storage.estate import service as estates
from storage.estate.models import Unit
from storage.i18n import N_, Msg
from storage.people import service as people
from storage.people.models import DESK_ROLES, Person
from storage.text import optional, required
from storage.ticket.models import COMPLAINT_STATUS_LABELS, STATUS_LABELS, Ticket, TicketKind
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
    # A rework order begins dispatched, to whoever did the work.
    entries=frozenset({S.NEW, S.DISPATCHED}),
)
COMPLAINT_FLOW = StateMachine(
    N_("投诉单"),
    {
        # Answered at once, taken up, forwarded or reported up (002 2(2)B 一般性投诉).
        S.NEW: frozenset({S.ACCEPTED, S.REPLIED, S.DISPATCHED, S.ESCALATED, S.CANCELLED}),
        # The department takes it up, or hands it back (to the desk; a major one, up).
        S.DISPATCHED: frozenset({S.ACCEPTED, S.NEW, S.ESCALATED, S.DISPATCHED}),
        S.ACCEPTED: frozenset({S.REPLIED, S.DISPATCHED, S.NEW, S.ESCALATED}),
        S.ESCALATED: frozenset({S.ACCEPTED, S.DISPATCHED, S.REPLIED}),
        S.REPLIED: frozenset({S.CALLED_BACK}),
        S.CALLED_BACK: frozenset({S.CLOSED, S.ESCALATED}),
        # A quality re-check that finds the owner unsatisfied reopens it, up.
        S.CLOSED: frozenset({S.ESCALATED}),
    },
    COMPLAINT_STATUS_LABELS,
    entries=frozenset({S.NEW}),
)
MESSAGE_FLOW = StateMachine(
    N_("留言"),
    # Answered, and closed with it: a further question is a new message.
    {S.NEW: frozenset({S.REPLIED, S.CANCELLED}), S.REPLIED: frozenset({S.CLOSED})},
    STATUS_LABELS,
    entries=frozenset({S.NEW}),
)
FLOWS = {
    TicketKind.REPAIR: REPAIR_FLOW,
    TicketKind.COMPLAINT: COMPLAINT_FLOW,
    TicketKind.MESSAGE: MESSAGE_FLOW,
}
KIND_NAMES = {
    TicketKind.REPAIR: N_("报修单"),
    TicketKind.COMPLAINT: N_("投诉单"),
    TicketKind.MESSAGE: N_("留言"),
}
# A complaint is "handled" once a department or the leadership has taken it up (003 篇十);
# escalating it is not taking it up, so an escalated complaint waits to be accepted too.
COMPLAINT_UNHANDLED = frozenset({S.NEW, S.DISPATCHED, S.ESCALATED})
COMPLAINT_UNANSWERED = frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED, S.ESCALATED})
WORK_UNFINISHED = frozenset({S.NEW, S.DISPATCHED, S.ACCEPTED})


def flow_of(ticket: Ticket) -> StateMachine[S]:
    return FLOWS[ticket.kind]


def load(session: Session, ticket_id: int) -> Ticket:
    """The ticket, its row locked for this unit of work: it is about to change."""
    ticket = session.get(Ticket, ticket_id, with_for_update={"of": Ticket})
    if ticket is None:
        raise NotFound("找不到工单 #{ticket_id}", ticket_id=ticket_id)
    return ticket


def load_for_desk(
    session: Session, ticket_id: int, *, kind: TicketKind, actor: Person, doing: str
) -> Ticket:
    """A ticket of this kind, locked, for the desk to change: only the desk's roles may."""
    ticket = load(session, ticket_id)
    require_kind(ticket, kind)
    people.require_staff(
        session=session, actor=actor, estate_id=ticket.estate_id, roles=DESK_ROLES, doing=doing
    )
    return ticket


def require_kind(ticket: Ticket, kind: TicketKind) -> None:
    if ticket.kind is not kind:
        what = KIND_NAMES[kind]
        raise IllegalTransition("{number} 不是{what}", number=ticket.number, what=Msg(what))


@dataclass(frozen=True)
class Intake:
    """Where a reported problem is, and who reports it."""

    estate_id: int
    place: str | None
    reporter: Person
    unit: Unit | None = None  # loaded already: the ticket's, so it is not read again


def intake(
    session: Session,
    *,
    actor: Person,
    unit_id: int | None,
    estate_id: int | None,
    place: str | None,
    on_behalf_of: int | None,
    doing: str,
) -> Intake:
    """Only the unit's residents report for it; the desk registers walk-in and phone
    reports for an owner (003: 报修登记)."""
    place = optional(place, "地点", max_length=200)
    unit = None
    if unit_id is not None:
        unit = estates.get_unit(session=session, unit_id=unit_id)
        estate_id = unit.estate_id
    elif estate_id is None or place is None:
        raise InvalidInput("请说明地点：您的房号，或公共区域的具体位置")
    post = people.staff_post(session=session, person_id=actor.id, estate_id=estate_id)
    if post is not None:
        reporter = actor
        if on_behalf_of is not None:
            reporter = people.get_person(session=session, person_id=on_behalf_of)
            if unit_id is not None and not people.is_resident(
                session=session, person_id=reporter.id, unit_id=unit_id
            ):
                raise PermissionDenied("{name} 不是该房号的住户", name=reporter.name)
        return Intake(estate_id, place, reporter, unit)
    if on_behalf_of is not None and on_behalf_of != actor.id:
        raise PermissionDenied("只有员工可以代业主{doing}", doing=Msg(doing))
    if unit_id is not None:
        if not people.is_resident(session=session, person_id=actor.id, unit_id=unit_id):
            raise PermissionDenied("您只能为自己绑定的房号{doing}", doing=Msg(doing))
    elif not people.resides_in_estate(session=session, person_id=actor.id, estate_id=estate_id):
        raise PermissionDenied("您不是本小区的住户，不能{doing}", doing=Msg(doing))
    return Intake(estate_id, place, actor, unit)


def open_ticket(
    session: Session,
    ticket: Ticket,
    *,
    state: S,
    actor: Person,
    note: str,
    photos: Sequence[str] = (),
    voice_notes: Sequence[str] = (),
) -> Ticket:
    """A new ticket enters its flow: stored, the first line of its trail, what was sent with it."""
    flow_of(ticket).start(session=session, obj=ticket, state=state, actor=actor, note=note)
    made = attachments.attach(
        session=session,
        to=ticket,
        purpose=AttachmentPurpose.REPORT,
        photos=photos,
        voice_notes=voice_notes,
    )
    # A new ticket has these and no others: known without asking the database, when the
    # desk's alert lists its photos a moment later.
    set_committed_value(ticket, "attachments", made)
    return ticket


def accept(*, session: Session, ticket_id: int, actor: Person) -> Ticket:
    """The assignee (or, with nobody assigned, someone of the department) takes the order
    up. A complaint is taken up in 投诉处理 (``complaints.take_up``)."""
    ticket = load(session, ticket_id)
    require_kind(ticket, TicketKind.REPAIR)
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
        note="接单",
    )
    if ticket.assignee_id is None:
        ticket.assignee = post
    ticket.accepted_at = utcnow()
    return ticket


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
    ticket = load(session, ticket_id)
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
