"""设为部门通知群: a department head makes a group chat their department's notice group."""

from __future__ import annotations

from conversations.flows.common import estate_id, has_role
from conversations.steps import Context, Flow, Next, then
from storage.chat import service as chat
from storage.errors import InvalidInput
from storage.i18n import N_
from storage.people import service as people
from storage.people.models import MANAGER_ROLES


@then()
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


def _may_link(ctx: Context) -> bool:
    """A department head, in a group chat. Not offered in a private chat, where it cannot
    work; asked for there by name (or as /link), it says where to ask."""
    if not has_role(ctx, MANAGER_ROLES):
        return False
    incoming = ctx.incoming
    in_group = incoming.chat_id != incoming.user_id
    return in_group or LINK.matches(incoming.said) or incoming.button == f"/{LINK.key}"


LINK = Flow(
    key="link",
    title=N_("设为部门通知群"),
    allowed=_may_link,
    start=_link,
    steps=[],
)
