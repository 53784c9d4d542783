"""Patrol findings (001): reported → fixed on site, or dispatched with a one-week deadline
→ (extended by the department head or the project manager) → fixed (整改) → verified on
site (现场验证) by the patroller; a department may hand one back to the desk (退回), and a
broken facility becomes a work order (``storage.patrol.work_orders``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.attachment import service as attachments
from storage.attachment.models import AttachmentPurpose
from storage.audit import service as audit
from storage.audit.models import AuditEvent
from storage.chat import service as chat
from storage.clock import (
    days_after,
    deadline_day,
    end_of_local_day,
    format_day,
    format_local,
    start_of_local_day,
    utcnow,
)
from storage.config import Settings
from storage.database import settings_of
from storage.duty import service as duty
from storage.errors import (
    AlreadyRecorded,
    IllegalTransition,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from storage.estate.models import Estate
from storage.i18n import N_, Msg
from storage.outbox import service as outbox
from storage.outbox.notice import Notice
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
from storage.people.models import (
    DESK_ROLES,
    MANAGER_ROLES,
    VERIFIER_ROLES,
    DepartmentKind,
    Person,
    StaffMember,
    StaffRole,
)
from storage.text import optional, required
from storage.ticket import intake
from storage.workflow import StateMachine

F = FindingStatus
FINDING_FLOW = StateMachine(
    N_("巡查问题"),
    {
        F.OPEN: frozenset({F.FIXED, F.RETURNED}),
        # The desk sends a handed-back finding to another department.
        F.RETURNED: frozenset({F.OPEN}),
        F.FIXED: frozenset({F.VERIFIED, F.OPEN}),
        # 经理复查: the project manager's weekly re-check finds it not fixed after all.
        F.VERIFIED: frozenset({F.OPEN}),
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


def is_urgent(description: str, asked: bool, settings: Settings) -> bool:
    """Urgent when the patroller says so, or by what was found (a gas or burning smell)."""
    return asked or any(word in description for word in settings.urgent_finding_words)


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
    urgent: bool = False,
) -> PatrolFinding:
    """Only staff report findings. What is fixed on the spot is recorded as fixed and verified
    by the patroller who did it (现场整改); the rest goes to a department for a week, and an
    urgent one pages its head, who is on duty and the project manager at once."""
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
        finding.urgent = is_urgent(finding.description, urgent, settings)
    FINDING_FLOW.start(
        session=session,
        obj=finding,
        state=F.OPEN,
        actor=actor,
        note=f"巡查发现：{PATROL_CATEGORY_LABELS[category]}"
        + ("（紧急）" if finding.urgent else ""),
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
    else:
        tell_department(
            session=session, finding=finding, notice=notices.finding_dispatched(finding, settings)
        )
        if finding.urgent:
            page_urgent(session=session, finding=finding, now=now)
    return finding


def tell_department(*, session: Session, finding: PatrolFinding, notice: Notice) -> None:
    """To the department that holds a finding: its notice group when it has one, else its
    head and its staff, who do the work (or the project manager, for a department without)."""
    department = finding.department
    if department is None:
        return
    if chat.department_chats(session=session, department_id=department.id):
        outbox.notify_department(session=session, department=department, notice=notice)
        return
    staff = people.holders(
        people.staff_with_roles(session=session, roles=set(StaffRole), department_id=department.id)
    )
    outbox.notify_each(
        session=session,
        recipients=staff or people.responsible_for(session=session, department=department),
        notice=notice,
    )


def page_urgent(*, session: Session, finding: PatrolFinding, now: datetime) -> int:
    """001 4.4.5, 4.9.3: the department head, whoever of that department (and of the desk) is
    on duty, and the project manager, at once and whatever the hour: a page is not a
    reminder, so quiet hours do not hold it."""
    settings = settings_of(session)
    recipients: list[Person] = []
    if finding.department is not None:
        recipients += people.responsible_for(session=session, department=finding.department)
        recipients += people.holders(
            duty.on_duty(
                session,
                estate_id=finding.estate_id,
                kind=finding.department.kind,
                at=now,
                tz=settings.tz,
            )
        )
    recipients += people.holders(
        duty.on_duty(
            session,
            estate_id=finding.estate_id,
            kind=DepartmentKind.CUSTOMER_SERVICE,
            at=now,
            tz=settings.tz,
        )
    )
    recipients += people.project_managers(session=session, estate_id=finding.estate_id)
    return outbox.notify_each(
        session=session,
        recipients=list({p.id: p for p in recipients}.values()),
        notice=notices.finding_urgent(finding, settings),
        key=f"finding_urgent:{finding.id}",
    )


# ------------------------------------------------------------------ who holds a finding


def holds(post: StaffMember, finding: PatrolFinding) -> bool:
    """The department a finding is with fixes it (its head and its staff); the project
    manager answers for every department. A handed-back one is the desk's."""
    if post.estate_id != finding.estate_id:
        return False
    if finding.status is F.RETURNED:
        return post.role in DESK_ROLES
    return post.role is StaffRole.PROJECT_MANAGER or post.department_id == finding.department_id


def held_by(*, session: Session, staff: StaffMember) -> list[PatrolFinding]:
    """What a staff member's 整改 lists: their department's open findings (all of them, for
    the project manager), and for the desk, those handed back to it; soonest deadline first."""
    query = select(PatrolFinding).where(
        PatrolFinding.estate_id == staff.estate_id,
        PatrolFinding.status.in_([F.OPEN, F.RETURNED]),
        PatrolFinding.archived_at.is_(None),
    )
    found = [f for f in session.scalars(query.order_by(PatrolFinding.due_at)) if holds(staff, f)]
    return found


def open_for_department(*, session: Session, staff: StaffMember) -> list[PatrolFinding]:
    """The open findings a staff member may ask more time for: their department's."""
    return [f for f in held_by(session=session, staff=staff) if f.status is F.OPEN]


def holder(session: Session, finding: PatrolFinding, actor: Person, doing: str) -> StaffMember:
    post = people.require_staff(
        session=session, actor=actor, estate_id=finding.estate_id, doing=doing
    )
    if not holds(post, finding):
        department = finding.department.name if finding.department else Msg("客服中心")
        raise PermissionDenied(
            "{number} 由{department}整改，不是您部门的",
            number=finding.number,
            department=department,
        )
    return post


def history(*, session: Session, finding: PatrolFinding) -> list[AuditEvent]:
    """Every step of a finding with who and when (001 4.9.4: the process and the result)."""
    return audit.history(session=session, object_type=finding.audit_type, object_id=finding.id)


# ------------------------------------------------------------------ 整改, 退回, 现场验证


def fix(
    *, session: Session, finding_id: int, actor: Person, note: str, photos: Sequence[str] = ()
) -> PatrolFinding:
    """The department reports it fixed (整改), with what was done and photos; who verifies
    it on site is asked at once."""
    finding = _load(session, finding_id)
    post = holder(session, finding, actor, N_("登记整改"))
    if finding.status is not F.OPEN:
        raise IllegalTransition(
            "{number} 现在{state}，不能登记整改",
            number=finding.number,
            state=Msg(FINDING_STATUS_LABELS[finding.status]),
        )
    _fixed(session, finding, post, required(note, "整改说明"), photos)
    return finding


def fixed_by_work_order(
    *, session: Session, finding_id: int, post: StaffMember, note: str, photos: Sequence[str]
) -> PatrolFinding:
    """The work order made of a finding is done: the finding is fixed, to be verified."""
    finding = _load(session, finding_id)
    if finding.status is F.OPEN:
        _fixed(session, finding, post, note, photos)
    return finding


def _fixed(
    session: Session, finding: PatrolFinding, post: StaffMember, note: str, photos: Sequence[str]
) -> None:
    FINDING_FLOW.move(session=session, obj=finding, target=F.FIXED, actor=post.person, note=note)
    finding.fixed_at, finding.fixed_by, finding.fix_note = utcnow(), post, note
    attachments.attach(session=session, to=finding, purpose=AttachmentPurpose.DONE, photos=photos)
    session.flush()
    outbox.notify_each(
        session=session,
        recipients=verifiers(session=session, finding=finding),
        notice=notices.finding_fixed(finding, settings_of(session)),
        key=f"finding_fixed:{finding.id}:{finding.fixed_at.isoformat()}",
    )


def verifiers(*, session: Session, finding: PatrolFinding) -> list[Person]:
    """Who is asked to verify a fix on site (001 4.9.4): the patroller who found it; the
    desk when the patroller fixed it themselves, or is not one who verifies."""
    reporter = finding.reporter
    if reporter.role in VERIFIER_ROLES and reporter.active and finding.fixed_by_id != reporter.id:
        return [reporter.person]
    return [
        p
        for p in people.desk_staff(session=session, estate_id=finding.estate_id)
        if finding.fixed_by is None or p.id != finding.fixed_by.person_id
    ]


def hand_back(*, session: Session, finding_id: int, actor: Person, reason: str) -> PatrolFinding:
    """Not ours (退回): the department gives the finding back to the desk, saying why; the
    desk sends it on to the right department."""
    finding = _load(session, finding_id)
    holder(session, finding, actor, N_("退回巡查问题"))
    reason = required(reason, "退回原因", max_length=500)
    FINDING_FLOW.move(
        session=session, obj=finding, target=F.RETURNED, actor=actor, note=f"退回：{reason}"
    )
    finding.return_reason = reason
    estate = session.get_one(Estate, finding.estate_id)
    intake.tell_desk(
        session,
        estate,
        notices.finding_returned(finding, actor.name),
        key=f"finding_returned:{finding.id}:{utcnow().isoformat()}",
        now=utcnow(),
    )
    return finding


def redirect(
    *, session: Session, finding_id: int, actor: Person, department_id: int
) -> PatrolFinding:
    """The desk sends a handed-back finding to another department, with its deadline."""
    finding = _load(session, finding_id)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=finding.estate_id,
        roles=DESK_ROLES,
        doing=N_("改派巡查问题"),
    )
    department = people.get_department(
        session=session, department_id=department_id, estate_id=finding.estate_id
    )
    if department.id == finding.department_id:
        raise InvalidInput(
            "{department} 刚退回了这个问题，请选择另一个部门", department=department.name
        )
    FINDING_FLOW.move(
        session=session,
        obj=finding,
        target=F.OPEN,
        actor=actor,
        note=f"改派至{department.name}",
    )
    finding.department, finding.return_reason = department, None
    tell_department(
        session=session,
        finding=finding,
        notice=notices.finding_dispatched(finding, settings_of(session)),
    )
    return finding


def verify(
    *,
    session: Session,
    finding_id: int,
    actor: Person,
    passed: bool,
    note: str | None = None,
    photos: Sequence[str] = (),
) -> PatrolFinding:
    """001 4.9.4: the patroller verifies on site and signs; nobody verifies their own fix.
    A fix that did not pass goes back to the department with what is still wrong. (A
    finding's work order is settled with it: ``work_orders.verify``.)"""
    finding = _load(session, finding_id)
    post = people.require_staff(
        session=session,
        actor=actor,
        estate_id=finding.estate_id,
        roles=VERIFIER_ROLES,
        doing=N_("验证整改"),
    )
    if finding.status is not F.FIXED:
        raise IllegalTransition(
            "{number} 现在{state}，没有待验证的整改",
            number=finding.number,
            state=Msg(FINDING_STATUS_LABELS[finding.status]),
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
    attachments.attach(
        session=session, to=finding, purpose=AttachmentPurpose.VERIFIED, photos=photos
    )
    if not passed:
        _back_to_department(
            session, finding, notices.finding_rejected(finding, settings_of(session))
        )
    return finding


def _back_to_department(session: Session, finding: PatrolFinding, notice: Notice) -> None:
    """What failed verification (or the re-check) is the department's again: it is told, and
    so is whoever fixed it, if the department's notice did not reach them."""
    tell_department(session=session, finding=finding, notice=notice)
    fixer = finding.fixed_by
    if fixer is not None and fixer.department_id != finding.department_id:
        outbox.notify(session=session, recipient=fixer.person, notice=notice)


def reopen(*, session: Session, finding_id: int, actor: Person, note: str) -> PatrolFinding:
    """经理复查: a verified finding found not fixed after all goes back to its department,
    with a new deadline of the patrol fix days."""
    finding = _load(session, finding_id)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=finding.estate_id,
        roles=VERIFIER_ROLES,
        doing=N_("复查巡查问题"),
    )
    note = required(note, "复查意见", max_length=500)
    if finding.status is not F.VERIFIED or finding.department is None:
        raise IllegalTransition("{number} 不是已验证的整改，不能复查退回", number=finding.number)
    FINDING_FLOW.move(
        session=session, obj=finding, target=F.OPEN, actor=actor, note=f"复查不合格：{note}"
    )
    settings = settings_of(session)
    finding.due_at = finding.original_due_at = days_after(
        utcnow(), settings.patrol_fix_days, settings.tz
    )
    finding.verification_passed, finding.verification_note = False, note
    _back_to_department(session, finding, notices.finding_rejected(finding, settings))
    return finding


# ------------------------------------------------------------------ 延期


def may_approve(post: StaffMember, finding: PatrolFinding) -> bool:
    """001 方案 六.1 (经理、主管审批): the head of the department that holds the finding, or
    the project manager; not the head of another department."""
    if post.estate_id != finding.estate_id or not post.active:
        return False
    if post.role is StaffRole.PROJECT_MANAGER:
        return True
    return post.role is StaffRole.SUPERVISOR and post.department_id == finding.department_id


def extension_limit(finding: PatrolFinding, settings: Settings) -> date:
    """The last day a finding's deadline may be moved to: the cap beyond its first one."""
    first = finding.original_due_at or finding.due_at or utcnow()
    return deadline_day(first, settings.tz) + timedelta(days=settings.patrol_extension_cap_days)


def extension_choices(finding: PatrolFinding, today: date, settings: Settings) -> list[date]:
    """The days worth offering: a week, two weeks and a month from today, and the last day
    allowed, each later than the deadline it has now and within the cap."""
    due_on = deadline_day(finding.due_at, settings.tz) if finding.due_at else today
    limit = extension_limit(finding, settings)
    offered = {today + timedelta(days=days) for days in (7, 14, 30)} | {limit}
    return sorted(day for day in offered if due_on < day <= limit and day > today)


def _approvable_day(session: Session, finding: PatrolFinding, new_due_on: date) -> datetime:
    """The end of the new day, which must be after the deadline the finding has now and
    within the cap."""
    settings = settings_of(session)
    new_due_at = end_of_local_day(new_due_on, settings.tz)
    if finding.due_at is not None and new_due_at <= finding.due_at:
        raise InvalidInput(
            "新期限须晚于当前期限 {due_on}", due_on=format_day(finding.due_at, settings.tz)
        )
    limit = extension_limit(finding, settings)
    if new_due_on > limit:
        raise InvalidInput(
            "延期最多到 {limit}（首次期限后 {days} 天）",
            limit=limit.isoformat(),
            days=settings.patrol_extension_cap_days,
        )
    return new_due_at


def check_extension(*, session: Session, finding_id: int, new_due_on: date) -> None:
    """Whether a finding's deadline may be moved to that day (asked before the reason)."""
    finding = session.get(PatrolFinding, finding_id)
    if finding is None:
        raise NotFound("找不到巡查问题 #{finding_id}", finding_id=finding_id)
    _approvable_day(session, finding, new_due_on)


def request_extension(
    *, session: Session, finding_id: int, actor: Person, new_due_on: date, reason: str
) -> ExtensionRequest:
    """The responsible department asks for more time; who may approve it is told at once."""
    finding = _load(session, finding_id)
    post = holder(session, finding, actor, N_("提交延期申请"))
    if finding.status is not F.OPEN or finding.due_at is None:
        raise InvalidInput("{number} 已整改，不需要延期", number=finding.number)
    _approvable_day(session, finding, new_due_on)
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
    outbox.notify_each(
        session=session,
        recipients=[p for p in approvers(session=session, finding=finding) if p.id != actor.id],
        notice=notices.extension_requested(request),
    )
    return request


def approvers(*, session: Session, finding: PatrolFinding) -> list[Person]:
    """The finding's department head, and the project manager."""
    posts = people.staff_with_roles(
        session=session,
        roles={StaffRole.SUPERVISOR, StaffRole.PROJECT_MANAGER},
        estate_id=finding.estate_id,
    )
    return people.holders(post for post in posts if may_approve(post, finding))


def check_undecided(
    *, session: Session, request_id: int, actor: Person
) -> tuple[ExtensionRequest, StaffMember]:
    """The request, still to be decided, and the manager who may decide it; before a
    refusal's reason is asked, so nobody writes one for a request already decided."""
    request = session.get(ExtensionRequest, request_id, with_for_update={"of": ExtensionRequest})
    if request is None:
        raise NotFound("找不到延期申请 #{request_id}", request_id=request_id)
    finding = request.finding
    post = people.require_staff(
        session=session,
        actor=actor,
        estate_id=finding.estate_id,
        roles=MANAGER_ROLES,
        doing=N_("批准延期（仅部门主管、项目经理）"),
    )
    if not may_approve(post, finding):
        raise PermissionDenied(
            "{number} 由{department}整改，延期须由该部门主管或项目经理审批",
            number=finding.number,
            department=finding.department.name if finding.department else "",
        )
    if request.status is not ExtensionStatus.PENDING:
        # A notice's button pressed twice, or after another manager decided.
        raise AlreadyRecorded(
            "{number} 的延期申请已于 {when} 由 {who}{decision}",
            number=finding.number,
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
    """Approved, the deadline moves and the patroller hears of it; either way the one who
    asked is told the decision."""
    request, post = check_undecided(session=session, request_id=request_id, actor=actor)
    note = optional(note, N_("审批意见"), max_length=500)
    finding = _load(session, request.finding_id)
    settings = settings_of(session)
    if approve:
        if finding.status is not F.OPEN or finding.due_at is None:
            raise InvalidInput("{number} 已整改，不需要延期", number=finding.number)
        new_due_at = _approvable_day(session, finding, request.new_due_on)
        old = format_day(finding.due_at, settings.tz)
        finding.due_at = new_due_at
        finding.extended_by = post
        finding.extension_reason = request.reason
        FINDING_FLOW.keep(
            session=session,
            obj=finding,
            actor=actor,
            note=(
                f"延期 {old} → {request.new_due_on.isoformat()}"
                f"（{actor.name} 批准）：{request.reason}"
            ),
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
    told = {request.requested_by.person_id: request.requested_by.person}
    if approve:
        told.setdefault(finding.reporter.person_id, finding.reporter.person)
    outbox.notify_each(
        session=session,
        recipients=list(told.values()),
        notice=notices.finding_extended(finding, actor.name, settings)
        if approve
        else notices.extension_refused(request),
    )
    return request


def pending_extensions(
    *, session: Session, estate_id: int, decider: StaffMember | None = None
) -> list[ExtensionRequest]:
    """The requests waiting for a decision: those ``decider`` may decide, if named."""
    query = (
        select(ExtensionRequest)
        .join(PatrolFinding, ExtensionRequest.finding_id == PatrolFinding.id)
        .where(
            PatrolFinding.estate_id == estate_id,
            ExtensionRequest.status == ExtensionStatus.PENDING,
        )
        .order_by(ExtensionRequest.id)
    )
    found = list(session.scalars(query))
    if decider is None:
        return found
    return [request for request in found if may_approve(decider, request.finding)]


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


def overdue(
    *, session: Session, estate_id: int, now: datetime, status: FindingStatus = F.OPEN
) -> list[PatrolFinding]:
    """Open findings (or, with ``status``, handed-back ones) past their (possibly
    extended) deadline."""
    query = (
        select(PatrolFinding)
        .where(
            PatrolFinding.estate_id == estate_id,
            PatrolFinding.status == status,
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


def findings_reported(
    *, session: Session, estate_id: int, first: date, last: date
) -> list[PatrolFinding]:
    """The findings reported from local day ``first`` to ``last`` (both included), oldest
    first, archived ones too: the month's 公共区域巡检记录表 is read long after (001 4.10)."""
    tz = settings_of(session).tz
    query = select(PatrolFinding).where(
        PatrolFinding.estate_id == estate_id,
        PatrolFinding.created_at >= start_of_local_day(first, tz),
        PatrolFinding.created_at < end_of_local_day(last, tz),
    )
    return list(session.scalars(query.order_by(PatrolFinding.created_at, PatrolFinding.id)))
