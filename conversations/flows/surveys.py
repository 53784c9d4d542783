"""业主评议: a drawn household's resident answers the quarter's questionnaire, one question
at a time (满意 / 较满意 / 不满意), then a remark; nothing is kept until the last answer."""

from __future__ import annotations

from conversations.flows.common import is_resident
from conversations.steps import SATISFACTION, AskText, Choose, Context, Flow, Next, then
from storage.i18n import N_
from storage.survey import service as surveys
from storage.survey.models import SurveyInvitation


def _invitation(ctx: Context) -> SurveyInvitation:
    return surveys.invitation(
        session=ctx.session, invitation_id=ctx.data["invitation_id"], person=ctx.me
    )


@then("item")
def _start(ctx: Context) -> Next:
    argument = ctx.data.pop("argument", "")
    if argument.isdigit():
        found = surveys.invitation(session=ctx.session, invitation_id=int(argument), person=ctx.me)
    else:
        waiting = surveys.open_invitations(session=ctx.session, person=ctx.me)
        if not waiting:
            ctx.say("目前没有需要您填写的业主评议问卷。")
            return None
        found = waiting[0]
    ctx.data["invitation_id"] = found.id
    ctx.data["answers"] = {}
    ctx.data["question"] = found.survey.items[0]["key"]
    ctx.say(
        "感谢参加 {period} 业主评议（{unit}），共 {count} 题。",
        period=found.survey.period,
        unit=found.unit.designation,
        count=len(found.survey.items),
    )
    return "item"


def _current(ctx: Context) -> dict[str, str]:
    items = _invitation(ctx).survey.items
    return items[len(ctx.data["answers"])]


def _question(ctx: Context) -> str:
    items = _invitation(ctx).survey.items
    number = len(ctx.data["answers"]) + 1
    return ctx.t(
        "第 {number}/{count} 题：您对「{item}」满意吗？",
        number=number,
        count=len(items),
        item=_current(ctx)["label"],
    )


@then("item", "remark")
def _answered(ctx: Context, key: str) -> Next:
    ctx.data["answers"][_current(ctx)["key"]] = key
    items = _invitation(ctx).survey.items
    if len(ctx.data["answers"]) == len(items):
        return "remark"
    ctx.data["question"] = _current(ctx)["key"]  # which question the step is on now
    return "item"


@then()
def _remark(ctx: Context, text: str) -> Next:
    surveys.answer(
        session=ctx.session,
        invitation_id=ctx.data["invitation_id"],
        person=ctx.me,
        answers=ctx.data["answers"],
        remark=text,
    )
    ctx.say("问卷已提交，感谢您对物业工作的支持！您的意见会送到项目经理。")
    return None


SURVEY = Flow(
    key="survey",
    title=N_("业主评议"),
    allowed=is_resident,
    start=_start,
    listed=False,
    steps=[
        Choose("item", _question, SATISFACTION, _answered),
        AskText(
            "remark",
            N_("还有什么意见或建议吗？（可跳过）"),
            _remark,
            what=N_("意见"),
            max_length=1000,
            skippable=True,
        ),
    ],
)
