"""我的工单: an owner's repairs and complaints, each with its history."""

from __future__ import annotations

from conversations.flows.common import chosen_id, is_resident, ticket_label, ticket_options, when
from conversations.messages import Reply
from conversations.steps import Choose, Context, Flow, Next, Option, then
from storage.audit import service as audit
from storage.i18n import N_
from storage.ticket import queries
from storage.ticket.models import STATUS_LABELS, TicketKind, TicketStatus

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
        lines.append(f"{when(ctx, event.at)}  {ctx.t(STATUS_LABELS[TicketStatus(event.to_state)])}")
    if ticket.kind is TicketKind.REPAIR and ticket.reply_text is None and ticket.done_note:
        lines.append(ctx.t("完工说明：{note}", note=ticket.done_note))
    if ticket.reply_text:
        lines.append(ctx.t("答复：{reply}", reply=ticket.reply_text))
    ctx.replies.append(Reply("\n".join(lines)))
    return None


MINE = Flow(
    key="mine",
    title=N_("我的工单"),
    allowed=is_resident,
    start=_mine_start,
    command=True,
    steps=[Choose("detail", N_("选择一张查看详情："), _mine_options, _detail)],
)
