"""设为部门通知群: a department's notice group."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from tests.conversations.conftest import Chatter, report_leak


def test_a_department_head_links_a_group_which_then_gets_the_departments_notices(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    from storage.ticket import repairs

    head = chat("郑工")
    assert "请在部门的群聊里发送这个命令" in head.say("/link")
    in_group = Chatter(head.engine, head.user, chat_id="-100555")
    assert "本群已设为工程部的通知群" in in_group.say("/link")
    assert "您没有权限使用「设为部门通知群」" in chat("周师傅").say("/link")
    report_leak(chat)
    with estate.transaction() as session:
        clerk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        # To engineering with nobody named: the department is told, in its group.
        repairs.dispatch_repair(session=session, ticket_id=1, actor=clerk)
    with estate.transaction() as session:
        notices = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "repair_dispatched")
        ).all()
        assert [(n.platform, n.chat_id, n.recipient_id) for n in notices] == [
            ("telegram", "-100555", None)
        ]
