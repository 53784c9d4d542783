"""Summaries read on a phone: counts first, then what needs someone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from storage.activity import UNASSIGNED, DayActivity
from storage.callback import service as callbacks
from storage.callback.models import SATISFACTION_LABELS, Satisfaction
from storage.clock import format_day
from storage.config import Settings
from storage.i18n import Translator
from storage.patrol import service as patrols
from storage.ticket import service as tickets


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
    if late_callbacks:
        sections.append(t("逾期回访 {count}：", count=len(late_callbacks)))
        sections += [
            f"· {c.ticket.number} {c.ticket.where} {format_day(c.due_at, tz)}"
            for c in late_callbacks
        ]
    for title, items in (
        (
            t("逾期返工 {count}："),
            tickets.overdue_work(session=session, estate_id=estate_id, now=now),
        ),
        (
            t("超 24 小时未受理的投诉 {count}："),
            tickets.complaints_not_handled(session=session, estate_id=estate_id, now=now),
        ),
        (
            t("超期未答复的投诉 {count}："),
            tickets.complaints_not_replied(session=session, estate_id=estate_id, now=now),
        ),
    ):
        if items:
            sections.append(title.format(count=len(items)))
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
