"""What people are told about patrol findings: one builder per kind of notice."""

from __future__ import annotations

from storage.attachment.models import AttachmentKind, AttachmentPurpose
from storage.clock import format_day
from storage.config import Settings
from storage.i18n import N_, Msg
from storage.outbox.notice import Notice
from storage.patrol.models import PATROL_CATEGORY_LABELS, ExtensionRequest, PatrolFinding


def photos_of(finding: PatrolFinding) -> tuple[str, ...]:
    """What the patroller saw: the managers deciding on more time see it too."""
    return tuple(
        a.ref
        for a in finding.attachments
        if a.kind == AttachmentKind.PHOTO and a.purpose == AttachmentPurpose.REPORT.value
    )


def finding_dispatched(finding: PatrolFinding, settings: Settings) -> Notice:
    """To the department that is to fix it."""
    return Notice(
        "finding_dispatched",
        N_(
            "【巡查问题】{number}\n地点：{place}\n类别：{category}\n{description}\n整改期限：{due_on}"
        ),
        {
            "number": finding.number,
            "place": finding.place,
            "category": Msg(PATROL_CATEGORY_LABELS[finding.category]),
            "description": finding.description,
            "due_on": format_day(finding.due_at, settings.tz),
        },
    )


def finding_extended(finding: PatrolFinding, approved_by: str, settings: Settings) -> Notice:
    """To the patroller who found it: the new deadline and who approved it."""
    return Notice(
        "finding_extended",
        N_("巡查问题 {number} 整改期限已延至 {due_on}（{approved_by} 批准）：{reason}"),
        {
            "number": finding.number,
            "due_on": format_day(finding.due_at, settings.tz),
            "approved_by": approved_by,
            "reason": finding.extension_reason or "",
        },
    )


def finding_rejected(finding: PatrolFinding, settings: Settings) -> Notice:
    """To whoever fixed it: the verification found it not fixed."""
    return Notice(
        "finding_rejected",
        N_("巡查问题 {number} 现场验证未通过：{note}\n请于 {due_on} 前重新整改。"),
        {
            "number": finding.number,
            "note": finding.verification_note or "",
            "due_on": format_day(finding.due_at, settings.tz),
        },
    )


def extension_requested(request: ExtensionRequest) -> Notice:
    """To the managers who may approve it (001: 经理、主管审批)."""
    return Notice(
        "extension_requested",
        N_(
            "【延期申请】巡查问题 {number}：{who} 申请延期至 {due_on}\n原因：{reason}\n"
            "请在「延期审批」中处理。"
        ),
        {
            "number": request.finding.number,
            "who": request.requested_by.person.name,
            "due_on": request.new_due_on.isoformat(),
            "reason": request.reason,
        },
        actions=(
            (f"/approvals {request.id} approve", N_("批准")),
            (f"/approvals {request.id} refuse", N_("驳回")),
        ),
        images=photos_of(request.finding),
    )


def extension_refused(request: ExtensionRequest) -> Notice:
    return Notice(
        "extension_refused",
        N_("巡查问题 {number} 的延期申请未获批准：{note}"),
        {"number": request.finding.number, "note": request.decision_note or ""},
    )


def finding_overdue(finding: PatrolFinding, settings: Settings) -> Notice:
    """Not fixed by its (extended) deadline: to the department's head."""
    return Notice(
        "finding_overdue",
        N_("【巡查问题逾期】{number} {place}：{description}，整改期限 {due_on}"),
        {
            "number": finding.number,
            "place": finding.place,
            "description": finding.description,
            "due_on": format_day(finding.due_at, settings.tz),
        },
    )


def finding_unverified(finding: PatrolFinding, settings: Settings) -> Notice:
    """Fixed, but nobody has verified it on site yet: to customer service."""
    return Notice(
        "finding_unverified",
        N_("【待现场验证】巡查问题 {number} {place} 已于 {fixed_on} 整改，请现场验证。"),
        {
            "number": finding.number,
            "place": finding.place,
            "fixed_on": format_day(finding.fixed_at, settings.tz),
        },
    )
