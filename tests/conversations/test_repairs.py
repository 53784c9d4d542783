"""报修, 派单, 维修工单: from the owner's report to the technician's finish."""

from __future__ import annotations

from collections.abc import Callable

import time_machine

from storage.attachment.models import AttachmentKind
from storage.database import Database
from storage.ticket.models import RepairCategory, Ticket, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter, leak_opened_by_zhou, report_leak, ticket, tickets


def test_a_repair_reported_in_chat_is_one_confirmed_ticket(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    assert "请选择报修类别" in owner.say("报修")
    owner.press("房屋渗漏水")
    owner.press("1-1-502")
    owner.say("卫生间天花板渗水")
    owner.photo("telegram:photo-1")
    owner.photo("telegram:photo-2")
    owner.press("完成")
    owner.say("明天上午")
    assert tickets(estate) == []  # nothing is written before the confirm step
    summary = owner.text
    assert "类别：房屋渗漏水" in summary
    assert "照片：2 张" in summary
    reply = owner.press("确认提交")
    [ticket] = tickets(estate)
    assert f"报修成功，单号 {ticket.number}" in reply
    assert "完工后 3 天内我们会回访" in reply
    assert ticket.category is not None
    assert ticket.category.value == "water_leak"
    assert ticket.preferred_time == "明天上午"
    with estate.transaction() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None
        assert [a.ref for a in stored.attachments] == ["telegram:photo-1", "telegram:photo-2"]


def test_bad_answers_get_a_specific_reprompt_and_change_nothing(
    chat: Callable[..., Chatter],
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    reply = owner.say("99")
    assert "请回复 1-14 中的数字，或点选按钮" in reply
    assert "请选择报修类别" in reply
    owner.press("其他")
    owner.press("1-1-502")
    assert "请填写报修内容" in owner.say("   ")
    assert "太长了" in owner.say("漏" * 10_000)
    owner.say("窗户关不上")
    assert "这里需要照片" in owner.say("这是一个贴纸😀")
    assert "请选择" not in owner.press("跳过")


def test_cancel_leaves_any_step_and_nothing_is_saved(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    owner.press("1-1-502")
    reply = owner.say("取消")
    assert "已取消「报修」，没有保存任何内容" in reply
    assert "报修" in owner.buttons
    assert tickets(estate) == []
    assert "当前没有进行中的操作" in owner.say("/cancel")


def test_a_photo_sent_first_offers_a_repair_and_an_album_lands_in_one_ticket(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    assert "要用它报修吗" in owner.photo("telegram:album-1")
    owner.photo("telegram:album-2")  # the rest of the album arrives as separate messages
    owner.photo("telegram:album-3")
    owner.press("是")
    owner.press("门窗/门锁")
    owner.press("1-1-502")
    owner.say("阳台门锁坏了")
    assert "已收到 4 张照片" in owner.photo("telegram:album-4")
    owner.press("完成")
    owner.press("跳过")
    owner.press("确认提交")
    [ticket] = tickets(estate)
    with estate.transaction() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None
        assert len(stored.attachments) == 4


def test_a_voice_message_with_recognised_text_becomes_the_description(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.send(voice="wechat:voice-1", voice_text="楼道的灯坏了")
    owner.press("是")
    owner.press("电路/照明")
    owner.press("公共区域")
    owner.location(31.2304, 121.4737)
    assert "请发送照片" in owner.text  # the description came from the voice message
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    [ticket] = tickets(estate)
    assert ticket.description == "楼道的灯坏了"
    assert ticket.place == "31.23040,121.47370"
    assert ticket.unit_id is None
    with estate.transaction() as session:
        stored = session.get(Ticket, ticket.id)
        assert stored is not None
        assert [(a.kind, a.ref) for a in stored.attachments] == [
            (AttachmentKind.VOICE, "wechat:voice-1")  # a voice note, kept as one
        ]


def test_an_owner_may_not_use_staff_flows(chat: Callable[..., Chatter]) -> None:
    owner = chat("张伟")
    assert "您没有权限使用「巡查」" in owner.say("/patrol")
    assert "没有听懂「巡查」" in owner.say("巡查")


def test_a_leak_goes_from_owner_to_desk_to_technician_to_callback(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    report_leak(chat)
    desk = chat("陈静")
    desk.say("派单")
    desk.press("BX000001")
    assert "BX000001 已派给 周师傅" in desk.press("周师傅")
    tech = chat("周师傅")
    tech.say("维修工单")
    detail = tech.press("BX000001")
    assert "卫生间天花板渗水" in detail
    assert "联系电话：13800138001" in detail
    assert "已接单 BX000001" in tech.press("接单")
    clock.move_to(local(2026, 11, 23, 15, 0))
    tech.say("维修工单")
    tech.press("BX000001")
    tech.press("完工")
    tech.say("更换防水层")
    tech.photo("telegram:done-1")
    tech.press("完成")
    assert "BX000001 已完工，已通知业主。回访期限 2026-11-26" in tech.press("确认提交")
    assert ticket(estate).status is TicketStatus.DONE

    clock.move_to(local(2026, 11, 26, 10, 0))  # three days later the desk finds it due
    desk.say("回访")
    assert "BX000001 1-1-502 房屋渗漏水 · 已完工 回访期限 2026-11-26" in desk.buttons[0]
    desk.press("BX000001")
    assert "回访 BX000001：张伟（13800138001）" in desk.press("电话回访")
    desk.press("满意")
    assert "问题解决了吗" in desk.press("跳过")
    assert "已记录回访结果" in desk.press("已解决")
    assert ticket(estate).status is TicketStatus.CLOSED


def test_a_technician_cannot_take_another_technicians_order(
    chat: Callable[..., Chatter],
) -> None:
    report_leak(chat)
    desk = chat("陈静")
    desk.say("派单")
    desk.press("BX000001")
    desk.press("周师傅")
    other = chat("吴师傅")
    assert "目前没有待处理的工单" in other.say("维修工单")


def test_the_desk_reassigns_an_accepted_order(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    tech = leak_opened_by_zhou(chat)
    tech.press("接单")
    desk = chat("陈静")
    desk.say("派单")
    desk.press("BX000001")
    assert not [b for b in desk.buttons if b.startswith("周师傅")]  # not who holds it now
    assert "已派给 吴师傅" in desk.press("吴师傅")
    reassigned = ticket(estate)
    assert reassigned.status is TicketStatus.DISPATCHED
    assert reassigned.assignee is not None
    assert reassigned.assignee.person.name == "吴师傅"


def test_the_desk_may_type_the_tickets_number_and_the_technicians_name_when_dispatching(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    report_leak(chat)
    desk = chat("陈静")
    desk.say("派单")
    assert "派给谁" in desk.say("BX000001")  # the number, not the whole line the button reads
    assert "已派给 吴师傅" in desk.say("吴师傅")  # the name, without the department after it
    dispatched = ticket(estate)
    assert dispatched.assignee is not None
    assert dispatched.assignee.person.name == "吴师傅"


def test_a_typed_name_two_technicians_share_is_asked_again_not_guessed(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    from sqlalchemy import select

    from storage.people.models import Person, StaffMember

    with estate.transaction() as session:
        wu = session.scalars(select(StaffMember).join(Person).where(Person.name == "吴师傅")).one()
        session.add(
            StaffMember(
                person=Person(name="吴师傅", phone="13900009999"),
                estate_id=wu.estate_id,
                department_id=wu.department_id,
                role=wu.role,
                staff_code="E-wu-2",
            )
        )
    report_leak(chat)
    desk = chat("陈静")
    desk.say("派单")
    desk.say("BX000001")
    assert "「吴师傅」对应多个选项" in desk.say("吴师傅")
    assert ticket(estate).assignee is None  # nobody guessed at
    assert "已派给 吴师傅" in desk.press(
        desk.buttons[[b.startswith("吴师傅") for b in desk.buttons].index(True)]
    )


def test_numbers_press_the_buttons_where_a_platform_shows_them_as_a_list(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")  # on WeChat each question's buttons read "1. … 2. …（回复 1-2）"
    owner.say("报修")
    owner.say("5")  # 房屋渗漏水
    owner.say("1")  # 1-1-502
    owner.say("卫生间天花板渗水")
    assert "什么时间上门" in owner.say("2")  # 跳过 the photos
    assert "预约时间：尽快" in owner.say("1")  # 跳过 the time: no "1" kept as a time
    assert "报修成功" in owner.say("1")  # 确认提交
    [reported] = tickets(estate)
    assert reported.preferred_time is None
    assert reported.category is RepairCategory.WATER_LEAK


def test_back_from_an_order_shows_the_orders_again(chat: Callable[..., Chatter]) -> None:
    tech = leak_opened_by_zhou(chat)
    assert "您的工单" in tech.press("返回")
    assert "BX000001" in tech.buttons[0]
