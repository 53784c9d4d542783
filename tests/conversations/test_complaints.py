"""投诉, 登记投诉 and 投诉处理: the owner complains (or the desk registers it), whoever holds
it takes it up and answers, and the owner is called back."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from storage.callback.models import Callback, Satisfaction
from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from storage.ticket.models import ComplaintSeverity, ReportChannel, TicketKind, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter, ticket, tickets


def notices_to(db: Database, name: str) -> list[OutboxMessage]:
    with db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        query = select(OutboxMessage).where(OutboxMessage.recipient_id == person.id)
        return list(session.scalars(query.order_by(OutboxMessage.id)))


def complain(owner: Chatter, subject: str, *, leadership: bool = False) -> str:
    owner.say("投诉")
    owner.say(subject)
    owner.say("已经持续一周了")
    owner.press("跳过")
    owner.press("需要领导处理" if leadership else "由客服中心处理")
    return owner.press("确认提交")


def test_an_owner_complains_and_may_ask_for_the_leadership(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    owner = chat("张伟")
    reply = complain(owner, "夜间装修噪音")
    assert "我们会在 24 小时内处理" in reply
    reply = complain(owner, "电梯多次困人", leadership=True)
    assert "客服中心确认后会上报项目负责人" in reply
    general, wished = tickets(estate)
    assert general.kind is TicketKind.COMPLAINT
    # Whether it is major is the desk's judgement: the wish is kept for the desk to confirm.
    assert wished.severity is ComplaintSeverity.GENERAL
    assert wished.leadership_requested
    assert wished.status is TicketStatus.NEW
    alerts = [m for m in notices_to(estate, "陈静") if m.kind == "complaint_reported"]
    assert len(alerts) == 2
    assert "业主希望由领导处理" in alerts[1].text


def test_the_summary_shows_the_unit(chat: Callable[..., Chatter]) -> None:
    owner = chat("张伟")
    owner.say("投诉")
    owner.say("保安态度差")
    owner.say("门岗保安说话很冲")
    owner.press("跳过")
    assert "房号：1-1-502" in owner.press("由客服中心处理")


def test_the_desk_answers_a_general_complaint_at_once_and_the_owner_is_called_back(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    complain(chat("张伟"), "垃圾无人清理")
    desk = chat("陈静")
    desk.say("投诉处理")
    desk.press("TS000001")
    assert desk.buttons == ["受理", "答复业主", "转部门处理", "上报领导（重大投诉）"]
    desk.press("答复业主")
    assert "已答复 TS000001" in desk.say("已安排今天下午清理，并每日检查")
    assert ticket(estate).status is TicketStatus.REPLIED
    with estate.transaction() as session:
        callback = session.scalars(select(Callback)).one()
        assert callback.due_at == local(2026, 12, 1, 0, 0)
    owner = chat("张伟")
    owner.say("回访评价")
    owner.press("满意")
    owner.press("跳过")
    with estate.transaction() as session:
        assert session.scalars(select(Callback)).one().satisfaction is Satisfaction.SATISFIED


def test_a_forwarded_complaint_is_handled_by_the_department_in_its_own_view(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    complain(chat("张伟"), "楼道垃圾无人清理")
    desk = chat("陈静")
    desk.say("投诉处理")
    desk.press("TS000001")
    desk.press("转部门处理")
    assert "已将 TS000001 转至保洁部" in desk.press("保洁部")
    assert "投诉处理" not in chat("许阿姨").buttons  # never shown to the line staff
    head = chat("高主管")
    # The notice's button opens it where it is handled, not in 维修工单.
    [forwarded] = [m for m in notices_to(estate, "高主管") if m.kind == "complaint_forwarded"]
    assert forwarded.buttons == [["/complaints 1", "处理"]]
    head.send(button="/complaints 1")
    assert head.buttons == ["受理", "退回"]
    assert "已受理 TS000001" in head.press("受理")
    assert head.buttons[:2] == ["记录处理情况", "答复业主"]
    head.press("记录处理情况")
    assert "已记录" in head.say("已约谈当班保洁")
    head.press("答复业主")
    assert "已答复" in head.say("已安排每日两次清理")
    owner_news = [m.kind for m in notices_to(estate, "张伟")]
    assert owner_news == ["complaint_replied"]


def test_the_project_manager_takes_up_a_major_complaint_and_chooses_the_date(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    complain(chat("张伟"), "电梯多次困人", leadership=True)
    desk = chat("陈静")
    desk.say("投诉处理")
    desk.press("TS000001")
    desk.press("上报领导")
    assert "已将 TS000001 上报为重大投诉" in desk.say("本月第三次困人，涉及安全")
    assert [m.kind for m in notices_to(estate, "张伟")] == ["complaint_went_up"]
    manager = chat("黄经理")
    [alert] = [m for m in notices_to(estate, "黄经理") if m.kind == "major_complaint"]
    assert alert.buttons == [["/complaints 1", "处理"]]
    manager.send(button="/complaints 1")
    assert manager.buttons == ["受理", "转部门处理", "答复业主"]
    manager.press("受理")
    assert manager.buttons[0].endswith("（默认）")
    assert "请于 2026-11-28 09:00 前答复业主" in manager.press("2026-11-28 09:00")
    told = [m for m in notices_to(estate, "张伟") if m.kind == "complaint_reply_date"]
    assert len(told) == 1
    assert "2026-11-28 09:00" in told[0].text
    manager.press("转部门处理")
    manager.press("工程部")
    engineering = chat("郑工")
    engineering.say("投诉处理")
    engineering.press("TS000001")
    engineering.press("受理")
    engineering.press("答复业主")
    engineering.say("已更换主板，每月检测一次")
    assert ticket(estate).status is TicketStatus.REPLIED
    assert [m.kind for m in notices_to(estate, "张伟")].count("complaint_reply_date") == 1


def test_the_desk_registers_a_phoned_in_complaint_for_an_owner(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    desk = chat("陈静")
    assert "业主是怎么投诉的" in desk.say("投诉")
    desk.press("电话")
    desk.say("1-1-502")
    desk.press("张伟")
    desk.say("停车位被占")
    desk.say("业主来电：车位连续三天被外来车辆占用")
    desk.press("跳过")
    desk.press("一般投诉")
    reply = desk.press("确认提交")
    assert "已登记投诉 TS000001（张伟，1-1-502）" in reply
    complaint = ticket(estate)
    assert complaint.reporter.name == "张伟"
    assert complaint.channel is ReportChannel.PHONE
    assert [m.kind for m in notices_to(estate, "张伟")] == ["complaint_received"]
    # It reaches whoever is at the desk, with its 处理 button.
    assert desk.buttons == ["处理"]
