"""What people are told about patrol findings: one builder per kind of notice."""

from __future__ import annotations

from datetime import date

from storage.attachment.models import AttachmentKind, AttachmentPurpose
from storage.clock import format_day
from storage.config import Settings
from storage.i18n import N_, Msg
from storage.outbox.notice import Notice
from storage.patrol.models import (
    PATROL_CATEGORY_LABELS,
    ROUND_KIND_LABELS,
    ExtensionRequest,
    PatrolFinding,
    PatrolRound,
)


def photos_of(finding: PatrolFinding) -> tuple[str, ...]:
    """What the patroller saw: the managers deciding on more time see it too."""
    return tuple(
        a.ref
        for a in finding.attachments
        if a.kind == AttachmentKind.PHOTO and a.purpose == AttachmentPurpose.REPORT.value
    )


def _rectify(finding: PatrolFinding) -> tuple[tuple[str, str], ...]:
    """The department's buttons: open the finding in 整改 (fixed, work order, more time, not
    ours)."""
    return ((f"/rectify {finding.id}", N_("整改")),)


def finding_dispatched(finding: PatrolFinding, settings: Settings) -> Notice:
    """To the department that is to fix it, with what the patroller saw."""
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
        actions=_rectify(finding),
        images=photos_of(finding),
    )


def finding_urgent(finding: PatrolFinding, settings: Settings) -> Notice:
    """001 4.4.5: a gas or burning smell, to the department head, who is on duty and the
    project manager, at once."""
    return Notice(
        "finding_urgent",
        N_(
            "【紧急巡查问题】{number} {place}：{description}\n发现人：{reporter}，"
            "责任部门：{department}。请立即处理。"
        ),
        {
            "number": finding.number,
            "place": finding.place,
            "description": finding.description,
            "reporter": finding.reporter.person.name,
            "department": finding.department.name if finding.department else "",
        },
        actions=_rectify(finding),
        images=photos_of(finding),
    )


def finding_fixed(finding: PatrolFinding, settings: Settings) -> Notice:
    """To who verifies it on site (001 4.9.4): the patroller, or the desk."""
    return Notice(
        "finding_fixed",
        N_("【待现场验证】巡查问题 {number} {place}：{who} 已整改：{note}\n请到现场验证。"),
        {
            "number": finding.number,
            "place": finding.place,
            "who": finding.fixed_by.person.name if finding.fixed_by else "",
            "note": finding.fix_note or "",
        },
        actions=((f"/verify {finding.id}", N_("现场验证")),),
        images=tuple(a.ref for a in finding.attachments if a.kind == AttachmentKind.PHOTO),
    )


def finding_returned(finding: PatrolFinding, by: str) -> Notice:
    """To the desk: a department says the finding is not theirs."""
    return Notice(
        "finding_returned",
        N_("【巡查问题退回】{number} {place}：{department}（{who}）退回：{reason}\n请改派。"),
        {
            "number": finding.number,
            "place": finding.place,
            "department": finding.department.name if finding.department else "",
            "who": by,
            "reason": finding.return_reason or "",
        },
        actions=_rectify(finding),
    )


def finding_extended(finding: PatrolFinding, approved_by: str, settings: Settings) -> Notice:
    """To who asked for it and the patroller who found it: the new deadline, who approved."""
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
        N_("巡查问题 {number} {place} 现场验证未通过：{note}\n请于 {due_on} 前重新整改。"),
        {
            "number": finding.number,
            "place": finding.place,
            "note": finding.verification_note or "",
            "due_on": format_day(finding.due_at, settings.tz),
        },
        actions=_rectify(finding),
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
        actions=((f"/verify {finding.id}", N_("现场验证")),),
    )


def round_reminder(patrol_round: PatrolRound, day: date) -> Notice:
    """At the window's start, to who walks the round."""
    return Notice(
        "round_reminder",
        N_("【巡检提醒】{round}（{kind}）{starts}-{ends}：{areas}\n巡检后请在「巡检记录」中登记。"),
        {
            "round": patrol_round.name,
            "kind": Msg(ROUND_KIND_LABELS.get(patrol_round.kind, patrol_round.kind.value)),
            "starts": patrol_round.starts_at.strftime("%H:%M"),
            "ends": patrol_round.ends_at.strftime("%H:%M"),
            "areas": "、".join(patrol_round.area_names()) or Msg(N_("上周的巡查问题")),
        },
        actions=((f"/round {patrol_round.id}", N_("巡检记录")),),
    )


def round_missed(patrol_round: PatrolRound, day: date, walkers: str) -> Notice:
    """At the window's end, to the supervisor: nobody recorded the round."""
    return Notice(
        "round_missed",
        N_("【巡检未完成】{day} {round}（{starts}-{ends}，{walkers}）到时未登记。"),
        {
            "day": day.isoformat(),
            "round": patrol_round.name,
            "starts": patrol_round.starts_at.strftime("%H:%M"),
            "ends": patrol_round.ends_at.strftime("%H:%M"),
            "walkers": walkers,
        },
    )
