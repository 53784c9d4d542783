"""The wording of notifications: zh-Hans message ids, translated for each recipient."""

from __future__ import annotations

from collections.abc import Mapping

from storage.i18n import N_, Msg, translator

TEMPLATES: dict[str, str] = {
    "repair_dispatched": N_("【新维修单】{number}\n地点：{where}\n类别：{category}\n{description}"),
    "repair_done": N_(
        "您的报修 {number} 已完工：{note}\n我们将于 {callback_due_on} 前回访，感谢您的耐心。"
    ),
    "rework_assigned": N_(
        "【返工单】{number}（原单 {original}）\n业主回访不满意：{note}\n请于 {due} 前处理完毕。"
    ),
    "complaint_forwarded": N_(
        "【投诉转办】{number}：{subject}\n地点：{where}\n{description}\n"
        "请于 {handle_due} 前受理，{reply_due} 前答复业主。"
    ),
    "major_complaint": N_(
        "【重大投诉】{number}：{subject}\n地点：{where}\n{description}\n"
        "须于 {reply_due} 前答复业主。"
    ),
    "complaint_reply_date": N_(
        "您的投诉 {number} 已上报项目负责人处理，我们将于 {reply_due} 前答复您。"
    ),
    "complaint_replied": N_("您的投诉 {number} 答复如下：\n{reply}"),
    "complaint_unsatisfied": N_(
        "【投诉回访不满意】{number}：{subject}\n业主意见：{note}\n请于 {reply_due} 前再次答复。"
    ),
    "finding_dispatched": N_(
        "【巡查问题】{number}\n地点：{place}\n类别：{category}\n{description}\n整改期限：{due_on}"
    ),
    "finding_extended": N_(
        "巡查问题 {number} 整改期限已延至 {due_on}（{approved_by} 批准）：{reason}"
    ),
    "finding_rejected": N_("巡查问题 {number} 现场验证未通过：{note}\n请于 {due_on} 前重新整改。"),
    "extension_requested": N_(
        "【延期申请】巡查问题 {number}：{who} 申请延期至 {due_on}\n原因：{reason}\n"
        "请在「延期审批」中处理。"
    ),
    "extension_refused": N_("巡查问题 {number} 的延期申请未获批准：{note}"),
    "callback_due": N_(
        "您的报修 {number}（{category}）已完工，想听听您的评价：请回复「回访评价」。"
    ),
    "callback_reminder": N_(
        "【回访提醒】{number} {where}（{owner} {phone}）今天到回访期限，请及时回访。"
    ),
    "callback_overdue": N_(
        "【回访逾期】{number} {where}（{owner} {phone}）的回访 {due_on} 到期，仍未完成。"
    ),
    "complaint_unhandled": N_("【投诉超 24 小时未受理】{number}：{subject}（{where}）"),
    "complaint_unanswered": N_("【投诉超时未答复】{number}：{subject}（{where}），答复期限 {due}"),
    "finding_overdue": N_("【巡查问题逾期】{number} {place}：{description}，整改期限 {due_on}"),
    "finding_unverified": N_(
        "【待现场验证】巡查问题 {number} {place} 已于 {fixed_on} 整改，请现场验证。"
    ),
    "quality_sample": N_("【品质抽查】本周请电话回访以下 {count} 户：\n{lines}"),
    "binding_requested": N_("【绑定审核】{name}（{unit}）申请绑定，请在「绑定审核」中处理。"),
    "binding_approved": N_("您的账号已通过审核，可以开始使用了。发送「帮助」查看可用功能。"),
    "binding_refused": N_("您的绑定申请未通过审核，如有疑问请联系客服中心。"),
}


def render(kind: str, params: Mapping[str, object], locale: str | None) -> str:
    return translator(locale)(Msg(TEMPLATES[kind], **params))
