"""Staff and managers in chat: 巡查, 派单, 维修工单, 回访, 现场验证, 投诉处理, 申请延期,
延期审批, 今日汇总, 逾期事项."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from storage.callback.models import Callback, Satisfaction
from storage.database import Database
from storage.patrol.models import ExtensionRequest, ExtensionStatus, FindingStatus, PatrolFinding
from storage.ticket.models import Ticket, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter


def report_leak(chat: Callable[..., Chatter]) -> Chatter:
    owner = chat("张伟")
    owner.say("报修")
    owner.press("房屋渗漏水")
    owner.press("1-1-502")
    owner.say("卫生间天花板渗水")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    return owner


def ticket(db: Database, ticket_id: int = 1) -> Ticket:
    with db.transaction() as session:
        found = session.get(Ticket, ticket_id)
        assert found is not None
        return found


def findings(db: Database) -> list[PatrolFinding]:
    with db.transaction() as session:
        return list(session.scalars(select(PatrolFinding).order_by(PatrolFinding.id)))


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
    assert "请致电 张伟（13800138001）" in desk.text
    desk.press("满意")
    assert "已记录回访结果" in desk.press("跳过")
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
    report_leak(chat)
    desk = chat("陈静")
    desk.say("派单")
    desk.press("BX000001")
    desk.press("周师傅")
    tech = chat("周师傅")
    tech.say("维修工单")
    tech.press("BX000001")
    tech.press("接单")
    desk.say("派单")
    desk.press("BX000001")
    assert "已派给 吴师傅" in desk.press("吴师傅")
    reassigned = ticket(estate)
    assert reassigned.status is TicketStatus.DISPATCHED
    assert reassigned.assignee is not None
    assert reassigned.assignee.person.name == "吴师傅"


def test_a_patrol_finding_dispatched_for_a_week_then_fixed_and_verified(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    patroller = chat("陈静")
    patroller.say("巡查")
    patroller.say("2栋地下车库B区")
    patroller.press("公共设施设备")
    patroller.say("照明灯3盏不亮")
    patroller.photo("telegram:garage")
    patroller.press("完成")
    patroller.press("否")
    patroller.press("工程部")
    assert "最长 7 天" in patroller.say("14")  # longer is a manager's extension
    patroller.press("7天后")
    summary = patroller.text
    assert "责任部门：工程部" in summary
    assert "整改期限：2026-11-30" in summary
    assert "已通知工程部，整改期限 2026-11-30" in patroller.press("确认提交")
    [finding] = findings(estate)
    assert finding.status is FindingStatus.OPEN

    from storage.patrol import service as patrols
    from storage.people.models import Person

    with estate.transaction() as session:
        tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
        patrols.fix(session=session, finding_id=finding.id, actor=tech, note="更换灯管")
    verifier = chat("刘洋")
    verifier.say("现场验证")
    verifier.press("XC000001")
    verifier.press("不通过")
    assert "验证不通过时，请写明问题所在" in verifier.press("跳过")
    assert "验证未通过，已退回整改" in verifier.say("仍有1盏不亮")
    assert findings(estate)[0].status is FindingStatus.OPEN


def test_a_finding_fixed_on_the_spot_needs_no_department(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    guard = chat("冯军")
    guard.say("巡查")
    guard.location(31.2304, 121.4737)
    guard.press("消防违章")
    guard.say("消防通道堆放杂物")
    guard.press("跳过")
    guard.press("是")
    assert "现场整改，已验证" in guard.press("确认提交")
    [finding] = findings(estate)
    assert finding.status is FindingStatus.VERIFIED
    assert finding.place == "31.23040,121.47370"


def test_an_extension_is_asked_by_the_department_and_approved_by_its_supervisor(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    patroller = chat("陈静")
    patroller.say("巡查")
    patroller.say("中心花园")
    patroller.press("园林绿化")
    patroller.say("草坪枯黄")
    patroller.press("跳过")
    patroller.press("否")
    patroller.press("绿化部")
    patroller.press("7天后")
    patroller.press("确认提交")
    gardener = chat("林师傅")
    gardener.say("申请延期")
    gardener.press("XC000001")
    gardener.press("14天后")
    assert "等待经理或主管审批" in gardener.say("需要等草皮到货")
    assert "您没有权限使用「延期审批」" in gardener.say("/approvals")
    supervisor = chat("罗主管")
    supervisor.say("延期审批")
    assert "林师傅 申请延至 2026-12-07" in supervisor.buttons[0]
    supervisor.press("XC000001")
    supervisor.press("批准")
    assert "已批准 XC000001 延期至 2026-12-07" in supervisor.press("跳过")
    with estate.transaction() as session:
        request = session.scalars(select(ExtensionRequest)).one()
        assert request.status is ExtensionStatus.APPROVED
        assert request.finding.due_at == local(2026, 12, 8, 0, 0)


def test_a_refused_extension_needs_a_reason(chat: Callable[..., Chatter]) -> None:
    patroller = chat("陈静")
    patroller.say("巡查")
    patroller.say("中心花园")
    patroller.press("园林绿化")
    patroller.say("草坪枯黄")
    patroller.press("跳过")
    patroller.press("否")
    patroller.press("绿化部")
    patroller.press("7天后")
    patroller.press("确认提交")
    gardener = chat("林师傅")
    gardener.say("申请延期")
    gardener.press("XC000001")
    gardener.press("14天后")
    gardener.say("想慢一点")
    manager = chat("黄经理")
    manager.say("延期审批")
    manager.press("XC000001")
    manager.press("驳回")
    assert "不批准时，请写明原因" in manager.press("跳过")
    assert "已驳回 XC000001 的延期申请" in manager.say("一周足够")


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


def test_managers_read_todays_summary_and_whats_overdue(
    chat: Callable[..., Chatter], clock: time_machine.Traveller
) -> None:
    report_leak(chat)
    manager = chat("黄经理")
    summary = manager.say("今日汇总")
    assert "2026-11-23 汇总" in summary
    assert "新工单 1" in summary
    assert "没有逾期事项" in manager.say("逾期事项")
    owner = chat("李强")
    owner.say("投诉")
    owner.say("噪音")
    owner.say("半夜施工")
    owner.press("跳过")
    owner.press("一般投诉")
    owner.press("2-2-301")  # 李强 has two units: the flow asks which one
    owner.press("确认提交")
    clock.move_to(local(2026, 11, 24, 12, 0))
    assert "超 24 小时未受理的投诉 1" in manager.say("逾期事项")
    assert "今日汇总" not in chat("张伟").buttons


def test_a_department_head_links_a_group_which_then_gets_the_departments_notices(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    from storage.outbox.models import OutboxMessage
    from storage.people.models import Person
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
