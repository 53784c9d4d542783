"""What the owners' survey tells people: the question, the reminder, the results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.clock import format_day
from storage.config import Settings
from storage.i18n import N_
from storage.outbox.notice import Notice
from storage.survey.models import SurveyInvitation
from storage.text import percent

if TYPE_CHECKING:  # the service builds Results and imports these builders
    from storage.survey.service import Results

START = N_("开始评议")


def invited(invitation: SurveyInvitation, settings: Settings) -> Notice:
    """To the household's resident: one question at a time, after 开始评议."""
    survey = invitation.survey
    return Notice(
        "survey_invited",
        N_(
            "【业主评议】{period} 物业服务满意度调查：{unit} 被抽中参加，共 {count} 题，"
            "请在 {closes} 前完成，您的意见会直接送到项目经理。"
        ),
        {
            "period": survey.period,
            "unit": invitation.unit.designation,
            "count": len(survey.items),
            "closes": format_day(survey.closes_at, settings.tz),
        },
        actions=((f"/survey {invitation.id}", START),),
    )


def reminder(invitation: SurveyInvitation, settings: Settings) -> Notice:
    return Notice(
        "survey_reminder",
        N_("【业主评议】提醒：{unit} 的满意度调查还没有完成，{closes} 截止，期待您的意见。"),
        {
            "unit": invitation.unit.designation,
            "closes": format_day(invitation.survey.closes_at, settings.tz),
        },
        actions=((f"/survey {invitation.id}", START),),
    )


def results(found: Results) -> Notice:
    """To the project manager and the quality specialist, when the survey closes."""
    lines = "\n".join(
        f"· {item.label}：{percent(item.rate)}（{item.answered} 份）" for item in found.items
    )
    remarks = "\n".join(f"· {unit}：{remark}" for unit, remark in found.remarks[:10]) or "—"
    return Notice(
        "survey_results",
        N_(
            "【业主评议结果】{period}：抽取 {asked} 户，回收 {answered} 份（回收率 {response}），"
            "综合满意率 {overall}。\n{lines}\n业主意见：\n{remarks}\n"
            "每户的答卷见月度报表的「业主评议」工作表。"
        ),
        {
            "period": found.survey.period,
            "asked": found.asked,
            "answered": found.answered,
            "response": percent(found.response_rate),
            "overall": percent(found.overall),
            "lines": lines,
            "remarks": remarks,
        },
    )
