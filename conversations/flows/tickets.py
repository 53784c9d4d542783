"""我的工单: an owner's repairs, complaints and messages, each with its history; and a
sentence typed outside any flow, asked whether it is a repair, a complaint or a message."""

from __future__ import annotations

from conversations.flows.common import (
    chosen_id,
    estate_id,
    is_resident,
    ticket_label,
    ticket_options,
    when,
)
from conversations.messages import Reply
from conversations.steps import WORDS, Choose, Context, Flow, Next, Option, then
from storage.audit import service as audit
from storage.i18n import N_
from storage.ticket import messages, queries
from storage.ticket.models import (
    COMPLAINT_STATUS_LABELS,
    STATUS_LABELS,
    Ticket,
    TicketKind,
    TicketStatus,
)

SHOWN = 10  # the owner's latest tickets, enough for a phone screen


@then("detail")
def _mine_start(ctx: Context) -> Next:
    mine = queries.tickets_of_owner(session=ctx.session, person=ctx.me, limit=SHOWN)
    if not mine:
        ctx.say("您还没有工单。发送「报修」或「投诉」即可提交。")
        return None
    ctx.say("您最近的工单：\n{lines}", lines="\n".join(ticket_label(ctx, t) for t in mine))
    return "detail"


def _mine_options(ctx: Context) -> list[Option]:
    return ticket_options(
        ctx, queries.tickets_of_owner(session=ctx.session, person=ctx.me, limit=SHOWN)
    )


@then()
def _detail(ctx: Context, key: str) -> Next:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=chosen_id(key), viewer=ctx.me)
    lines = [ticket_label(ctx, ticket), ticket.description]
    for event in audit.history(session=ctx.session, object_type="ticket", object_id=ticket.id):
        if event.from_state != event.to_state:
            labels = (
                COMPLAINT_STATUS_LABELS if ticket.kind is TicketKind.COMPLAINT else STATUS_LABELS
            )
            state = ctx.t(labels[TicketStatus(event.to_state)])
            lines.append(f"{when(ctx, event.at)}  {state}")
        elif ticket.kind is TicketKind.REPAIR and event.note:
            # A step within a state (到场, the visiting time) the owner follows too; a
            # complaint's working notes stay the staff's.
            lines.append(f"{when(ctx, event.at)}  {event.note}")
    lines.append(_next_step(ctx, ticket))
    if ticket.kind is TicketKind.REPAIR and ticket.reply_text is None and ticket.done_note:
        lines.append(ctx.t("完工说明：{note}", note=ticket.done_note))
    if ticket.reply_text:
        lines.append(ctx.t("答复：{reply}", reply=ticket.reply_text))
    ctx.replies.append(Reply("\n".join(lines)))
    return None


def _next_step(ctx: Context, ticket: Ticket) -> str:
    """Who holds it now, and what happens next, as the owner would ask on the phone."""
    holder = ticket.assignee.person.name if ticket.assignee else None
    status = ticket.status
    if ticket.kind is TicketKind.REPAIR:
        if status is TicketStatus.NEW:
            return ctx.t("下一步：客服中心派单（{due} 前）", due=when(ctx, ticket.dispatch_due_at))
        if status is TicketStatus.DISPATCHED:
            return ctx.t(
                "现由 {holder} 处理，等待接单",
                holder=holder or (ticket.department.name if ticket.department else ""),
            )
        if status is TicketStatus.ACCEPTED:
            return ctx.t(
                "现由 {holder} 处理，预计上门：{time}；{due} 前完工",
                holder=holder or "",
                time=ticket.expected_time or ctx.t("待定"),
                due=when(ctx, ticket.due_at),
            )
        if status is TicketStatus.DONE:
            return ctx.t("已完工，等待回访")
    elif ticket.kind is TicketKind.MESSAGE:
        if status is TicketStatus.NEW:
            return ctx.t("客服中心将于 {due} 前答复您", due=when(ctx, ticket.due_at))
    elif status in (TicketStatus.NEW, TicketStatus.DISPATCHED, TicketStatus.ESCALATED):
        return ctx.t("下一步：受理并于 {due} 前答复您", due=when(ctx, ticket.reply_due_at))
    elif status is TicketStatus.ACCEPTED:
        return ctx.t("处理中，将于 {due} 前答复您", due=when(ctx, ticket.reply_due_at))
    return ctx.t("当前状态：{status}", status=ctx.t(ticket.status_label))


MINE = Flow(
    key="mine",
    title=N_("我的工单"),
    allowed=is_resident,
    start=_mine_start,
    command=True,
    steps=[Choose("detail", N_("选择一张查看详情："), _mine_options, _detail)],
)


# ------------------------------------------------------------------ a sentence, outside any flow


@then("what")
def _words_start(ctx: Context) -> Next:
    ctx.data[WORDS] = ctx.incoming.said[:2000]
    return "what"


@then()
def _words_kept(ctx: Context, key: str) -> Next:
    # 报修 and 投诉 are buttons that start their flows (which take the sentence); 留言 and
    # 都不是 reach here.
    words = str(ctx.data.pop(WORDS, ""))
    if key == LEAVE_MESSAGE.key:
        units = ctx.units()
        ticket = messages.leave_message(
            session=ctx.session,
            actor=ctx.me,
            text=words,
            estate_id=estate_id(ctx),
            unit_id=units[0].id if units else None,
        )
        ctx.say(
            "已留言给客服中心，单号 {number}。{hours} 小时内在这里答复您；"
            "发送「我的工单」可随时查看。",
            number=ticket.number,
            hours=ctx.settings.message_reply_hours,
        )
        return None
    ctx.show_menu = True
    return None


def _words_prompt(ctx: Context) -> str:
    return ctx.t(
        "您说：「{said}」\n要为此报修、投诉，还是留言给客服中心（咨询、建议）？",
        said=str(ctx.data.get(WORDS, ""))[:50],
    )


LEAVE_MESSAGE = Option("message", N_("留言给客服中心"))


WORDS_FLOW = Flow(
    key="words",
    title=N_("留言"),
    allowed=is_resident,
    start=_words_start,
    starts_on_words=True,
    listed=False,
    steps=[
        Choose(
            "what",
            _words_prompt,
            [
                Option("/repair", N_("报修")),
                Option("/complaint", N_("投诉")),
                LEAVE_MESSAGE,
                Option("neither", N_("都不是")),
            ],
            _words_kept,
        )
    ],
)
