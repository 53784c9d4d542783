"""Patrol findings (001): reported → fixed on site, or dispatched with a one-week deadline
→ (extended by a manager) → fixed → verified on site by a patroller."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.attachment import service as attachments
from storage.attachment.models import AttachmentPurpose
from storage.clock import (
    days_after,
    end_of_local_day,
    format_day,
    format_local,
    start_of_local_day,
    utcnow,
)
from storage.database import settings_of
from storage.errors import (
    AlreadyRecorded,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from storage.i18n import N_, Msg
from storage.outbox import service as outbox
from storage.patrol import notices
from storage.patrol.models import (
    EXTENSION_STATUS_LABELS,
    FINDING_STATUS_LABELS,
    PATROL_CATEGORY_LABELS,
    ExtensionRequest,
    ExtensionStatus,
    FindingStatus,
    PatrolCategory,
    PatrolFinding,
)
from storage.people import service as people
from storage.people.models import MANAGER_ROLES, VERIFIER_ROLES, Person, StaffMember, StaffRole
from storage.text import optional, required
from storage.workflow import StateMachine

F = FindingStatus
FINDING_FLOW = StateMachine(
    N_("巡查问题"),
    {
        F.OPEN: frozenset({F.FIXED}),
        F.FIXED: frozenset({F.VERIFIED, F.OPEN}),
    },
    FINDING_STATUS_LABELS,
    entries=frozenset({F.OPEN}),
)
E = ExtensionStatus
EXTENSION_FLOW = StateMachine(
    N_("延期申请"),
    {E.PENDING: frozenset({E.APPROVED, E.REFUSED})},
    EXTENSION_STATUS_LABELS,
    entries=frozenset({E.PENDING}),
)


def _load(session: Session, finding_id: int) -> PatrolFinding:
    finding = session.get(PatrolFinding, finding_id, with_for_update={"of": PatrolFinding})
    if finding is None:
        raise NotFound("找不到巡查问题 #{finding_id}", finding_id=finding_id)
    return finding


def fix_deadline(*, session: Session, due_on: date | None, now: datetime) -> datetime:
    """When a finding must be fixed (001): within the patrol fix days, by default the last of
    them; a longer deadline needs a manager's approval (an extension), so it is refused here,
    the one place the limit is checked."""
    settings = settings_of(session)
    longest = days_after(now, settings.patrol_fix_days, settings.tz)
    if due_on is None:
        return longest
    due_at = end_of_local_day(due_on, settings.tz)
    if due_at <= now:
        raise InvalidInput("整改期限不能早于今天")
    if due_at > longest:
        raise InvalidInput(
            "整改期限最长 {days} 天，更长需经理或主管批准延期", days=settings.patrol_fix_days
        )
    return due_at


def report_finding(
    *,
    session: Session,
    actor: Person,
    estate_id: int,
    place: str,
    category: PatrolCategory,
    description: str,
    photos: Sequence[str] = (),
    fixed_on_site: bool = False,
    department_id: int | None = None,
    due_on: date | None = None,
) -> PatrolFinding:
    """Only staff report findings. What is fixed on the spot is recorded as fixed and verified
    by the patroller who did it (现场整改); the rest goes to a department for a week."""
    post = people.require_staff(
        session=session, actor=actor, estate_id=estate_id, doing=N_("登记巡查问题")
    )
    settings = settings_of(session)
    now = utcnow()
    finding = PatrolFinding(
        estate_id=estate_id,
        place=required(place, "巡查地点", max_length=200),
        category=category,
        description=required(description, "问题描述"),
        reporter=post,
        fixed_on_site=fixed_on_site,
        created_at=now,
    )
    if not fixed_on_site:
        if department_id is None:
            raise InvalidInput("不能现场整改的问题，请选择责任部门")
        finding.department = people.get_department(
            session=session, department_id=department_id, estate_id=estate_id
        )
        finding.due_at = finding.original_due_at = fix_deadline(
            session=session, due_on=due_on, now=now
        )
    FINDING_FLOW.start(
        session=session,
        obj=finding,
        state=F.OPEN,
        actor=actor,
        note=f"巡查发现：{PATROL_CATEGORY_LABELS[category]}",
    )
    attachments.attach(session=session, to=finding, purpose=AttachmentPurpose.REPORT, photos=photos)
    if fixed_on_site:
        # 现场整改: fixed by the patroller who found it, and verified there and then.
        FINDING_FLOW.move(
            session=session, obj=finding, target=F.FIXED, actor=actor, note="现场整改"
        )
        finding.fixed_at, finding.fixed_by, finding.fix_note = now, post, "现场整改"
        FINDING_FLOW.move(
            session=session, obj=finding, target=F.VERIFIED, actor=actor, note="现场整改，当场验证"
        )
        finding.verified_at, finding.verified_by, finding.verification_passed = now, post, True
    elif finding.department is not None:
        outbox.notify_department(
            session=session,
            department=finding.department,
            notice=notices.finding_dispatched(finding, settings),
        )
    return finding


def extend(
    *, session: Session, finding_id: int, actor: Person, new_due_on: date, reason: str
) -> PatrolFinding:
    """001: a deadline longer than a week needs the manager's (经理、主管) approval."""
    finding = _load(session, finding_id)
    post = people.require_staff(
        session=session,
        actor=actor,
        estate_id=finding.estate_id,
        roles=MANAGER_ROLES,
        doing=N_("批准延期（仅经理、主管）"),
    )
    if finding.status is not F.OPEN or finding.due_at is None:
        raise InvalidInput("{number} 已整改，不需要延期", number=finding.number)
    reason = required(reason, "延期原因", max_length=500)
    settings = settings_of(session)
    new_due_at = _later_than_now_due(session, finding, new_due_on)
    old = format_day(finding.due_at, settings.tz)
    finding.due_at = new_due_at
    finding.extended_by = post
    finding.extension_reason = reason
    FINDING_FLOW.keep(
        session=session,
        obj=finding,
        actor=actor,
        note=f"延期 {old} → {new_due_on.isoformat()}：{reason}",
    )
    outbox.notify(
        session=session,
        recipient=finding.reporter.person,
        notice=notices.finding_extended(finding, actor.name, settings),
    )
    return finding


def _later_than_now_due(session: Session, finding: PatrolFinding, new_due_on: date) -> datetime:
    """The end of the new day, which must be after the deadline the finding has now."""
    settings = settings_of(session)
    new_due_at = end_of_local_day(new_due_on, settings.tz)
    if finding.due_at is not None and new_due_at <= finding.due_at:
        raise InvalidInput(
            "新期限须晚于当前期限 {due_on}", due_on=format_day(finding.due_at, settings.tz)
        )
    return new_due_at


def check_extension(*, session: Session, finding_id: int, new_due_on: date) -> None:
    """Whether a finding's deadline may be moved to that day (asked before the reason)."""
    finding = session.get(PatrolFinding, finding_id)
    if finding is None:
        raise NotFound("找不到巡查问题 #{finding_id}", finding_id=finding_id)
    _later_than_now_due(session, finding, new_due_on)


def request_extension(
    *, session: Session, finding_id: int, actor: Person, new_due_on: date, reason: str
) -> ExtensionRequest:
    """The responsible department asks for more time; the managers are told at once."""
    finding = _load(session, finding_id)
    post = people.require_staff(
        session=session, actor=actor, estate_id=finding.estate_id, doing=N_("提交延期申请")
    )
    if finding.status is not F.OPEN or finding.due_at is None:
        raise InvalidInput("{number} 已整改，不需要延期", number=finding.number)
    if post.department_id != finding.department_id and not post.is_manager:
        raise PermissionDenied("{number} 不是您部门的整改任务", number=finding.number)
    _later_than_now_due(session, finding, new_due_on)
    request = ExtensionRequest(
        finding=finding,
        requested_by=post,
        new_due_on=new_due_on,
        reason=required(reason, N_("延期原因"), max_length=500),
        created_at=utcnow(),
    )
    EXTENSION_FLOW.start(
        session=session,
        obj=request,
        state=E.PENDING,
        actor=actor,
        note=f"{finding.number} → {new_due_on.isoformat()}：{request.reason}",
    )
    # The finding's department head, and the project manager, may approve it.
    approvers = people.holders(
        people.staff_with_roles(
            session=session, roles=MANAGER_ROLES, department_id=finding.department_id
        )
        + people.staff_with_roles(
            session=session, roles={StaffRole.PROJECT_MANAGER}, estate_id=finding.estate_id
        )
    )
    outbox.notify_each(
        session=session, recipients=approvers, notice=notices.extension_requested(request)
    )
    return request


def check_undecided(
    *, session: Session, request_id: int, actor: Person
) -> tuple[ExtensionRequest, StaffMember]:
    """The request, still to be decided, and the manager who may decide it; before a
    refusal's reason is asked, so nobody writes one for a request already decided."""
    request = session.get(ExtensionRequest, request_id, with_for_update={"of": ExtensionRequest})
    if request is None:
        raise NotFound("找不到延期申请 #{request_id}", request_id=request_id)
    post = people.require_staff(
        session=session,
        actor=actor,
        estate_id=request.finding.estate_id,
        roles=MANAGER_ROLES,
        doing=N_("批准延期（仅经理、主管）"),
    )
    if request.status is not ExtensionStatus.PENDING:
        # A notice's button pressed twice, or after another manager decided.
        raise AlreadyRecorded(
            "{number} 的延期申请已于 {when} 由 {who}{decision}",
            number=request.finding.number,
            when=format_local(request.decided_at or utcnow(), settings_of(session).tz),
            who=request.decided_by.person.name if request.decided_by else Msg("他人"),
            decision=Msg(N_("批准"))
            if request.status is ExtensionStatus.APPROVED
            else Msg(N_("驳回")),
        )
    return request, post


def decide_extension(
    *, session: Session, request_id: int, actor: Person, approve: bool, note: str | None = None
) -> ExtensionRequest:
    request, post = check_undecided(session=session, request_id=request_id, actor=actor)
    note = optional(note, N_("审批意见"), max_length=500)
    if approve:
        extend(
            session=session,
            finding_id=request.finding_id,
            actor=actor,
            new_due_on=request.new_due_on,
            reason=request.reason,
        )
    elif note is None:
        raise InvalidInput("不批准时，请写明原因")
    request.decided_by_id, request.decided_at, request.decision_note = post.id, utcnow(), note
    EXTENSION_FLOW.move(
        session=session,
        obj=request,
        target=E.APPROVED if approve else E.REFUSED,
        actor=actor,
        note=note,
    )
    if not approve:
        outbox.notify(
            session=session,
            recipient=request.requested_by.person,
            notice=notices.extension_refused(request),
        )
    return request


def pending_extensions(*, session: Session, estate_id: int) -> list[ExtensionRequest]:
    query = (
        select(ExtensionRequest)
        .join(PatrolFinding, ExtensionRequest.finding_id == PatrolFinding.id)
        .where(
            PatrolFinding.estate_id == estate_id,
            ExtensionRequest.status == ExtensionStatus.PENDING,
        )
        .order_by(ExtensionRequest.id)
    )
    return list(session.scalars(query))


def open_for_department(*, session: Session, staff: StaffMember) -> list[PatrolFinding]:
    """Findings a staff member's department has to fix (all of the estate's, for managers)."""
    query = select(PatrolFinding).where(
        PatrolFinding.estate_id == staff.estate_id,
        PatrolFinding.status == F.OPEN,
        PatrolFinding.archived_at.is_(None),
    )
    if not staff.is_manager:
        query = query.where(PatrolFinding.department_id == staff.department_id)
    return list(session.scalars(query.order_by(PatrolFinding.due_at)))


def fix(
    *, session: Session, finding_id: int, actor: Person, note: str, photos: Sequence[str] = ()
) -> PatrolFinding:
    finding = _load(session, finding_id)
    post = people.require_staff(
        session=session, actor=actor, estate_id=finding.estate_id, doing=N_("登记整改")
    )
    if post.department_id != finding.department_id and not post.is_manager:
        raise PermissionDenied("{number} 不是您部门的整改任务", number=finding.number)
    note = required(note, "整改说明")
    FINDING_FLOW.move(session=session, obj=finding, target=F.FIXED, actor=actor, note=note)
    finding.fixed_at, finding.fixed_by, finding.fix_note = utcnow(), post, note
    attachments.attach(session=session, to=finding, purpose=AttachmentPurpose.DONE, photos=photos)
    return finding


def verify(
    *, session: Session, finding_id: int, actor: Person, passed: bool, note: str | None = None
) -> PatrolFinding:
    """001 4.9.4: the patroller verifies on site and signs; nobody verifies their own fix."""
    finding = _load(session, finding_id)
    post = people.require_staff(
        session=session,
        actor=actor,
        estate_id=finding.estate_id,
        roles=VERIFIER_ROLES,
        doing=N_("验证整改"),
    )
    if finding.fixed_by_id == post.id:
        raise PermissionDenied("不能验证自己整改的问题，请另一位巡查人员验证")
    note = optional(note, "验证意见")
    if not passed and note is None:
        raise InvalidInput("验证不通过时，请写明问题所在")
    target = F.VERIFIED if passed else F.OPEN
    FINDING_FLOW.move(
        session=session,
        obj=finding,
        target=target,
        actor=actor,
        note=("验证通过" if passed else "验证不通过") + (f"：{note}" if note else ""),
    )
    finding.verified_at, finding.verified_by = utcnow(), post
    finding.verification_passed, finding.verification_note = passed, note
    if not passed and finding.fixed_by is not None and finding.due_at is not None:
        outbox.notify(
            session=session,
            recipient=finding.fixed_by.person,
            notice=notices.finding_rejected(finding, settings_of(session)),
        )
    return finding


def list_findings(
    *,
    session: Session,
    estate_id: int | None = None,
    status: FindingStatus | None = None,
    on: date | None = None,
    limit: int = 500,
) -> list[PatrolFinding]:
    query = (
        select(PatrolFinding)
        .where(PatrolFinding.archived_at.is_(None))
        .order_by(PatrolFinding.id.desc())
        .limit(limit)
    )
    if estate_id is not None:
        query = query.where(PatrolFinding.estate_id == estate_id)
    if status is not None:
        query = query.where(PatrolFinding.status == status)
    if on is not None:
        tz = settings_of(session).tz
        query = query.where(
            PatrolFinding.created_at >= start_of_local_day(on, tz),
            PatrolFinding.created_at < end_of_local_day(on, tz),
        )
    return list(session.scalars(query))


def overdue(*, session: Session, estate_id: int, now: datetime) -> list[PatrolFinding]:
    """Open findings past their (possibly extended) deadline."""
    query = (
        select(PatrolFinding)
        .where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.status == F.OPEN,
            PatrolFinding.due_at <= now,
            PatrolFinding.archived_at.is_(None),
        )
        .order_by(PatrolFinding.due_at)
    )
    return list(session.scalars(query))


def awaiting_verification(
    *, session: Session, estate_id: int, fixed_before: datetime
) -> list[PatrolFinding]:
    query = (
        select(PatrolFinding)
        .where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.status == F.FIXED,
            PatrolFinding.fixed_at <= fixed_before,
        )
        .order_by(PatrolFinding.fixed_at)
    )
    return list(session.scalars(query))
