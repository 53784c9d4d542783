"""What people are told about repairs, complaints and messages: one builder per notice."""

from __future__ import annotations

from datetime import datetime

from storage.attachment.models import AttachmentKind, AttachmentPurpose
from storage.clock import format_day, format_local, format_time, utcnow
from storage.config import Settings
from storage.i18n import N_, Msg
from storage.outbox.notice import Notice
from storage.ticket.models import STATUS_LABELS, Ticket, TicketStatus

# The buttons a notice offers: each starts the flow that acts on the ticket, from whatever
# the reader was doing ("/take 12" accepts order 12).
ACCEPT = N_("接单")
DISPATCH = N_("派单")
ANSWER = N_("答复")


def take_action(ticket: Ticket) -> tuple[str, str]:
    return (f"/take {ticket.id}", ACCEPT)


def dispatch_action(ticket: Ticket) -> tuple[str, str]:
    return (f"/assign {ticket.id}", DISPATCH)


def photos_of(ticket: Ticket) -> tuple[str, ...]:
    """The owner's photos of the problem: they go with every notice about the work."""
    return tuple(
        a.ref
        for a in ticket.attachments
        if a.kind == AttachmentKind.PHOTO and a.purpose == AttachmentPurpose.REPORT.value
    )


def _order(ticket: Ticket) -> dict[str, object]:
    return {
        "number": ticket.number,
        "where": ticket.where,
        "category": Msg(ticket.category.label) if ticket.category else "",
        "description": ticket.description,
    }


def _waited(ticket: Ticket, now: datetime) -> int:
    return max(0, int((now - ticket.created_at).total_seconds() // 60))


def repair_dispatched(ticket: Ticket) -> Notice:
    """To the technician (or the department) who is to do it: accept with one press."""
    return Notice(
        "repair_dispatched",
        N_("【新维修单】{number}\n地点：{where}\n类别：{category}\n{description}"),
        _order(ticket),
        actions=(take_action(ticket),),
        images=photos_of(ticket),
    )


def repair_reported(ticket: Ticket, now: datetime, outage: Msg | str = "") -> Notice:
    """The intake alert: to the desk, at once (or when it opens), to dispatch; with the
    outage under way in its building that it may be about (``outage_line``)."""
    return Notice(
        "repair_reported",
        N_(
            "【新报修】{number}（{channel}）\n地点：{where}\n类别：{category}\n{description}\n"
            "报修人：{reporter}，已等候 {minutes} 分钟{outage}"
        ),
        {
            **_order(ticket),
            "channel": _channel(ticket),
            "reporter": ticket.reporter.name,
            "minutes": _waited(ticket, now),
            "outage": outage,
        },
        actions=(dispatch_action(ticket),),
        images=photos_of(ticket),
    )


def outage_line(where: str, kind: str, title: str, ends: str) -> Msg:
    return Msg(
        "\n注意：{where}正在{kind}（{title}，预计 {ends} 恢复），这张报修可能与此有关。",
        where=where,
        kind=Msg(kind),
        title=title,
        ends=ends,
    )


def repair_not_dispatched(ticket: Ticket, now: datetime, settings: Settings) -> Notice:
    """Nobody dispatched it: the desk again, then its supervisor."""
    return Notice(
        "repair_not_dispatched",
        N_(
            "【报修待派单】{number} 已等候 {minutes} 分钟，还没有派单\n地点：{where}\n{description}"
        ),
        {**_order(ticket), "minutes": _waited(ticket, now)},
        actions=(dispatch_action(ticket),),
    )


def urgent_page(ticket: Ticket, now: datetime, settings: Settings, *, to_take: bool) -> Notice:
    """紧急维修: to whoever is on the ladder's rung now, through quiet hours; a technician
    takes it with one press, the desk or a manager sends someone."""
    return Notice(
        "urgent_page",
        N_(
            "【紧急维修】{number}\n地点：{where}\n类别：{category}\n{description}\n"
            "报修人：{reporter} {phone}\n已等候 {minutes} 分钟，须 {accept_due} 前接单、"
            "{arrive_due} 前到场。"
        ),
        {
            **_order(ticket),
            "reporter": ticket.reporter.name,
            "phone": ticket.contact_phone or "",
            "minutes": _waited(ticket, now),
            "accept_due": format_time(ticket.dispatch_due_at, settings.tz),
            "arrive_due": format_time(ticket.arrive_due_at, settings.tz),
        },
        actions=(take_action(ticket) if to_take else dispatch_action(ticket),),
        images=photos_of(ticket),
    )


def urgent_not_arrived(ticket: Ticket, settings: Settings) -> Notice:
    return Notice(
        "urgent_not_arrived",
        N_(
            "【紧急维修未到场】{number}（{where}）接单人 {holder}，"
            "须于 {due} 前到场，尚未登记到场。"
        ),
        {
            **_order(ticket),
            "holder": ticket.assignee.person.name if ticket.assignee else "",
            "due": format_time(ticket.arrive_due_at, settings.tz),
        },
    )


def repair_due_soon(ticket: Ticket, settings: Settings) -> Notice:
    """To the holder, before the finish deadline."""
    return Notice(
        "repair_due_soon",
        N_("【工单即将到期】{number}（{where}）须于 {due} 前完工。"),
        {
            **_order(ticket),
            "due": format_local(ticket.due_at, settings.tz),
        },
    )


def repair_overdue(ticket: Ticket, settings: Settings) -> Notice:
    """At the deadline, then every working day: to the department's head."""
    return Notice(
        "repair_overdue",
        N_("【工单逾期】{number}（{where}）{category}，期限 {due}，现由 {holder}（{status}）"),
        {
            **_order(ticket),
            "due": format_local(ticket.due_at, settings.tz),
            "holder": ticket.assignee.person.name if ticket.assignee else Msg("无人接单"),
            "status": Msg(STATUS_LABELS[ticket.status]),
        },
    )


# ---------------------------------------------------------------- to the owner


def repair_received(ticket: Ticket) -> Notice:
    """A report the desk registered for an owner (phone, walk-in): its number, on their chat."""
    return Notice(
        "repair_received",
        N_(
            "您的报修已登记（{channel}），单号 {number}：{description}\n"
            "发送「我的工单」可随时查看进度。"
        ),
        {
            "number": ticket.number,
            "channel": _channel(ticket),
            "description": ticket.description,
        },
    )


def repair_on_its_way(ticket: Ticket) -> Notice:
    """To the owner: who has it now."""
    return Notice(
        "repair_on_its_way",
        N_("您的报修 {number} 已派给 {holder}，维修人员上门前会联系您。"),
        {"number": ticket.number, "holder": _holder(ticket)},
    )


def repair_taken(ticket: Ticket) -> Notice:
    return Notice(
        "repair_taken",
        N_("您的报修 {number} 已由 {holder} 接单。"),
        {"number": ticket.number, "holder": _holder(ticket)},
    )


def repair_expected(ticket: Ticket) -> Notice:
    return Notice(
        "repair_expected",
        N_("{holder} 预计 {time} 上门处理您的报修 {number}。"),
        {"number": ticket.number, "holder": _holder(ticket), "time": ticket.expected_time or ""},
    )


def repair_arrived(ticket: Ticket) -> Notice:
    """To the owner: someone is there."""
    return Notice(
        "repair_arrived",
        N_("{holder} 已到达现场处理您的报修 {number}。"),
        {"number": ticket.number, "holder": _holder(ticket)},
    )


def repair_taken_away(ticket: Ticket, new_holder: str) -> Notice:
    """To whoever held an order the desk gave to someone else: it is no longer theirs."""
    return Notice(
        "repair_taken_away",
        N_("工单 {number}（{where}）已改派给 {holder}，您不用再处理。"),
        {"number": ticket.number, "where": ticket.where, "holder": new_holder},
    )


def _channel(ticket: Ticket) -> object:
    return Msg(ticket.channel_label) if ticket.channel_label else "—"


def _holder(ticket: Ticket) -> object:
    if ticket.assignee is not None:
        return ticket.assignee.person.name
    return ticket.department.name if ticket.department is not None else Msg("工程部")


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


HANDLE = N_("处理")


def handle_action(ticket: Ticket) -> tuple[str, str]:
    return (f"/complaints {ticket.id}", HANDLE)


def _complaint(ticket: Ticket, settings: Settings) -> dict[str, object]:
    return {
        "number": ticket.number,
        "subject": ticket.subject or "",
        "where": ticket.where or "—",
        "description": ticket.description,
        "reporter": ticket.reporter.name,
        "handle_due": format_local(ticket.due_at, settings.tz),
        "reply_due": format_local(ticket.reply_due_at, settings.tz),
    }


def complaint_reported(ticket: Ticket, settings: Settings) -> Notice:
    """The intake alert (001 人员管理制度 一.3: looked into the same day): to the desk."""
    template = (
        N_(
            "【新投诉】{number}（{channel}）：{subject}\n地点：{where}\n{description}\n"
            "投诉人：{reporter}。请于 {handle_due} 前受理，{reply_due} 前答复。\n"
            "业主希望由领导处理，请确认是否为重大投诉。"
        )
        if ticket.leadership_requested
        else N_(
            "【新投诉】{number}（{channel}）：{subject}\n地点：{where}\n{description}\n"
            "投诉人：{reporter}。请于 {handle_due} 前受理，{reply_due} 前答复。"
        )
    )
    return Notice(
        "complaint_reported",
        template,
        {**_complaint(ticket, settings), "channel": _channel(ticket)},
        actions=(handle_action(ticket),),
        images=photos_of(ticket),
    )


def complaint_forwarded(ticket: Ticket, settings: Settings) -> Notice:
    return Notice(
        "complaint_forwarded",
        N_(
            "【投诉转办】{number}：{subject}\n地点：{where}\n{description}\n"
            "请于 {handle_due} 前受理，{reply_due} 前答复业主。"
        ),
        _complaint(ticket, settings),
        actions=(handle_action(ticket),),
        images=photos_of(ticket),
    )


def complaint_handed_back(ticket: Ticket, department: str, reason: str) -> Notice:
    return Notice(
        "complaint_handed_back",
        N_("【投诉退回】{department} 退回了 {number}（{subject}）：{reason}"),
        {
            "department": department,
            "number": ticket.number,
            "subject": ticket.subject or "",
            "reason": reason,
        },
        actions=(handle_action(ticket),),
    )


def major_complaint(ticket: Ticket, settings: Settings) -> Notice:
    """002 五清楚一报告: to the leadership at once, to take up and give the owner a date."""
    return Notice(
        "major_complaint",
        N_(
            "【重大投诉】{number}：{subject}\n地点：{where}\n{description}\n"
            "投诉人：{reporter}。请受理并确定答复业主的日期（默认 {reply_due}）。"
        ),
        _complaint(ticket, settings),
        actions=(handle_action(ticket),),
        images=photos_of(ticket),
    )


def complaint_received(ticket: Ticket, settings: Settings) -> Notice:
    """A complaint the desk registered for an owner (phone, walk-in, letter): its number."""
    return Notice(
        "complaint_received",
        N_(
            "您的投诉已登记（{channel}），单号 {number}：{subject}\n"
            "我们会在 {hours} 小时内处理，并于 {reply_due} 前答复您。"
        ),
        {
            **_complaint(ticket, settings),
            "channel": _channel(ticket),
            "hours": settings.complaint_handle_hours,
        },
    )


def complaint_went_up(ticket: Ticket) -> Notice:
    """To the owner of a complaint the desk reported to the leadership."""
    return Notice(
        "complaint_went_up",
        N_("您的投诉 {number} 已上报项目负责人处理，受理后会告诉您答复日期。"),
        {"number": ticket.number},
    )


def complaint_reply_date(ticket: Ticket, settings: Settings) -> Notice:
    """To the owner, once, when the leadership takes the complaint up: the date it chose."""
    return Notice(
        "complaint_reply_date",
        N_("您的投诉 {number} 已由{holder}受理，我们将于 {reply_due} 前答复您。"),
        {
            "number": ticket.number,
            "holder": _holder(ticket),
            "reply_due": format_local(ticket.reply_due_at, settings.tz),
        },
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
        {**_complaint(ticket, settings), "note": note},
        actions=(handle_action(ticket),),
    )


def complaint_due_soon(ticket: Ticket, settings: Settings) -> Notice:
    """To whoever holds it, before its reply date."""
    return Notice(
        "complaint_due_soon",
        N_("【投诉即将到期】{number}：{subject}（{where}）须于 {reply_due} 前答复业主。"),
        _complaint(ticket, settings),
        actions=(handle_action(ticket),),
    )


def complaint_unhandled(ticket: Ticket, settings: Settings) -> Notice:
    """Not taken up in time (003 篇十): to whoever answers for its holder."""
    return Notice(
        "complaint_unhandled",
        N_("【投诉超 {hours} 小时未受理】{number}：{subject}（{where}），现由{holder}负责"),
        {
            **_complaint(ticket, settings),
            "hours": settings.complaint_handle_hours,
            "holder": complaint_holder(ticket),
        },
        actions=(handle_action(ticket),),
    )


def complaint_unanswered(ticket: Ticket, settings: Settings) -> Notice:
    """Not answered by its reply date (003 篇十二 三(三)): to the project manager."""
    return Notice(
        "complaint_unanswered",
        N_(
            "【投诉超时未答复】{number}：{subject}（{where}），答复期限 {reply_due}，"
            "现由{holder}负责"
        ),
        {**_complaint(ticket, settings), "holder": complaint_holder(ticket)},
        actions=(handle_action(ticket),),
    )


def complaint_holder(ticket: Ticket) -> str | Msg:
    """Who has the complaint now: a person, a department, the leadership or the desk."""
    if ticket.assignee is not None and ticket.status is TicketStatus.ACCEPTED:
        return ticket.assignee.person.name
    if ticket.department is not None and ticket.status is TicketStatus.DISPATCHED:
        return ticket.department.name
    if ticket.status is TicketStatus.ESCALATED:
        return Msg(N_("项目负责人"))
    return Msg(N_("客服中心"))


def answer_action(ticket: Ticket) -> tuple[str, str]:
    return (f"/messages {ticket.id}", ANSWER)


def message_left(ticket: Ticket, settings: Settings) -> Notice:
    """A question or a suggestion for the desk, to answer in chat."""
    return Notice(
        "message_left",
        N_("【业主留言】{number}\n{reporter}（{where}）：{description}\n请于 {due} 前答复。"),
        {
            "number": ticket.number,
            "reporter": ticket.reporter.name,
            "where": ticket.where,
            "description": ticket.description,
            "due": format_local(ticket.due_at or utcnow(), settings.tz),
        },
        actions=(answer_action(ticket),),
    )


def message_not_answered(ticket: Ticket, settings: Settings) -> Notice:
    return Notice(
        "message_not_answered",
        N_("【留言未答复】{number}（{reporter}）期限 {due}：{description}"),
        {
            "number": ticket.number,
            "reporter": ticket.reporter.name,
            "due": format_local(ticket.due_at or utcnow(), settings.tz),
            "description": ticket.description[:100],
        },
        actions=(answer_action(ticket),),
    )


def message_answered(ticket: Ticket) -> Notice:
    return Notice(
        "message_answered",
        N_("您的留言 {number} 客服中心答复如下：\n{reply}"),
        {"number": ticket.number, "reply": ticket.reply_text or ""},
    )
