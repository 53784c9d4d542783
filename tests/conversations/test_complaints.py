"""投诉 and 投诉处理: the owner complains, the desk answers."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from storage.callback.models import Callback, Satisfaction
from storage.database import Database
from storage.ticket.models import ComplaintSeverity, TicketKind, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter, tickets


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


def test_the_desk_answers_a_complaint_and_the_owner_is_called_back(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    owner.say("投诉")
    owner.say("垃圾无人清理")
    owner.say("三天没有清理")
    owner.press("跳过")
    owner.press("一般投诉")
    owner.press("确认提交")
    desk = chat("陈静")
    desk.say("投诉处理")
    desk.press("TS000001")
    desk.press("转部门处理")
    assert "已将 TS000001 转至保洁部" in desk.press("保洁部")
    assert "投诉处理" not in chat("许阿姨").buttons  # line staff never see complaints
    desk.say("投诉处理")
    desk.press("TS000001")
    desk.press("答复业主")
    assert "已答复 TS000001" in desk.say("已安排每日两次清理")
    with estate.transaction() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.due_at == local(2026, 12, 1, 0, 0)
    owner.say("回访评价")
    owner.press("满意")
    owner.press("跳过")
    with estate.transaction() as session:
        assert session.scalars(select(Callback)).one().satisfaction is Satisfaction.SATISFIED
