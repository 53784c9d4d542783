"""Summaries read on a phone, counts first, then what needs someone: the day, what is
overdue, the month."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from storage.callback import service as callbacks
from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.clock import NOT_SET, format_day, format_local
from storage.config import Settings
from storage.figures.daily import UNASSIGNED, DayActivity, DigestItem, ReaderDigest
from storage.figures.monthly import MonthlyReport
from storage.figures.weekly import OpenItem, WeeklyReport
from storage.i18n import Msg, Translator
from storage.patrol import service as patrols
from storage.text import percent
from storage.ticket import messages, queries


def _counts(items: list[DigestItem]) -> dict[str, int]:
    return {
        "new": sum(i.new for i in items),
        "open": sum(i.open for i in items),
        "overdue": sum(i.overdue for i in items),
    }


def _item_line(item: DigestItem, t: Translator, tz: ZoneInfo) -> str:
    marks = (" " + t("【逾期】")) if item.overdue else (" " + t("【新】")) if item.new else ""
    return (
        t(
            "· {number} {place} · {about} · 期限 {due_on} · {holder}（{state}）",
            number=item.number,
            place=item.place,
            about=t(item.about),
            due_on=format_day(item.due_at, tz) if item.due_at else t(NOT_SET),
            holder=t(item.holder),
            state=t(item.state),
        )
        + marks
    )


def reader_digest_text(
    digest: ReaderDigest, estate: str, t: Translator, tz: ZoneInfo, limit: int | None
) -> tuple[str, bool]:
    """The 18:30 digest of one reader (001 4.10): counts first, then the findings and the
    work orders, most urgent first, each section cut at ``limit`` with "and N more";
    returns the text and whether anything was cut."""
    title = (
        t(
            "【每日汇总】{estate} · {department} {day}",
            estate=estate,
            department=digest.department,
            day=digest.day.isoformat(),
        )
        if digest.department
        else t("【每日汇总】{estate} · 全部部门 {day}", estate=estate, day=digest.day.isoformat())
    )
    lines = [title]
    if digest.quiet:
        lines.append(t("今天没有新的巡查问题和工单，也没有未完成或逾期的。"))
    findings, orders = _counts(digest.findings), _counts(digest.work_orders)
    lines.append(
        t(
            "巡查问题：新 {new}｜未整改 {open}｜逾期 {overdue}",
            new=findings["new"],
            open=findings["open"],
            overdue=findings["overdue"],
        )
    )
    lines.append(
        t(
            "工单：新 {new}｜未完成 {open}｜逾期 {overdue}",
            new=orders["new"],
            open=orders["open"],
            overdue=orders["overdue"],
        )
    )
    cut = False
    for heading, items in ((t("巡查问题："), digest.findings), (t("工单："), digest.work_orders)):
        if not items:
            continue
        lines.append(heading)
        shown = items if limit is None else items[:limit]
        lines += [_item_line(item, t, tz) for item in shown]
        if len(items) > len(shown):
            cut = True
            lines.append(t("……还有 {count} 项", count=len(items) - len(shown)))
    for outage in digest.outages:
        lines.append(
            t(
                "{kind}中：{where}（{title}），预计 {ends} 恢复",
                kind=Msg(outage.kind),
                where=outage.where,
                title=outage.title,
                ends=format_local(outage.ends_at, tz),
            )
        )
    if digest.rounds_done or digest.rounds_missed:
        lines.append(
            t(
                "巡检：已完成 {done}；未完成 {missed}",
                done="、".join(digest.rounds_done) or t("无"),
                missed="、".join(digest.rounds_missed) or t("无"),
            )
        )
    return "\n".join(lines), cut


def day_summary(activity: DayActivity, t: Translator) -> str:
    rows = sorted(activity.departments.values(), key=lambda d: d.department)
    totals = (
        sum(d.new_tickets for d in rows),
        sum(d.new_findings for d in rows),
        sum(d.fixed for d in rows),
        sum(d.still_open for d in rows),
        sum(d.overdue for d in rows),
    )
    lines = [
        t("{day} 汇总", day=activity.day.isoformat()),
        t(
            "新工单 {tickets}｜新巡查问题 {findings}｜已处理 {fixed}｜未结 {open}｜逾期 {overdue}",
            tickets=totals[0],
            findings=totals[1],
            fixed=totals[2],
            open=totals[3],
            overdue=totals[4],
        ),
    ]
    if activity.quiet:
        lines.append(t("今天没有新的报修、投诉或巡查问题。"))
    for row in rows:
        if not any((row.new_tickets, row.new_findings, row.fixed, row.still_open, row.overdue)):
            continue
        name = t(UNASSIGNED) if row.department == UNASSIGNED else row.department
        lines.append(
            t(
                "· {department}：新 {new}，已处理 {fixed}，未结 {open}，逾期 {overdue}",
                department=name,
                new=row.new_tickets + row.new_findings,
                fixed=row.fixed,
                open=row.still_open,
                overdue=row.overdue,
            )
        )
    if activity.callbacks_done:
        split = "，".join(
            f"{t(SATISFACTION_LABELS[s])} {activity.satisfaction[s]}"
            for s in Satisfaction
            if activity.satisfaction[s]
        )
        lines.append(t("回访 {count} 户：{split}", count=activity.callbacks_done, split=split))
    return "\n".join(lines)


def overdue_summary(
    *, session: Session, settings: Settings, estate_id: int, now: datetime, t: Translator
) -> str:
    tz = settings.tz
    sections: list[str] = []
    late_callbacks = callbacks.overdue(session=session, estate_id=estate_id, now=now)
    late_work = queries.overdue_work(session=session, estate_id=estate_id, now=now)
    undispatched = queries.not_dispatched_in_time(session=session, estate_id=estate_id, now=now)
    unhandled = queries.complaints_not_handled(session=session, estate_id=estate_id, now=now)
    unanswered = queries.complaints_not_replied(session=session, estate_id=estate_id, now=now)
    late_messages = [
        m
        for m in messages.waiting(session=session, estate_id=estate_id)
        if m.due_at is not None and m.due_at <= now
    ]
    if late_callbacks:
        sections.append(t("逾期回访 {count}：", count=len(late_callbacks)))
        sections += [
            f"· {c.ticket.number} {c.ticket.where} {format_day(c.due_at, tz)}"
            for c in late_callbacks
        ]
    for title, items in (
        (
            t("超时未派单的报修 {count}：", count=len(undispatched)),
            undispatched,
        ),
        (
            t("逾期未完工的维修单 {count}：", count=len(late_work)),
            late_work,
        ),
        (
            t(
                "超 {hours} 小时未受理的投诉 {count}：",
                hours=settings.complaint_handle_hours,
                count=len(unhandled),
            ),
            unhandled,
        ),
        (
            t("超期未答复的投诉 {count}：", count=len(unanswered)),
            unanswered,
        ),
        (
            t("超期未答复的留言 {count}：", count=len(late_messages)),
            late_messages,
        ),
    ):
        if items:
            sections.append(title)
            sections += [f"· {x.number} {x.where} {x.subject or ''}".rstrip() for x in items]
    findings = patrols.overdue(session=session, estate_id=estate_id, now=now)
    if findings:
        sections.append(t("逾期未整改的巡查问题 {count}：", count=len(findings)))
        sections += [
            f"· {f.number} {f.place} {f.department.name if f.department else ''} "
            f"{format_day(f.due_at, tz) if f.due_at else ''}".rstrip()
            for f in findings
        ]
    return "\n".join(sections) if sections else t("没有逾期事项。")


def month_summary(report: MonthlyReport, estate: str, t: Translator) -> str:
    on_time = percent(report.on_time_rate)
    lines = [
        t("【月度报告】{estate} {month}", estate=estate, month=report.month.strftime("%Y-%m")),
        t(
            "报修 {repairs}｜投诉 {complaints}｜巡查问题 {findings}",
            repairs=sum(report.repairs_by_category.values()),
            complaints=sum(report.complaints_by_severity.values()),
            findings=sum(report.findings_by_category.values()),
        ),
        t(
            "回访按时率 {rate}（{on_time}/{due}）",
            rate=on_time,
            on_time=report.callbacks_on_time,
            due=report.callbacks_due,
        ),
        t(
            "维修按时完工率 {rate}（{on_time}/{due}）",
            rate=percent(report.repair_on_time_rate),
            on_time=report.repairs_on_time,
            due=report.repairs_due,
        ),
        *(
            t(
                "· {name} {rate}（{on_time}/{due}）",
                name=t(name),
                rate=percent(report.repairs_on_time_by_technician[name] / due),
                on_time=report.repairs_on_time_by_technician[name],
                due=due,
            )
            for name, due in sorted(report.repairs_due_by_technician.items())
        ),
        t(
            "满意度：{split}",
            split="，".join(
                f"{t(SATISFACTION_LABELS[s])} {report.satisfaction[s]}" for s in Satisfaction
            ),
        ),
    ]
    if report.vital_few:
        lines.append(
            t(
                "主要问题（占 {percent}%）：{categories}",
                percent=report.vital_percent,
                categories="、".join(t(label) for label in report.vital_few),
            )
        )
    lines += [
        t(
            "业主评议 {period}：回收 {answered}/{asked}，综合满意率 {overall}",
            period=found.survey.period,
            answered=found.answered,
            asked=found.asked,
            overall=percent(found.overall),
        )
        for found in report.surveys
    ]
    return "\n".join(lines)


def week_summary(report: WeeklyReport, estate: str, t: Translator, *, shown: int = 15) -> str:
    """For the Friday meeting: the week's complaints and findings, then what is still
    open, the late ones marked; a long list is cut with how many more."""
    new_complaints = sum(report.complaints_new.values())
    lines = [
        t(
            "【周报】{estate} {week}（{monday} 起）",
            estate=estate,
            week=report.week,
            monday=report.monday.isoformat(),
        ),
        t(
            "投诉：本周新增 {new}，本周答复 {answered}，仍未答复 {open}",
            new=new_complaints,
            answered=report.complaints_answered,
            open=len(report.complaints_open),
        ),
    ]
    lines += [f"· {t(label)} {count}" for label, count in report.complaints_new.most_common()]
    lines += _open_lines(report.complaints_open, t, shown)
    lines.append(
        t(
            "巡查问题：本周新增 {new}，本周整改 {fixed}，仍未整改 {open}",
            new=sum(report.findings_new.values()),
            fixed=report.findings_fixed,
            open=len(report.findings_open),
        )
    )
    lines += [f"· {name} {count}" for name, count in report.findings_new.most_common()]
    lines += _open_lines(report.findings_open, t, shown)
    return "\n".join(lines)


def _read(text: str | Msg, t: Translator) -> str:
    """A label in the reader's language; a name or an owner's words as written."""
    return t(text) if isinstance(text, Msg) else text


def _open_lines(items: list[OpenItem], t: Translator, shown: int) -> list[str]:
    if not items:
        return [t("（没有未完成的）")]
    lines = [
        f"  {item.number} {_read(item.what, t)} {item.where} · {_read(item.holder, t)} · "
        + (t("已逾期（{due}）", due=item.due) if item.late else t("期限 {due}", due=item.due))
        for item in items[:shown]
    ]
    if len(items) > shown:
        lines.append(t("……还有 {count} 项", count=len(items) - shown))
    return lines
