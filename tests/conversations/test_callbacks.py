"""回访评价 and 回访: the owner answers the callback, or the desk records it."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from storage.callback.models import Callback, Satisfaction
from storage.database import Database
from storage.people.models import Person
from tests.conftest import local
from tests.conversations.conftest import Chatter


def test_an_unsatisfied_callback_answer_opens_the_rework_path(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    from storage.ticket import lifecycle, repairs

    owner = chat("张伟")
    owner.say("报修")
    owner.press("水管/下水")
    owner.press("1-1-502")
    owner.say("厨房下水道堵塞")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    with estate.transaction() as session:
        desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
        repairs.dispatch_repair(session=session, ticket_id=1, actor=desk)
        lifecycle.accept(session=session, ticket_id=1, actor=tech)
        repairs.finish_repair(session=session, ticket_id=1, actor=tech, note="已疏通")
    clock.move_to(local(2026, 11, 25, 10, 0))
    assert "您对 BX000001" in owner.say("回访评价")
    owner.press("不满意")
    reply = owner.say("还是堵")
    assert "已安排维修人员返工，24 小时内处理" in reply
    with estate.transaction() as session:
        callback = session.scalars(select(Callback)).first()
        assert callback is not None
        assert callback.satisfaction is Satisfaction.UNSATISFIED
        assert callback.rework_ticket_id is not None
    assert "目前没有需要您评价的回访" in owner.say("回访评价")
