"""留言答复: the desk answers owners' messages (咨询、建议) in chat, from the menu or from
the notice's 答复 button."""

from __future__ import annotations

from conversations.flows.common import chosen_id, estate_id, has_role, ticket_options, when
from conversations.steps import AskText, Choose, Context, Flow, Next, Option, then
from storage.i18n import N_
from storage.people.models import DESK_ROLES
from storage.ticket import messages, queries


def _waiting(ctx: Context) -> list[Option]:
    return ticket_options(ctx, messages.waiting(session=ctx.session, estate_id=estate_id(ctx)))


@then("message", "answer")
def _messages_start(ctx: Context) -> Next:
    wanted = ctx.data.get("argument", "")
    if wanted.isdigit():  # the notice's 答复
        messages.unanswered(session=ctx.session, ticket_id=int(wanted), actor=ctx.me)
        ctx.data["ticket_id"] = int(wanted)
        return "answer"
    if not _waiting(ctx):
        ctx.say("目前没有待答复的留言。")
        return None
    return "message"


@then("answer")
def _chosen(ctx: Context, key: str) -> Next:
    ctx.data["ticket_id"] = chosen_id(key)
    return "answer"


def _answer_prompt(ctx: Context) -> str:
    ticket = queries.get_ticket(session=ctx.session, ticket_id=ctx.data["ticket_id"], viewer=ctx.me)
    return ctx.t(
        "{number} {name}（{where}）于 {at} 留言：\n{text}\n请输入答复（会发到业主的聊天）：",
        number=ticket.number,
        name=ticket.reporter.name,
        where=ticket.where,
        at=when(ctx, ticket.created_at),
        text=ticket.description,
    )


@then()
def _answered(ctx: Context, text: str) -> Next:
    ticket = messages.answer_message(
        session=ctx.session, ticket_id=ctx.data["ticket_id"], actor=ctx.me, text=text
    )
    ctx.say("已答复 {number}，已通知 {name}。", number=ticket.number, name=ticket.reporter.name)
    return None


MESSAGES = Flow(
    key="messages",
    title=N_("留言答复"),
    allowed=lambda ctx: has_role(ctx, DESK_ROLES),
    start=_messages_start,
    steps=[
        Choose("message", N_("待答复的留言（最早的在前）："), _waiting, _chosen),
        AskText("answer", _answer_prompt, _answered, what=N_("答复内容"), max_length=2000),
    ],
)
