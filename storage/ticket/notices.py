"""What people are told about repairs and complaints: one builder per kind of notice."""

from __future__ import annotations

from datetime import datetime

from storage.clock import format_day, format_local
from storage.config import Settings
from storage.i18n import N_, Msg
from storage.outbox.notice import Notice
from storage.ticket.models import Ticket


def _order(ticket: Ticket) -> dict[str, object]:
    return {
        "number": ticket.number,
        "where": ticket.where,
        "category": Msg(ticket.category.label) if ticket.category else "",
        "description": ticket.description,
    }


def repair_dispatched(ticket: Ticket) -> Notice:
    """To the technician (or the department) who is to do it."""
    return Notice(
        "repair_dispatched",
        N_("【新维修单】{number}\n地点：{where}\n类别：{category}\n{description}"),
        _order(ticket),
    )


def repair_done(ticket: Ticket, callback_due_at: datetime, settings: Settings) -> Notice:
    """To the owner, with the day by which they will be called back."""
    return Notice(
        "repair_done",
        N_("您的报修 {number} 已完工：{note}\n我们将于 {callback_due_on} 前回访，感谢您的耐心。"),
        {
            "number": ticket.number,
            "note": ticket.done_note or "",
            "callback_due_on": format_day(callback_due_at, settings.tz),
        },
    )


def rework_assigned(rework: Ticket, original: Ticket, note: str, settings: Settings) -> Notice:
    return Notice(
        "rework_assigned",
        N_(
            "【返工单】{number}（原单 {original}）\n业主回访不满意：{note}\n请于 {due} 前处理完毕。"
        ),
        {
            "number": rework.number,
            "original": original.number,
            "note": note,
            "due": format_local(rework.due_at, settings.tz),
        },
    )


def complaint_forwarded(ticket: Ticket, settings: Settings) -> Notice:
    return Notice(
        "complaint_forwarded",
        N_(
            "【投诉转办】{number}：{subject}\n地点：{where}\n{description}\n"
            "请于 {handle_due} 前受理，{reply_due} 前答复业主。"
        ),
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "where": ticket.where,
            "description": ticket.description,
            "handle_due": format_local(ticket.due_at, settings.tz),
            "reply_due": format_local(ticket.reply_due_at, settings.tz),
        },
    )


def major_complaint(ticket: Ticket, settings: Settings) -> Notice:
    """002 五清楚一报告: to the leadership at once."""
    return Notice(
        "major_complaint",
        N_(
            "【重大投诉】{number}：{subject}\n地点：{where}\n{description}\n"
            "须于 {reply_due} 前答复业主。"
        ),
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "where": ticket.where,
            "description": ticket.description,
            "reply_due": format_local(ticket.reply_due_at, settings.tz),
        },
    )


def complaint_reply_date(ticket: Ticket, settings: Settings) -> Notice:
    """To the owner of a complaint that went up: by when they will hear back."""
    return Notice(
        "complaint_reply_date",
        N_("您的投诉 {number} 已上报项目负责人处理，我们将于 {reply_due} 前答复您。"),
        {"number": ticket.number, "reply_due": format_local(ticket.reply_due_at, settings.tz)},
    )


def complaint_replied(ticket: Ticket) -> Notice:
    return Notice(
        "complaint_replied",
        N_("您的投诉 {number} 答复如下：\n{reply}"),
        {"number": ticket.number, "reply": ticket.reply_text or ""},
    )


def complaint_unsatisfied(ticket: Ticket, note: str, settings: Settings) -> Notice:
    return Notice(
        "complaint_unsatisfied",
        N_(
            "【投诉回访不满意】{number}：{subject}\n业主意见：{note}\n请于 {reply_due} 前再次答复。"
        ),
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "note": note,
            "reply_due": format_local(ticket.reply_due_at, settings.tz),
        },
    )


def complaint_unhandled(ticket: Ticket, settings: Settings) -> Notice:
    """Not taken up in time (003 篇十): to the department's head."""
    return Notice(
        "complaint_unhandled",
        N_("【投诉超 {hours} 小时未受理】{number}：{subject}（{where}）"),
        {
            "hours": settings.complaint_handle_hours,
            "number": ticket.number,
            "subject": ticket.subject,
            "where": ticket.where,
        },
    )


def complaint_unanswered(ticket: Ticket, settings: Settings) -> Notice:
    """Not answered by its reply date (003 篇十二 三(三)): to the project manager."""
    return Notice(
        "complaint_unanswered",
        N_("【投诉超时未答复】{number}：{subject}（{where}），答复期限 {due}"),
        {
            "number": ticket.number,
            "subject": ticket.subject,
            "where": ticket.where,
            "due": format_local(ticket.reply_due_at, settings.tz),
        },
    )
