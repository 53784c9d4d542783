"""留言: an owner's question for the desk (001 第十条: 咨询、建议), answered in chat."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from scheduler import jobs
from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.ticket.models import Ticket, TicketKind, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter


def notices(db: Database, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        return list(
            s.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        )


def the_message(db: Database) -> Ticket:
    with db.session() as s:
        return s.scalars(select(Ticket).where(Ticket.kind == TicketKind.MESSAGE)).one()


def leave_a_question(chat: Callable[..., Chatter]) -> Chatter:
    owner = chat("张伟")
    assert "留言给客服中心" in owner.say("请问物业费可以用微信交吗")
    assert "单号 LY000001" in owner.press("留言给客服中心")
    return owner


def test_a_question_in_words_becomes_a_message_the_desk_answers_in_chat(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 10, 0))  # a Tuesday, the desk open
    owner = leave_a_question(chat)
    message = the_message(estate)
    assert message.description == "请问物业费可以用微信交吗"
    assert message.due_at == local(2026, 11, 25, 10, 0)  # 24 hours
    [left] = notices(estate, "message_left")
    assert left.recipient is not None
    assert left.recipient.name == "陈静"
    assert left.buttons == [[f"/messages {message.id}", "答复"]]
    desk = chat("陈静")
    desk.say("巡查")  # busy with something else
    assert "请问物业费可以用微信交吗" in desk.send(button=f"/messages {message.id}")
    assert "已答复 LY000001，已通知 张伟" in desk.say("可以，在「缴费」里选微信支付")
    [answered] = notices(estate, "message_answered")
    assert "可以，在「缴费」里选微信支付" in answered.text
    assert the_message(estate).status is TicketStatus.CLOSED
    # A colleague pressing 答复 later is told who answered, when and what.
    colleague = chat("刘洋")
    assert "LY000001 已于 2026-11-24 10:00 由 陈静 答复" in colleague.send(
        button=f"/messages {message.id}"
    )
    owner.say("我的工单")
    assert "LY000001" in owner.text


def test_the_desk_finds_waiting_messages_in_its_menu(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 10, 0))
    leave_a_question(chat)
    desk = chat("陈静")
    desk.say("留言答复")
    [waiting] = desk.buttons
    assert waiting.startswith("LY000001")
    desk.press(waiting)
    assert "请输入答复" in desk.text
    assert "已答复 LY000001" in desk.say("可以")


def test_a_message_left_at_night_reaches_the_desk_at_opening_and_its_supervisor_when_late(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 22, 0))
    leave_a_question(chat)
    assert notices(estate, "message_left") == []
    clock.move_to(local(2026, 11, 25, 8, 31))
    with estate.transaction() as s:
        jobs.message_deadlines(s, local(2026, 11, 25, 8, 31))
    assert len(notices(estate, "message_left")) == 1
    clock.move_to(local(2026, 11, 25, 22, 30))  # past its 24 hours, but at night: nothing
    with estate.transaction() as s:
        assert jobs.message_deadlines(s, local(2026, 11, 25, 22, 30)) == 0
    clock.move_to(local(2026, 11, 26, 9, 0))
    with estate.transaction() as s:
        jobs.message_deadlines(s, local(2026, 11, 26, 9, 0))
        jobs.message_deadlines(s, local(2026, 11, 26, 9, 1))  # once a working day
    [late] = notices(estate, "message_not_answered")
    assert late.recipient is not None
    assert late.recipient.name == "孙丽"
    assert len(notices(estate, "message_left")) == 1
    desk = chat("陈静")
    assert "超期未答复的留言 1" in desk.say("逾期事项")
