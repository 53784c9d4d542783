"""The week's figures before Friday's 16:00 meeting (001 例会制度, 003 篇十二 三(七)): the
week's complaints and findings, and what is still open, for the project manager and the
department heads; and ``wuye report weekly``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import time_machine
from openpyxl import load_workbook

from conversations.summaries import week_summary
from scheduler import jobs
from scheduler.documents import write_weekly_workbook
from storage.figures.weekly import week_of, weekly_report
from storage.i18n import translator
from storage.outbox import service as outbox
from storage.patrol import service as patrols
from storage.patrol.models import PatrolCategory
from storage.ticket import complaints
from storage.ticket.models import ComplaintSeverity, ReportChannel
from tests.conftest import SampleEstate, local


def a_week(cuihu: SampleEstate, at: time_machine.Traveller) -> None:
    """Monday 23 November to Friday 27: three complaints, two findings."""
    s = cuihu.session
    unit = cuihu.unit("1-1-502").id
    answered = complaints.file_complaint(
        session=s, actor=cuihu.person("张伟"), unit_id=unit, subject="垃圾未清", description="三天"
    )
    complaints.reply_complaint(
        session=s, ticket_id=answered.id, actor=cuihu.person("陈静"), text="已清理"
    )
    at.move_to(local(2026, 11, 24, 10, 0))
    forwarded = complaints.file_complaint(
        session=s, actor=cuihu.person("张伟"), unit_id=unit, subject="楼道噪音", description="夜间"
    )
    cuihu.forward(forwarded, to="zx")
    complaints.file_complaint(
        session=s,
        actor=cuihu.person("陈静"),
        on_behalf_of=cuihu.person("张伟").id,
        unit_id=unit,
        subject="电梯困人",
        description="本月第三次",
        severity=ComplaintSeverity.MAJOR,
        channel=ReportChannel.PHONE,
    )
    for place, category, department in (
        ("1栋楼道", PatrolCategory.CLEANLINESS, "bj"),
        ("中心花园", PatrolCategory.LANDSCAPING, "lh"),
    ):
        finding = patrols.report_finding(
            session=s,
            actor=cuihu.person("陈静"),
            estate_id=cuihu.id,
            place=place,
            category=category,
            description="需要处理",
            department_id=cuihu.department(department).id,
            due_on=date(2026, 11, 26),
        )
    patrols.fix(session=s, finding_id=finding.id, actor=cuihu.person("罗主管"), note="已补种")
    at.move_to(local(2026, 11, 27, 13, 0))


def test_the_weeks_figures(cuihu: SampleEstate, at: time_machine.Traveller) -> None:
    a_week(cuihu, at)
    report = weekly_report(
        session=cuihu.session,
        estate_id=cuihu.id,
        monday=week_of("2026-W48"),
        now=local(2026, 11, 27, 14, 0),
    )
    assert report.week == "2026-W48"
    assert report.complaints_new == {"一般投诉": 2, "重大投诉": 1}
    assert report.complaints_answered == 1
    t = translator(None)
    assert [
        (i.number, t(i.holder) if not isinstance(i.holder, str) else i.holder, i.late)
        for i in report.complaints_open
    ] == [
        ("TS000002", "秩序维护部", True),
        ("TS000003", "项目负责人", True),
    ]
    assert report.findings_new == {"保洁部": 1, "绿化部": 1}
    assert report.findings_fixed == 1
    [stairs] = report.findings_open
    assert (stairs.where, stairs.holder, stairs.late) == ("1栋楼道", "保洁部", True)
    text = week_summary(report, "翠湖花园", translator(None))
    assert "投诉：本周新增 3，本周答复 1，仍未答复 2" in text
    assert "巡查问题：本周新增 2，本周整改 1，仍未整改 1" in text
    assert "1栋楼道 · 保洁部 · 已逾期（2026-11-26）" in text


def test_the_figures_reach_the_meeting_on_friday_at_14(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    a_week(cuihu, at)
    s = cuihu.session
    assert jobs.weekly_figures(s, local(2026, 11, 26, 14, 0)) == 0  # Thursday
    assert jobs.weekly_figures(s, local(2026, 11, 27, 13, 59)) == 0
    queued = jobs.weekly_figures(s, local(2026, 11, 27, 14, 0))
    assert jobs.weekly_figures(s, local(2026, 11, 27, 14, 30)) == 0  # once
    readers = {"黄经理", "孙丽", "郑工", "何队长", "高主管", "罗主管"}
    assert queued == len(readers)
    for name in readers:
        kinds = [
            m.kind for m in outbox.for_recipient(session=s, recipient_id=cuihu.person(name).id)
        ]
        assert "weekly_figures" in kinds, name
    assert jobs.weekly_figures(s, local(2026, 11, 27, 16, 0)) == 0  # the meeting has begun


def test_the_weeks_workbook(
    cuihu: SampleEstate, at: time_machine.Traveller, tmp_path: Path
) -> None:
    a_week(cuihu, at)
    report = weekly_report(
        session=cuihu.session,
        estate_id=cuihu.id,
        monday=date(2026, 11, 23),
        now=local(2026, 11, 27, 14, 0),
    )
    path = tmp_path / "2026-W48.xlsx"
    write_weekly_workbook(report, "翠湖花园", path)
    book = load_workbook(path)
    assert book.sheetnames == ["概要", "未答复投诉", "未整改问题"]
    summary = {row[0]: row[1] for row in book["概要"].iter_rows(values_only=True)}
    assert summary["本周新增投诉"] == 3
    [finding] = list(book["未整改问题"].iter_rows(min_row=2, values_only=True))
    assert finding[2:] == ("1栋楼道", "保洁部", "2026-11-26", "是")
