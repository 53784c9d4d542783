"""The wording of notifications, in the desk's language (zh-Hans).

Kept apart from the services so that a translation (a later issue) replaces
this table, not the rules that decide who is told what.
"""

from __future__ import annotations

from typing import Any

TEMPLATES: dict[str, str] = {
    "repair_dispatched": "【新维修单】{number}\n地点：{where}\n类别：{category}\n{description}",
    "repair_done": (
        "您的报修 {number} 已完工：{note}\n我们将于 {callback_due_on} 前回访，感谢您的耐心。"
    ),
    "rework_assigned": (
        "【返工单】{number}（原单 {original}）\n业主回访不满意：{note}\n请于 {due} 前处理完毕。"
    ),
    "complaint_forwarded": (
        "【投诉转办】{number}：{subject}\n地点：{where}\n{description}\n"
        "请于 {handle_due} 前受理，{reply_due} 前答复业主。"
    ),
    "major_complaint": (
        "【重大投诉】{number}：{subject}\n地点：{where}\n{description}\n"
        "须于 {reply_due} 前答复业主。"
    ),
    "complaint_reply_date": (
        "您的投诉 {number} 已上报项目负责人处理，我们将于 {reply_due} 前答复您。"
    ),
    "complaint_replied": "您的投诉 {number} 答复如下：\n{reply}",
    "complaint_unsatisfied": (
        "【投诉回访不满意】{number}：{subject}\n业主意见：{note}\n请于 {reply_due} 前再次答复。"
    ),
    "finding_dispatched": (
        "【巡查问题】{number}\n地点：{place}\n类别：{category}\n{description}\n整改期限：{due_on}"
    ),
    "finding_extended": "巡查问题 {number} 整改期限已延至 {due_on}（{approved_by} 批准）：{reason}",
    "finding_rejected": "巡查问题 {number} 现场验证未通过：{note}\n请于 {due_on} 前重新整改。",
}


def render(kind: str, params: dict[str, Any]) -> str:
    return TEMPLATES[kind].format(**params)
