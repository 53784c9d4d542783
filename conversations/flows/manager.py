"""What supervisors and the project manager do in chat: 今日汇总, 逾期事项, 延期审批."""

from __future__ import annotations

from conversations.flows.common import chosen_id, day, estate_id, has_role
from conversations.reports import day_summary, overdue_summary
from conversations.steps import (
    AskText,
    Choose,
    Context,
    Flow,
    Next,
    Option,
    remember,
    unless_empty,
)
from storage.activity import day_activity
from storage.chat import service as chat
from storage.clock import utcnow
from storage.errors import InvalidInput
from storage.i18n import N_
from storage.patrol import service as patrols
from storage.people import service as people
from storage.people.models import DESK_ROLES, MANAGER_ROLES


def _today(ctx: Context) -> Next:
    activity = day_activity(session=ctx.session, estate_id=estate_id(ctx), day=ctx.today())
    ctx.say(day_summary(activity, ctx.t))
    return None


def _overdue(ctx: Context) -> Next:
    ctx.say(
        overdue_summary(
            session=ctx.session,
            settings=ctx.settings,
            estate_id=estate_id(ctx),
            now=utcnow(),
            t=ctx.t,
        )
    )
    return None


TODAY = Flow(
    key="today",
    title=N_("今日汇总"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=_today,
    steps=[],
)

OVERDUE = Flow(
    key="overdue",
    title=N_("逾期事项"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=_overdue,
    steps=[],
)


def _requests(ctx: Context) -> list[Option]:
    return [
        Option(
            str(r.id),
            ctx.t(
                "{number} {place}：{who} 申请延至 {new_due}（现期限 {due_on}）：{reason}",
                number=r.finding.number,
                place=r.finding.place,
                who=r.requested_by.person.name,
                new_due=r.new_due_on.isoformat(),
                due_on=day(ctx, r.finding.due_at),
                reason=r.reason,
            ),
            translate=False,
        )
        for r in patrols.pending_extensions(session=ctx.session, estate_id=estate_id(ctx))
    ]


def _opinion(ctx: Context, text: str) -> Next:
    request = patrols.decide_extension(
        session=ctx.session,
        request_id=ctx.data["request_id"],
        actor=ctx.me,
        approve=bool(ctx.data["approve"]),
        note=text or None,
    )
    if ctx.data["approve"]:
        ctx.say(
            "已批准 {number} 延期至 {due_on}。",
            number=request.finding.number,
            due_on=request.new_due_on.isoformat(),
        )
    else:
        ctx.say("已驳回 {number} 的延期申请，已通知申请人。", number=request.finding.number)
    return None


APPROVALS = Flow(
    key="approvals",
    title=N_("延期审批"),
    allowed=lambda ctx: has_role(ctx, MANAGER_ROLES),
    start=unless_empty(_requests, N_("目前没有待审批的延期申请。"), "request"),
    steps=[
        Choose(
            "request",
            N_("待审批的延期申请："),
            _requests,
            remember("request_id", "decision", chosen_id),
        ),
        Choose(
            "decision",
            N_("审批结果："),
            [Option("approve", N_("批准")), Option("refuse", N_("驳回"))],
            remember("approve", "opinion", lambda key: key == "approve"),
        ),
        AskText(
            "opinion",
            N_("审批意见（驳回时必填）："),
            _opinion,
            what=N_("审批意见"),
            max_length=500,
            skippable=True,
        ),
    ],
)


def _link(ctx: Context) -> Next:
    incoming = ctx.incoming
    if incoming.chat_id == incoming.user_id:
        raise InvalidInput("请在部门的群聊里发送这个命令")
    link = chat.link_department_chat(
        session=ctx.session,
        actor=ctx.me,
        estate_id=estate_id(ctx),
        platform=incoming.platform,
        chat_id=incoming.chat_id,
    )
    department = people.get_department(
        session=ctx.session, department_id=link.department_id, estate_id=estate_id(ctx)
    )
    ctx.say(
        "本群已设为{department}的通知群：派给部门的工单、巡查问题、投诉转办和提醒会发到这里。",
        department=department.name,
    )
    return None


LINK = Flow(
    key="link",
    title=N_("设为部门通知群"),
    allowed=lambda ctx: has_role(ctx, MANAGER_ROLES),
    start=_link,
    steps=[],
)
