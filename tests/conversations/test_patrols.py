"""巡查, 现场验证, 申请延期, 延期审批: a finding from the patrol to its verification."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from storage.database import Database
from storage.patrol.models import ExtensionRequest, ExtensionStatus, FindingStatus
from storage.people.models import Person
from tests.conftest import local
from tests.conversations.conftest import Chatter, findings, report_lawn


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

    with estate.transaction() as session:
        tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
        patrols.fix(session=session, finding_id=finding.id, actor=tech, note="更换灯管")
    verifier = chat("刘洋")
    verifier.say("现场验证")
    verifier.press("XC000001")
    # The verifier sees what the patroller saw, above the question.
    assert [r.images for r in verifier.replies if r.images] == [("telegram:garage",)]
    assert "整改前后的照片（1 张）" in verifier.text
    assert "请写明问题所在" in verifier.press("不通过")
    assert "跳过" not in verifier.buttons  # a failed check says why: no skip is offered
    verifier.say("仍有1盏不亮")
    assert "验证未通过，已退回工程部重新整改" in verifier.press("跳过")
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
    patroller = report_lawn(chat)
    patroller.press("7天后")
    patroller.press("确认提交")
    gardener = chat("林师傅")
    gardener.say("申请延期")
    gardener.press("XC000001")
    gardener.press("14天后")
    assert "等待部门主管或项目经理审批" in gardener.say("需要等草皮到货")
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
    patroller = report_lawn(chat)
    patroller.press("7天后")
    patroller.press("确认提交")
    gardener = chat("林师傅")
    gardener.say("申请延期")
    gardener.press("XC000001")
    # Before the deadline the finding has now (11-30): refused, and the day asked again.
    assert "新期限须晚于当前期限 2026-11-30" in gardener.say("11-26")
    assert "延期到哪一天" in gardener.text
    gardener.press("14天后")
    gardener.say("想慢一点")
    manager = chat("黄经理")
    manager.say("延期审批")
    manager.press("XC000001")
    assert "驳回原因" in manager.press("驳回")
    assert "跳过" not in manager.buttons  # a refusal says why: nothing to skip is offered
    assert "已驳回 XC000001 的延期申请" in manager.say("一周足够")


def test_a_deadline_is_a_day_after_today_written_as_people_write_it(
    chat: Callable[..., Chatter],
) -> None:
    patroller = report_lawn(chat)
    assert "请选择今天以后的日期" in patroller.say("11-20")  # three days ago, not next year
    assert "整改期限：2026-11-30" in patroller.say("3")  # the third button: 7天后


def extension_asked(chat: Callable[..., Chatter], estate: Database) -> int:
    """林师傅 asks 14 more days for the lawn; its managers' notice carries 批准 and 驳回."""
    from storage.outbox.models import OutboxMessage

    patroller = report_lawn(chat)
    patroller.press("7天后")
    patroller.press("确认提交")
    gardener = chat("林师傅")
    gardener.say("申请延期")
    gardener.press("XC000001")
    gardener.press("14天后")
    gardener.say("需要等草皮到货")
    with estate.transaction() as session:
        request = session.scalars(select(ExtensionRequest)).one()
        asked = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "extension_requested")
        ).all()
        assert asked
        assert all(
            m.buttons
            == [
                [f"/approvals {request.id} approve", "批准"],
                [f"/approvals {request.id} refuse", "驳回"],
            ]
            for m in asked
        )
        return request.id


def test_an_extension_notices_approve_button_approves_at_once_and_a_second_press_says_who(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    request_id = extension_asked(chat, estate)
    supervisor, manager = chat("罗主管"), chat("黄经理")
    supervisor.say("巡查")  # busy with something else
    assert "已批准 XC000001 延期至 2026-12-07" in supervisor.send(
        button=f"/approvals {request_id} approve"
    )
    assert "XC000001 的延期申请已于" in manager.send(button=f"/approvals {request_id} refuse")
    assert "由 罗主管批准" in manager.text
    assert "驳回原因" not in manager.text  # nobody writes a reason for a decided request
    with estate.transaction() as session:
        assert session.get_one(ExtensionRequest, request_id).status is ExtensionStatus.APPROVED


def test_an_extension_notices_refuse_button_asks_why_then_refuses(
    chat: Callable[..., Chatter], estate: Database
) -> None:
    request_id = extension_asked(chat, estate)
    manager = chat("黄经理")
    assert "驳回原因" in manager.send(button=f"/approvals {request_id} refuse")
    assert "已驳回 XC000001 的延期申请" in manager.say("一周足够")
    with estate.transaction() as session:
        assert session.get_one(ExtensionRequest, request_id).status is ExtensionStatus.REFUSED
