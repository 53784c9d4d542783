"""A repair from the owner's first words to the technician at the door, in chat: the
desk's registration of a phone report, a notice's buttons pressed from anywhere, and the
owner told at each step."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from conversations.engine import offer
from conversations.messages import Button
from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.ticket.models import Ticket, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter


def notices_to(db: Database, name: str, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return [m for m in rows if m.recipient is not None and m.recipient.name == name]


def only_ticket(db: Database) -> Ticket:
    with db.session() as s:
        return s.scalars(select(Ticket)).one()


def test_a_sentence_from_an_owner_becomes_a_repair_whose_description_is_that_sentence(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner = chat("张伟")
    assert "要为此报修、投诉，还是留言给客服中心" in owner.say("我家厕所漏水了，快来人")
    assert "请选择报修类别" in owner.press("报修")
    owner.press("房屋渗漏水")
    owner.press("1-1-502")
    assert "请发送照片" in owner.text  # the description was the sentence
    owner.press("跳过")
    owner.press("跳过")
    assert "描述：我家厕所漏水了，快来人" in owner.text
    assert "报修成功" in owner.press("确认提交")
    assert only_ticket(estate).description == "我家厕所漏水了，快来人"


def test_skip_is_refused_where_an_answer_is_needed_and_not_kept(
    chat: Callable[..., Chatter], clock: time_machine.Traveller
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("水管/下水")
    owner.press("1-1-502")
    assert "这一步不能跳过，请填写报修内容" in owner.say("跳过")
    assert "请描述问题" in owner.text


def test_a_repair_after_hours_is_told_when_the_desk_will_see_it(
    chat: Callable[..., Chatter], clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 19, 0))
    owner = chat("张伟")
    owner.say("报修")
    owner.press("水管/下水")
    owner.press("1-1-502")
    owner.say("下水道堵了")
    owner.press("跳过")
    owner.press("跳过")
    assert "2026-11-25 08:30 上班后会派单" in owner.press("确认提交")


def test_an_urgent_repair_at_night_reaches_the_technician_on_duty_who_accepts_from_another_flow(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 23, 10))
    owner, night = chat("张伟"), chat("吴师傅")
    owner.say("报修")
    owner.press("水管/下水")
    owner.press("1-1-502")
    owner.say("水管爆了，水流到楼道")
    owner.press("跳过")
    owner.press("跳过")
    assert "紧急程度：一般" in owner.text
    assert "紧急程度：紧急维修" in owner.press("标为紧急")
    assert "紧急报修已受理" in owner.press("确认提交")
    ticket = only_ticket(estate)
    [page] = notices_to(estate, "吴师傅", "urgent_page")
    assert page.buttons == [[f"/take {ticket.id}", "接单"]]
    # The desk, with nobody of it rostered at night, is paged too: to send someone.
    [desk_page] = notices_to(estate, "陈静", "urgent_page")
    assert desk_page.buttons == [[f"/assign {ticket.id}", "派单"]]
    night.say("报修")  # in the middle of something else
    answer = night.send(button=f"/take {ticket.id}")
    assert "（已离开「报修」，没有保存。）" in answer
    assert f"已接单 {ticket.number}" in answer
    assert "预计什么时候上门" in answer
    assert "已告诉业主：预计 10分钟 上门" in night.say("10分钟")
    [taken] = notices_to(estate, "张伟", "repair_taken")
    assert "已由 吴师傅 接单" in taken.text
    [expected] = notices_to(estate, "张伟", "repair_expected")
    assert "吴师傅 预计 10分钟 上门" in expected.text
    # The same page pressed by another: who did what, when.
    other = chat("周师傅")
    assert "已由 吴师傅 于 2026-11-24 23:10" in other.send(button=f"/take {ticket.id}")
    owner.say("我的工单")
    assert "现由 吴师傅 处理，预计上门：10分钟" in owner.press(ticket.number)


def test_the_desk_registers_a_phone_report_for_the_owner_of_a_unit(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    owner, desk = chat("张伟"), chat("陈静")
    desk.say("登记报修")
    desk.press("电话")
    assert "本小区没有房号" in desk.say("9-9-999")
    assert "是哪位住户报修" in desk.say("1-1-502")
    desk.press("张伟")
    desk.press("门窗/门锁")
    desk.say("入户门锁打不开")
    desk.press("跳过")
    assert "来源：电话" in desk.text
    assert "报修人：张伟" in desk.text
    assert "已在聊天中告诉业主单号" in desk.press("确认提交")
    ticket = only_ticket(estate)
    assert ticket.reporter.name == "张伟"
    assert ticket.channel == "phone"
    [received] = notices_to(estate, "张伟", "repair_received")
    assert f"单号 {ticket.number}" in received.text
    assert owner.user  # bound: the notice reaches their chat


def test_an_intake_alerts_dispatch_button_dispatches_and_a_second_press_says_who_did(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 10, 0))
    owner, desk, supervisor = chat("张伟"), chat("陈静"), chat("孙丽")
    owner.say("报修")
    owner.press("电路/照明")
    owner.press("1-1-502")
    owner.say("客厅灯不亮")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    ticket = only_ticket(estate)
    [alert] = notices_to(estate, "陈静", "repair_reported")
    assert alert.buttons == [[f"/assign {ticket.id}", "派单"]]
    assert "派给谁" in desk.send(button=f"/assign {ticket.id}")
    assert "已派给 周师傅" in desk.press("周师傅")
    assert "已由 陈静" in supervisor.send(button=f"/assign {ticket.id}")
    [told] = notices_to(estate, "张伟", "repair_on_its_way")
    assert "已派给 周师傅" in told.text
    assert only_ticket(estate).status is TicketStatus.DISPATCHED


def _gas_smelled_and_paged(owner: Chatter, tech: Chatter, estate: Database) -> Ticket:
    """The owner reports a gas smell (urgent by nature), and the dispatcher delivers the page
    to the technician's chat, which WeChat shows as "1. 接单"."""
    owner.say("报修")
    owner.press("燃气")
    owner.press("1-1-502")
    owner.say("厨房有煤气味")
    owner.press("跳过")
    owner.press("跳过")
    assert "标为紧急" not in owner.buttons
    owner.press("确认提交")
    ticket = only_ticket(estate)
    with estate.transaction() as s:
        offer(
            session=s,
            platform="telegram",
            chat_id=tech.user,
            buttons=[Button(f"/take {ticket.id}", "接单")],
        )
    return ticket


def test_on_wechat_a_notices_numbered_choice_is_taken_as_its_button(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 23, 10))
    tech, owner = chat("吴师傅"), chat("张伟")
    tech.say("今日值班")
    ticket = _gas_smelled_and_paged(owner, tech, estate)
    # The chat's next number outside a flow presses the page's button.
    assert f"已接单 {ticket.number}" in tech.say("1")


def test_on_wechat_a_notice_that_came_in_the_middle_of_a_flow_is_what_its_number_presses(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    clock.move_to(local(2026, 11, 24, 23, 10))
    tech, owner = chat("吴师傅"), chat("张伟")
    tech.say("语言")
    assert "English" in tech.buttons  # a question numbered 1, 2, … is on his screen
    # The page reached him after the question: "1. 接单" is the last list he read.
    ticket = _gas_smelled_and_paged(owner, tech, estate)
    assert f"已接单 {ticket.number}" in tech.say("1")
    # For that next message only: the numbers of the question he is asked now are its own.
    tech.say("语言")
    assert "Language switched to English" in tech.say("3")
