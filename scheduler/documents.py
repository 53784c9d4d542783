"""The monthly figures as files: an Excel workbook and a Pareto chart (排列图)."""

from __future__ import annotations

import logging
import warnings
from functools import cache
from pathlib import Path

from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.figures.monthly import MonthlyReport
from storage.figures.weekly import WeeklyReport
from storage.i18n import Msg, translator

log = logging.getLogger(__name__)


def write_workbook(report: MonthlyReport, estate: str, path: Path) -> None:
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
