"""Patrol findings (001): reported → fixed on site, or dispatched with a one-week deadline
→ (extended by a manager) → fixed → verified on site by a patroller."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.attachment.models import Attachment
from storage.audit import service as audit
from storage.clock import (
    days_after,
    end_of_local_day,
    format_day,
    start_of_local_day,
    utcnow,
)
from storage.database import settings_of
from storage.errors import InvalidInput, NotFound, PermissionDenied
from storage.outbox import service as outbox
from storage.patrol.models import (
    FINDING_STATUS_LABELS,
    PATROL_CATEGORY_LABELS,
    FindingStatus,
    PatrolCategory,
    PatrolFinding,
)
from storage.people import service as people
from storage.people.models import MANAGER_ROLES, VERIFIER_ROLES, Person
from storage.text import optional, required
from storage.workflow import StateMachine

F = FindingStatus
FINDING_FLOW = StateMachine(
    "巡查问题",
    {
        F.OPEN: frozenset({F.FIXED}),
        F.FIXED: frozenset({F.VERIFIED, F.OPEN}),
    },
    FINDING_STATUS_LABELS,
)


def _load(session: Session, finding_id: int) -> PatrolFinding:
    finding = session.get(PatrolFinding, finding_id, with_for_update={"of": PatrolFinding})
    if finding is None:
        raise NotFound(f"找不到巡查问题 #{finding_id}")
    return finding


def _attach(session: Session, finding: PatrolFinding, refs: Sequence[str], purpose: str) -> None:
    for ref in refs:
        session.add(
            Attachment(
                finding_id=finding.id, ref=required(ref, "附件", max_length=512), purpose=purpose
            )
        )


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
        session=session, actor=actor, estate_id=estate_id, doing="登记巡查问题"
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
    if fixed_on_site:
        finding.status = F.VERIFIED
        finding.fixed_at = finding.verified_at = now
        finding.fixed_by = finding.verified_by = post
        finding.verification_passed = True
        finding.fix_note = "现场整改"
    else:
        if department_id is None:
            raise InvalidInput("不能现场整改的问题，请选择责任部门")
        department = people.get_department(
            session=session, department_id=department_id, estate_id=estate_id
        )
        longest = days_after(now, settings.patrol_fix_days, settings.tz)
        due_at = longest if due_on is None else end_of_local_day(due_on, settings.tz)
        if due_at <= now:
            raise InvalidInput("整改期限不能早于今天")
        if due_at > longest:
            raise PermissionDenied(
                f"整改期限最长 {settings.patrol_fix_days} 天，更长需经理或主管批准延期"
            )
        finding.status = F.OPEN
        finding.department = department
        finding.due_at = finding.original_due_at = due_at
    session.add(finding)
    session.flush()
    _attach(session, finding, photos, "report")
    audit.record(
        session=session,
        obj=finding,
        from_state=None,
        to_state=F.OPEN,
        actor=actor,
        note=f"巡查发现：{PATROL_CATEGORY_LABELS[category]}",
    )
    if fixed_on_site:
        audit.record(
            session=session,
            obj=finding,
            from_state=F.OPEN,
            to_state=F.FIXED,
            actor=actor,
            note="现场整改",
        )
        audit.record(
            session=session,
            obj=finding,
            from_state=F.FIXED,
            to_state=F.VERIFIED,
            actor=actor,
            note="现场整改，当场验证",
        )
    elif finding.department is not None and finding.due_at is not None:
        for person in people.responsible_for(session=session, department=finding.department):
            outbox.notify(
                session=session,
                recipient=person,
                kind="finding_dispatched",
                params={
                    "number": finding.number,
                    "place": finding.place,
                    "category": PATROL_CATEGORY_LABELS[category],
                    "description": finding.description,
                    "due_on": format_day(finding.due_at, settings.tz),
                },
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
        doing="批准延期（仅经理、主管）",
    )
    if finding.status is not F.OPEN or finding.due_at is None:
        raise InvalidInput(f"{finding.number} 已整改，不需要延期")
    reason = required(reason, "延期原因", max_length=500)
    settings = settings_of(session)
    new_due_at = end_of_local_day(new_due_on, settings.tz)
    if new_due_at <= finding.due_at:
        raise InvalidInput(f"新期限须晚于当前期限 {format_day(finding.due_at, settings.tz)}")
    old = format_day(finding.due_at, settings.tz)
    finding.due_at = new_due_at
    finding.extended_by = post
    finding.extension_reason = reason
    # Not a state change, but a change of the deadline that the record must keep (001 4.9.4).
    audit.record(
        session=session,
        obj=finding,
        from_state=F.OPEN,
        to_state=F.OPEN,
        actor=actor,
        note=f"延期 {old} → {new_due_on.isoformat()}：{reason}",
    )
    outbox.notify(
        session=session,
        recipient=finding.reporter.person,
        kind="finding_extended",
        params={
            "number": finding.number,
            "due_on": new_due_on.isoformat(),
            "approved_by": actor.name,
            "reason": reason,
        },
    )
    return finding


def fix(
    *, session: Session, finding_id: int, actor: Person, note: str, photos: Sequence[str] = ()
) -> PatrolFinding:
    finding = _load(session, finding_id)
    post = people.require_staff(
        session=session, actor=actor, estate_id=finding.estate_id, doing="登记整改"
    )
    if post.department_id != finding.department_id and not post.is_manager:
        raise PermissionDenied(f"{finding.number} 不是您部门的整改任务")
    note = required(note, "整改说明")
    FINDING_FLOW.move(session=session, obj=finding, target=F.FIXED, actor=actor, note=note)
    finding.fixed_at, finding.fixed_by, finding.fix_note = utcnow(), post, note
    _attach(session, finding, photos, "done")
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
        doing="现场验证",
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
            kind="finding_rejected",
            params={
                "number": finding.number,
                "note": note,
                "due_on": format_day(finding.due_at, settings_of(session).tz),
            },
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
