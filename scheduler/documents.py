"""The figures as files: the monthly and weekly workbooks, the Pareto chart (排列图), and
the month's patrol record (公共区域巡检记录表)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from storage.attachment.models import AttachmentKind
from storage.audit.models import AuditEvent
from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.clock import NOT_SET, format_day, format_local
from storage.figures.monthly import MonthlyReport
from storage.figures.weekly import WeeklyReport
from storage.i18n import Msg, Translator, translator
from storage.patrol.models import (
    FINDING_STATUS_LABELS,
    PATROL_CATEGORY_LABELS,
    ROUND_KIND_LABELS,
    FindingStatus,
    PatrolFinding,
    RoundStatus,
    RoundVisit,
)
from storage.patrol.rounds import Coverage
from storage.survey.service import Results

if TYPE_CHECKING:
    from openpyxl import Workbook

log = logging.getLogger(__name__)


def write_workbook(report: MonthlyReport, estate: str, path: Path, tz: ZoneInfo) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    t = translator(None)
    book = Workbook()
    sheet = book.active
    sheet.title = "概要"
    sheet.append([t("项目"), estate])
    sheet.append([t("月份"), report.month.strftime("%Y-%m")])
    sheet.append([t("回访应回访数"), report.callbacks_due])
    sheet.append([t("按时回访数"), report.callbacks_on_time])
    sheet.append([t("回访按时率"), report.on_time_rate])
    sheet["B5"].number_format = "0.0%"
    for title, counts in (
        ("报修类别", report.repairs_by_category),
        ("投诉类别", report.complaints_by_severity),
        ("巡查问题类别", report.findings_by_category),
        ("巡查问题部门", report.findings_by_department),
        ("满意度", {SATISFACTION_LABELS[s]: report.satisfaction[s] for s in Satisfaction}),
    ):
        tab = book.create_sheet(title)
        tab.append([t("类别"), t("数量")])
        for label, count in sorted(counts.items(), key=lambda item: -item[1]):
            tab.append([label, count])
    on_time = book.create_sheet("维修按时完工")
    on_time.append([t("类别"), t("到期数"), t("按时完工数"), t("按时完工率")])
    for due, done in (
        (report.repairs_due_by_category, report.repairs_on_time_by_category),
        (report.repairs_due_by_technician, report.repairs_on_time_by_technician),
    ):
        for label, count in sorted(due.items(), key=lambda item: -item[1]):
            on_time.append([label, count, done[label], done[label] / count])
            on_time.cell(row=on_time.max_row, column=4).number_format = "0.0%"
    checks = book.create_sheet("品质抽查")
    checks.append(
        [
            t("抽查"),
            t("单号"),
            t("地点"),
            t("回访结果"),
            t("抽查结果"),
            t("意见"),
            t("抽查人"),
            t("日期"),
        ]
    )
    for row in report.quality_checks:
        checks.append(
            [
                row.kind,
                row.number,
                row.where,
                row.callback,
                row.found,
                row.note,
                row.checker,
                row.on,
            ]
        )
    pareto = book.create_sheet("排列图")
    pareto.append([t("问题类别"), t("数量"), t("累计百分比")])
    total, running = sum(c for _, c in report.problems), 0
    for label, count in report.problems:
        running += count
        pareto.append([label, count, running / total])
        pareto.cell(row=pareto.max_row, column=3).number_format = "0.0%"
    _coverage_sheet(book, report.rounds, t)
    for found in report.surveys:
        _survey_sheets(book, found, t, tz)
    for tab in book.worksheets:
        for cell in tab[1]:
            cell.font = Font(bold=True)
    book.save(path)


def write_weekly_workbook(report: WeeklyReport, estate: str, path: Path) -> None:
    """The week's figures for the meeting: the counts, then what is still open."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    t = translator(None)
    book = Workbook()
    sheet = book.active
    sheet.title = "概要"
    sheet.append([t("项目"), estate])
    sheet.append([t("周"), report.week])
    sheet.append([t("本周新增投诉"), sum(report.complaints_new.values())])
    sheet.append([t("本周答复投诉"), report.complaints_answered])
    sheet.append([t("本周新增巡查问题"), sum(report.findings_new.values())])
    sheet.append([t("本周整改巡查问题"), report.findings_fixed])
    headers = ("编号", "事项", "地点", "负责", "期限", "逾期")
    for title, items in (
        ("未答复投诉", report.complaints_open),
        ("未整改问题", report.findings_open),
    ):
        tab = book.create_sheet(title)
        tab.append([t(header) for header in headers])
        for item in items:
            what = t(item.what) if isinstance(item.what, Msg) else item.what
            holder = t(item.holder) if isinstance(item.holder, Msg) else item.holder
            tab.append([item.number, what, item.where, holder, item.due, "是" if item.late else ""])
    for tab in book.worksheets:
        for cell in tab[1]:
            cell.font = Font(bold=True)
    book.save(path)


def write_survey_workbook(found: Results, estate: str, path: Path, tz: ZoneInfo) -> None:
    """业主评议's results (003 篇十二 七(一)): rates per item, the answers household by
    household, and the remarks."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    t = translator(None)
    book = Workbook()
    book.remove(book.active)
    _survey_sheets(book, found, t, tz, estate=estate)
    for tab in book.worksheets:
        for cell in tab[1]:
            cell.font = Font(bold=True)
    book.save(path)


def _survey_sheets(
    book: Workbook, found: Results, t: Translator, tz: ZoneInfo, estate: str = ""
) -> None:
    survey = found.survey
    summary = book.create_sheet(f"业主评议{survey.period}")
    summary.append([t("评议项目"), *(t(SATISFACTION_LABELS[s]) for s in Satisfaction), t("满意率")])
    for item in found.items:
        summary.append([item.label, *(item.counts[s] for s in Satisfaction), item.rate])
        summary.cell(row=summary.max_row, column=len(Satisfaction) + 2).number_format = "0.0%"
    summary.append([])
    if estate:  # a workbook of its own names the estate; the month's has it on 概要
        summary.append([t("项目"), estate])
    for label, value in (
        (t("已入住户数"), survey.occupied),
        (t("抽取户数"), found.asked),
        (t("回收份数"), found.answered),
    ):
        summary.append([label, value])
    for label, rate in ((t("回收率"), found.response_rate), (t("综合满意率"), found.overall)):
        summary.append([label, rate])
        summary.cell(row=summary.max_row, column=2).number_format = "0.0%"
    answers = book.create_sheet(f"答卷{survey.period}")
    answers.append(
        [t("房号"), t("住户"), *(item["label"] for item in survey.items), t("意见"), t("提交时间")]
    )
    for invitation in survey.invitations:
        given = invitation.answers or {}
        answers.append(
            [
                invitation.unit.designation,
                invitation.person.name,
                *(
                    t(SATISFACTION_LABELS[Satisfaction(given[item["key"]])])
                    if item["key"] in given
                    else t("未答")
                    for item in survey.items
                ),
                invitation.remark or "",
                format_local(invitation.answered_at, tz) if invitation.answered_at else "",
            ]
        )


def _coverage_sheet(book: Workbook, rows: Sequence[Coverage], t: Translator) -> None:
    """巡检覆盖: per kind of round, how many were due, done, done late (补登), missed, and the
    problems they found."""
    tab = book.create_sheet("巡检覆盖")
    tab.append([t("类别"), t("应巡检"), t("已完成"), t("补登"), t("未完成"), t("发现问题")])
    for row in rows:
        tab.append([t(row.label), row.due, row.done, row.late, row.missed, row.findings])


def _state_label(state: str | None, t: Translator) -> str:
    """A finding's state as the trail keeps it (its plain value), as people read it."""
    if state is None:
        return NOT_SET
    try:
        return t(FINDING_STATUS_LABELS[FindingStatus(state)])
    except ValueError:
        return state


def _visit_status(visit: RoundVisit, t: Translator) -> str:
    if visit.status is RoundStatus.MISSED:
        return t("未完成")
    return t("补登") if visit.missed_at is not None else t("已完成")


def write_patrol_record(
    *,
    estate: str,
    month: date,
    findings: Sequence[PatrolFinding],
    trails: Mapping[int, Sequence[AuditEvent]],
    visits: Sequence[RoundVisit],
    coverage: Sequence[Coverage],
    tz: ZoneInfo,
    path: Path,
) -> None:
    """The month's patrol record (001 4.9, 4.10): the 公共区域巡检记录表, a finding a row
    from report to verification; every step of each (巡查问题处理表); the rounds walked or
    missed (巡检记录); and the rounds by kind (巡检覆盖). ``trails`` maps a finding's id to
    its audit trail. Times are local to ``tz``."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    t = translator(None)
    book = Workbook()
    record = book.active
    record.title = "公共区域巡检记录表"
    record.append(
        [
            t("编号"),
            t("发现时间"),
            t("地点"),
            t("类别"),
            t("问题描述"),
            t("发现人"),
            t("责任部门"),
            t("整改期限"),
            t("整改情况"),
            t("整改人"),
            t("整改时间"),
            t("验证结果"),
            t("验证人"),
            t("验证时间"),
            t("验证意见"),
            t("状态"),
            t("照片数"),
        ]
    )
    for f in findings:
        passed = f.verification_passed
        record.append(
            [
                f.number,
                format_local(f.created_at, tz),
                f.place,
                t(PATROL_CATEGORY_LABELS[f.category]),
                f.description,
                f.reporter.person.name,
                f.department.name if f.department else NOT_SET,
                format_day(f.due_at, tz),
                f.fix_note or NOT_SET,
                f.fixed_by.person.name if f.fixed_by else NOT_SET,
                format_local(f.fixed_at, tz),
                NOT_SET if passed is None else t("通过") if passed else t("不通过"),
                f.verified_by.person.name if f.verified_by else NOT_SET,
                format_local(f.verified_at, tz),
                f.verification_note or NOT_SET,
                t(FINDING_STATUS_LABELS[f.status]),
                sum(a.kind is AttachmentKind.PHOTO for a in f.attachments),
            ]
        )
    steps = book.create_sheet("巡查问题处理表")
    steps.append([t("编号"), t("时间"), t("操作人"), t("从"), t("到"), t("说明")])
    for f in findings:
        for event in trails.get(f.id, ()):
            steps.append(
                [
                    f.number,
                    format_local(event.at, tz),
                    event.actor_label,
                    _state_label(event.from_state, t),
                    _state_label(event.to_state, t),
                    event.note or "",
                ]
            )
    walked = book.create_sheet("巡检记录")
    walked.append(
        [
            t("日期"),
            t("巡检"),
            t("类别"),
            t("巡检人"),
            t("登记时间"),
            t("状态"),
            t("区域数"),
            t("有问题项"),
        ]
    )
    for visit in visits:
        patrol_round = visit.round
        problems = [
            check.area + (f"（{check.finding.number}）" if check.finding else "")
            for check in visit.checks
            if not check.ok
        ]
        walked.append(
            [
                visit.day.isoformat(),
                patrol_round.name,
                t(ROUND_KIND_LABELS.get(patrol_round.kind, patrol_round.kind.value)),
                visit.recorded_by.person.name if visit.recorded_by else NOT_SET,
                format_local(visit.recorded_at, tz),
                _visit_status(visit, t),
                len(visit.checks),
                "、".join(problems),
            ]
        )
    _coverage_sheet(book, coverage, t)
    for tab in book.worksheets:
        for cell in tab[1]:
            cell.font = Font(bold=True)
    book.properties.title = f"{estate} {month:%Y-%m} 公共区域巡检记录表"
    book.save(path)


@cache
def _cjk_font() -> str | None:
    from matplotlib import font_manager

    for font in font_manager.fontManager.ttflist:
        if any(
            name in font.name
            for name in ("CJK", "WenQuanYi", "SimHei", "Source Han", "Hei", "Song", "Ming")
        ):
            return str(font.name)
    return None


def write_pareto(report: MonthlyReport, estate: str, path: Path) -> None:
    """排列图: bars of problem categories, most frequent first, and the cumulative percentage;
    the categories left of 80% are the vital few. Labels are Chinese when the machine has a
    CJK font, English otherwise, so the chart is always legible."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import PercentFormatter

    font = _cjk_font()
    t = translator(None if font else "en")
    if font is None:
        log.warning("no CJK font found: the Pareto chart is labelled in English")
    else:
        plt.rcParams["font.family"] = font
    labels = [t(label) for label, _ in report.problems]
    counts = [count for _, count in report.problems]
    total = sum(counts) or 1
    cumulative = [sum(counts[: i + 1]) / total for i in range(len(counts))]
    figure, bars = plt.subplots(figsize=(max(6.0, 0.9 * len(labels) + 2), 4.5), dpi=120)
    bars.bar(range(len(labels)), counts, color="#4C78A8")
    bars.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    bars.set_ylabel(t("数量"))
    line = bars.twinx()
    line.plot(range(len(labels)), cumulative, color="#E45756", marker="o")
    line.axhline(report.vital_percent / 100, color="#999999", linestyle="--", linewidth=1)
    line.yaxis.set_major_formatter(PercentFormatter(1.0))
    line.set_ylim(0, 1.05)
    bars.set_title(
        t("{estate} {month} 问题排列图", estate=estate, month=report.month.strftime("%Y-%m"))
    )
    with warnings.catch_warnings():
        # Without a CJK font the estate's name cannot be drawn; the rest of the chart can.
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        figure.tight_layout()
        figure.savefig(path, format="png")
    plt.close(figure)
