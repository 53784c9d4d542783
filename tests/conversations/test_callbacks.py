"""回访评价 and 回访: the owner answers the callback, or the desk records it."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from storage.callback.models import Callback, Satisfaction
from storage.database import Database
from storage.people.models import Person
from storage.ticket.models import Ticket, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter


def drain_unblocked(
    chat: Callable[..., Chatter], estate: Database, photos: tuple[str, ...] = ()
) -> Chatter:
    """张伟 reports a blocked drain (BX000001); 周师傅 clears it, leaving these photos."""
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
        repairs.finish_repair(
            session=session, ticket_id=1, actor=tech, note="已疏通", photos=list(photos)
        )
    return owner


def test_an_unsatisfied_callback_answer_opens_the_rework_path(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner = drain_unblocked(chat, estate)
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


def drain_unblocked_and_asked(
    chat: Callable[..., Chatter], estate: Database
) -> tuple[Chatter, int]:
    """The drain cleared, and its callback question with its three answers."""
    from storage.callback import service as callbacks

    owner = drain_unblocked(chat, estate)
    with estate.transaction() as session:
        callback = callbacks.pending_for_ticket(session=session, ticket_id=1)
        assert callback is not None
        asked = callbacks.ask_owner(session=session, callback_id=callback.id)
        assert asked is not None
        assert [label for _, label in asked.buttons or []] == ["满意", "较满意", "不满意"]
        return owner, callback.id


def test_the_callback_questions_button_records_the_answer_at_the_press(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner, callback_id = drain_unblocked_and_asked(chat, estate)
    owner.say("报修")  # in the middle of another flow, as people are
    answered = owner.send(button=f"/callback {callback_id} satisfied")
    assert "感谢您的评价" in answered
    with estate.transaction() as session:
        callback = session.get_one(Callback, callback_id)
        assert callback.satisfaction is Satisfaction.SATISFIED  # recorded before any remark
    assert "已记下" in owner.say("师傅很专业")
    with estate.transaction() as session:
        assert session.get_one(Callback, callback_id).note == "师傅很专业"
    # Pressed again (or after the desk recorded it by phone): who did, and when.
    assert "BX000001 的回访已于" in owner.send(button=f"/callback {callback_id} unsatisfied")
    assert "由 张伟 记录" in owner.text
    with estate.transaction() as session:
        assert session.get_one(Callback, callback_id).satisfaction is Satisfaction.SATISFIED


def test_unsatisfied_pressed_on_the_question_sends_the_repair_back_and_the_reason_follows_it(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    from storage.ticket.models import Ticket

    owner, callback_id = drain_unblocked_and_asked(chat, estate)
    assert "已安排维修人员返工" in owner.send(button=f"/callback {callback_id} unsatisfied")
    owner.say("还是堵")
    with estate.transaction() as session:
        callback = session.get_one(Callback, callback_id)
        assert callback.rework_ticket_id is not None
        rework = session.get_one(Ticket, callback.rework_ticket_id)
        assert "还是堵" in rework.description


def test_another_owner_cannot_answer_someone_elses_callback(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    _, callback_id = drain_unblocked_and_asked(chat, estate)
    neighbour = chat("李强")
    neighbour.send(button=f"/callback {callback_id} unsatisfied")
    with estate.transaction() as session:
        assert session.get_one(Callback, callback_id).done_at is None


def test_the_desk_calling_back_sees_the_photos_the_technician_left(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    drain_unblocked(chat, estate, photos=("telegram:drain",))
    desk_chat = chat("陈静")
    desk_chat.say("回访")
    desk_chat.press(desk_chat.buttons[0])
    desk_chat.press("电话回访")
    assert [r.images for r in desk_chat.replies if r.images] == [("telegram:drain",)]
    assert "完工照片（1 张）" in desk_chat.text
    assert "回访 BX000001：张伟" in desk_chat.text


def test_the_owner_answering_while_the_desk_records_the_callback_ends_the_desks_call_with_why(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner, callback_id = drain_unblocked_and_asked(chat, estate)
    desk_chat = chat("陈静")
    desk_chat.say("回访")
    desk_chat.press(desk_chat.buttons[0])  # BX000001: asked how the callback is made
    assert "感谢您的评价" in owner.send(button=f"/callback {callback_id} satisfied")
    answer = desk_chat.press("电话回访")
    assert "这次回访已经记录过了" in answer
    assert "系统出了点问题" not in answer
    assert not desk_chat.buttons or "电话回访" not in desk_chat.buttons  # the call is over
    assert "回访" in desk_chat.say("回访")  # and the desk goes on with its next one
    with estate.transaction() as session:
        callback = session.get_one(Callback, callback_id)
        assert callback.satisfaction is Satisfaction.SATISFIED  # the owner's answer stands
        assert callback.recorded_by is not None
        assert callback.recorded_by.name == "张伟"


def test_a_problem_not_solved_at_the_callback_is_called_back_again_on_the_day_set(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    """002 2(3)A c: the desk records the next callback date; the ticket waits for it."""
    drain_unblocked(chat, estate)
    desk = chat("陈静")
    desk.say("回访")
    desk.press(desk.buttons[0])
    desk.press("电话回访")
    desk.press("较满意")
    desk.say("下水还有点慢，师傅说要换管")
    desk.press("未解决")
    assert desk.buttons[1].startswith("7 天后")
    assert "再次回访" in desk.press("7 天后")
    with estate.transaction() as session:
        first, follow_up = session.scalars(select(Callback).order_by(Callback.id)).all()
        assert first.done_at is not None
        assert first.satisfaction is Satisfaction.FAIRLY_SATISFIED
        assert follow_up.done_at is None
        assert follow_up.due_at == local(2026, 12, 1, 0, 0)  # through 30 November
        assert session.get_one(Ticket, first.ticket_id).status is TicketStatus.CALLED_BACK
    clock.move_to(local(2026, 11, 30, 10, 0))
    desk.say("回访")
    desk.press(desk.buttons[0])
    desk.press("电话回访")
    desk.press("满意")
    desk.press("跳过")
    assert "已记录回访结果" in desk.press("已解决")
    with estate.transaction() as session:
        assert session.get_one(Ticket, first.ticket_id).status is TicketStatus.CLOSED
