"""A finding that is a repair becomes a work order (001 片区 4.9.2a: a broken or missing
public facility is handled under the repair procedure, 转维修单).

The work order is reported and dispatched as any repair is; when it is done the finding is
fixed and goes to on-site verification, which stands in for the owner's callback: passed,
the work order is closed; failed, it goes back to the technician as a rework order and the
finding is open again. (Tickets do not import patrols: the repair's side of this is one
call, ``patrols.fixed_by_work_order``, from ``repairs.finish_repair``.)
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.errors import IllegalTransition, NotFound
from storage.i18n import N_
from storage.patrol import notices
from storage.patrol import service as patrols
from storage.patrol.models import FindingStatus, PatrolFinding
from storage.people import service as people
from storage.people.models import DESK_ROLES, DepartmentKind, Person, StaffMember
from storage.ticket import lifecycle, repairs
from storage.ticket.models import RepairCategory, Ticket
from storage.ticket.models import TicketStatus as S


def work_order(*, session: Session, finding: PatrolFinding) -> Ticket | None:
    """The finding's latest work order (a rework's, after a failed verification)."""
    return session.scalar(
        select(Ticket).where(Ticket.finding_id == finding.id).order_by(Ticket.id.desc()).limit(1)
    )


def may_convert(post: StaffMember, finding: PatrolFinding) -> bool:
    """The department that holds it, the desk (which handles repairs), or the patroller who
    found it may make a finding a work order."""
    return patrols.holds(post, finding) or post.role in DESK_ROLES or post.id == finding.reporter_id


def to_work_order(
    *, session: Session, finding_id: int, actor: Person, category: RepairCategory
) -> Ticket:
    """The finding becomes a repair, reported by who converts it, at the finding's place and
    with its photos; the finding is then engineering's, until the repair is done."""
    finding = session.get(PatrolFinding, finding_id, with_for_update={"of": PatrolFinding})
    if finding is None:
        raise NotFound("找不到巡查问题 #{finding_id}", finding_id=finding_id)
    post = people.require_staff(
        session=session, actor=actor, estate_id=finding.estate_id, doing=N_("转维修单")
    )
    if not may_convert(post, finding):
        patrols.holder(session, finding, actor, N_("转维修单"))  # says whose it is
    if finding.status not in (FindingStatus.OPEN, FindingStatus.RETURNED):
        raise IllegalTransition("{number} 不在待整改，不能转维修单", number=finding.number)
    existing = work_order(session=session, finding=finding)
    if existing is not None and existing.status in lifecycle.WORK_UNFINISHED:
        raise IllegalTransition(
            "{number} 已有维修单 {ticket}", number=finding.number, ticket=existing.number
        )
    ticket = repairs.report_repair(
        session=session,
        actor=actor,
        category=category,
        description=f"巡查问题 {finding.number}：{finding.description}",
        estate_id=finding.estate_id,
        place=finding.place,
        photos=notices.photos_of(finding),
        urgent=finding.urgent,
        finding_id=finding.id,
    )
    engineering = people.department_of_kind(
        session=session, estate_id=finding.estate_id, kind=DepartmentKind.ENGINEERING
    )
    finding.department = engineering
    note = f"转维修单 {ticket.number}（{engineering.name}）"
    if finding.status is FindingStatus.RETURNED:  # the desk sends a handed-back one on so
        patrols.FINDING_FLOW.move(
            session=session, obj=finding, target=FindingStatus.OPEN, actor=actor, note=note
        )
        finding.return_reason = None
    else:
        patrols.FINDING_FLOW.keep(session=session, obj=finding, actor=actor, note=note)
    return ticket


def verify(
    *,
    session: Session,
    finding_id: int,
    actor: Person,
    passed: bool,
    note: str | None = None,
    photos: Sequence[str] = (),
) -> PatrolFinding:
    """现场验证 of a finding, and of its work order if it has one that is done."""
    finding = patrols.verify(
        session=session,
        finding_id=finding_id,
        actor=actor,
        passed=passed,
        note=note,
        photos=photos,
    )
    ticket = work_order(session=session, finding=finding)
    if ticket is None or ticket.status is not S.DONE:
        return finding
    verdict = "现场验证通过" if passed else f"现场验证不通过：{finding.verification_note}"
    lifecycle.flow_of(ticket).move(
        session=session, obj=ticket, target=S.CALLED_BACK, actor=actor, note=verdict
    )
    if passed:
        lifecycle.close(session=session, ticket=ticket, actor=actor, note=verdict)
    else:
        repairs.open_rework(
            session=session,
            original=ticket,
            actor=actor,
            note=finding.verification_note or "",
            why="巡查问题现场验证不通过",
        )
    return finding
