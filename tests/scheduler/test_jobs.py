"""The clock's jobs, as the procedures read: what is sent to whom, when, and only once."""

from __future__ import annotations

from datetime import date

import time_machine
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from scheduler import jobs
from storage.callback.models import Satisfaction
from storage.clock import utcnow
from storage.database import Database
from storage.outbox.models import OutboxMessage
from storage.patrol import service as patrols
from storage.patrol.models import PatrolCategory, PatrolFinding
from storage.ticket import complaints
from storage.ticket.models import ComplaintSeverity, RepairCategory
from tests.conftest import SampleEstate, local


def notices(session: Session, kind: str) -> list[tuple[str, str]]:
    """(recipient, text) of the notices of a kind, in the order they were queued."""
    found = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    )
    return [(m.recipient.name if m.recipient else str(m.chat_id), m.text) for m in found]


def test_a_days_activity_is_digested_at_1830_for_every_head_and_the_manager(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 9, 0))
    cuihu.repair_done(at, RepairCategory.ELECTRICAL, local(2026, 11, 24, 11, 0))
    patrols.report_finding(
        session=s,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="中心花园",
        category=PatrolCategory.LANDSCAPING,
        description="草坪枯黄",
        department_id=cuihu.department("lh").id,
    )
    assert jobs.daily_digests(s, local(2026, 11, 24, 18, 29)) == 0
    assert jobs.daily_digests(s, local(2026, 11, 24, 18, 30)) == 6  # five heads and the manager
    digests = dict(notices(s, "digest"))
    assert set(digests) == {"孙丽", "郑工", "何队长", "高主管", "罗主管", "黄经理"}
    text = digests["黄经理"]
    assert text.startswith("【每日汇总】翠湖花园 · 全部部门 2026-11-24\n")
    # Counts first, then what there is, with where, what, by when and who holds it.
    assert "巡查问题：新 1｜未整改 1｜逾期 0\n工单：新 1｜未完成 0｜逾期 0" in text
    assert "· XC000001 中心花园 · 园林绿化 · 期限 2026-12-01 · 绿化部（待整改） 【新】" in text
    assert "· BX000001 1-1-502 · 电路/照明 · 期限 2026-11-27 · 周师傅（已完工） 【新】" in text
    # Nobody recorded the day's checks at 09:30-10:00.
    assert "巡检：已完成 无；未完成 日检·保洁部、日检·工程部" in text
    assert "新工单 1｜新巡查问题 1｜已处理 1｜未结 1｜逾期 0" in text
    assert "· 工程部：新 1，已处理 1，未结 0，逾期 0" in text
    assert "· 绿化部：新 1，已处理 0，未结 1，逾期 0" in text
    # Each head reads their own department's.
    assert "XC000001" in digests["罗主管"]
    assert "BX000001" not in digests["罗主管"]
    assert "BX000001" in digests["郑工"]
    assert "XC000001" not in digests["郑工"]
    assert "今天没有新的巡查问题和工单" in digests["何队长"]
    assert jobs.daily_digests(s, local(2026, 11, 24, 18, 31)) == 0  # once a day
    assert jobs.daily_digests(s, local(2026, 11, 25, 18, 30)) == 6  # and again the next


def test_a_digest_missed_while_the_process_was_down_is_sent_when_it_is_back(
    cuihu: SampleEstate,
) -> None:
    assert jobs.daily_digests(cuihu.session, local(2026, 11, 24, 20, 5)) == 6
    quiet_day = dict(notices(cuihu.session, "digest"))["郑工"]
    assert "今天没有新的巡查问题和工单，也没有未完成或逾期的。" in quiet_day  # it still comes


def test_the_days_figures_are_counted_once_and_not_again_once_every_head_has_them(
    cuihu: SampleEstate, db: Database
) -> None:
    s = cuihu.session
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        jobs.daily_digests(s, local(2026, 11, 24, 18, 30))
        first = [q for q in statements if "FROM ticket" in q]
        statements.clear()
        assert jobs.daily_digests(s, local(2026, 11, 24, 18, 31)) == 0
        again = [q for q in statements if "FROM ticket" in q or "FROM patrol_finding" in q]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # The figures' queries ran once for six readers, and not at all the minute after.
    assert 0 < len(first) < 14
    assert again == []


def test_a_leak_done_on_monday_asks_the_owner_on_tuesday_and_the_desk_phones_on_thursday(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 11, 23, 15, 0))
    assert jobs.due_callbacks(s, local(2026, 11, 23, 20, 0)) == 0  # Monday: not yet
    at.move_to(local(2026, 11, 24, 9, 0))
    assert jobs.due_callbacks(s, local(2026, 11, 24, 9, 0)) == 1  # Tuesday: the owner
    [(owner, question)] = notices(s, "callback_due")
    assert owner == "张伟"
    assert "BX000001（房屋渗漏水）已完工" in question
    assert jobs.due_callbacks(s, local(2026, 11, 25, 10, 0)) == 1  # Wednesday: reminded
    assert jobs.due_callbacks(s, local(2026, 11, 26, 9, 0)) == 2  # Thursday: the desk
    assert [who for who, _ in notices(s, "callback_reminder")] == ["陈静", "刘洋"]
    assert jobs.due_callbacks(s, local(2026, 11, 26, 15, 0)) == 0  # and only once


def test_reminders_wait_for_the_morning_not_3_am(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
    assert jobs.due_callbacks(s, local(2026, 11, 25, 3, 0)) == 0  # due Wednesday, at night
    assert jobs.due_callbacks(s, local(2026, 11, 25, 8, 0)) == 3  # the owner, then the desk


def test_an_overdue_callback_reaches_the_supervisor_each_working_day_until_done(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    ticket = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
    assert jobs.overdue_callbacks(s, local(2026, 11, 25, 23, 59)) == 0  # due through Wednesday
    assert jobs.overdue_callbacks(s, local(2026, 11, 27, 9, 0)) == 1  # Friday
    assert jobs.overdue_callbacks(s, local(2026, 11, 27, 15, 0)) == 0  # not every hour
    assert jobs.overdue_callbacks(s, local(2026, 11, 28, 9, 0)) == 0  # Saturday: no
    assert jobs.overdue_callbacks(s, local(2026, 11, 30, 9, 0)) == 1  # Monday: again
    assert [who for who, _ in notices(s, "callback_overdue")] == ["孙丽", "孙丽"]
    cuihu.called_back(ticket)
    assert jobs.overdue_callbacks(s, local(2026, 12, 1, 9, 0)) == 0


def test_complaints_escalate_at_24_hours_and_72_hours(cuihu: SampleEstate) -> None:
    s = cuihu.session
    complaint = complaints.file_complaint(
        session=s,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        subject="噪音",
        description="夜间施工",
    )
    cuihu.forward(complaint, to="bj")
    assert jobs.complaint_deadlines(s, local(2026, 11, 24, 8, 59)) == 0
    assert jobs.complaint_deadlines(s, local(2026, 11, 24, 9, 0)) == 1
    assert [who for who, _ in notices(s, "complaint_unhandled")] == ["高主管"]
    assert jobs.complaint_deadlines(s, local(2026, 11, 26, 9, 0)) == 1  # 72 h: the manager
    assert [who for who, _ in notices(s, "complaint_unanswered")] == ["黄经理"]
    assert jobs.complaint_deadlines(s, local(2026, 11, 26, 10, 0)) == 0


def test_a_reopened_complaint_does_not_fire_its_old_deadlines_at_once(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    complaint = complaints.file_complaint(
        session=s,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        subject="噪音",
        description="夜间施工",
        severity=ComplaintSeverity.GENERAL,
    )
    cuihu.forward(complaint, to="bj")
    complaints.take_up(session=s, ticket_id=complaint.id, actor=cuihu.person("高主管"))
    complaints.reply_complaint(
        session=s, ticket_id=complaint.id, actor=cuihu.person("高主管"), text="已处理"
    )
    at.move_to(local(2026, 11, 28, 10, 0))  # long after the first 72 hours
    cuihu.called_back(complaint, Satisfaction.UNSATISFIED, by="张伟", note="还是吵")
    assert jobs.complaint_deadlines(s, utcnow()) == 0  # a new round starts now
    assert jobs.complaint_deadlines(s, local(2026, 11, 29, 10, 0)) == 1  # 24 h: supervisor
    assert jobs.complaint_deadlines(s, local(2026, 12, 1, 10, 0)) == 1  # 72 h: the manager


def test_patrol_findings_late_or_unverified_are_chased(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    late = patrols.report_finding(
        session=s,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="2栋车库",
        category=PatrolCategory.PUBLIC_FACILITY,
        description="灯不亮",
        department_id=cuihu.department("gc").id,
    )
    fixed = patrols.report_finding(
        session=s,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="中心花园",
        category=PatrolCategory.LANDSCAPING,
        description="草坪枯黄",
        department_id=cuihu.department("lh").id,
    )
    patrols.fix(session=s, finding_id=fixed.id, actor=cuihu.person("林师傅"), note="补种")
    assert jobs.patrol_deadlines(s, local(2026, 11, 25, 9, 0)) == 2  # fixed 2 days ago, unverified
    assert [who for who, _ in notices(s, "finding_unverified")] == ["陈静", "刘洋"]
    assert jobs.patrol_deadlines(s, local(2026, 12, 1, 9, 0)) == 1  # the week is over
    assert [who for who, _ in notices(s, "finding_overdue")] == ["郑工"]
    cuihu.extend(
        late, asked_by="周师傅", approved_by="郑工", to=date(2026, 12, 10), reason="等配件"
    )
    assert jobs.patrol_deadlines(s, local(2026, 12, 2, 9, 0)) == 0  # extended: not late
    assert jobs.patrol_deadlines(s, local(2026, 12, 11, 9, 0)) == 1  # late again, once


def test_the_quality_specialist_gets_three_of_last_weeks_callbacks_to_recheck(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    for _ in range(5):
        ticket = cuihu.repair_done(at, RepairCategory.OTHER, local(2026, 11, 23, 10, 0))
        cuihu.called_back(ticket)
    assert jobs.quality_sample(s, local(2026, 11, 30, 9, 0)) == 1
    [(who, text)] = notices(s, "quality_sample")
    assert who == "马玲"
    assert "以下 3 户" in text
    assert text.count("· BX") == 3
    jobs.quality_sample(s, local(2026, 12, 2, 9, 0))  # the month's turns to the manager
    assert [who for who, _ in notices(s, "quality_sample")] == ["马玲", "黄经理"]  # once a week


def test_patrol_records_older_than_two_years_are_archived(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2024, 11, 1, 9, 0))
    patrols.report_finding(
        session=s,
        actor=cuihu.person("冯军"),
        estate_id=cuihu.id,
        place="大门",
        category=PatrolCategory.OTHER,
        description="旧记录",
        fixed_on_site=True,
    )
    at.move_to(local(2026, 11, 23, 9, 0))
    patrols.report_finding(
        session=s,
        actor=cuihu.person("冯军"),
        estate_id=cuihu.id,
        place="大门",
        category=PatrolCategory.OTHER,
        description="新记录",
        fixed_on_site=True,
    )
    assert jobs.archive_patrol_records(s, utcnow()) == 1
    kept = s.scalars(select(PatrolFinding).where(PatrolFinding.archived_at.is_(None))).all()
    assert [f.description for f in kept] == ["新记录"]
