"""Owners in chat: binding, 报修, 投诉, 我的工单, 回访评价, each through the engine."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import func, select

from conversations.engine import Engine
from conversations.flows import FLOWS
from storage.callback.models import Callback, Satisfaction
from storage.config import load_settings
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.identity.models import BindingRequest
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from storage.ticket.models import ComplaintSeverity, Ticket, TicketKind, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter


def tickets(db: Database) -> list[Ticket]:
    with db.transaction() as session:
        return list(session.scalars(select(Ticket).order_by(Ticket.id)))


def test_a_new_owner_binds_with_unit_and_phone(chat: Callable[..., Chatter]) -> None:
    owner = chat(user="tg-1001")
    assert "请先绑定身份" in owner.say("你好")
    owner.press("房号 + 预留手机号")
    assert "请输入您在物业登记的手机号" in owner.say("1栋1单元502")
    reply = owner.say("13800138001")
    assert "绑定成功，张伟" in reply
    assert "报修" in owner.buttons
    assert "巡查" not in owner.buttons


def test_start_or_help_from_a_stranger_begins_binding(chat: Callable[..., Chatter]) -> None:
    for first in ("/start", "帮助"):
        assert "请先绑定身份" in chat(user=f"tg-{first}").say(first)


def test_a_wrong_phone_is_refused_and_asked_again(chat: Callable[..., Chatter]) -> None:
    owner = chat(user="tg-1002")
    owner.say("你好")
    owner.press("房号 + 预留手机号")
    owner.say("1-1-502")
    reply = owner.say("13900000000")
    assert "房号与预留手机号不符" in reply
    assert "请输入您在物业登记的手机号" in reply


def test_with_approval_required_the_desk_approves_the_binding(
    db_url: str, clock: time_machine.Traveller, sample_data: object
) -> None:
    db = Database(load_settings(database_url=db_url, bind_requires_approval=True))
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
    engine = Engine(db, FLOWS)
    owner = Chatter(engine, "tg-2001")
    owner.say("你好")
    owner.press("房号 + 预留手机号")
    owner.say("1-1-502")
    assert "已提交绑定申请" in owner.say("13800138001")
    assert "请先绑定身份" in owner.say("报修")  # still nobody until the desk decides

    with db.transaction() as session:
        desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        code = identity.create_invite(session=session, person=desk, estate_id=1)
        identity.redeem_invite(session=session, code=code, platform="telegram", external_id="desk")
    clerk = Chatter(engine, "desk")
    clerk.say("绑定审核")
    clerk.press("张伟")
    assert "已处理 张伟 的绑定申请" in clerk.press("是")
    with db.transaction() as session:
        assert session.scalar(select(func.count(BindingRequest.id))) == 1
        approved = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "binding_approved")
        ).one()
        assert approved.recipient is not None
        assert approved.recipient.name == "张伟"
    owner.say("帮助")
    assert "报修" in owner.buttons
    db.dispose()


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
    assert "请回复 1-11 中的数字，或点选按钮" in reply
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


def test_a_complaint_and_a_major_complaint(chat: Callable[..., Chatter], estate: Database) -> None:
    owner = chat("张伟")
    owner.say("投诉")
    owner.say("夜间装修噪音")
    owner.say("楼上每天晚上十点后还在装修")
    owner.press("跳过")
    owner.press("一般投诉")
    reply = owner.press("确认提交")
    assert "我们会在 24 小时内处理" in reply
    owner.say("投诉")
    owner.say("电梯多次困人")
    owner.say("本月第三次")
    owner.press("跳过")
    owner.press("重大投诉")
    assert "已立即上报项目负责人" in owner.press("确认提交")
    general, major = tickets(estate)
    assert general.kind is TicketKind.COMPLAINT
    assert general.severity is ComplaintSeverity.GENERAL
    assert major.severity is ComplaintSeverity.MAJOR
    assert major.status is TicketStatus.ESCALATED


def test_my_tickets_shows_the_households_tickets_and_their_history(
    chat: Callable[..., Chatter],
) -> None:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("电梯")
    owner.press("1-1-502")
    owner.say("电梯异响")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    family = chat("王芳")
    listing = family.say("我的工单")
    assert "BX000001 1-1-502 电梯 · 待处理" in listing
    detail = family.press("BX000001")
    assert "电梯异响" in detail
    assert "待处理" in detail
    assert "您还没有工单" in chat("李强").say("我的工单")


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


def test_an_owner_may_not_use_staff_flows(chat: Callable[..., Chatter]) -> None:
    owner = chat("张伟")
    assert "您没有权限使用「巡查」" in owner.say("/patrol")
    assert "没有听懂「巡查」" in owner.say("巡查")


def test_a_wrong_binding_code_is_refused_and_asked_again(chat: Callable[..., Chatter]) -> None:
    stranger = chat(user="tg-9")
    stranger.say("你好")
    stranger.press("使用绑定码")
    reply = stranger.say("WRONGCODE")
    assert "绑定码无效或已过期" in reply
    assert "请输入绑定码" in reply
