"""A finding from the patrol to its verification, in chat (001 发现 → 整改 → 现场验证 → 闭环):
the department reports the fix, the patroller verifies it on site, a broken facility
becomes a work order, an extension is the department head's to approve, and the
rounds of the seed's timetable are reminded and, when not recorded, reported."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from scheduler import jobs
from storage.audit import service as audit
from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.patrol.models import ExtensionRequest, FindingStatus
from storage.ticket.models import Ticket, TicketStatus
from tests.conftest import local
from tests.conversations.conftest import Chatter, findings


def notices_to(db: Database, name: str, kind: str) -> list[OutboxMessage]:
    with db.session() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return [m for m in rows if m.recipient is not None and m.recipient.name == name]


def dirty_stairwell(chat: Callable[..., Chatter]) -> Chatter:
    """陈静 finds the 1栋2单元 stairwell dirty, for 保洁部, by its default deadline."""
    patroller = chat("陈静")
    patroller.say("巡查")
    patroller.say("1栋2单元楼梯间")
    patroller.press("清洁卫生")
    patroller.say("楼梯间有垃圾和污渍")
    patroller.photo("telegram:stairs-before")
    patroller.press("完成")
    patroller.press("否")
    patroller.press("保洁部")
    patroller.press("7天后")
    assert "已通知保洁部，整改期限 2026-11-30" in patroller.press("确认提交")
    return patroller


def test_a_dirty_stairwell_is_fixed_failed_fixed_again_and_passed_with_every_step_kept(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    patroller = dirty_stairwell(chat)
    [finding] = findings(estate)
    # 保洁部 hears of it, with the patroller's photo and a button to open it.
    [dispatched] = notices_to(estate, "许阿姨", "finding_dispatched")
    assert dispatched.buttons == [[f"/rectify {finding.id}", "整改"]]

    cleaner = chat("许阿姨")
    clock.move_to(local(2026, 11, 23, 11, 0))
    cleaner.send(button=f"/rectify {finding.id}")
    assert "XC000001 1栋2单元楼梯间" in cleaner.text
    assert "处理记录：" in cleaner.text
    assert cleaner.buttons == ["已整改", "转维修单", "申请延期", "退回（不属本部门）"]
    cleaner.press("已整改")
    cleaner.say("已清扫并拖洗")
    cleaner.photo("telegram:stairs-after")
    assert "已登记整改，已请 陈静 现场验证" in cleaner.press("完成")

    # The patroller is asked at once, and the button opens that fix.
    [asked] = notices_to(estate, "陈静", "finding_fixed")
    assert asked.buttons == [[f"/verify {finding.id}", "现场验证"]]
    clock.move_to(local(2026, 11, 23, 14, 0))
    patroller.send(button=f"/verify {finding.id}")
    assert "整改：已清扫并拖洗" in patroller.text
    patroller.press("不通过")
    patroller.say("扶手仍有污渍")
    assert "已退回保洁部重新整改" in patroller.press("跳过")
    [rejected] = notices_to(estate, "许阿姨", "finding_rejected")
    assert "现场验证未通过：扶手仍有污渍" in rejected.text

    clock.move_to(local(2026, 11, 23, 15, 0))
    cleaner.say("整改")
    cleaner.press("XC000001")
    cleaner.press("已整改")
    cleaner.say("扶手已擦净")
    cleaner.press("跳过")
    clock.move_to(local(2026, 11, 23, 16, 0))
    patroller.say("现场验证")
    patroller.press("XC000001")
    patroller.press("通过")
    patroller.press("跳过")
    assert "验证通过，记录已完成" in patroller.press("跳过")
    [finding] = findings(estate)
    assert finding.status is FindingStatus.VERIFIED

    with estate.session() as s:
        trail = audit.history(session=s, object_type="finding", object_id=finding.id)
        steps = [(e.to_state, e.actor_label, e.note) for e in trail]
    assert steps == [
        ("open", "陈静", "巡查发现：清洁卫生"),
        ("fixed", "许阿姨", "已清扫并拖洗"),
        ("open", "陈静", "验证不通过：扶手仍有污渍"),
        ("fixed", "许阿姨", "扶手已擦净"),
        ("verified", "陈静", "验证通过"),
    ]


def test_a_broken_lamp_becomes_a_work_order_and_its_completion_waits_for_verification(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    patroller = chat("陈静")
    patroller.say("巡查")
    patroller.say("3栋1单元电梯厅")
    patroller.press("公共设施设备")
    patroller.say("电梯厅吸顶灯不亮")
    patroller.press("跳过")
    patroller.press("否")
    patroller.press("转维修单")
    patroller.press("电路/照明")
    assert "转维修单：电路/照明" in patroller.text
    assert "并转为维修单 BX000001" in patroller.press("确认提交")
    [finding] = findings(estate)
    with estate.session() as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.finding_id == finding.id
        assert ticket.place == "3栋1单元电梯厅"

    patroller.say("派单")  # dispatched as any repair is
    patroller.press("BX000001")
    patroller.press("周师傅")
    tech = chat("周师傅")
    tech.say("维修工单")
    tech.press("BX000001")
    tech.press("接单")
    tech.press("跳过")  # no visiting time: it is a public place
    tech.say("维修工单")
    tech.press("BX000001")
    tech.press("完工")
    tech.say("更换灯泡")
    tech.press("跳过")
    assert "已完工，巡查问题已请巡查人现场验证" in tech.press("确认提交")
    [finding] = findings(estate)
    assert finding.status is FindingStatus.FIXED
    assert finding.fix_note == "维修单 BX000001 完工：更换灯泡"
    assert notices_to(estate, "陈静", "finding_fixed")  # asked to verify, not an owner's callback
    assert not notices_to(estate, "陈静", "callback_due")

    patroller.say("现场验证")
    patroller.press("XC000001")
    patroller.press("通过")
    patroller.press("跳过")
    patroller.press("跳过")
    with estate.session() as s:
        assert s.scalars(select(Ticket)).one().status is TicketStatus.CLOSED


def test_only_the_findings_department_head_approves_its_extension_and_the_cleaner_is_told(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    dirty_stairwell(chat)
    cleaner = chat("许阿姨")
    cleaner.say("申请延期")
    cleaner.press("XC000001")
    assert "最晚 2026-12-30" in cleaner.text
    assert "2027" not in " ".join(cleaner.buttons)
    assert "延期最多到 2026-12-30" in cleaner.say("2027-01-01")  # asked again, nothing lost
    cleaner.say("12-10")
    assert "等待部门主管或项目经理审批" in cleaner.say("需要等专用清洁剂到货")
    with estate.session() as s:
        request = s.scalars(select(ExtensionRequest)).one()
    assert notices_to(estate, "高主管", "extension_requested")
    assert not notices_to(estate, "郑工", "extension_requested")

    engineering = chat("郑工")
    assert "目前没有待审批的延期申请" in engineering.say("延期审批")
    refused = engineering.send(button=f"/approvals {request.id} approve")
    assert "延期须由该部门主管或项目经理审批" in refused
    head = chat("高主管")
    assert "已批准 XC000001 延期至 2026-12-10" in head.send(
        button=f"/approvals {request.id} approve"
    )
    [told] = notices_to(estate, "许阿姨", "finding_extended")
    assert "已延至 2026-12-10（高主管 批准）" in told.text
    assert notices_to(estate, "陈静", "finding_extended")  # and the patroller who found it


def test_monday_rounds_are_reminded_at_their_start_and_a_missed_one_reported_at_its_end(
    estate: Database, clock: time_machine.Traveller, chat: Callable[..., Chatter]
) -> None:
    clock.move_to(local(2026, 12, 7, 8, 59))
    with estate.transaction() as s:
        assert jobs.patrol_rounds(s, local(2026, 12, 7, 8, 59)) == 0
        # 09:00: the inspection tour, led by the project manager with the heads.
        assert jobs.patrol_rounds(s, local(2026, 12, 7, 9, 0)) == 6
    [tour] = notices_to(estate, "黄经理", "round_reminder")
    assert "周一巡检（巡检）09:00-10:00" in tour.text
    with estate.transaction() as s:
        assert jobs.patrol_rounds(s, local(2026, 12, 7, 9, 1)) == 0  # once
        # 09:30: each head's daily check.
        assert jobs.patrol_rounds(s, local(2026, 12, 7, 9, 30)) == 5
    [daily] = notices_to(estate, "高主管", "round_reminder")[1:]
    assert "日检·保洁部（日检）09:30-10:00：楼梯间、垃圾房、中心广场" in daily.text

    # 高主管 walks hers and records it; the others do not.
    clock.move_to(local(2026, 12, 7, 9, 45))
    head = chat("高主管")
    assert daily.buttons is not None
    head.send(button=daily.buttons[0][0])
    assert "日检·保洁部 第 1/3 项：楼梯间" in head.text
    head.press("正常")
    head.press("有问题")
    head.press("清洁卫生")
    head.say("垃圾房满溢")
    head.press("跳过")
    head.press("否")
    assert "已登记 XC000001，已通知保洁部" in head.press("保洁部")
    head.press("正常")
    assert "已登记日检·保洁部：3 项，1 项有问题" in head.press("确认提交")

    with estate.transaction() as s:
        queued = jobs.patrol_rounds(s, local(2026, 12, 7, 10, 0))
    # The tour and four daily checks were not recorded: each reported once, to the head
    # above who walks it (the project manager, for heads and for his own tour); and the
    # project manager's 经理复查 begins.
    assert queued == 6
    missed = [m.text for m in notices_to(estate, "黄经理", "round_missed")]
    assert len(missed) == 5
    assert "【巡检未完成】2026-12-07 日检·工程部（09:30-10:00，郑工）到时未登记。" in missed
    assert any("周一巡检" in text for text in missed)
    assert not any("日检·保洁部" in text for text in missed)
    assert notices_to(estate, "黄经理", "round_reminder")[-1].text.startswith(
        "【巡检提醒】经理复查"
    )


def test_the_cleaning_heads_digest_lists_the_stairwell_and_the_engineering_heads_does_not(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    dirty_stairwell(chat)
    with estate.transaction() as s:
        jobs.daily_digests(s, local(2026, 11, 23, 18, 30))
    [cleaning] = notices_to(estate, "高主管", "digest")
    [engineering] = notices_to(estate, "郑工", "digest")
    assert "巡查问题：新 1｜未整改 1｜逾期 0" in cleaning.text
    assert "· XC000001 1栋2单元楼梯间 · 清洁卫生 · 期限 2026-11-30 · 保洁部（待整改）" in (
        cleaning.text
    )
    assert "楼梯间" not in engineering.text
    assert "今天没有新的巡查问题和工单" in engineering.text


def test_a_long_digest_is_cut_with_a_button_that_shows_it_all(
    chat: Callable[..., Chatter], estate: Database, clock: time_machine.Traveller
) -> None:
    for _ in range(10):
        dirty_stairwell(chat)
    with estate.transaction() as s:
        jobs.daily_digests(s, local(2026, 11, 23, 18, 30))
    [cleaning] = notices_to(estate, "高主管", "digest")
    assert "……还有 2 项" in cleaning.text
    assert cleaning.buttons == [["/digest 2026-11-23", "查看全部"]]
    head = chat("高主管")
    whole = head.send(button="/digest 2026-11-23")
    assert "XC000010" in whole
    assert "还有" not in whole
