"""What people are told about callbacks: one builder per kind of notice."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from storage.callback.models import SATISFACTION_LABELS, Callback, QualityCheckKind
from storage.clock import deadline_day, format_day, local_date
from storage.config import Settings
from storage.i18n import N_, Msg, Translator
from storage.outbox.notice import Notice
from storage.ticket.models import Ticket, TicketKind

if TYPE_CHECKING:
    from storage.people.privacy import PhoneOf


def callback_due(callback: Callback) -> Notice:
    """The callback question, to the owner in chat on the due day."""
    ticket = callback.ticket
    if ticket.kind is TicketKind.COMPLAINT:
        template = N_(
            "您的投诉 {number}（{what}）已答复，您对处理结果满意吗？请在下面选择您的评价。"
        )
        what: object = ticket.subject or ""
    else:
        template = N_("您的报修 {number}（{what}）已完工，您对维修满意吗？请在下面选择您的评价。")
        what = Msg(ticket.category.label) if ticket.category else ""
    return Notice(
        "callback_due",
        template,
        {"number": ticket.number, "what": what},
        # The answer itself, one press away (on WeChat by its number).
        actions=tuple(
            (f"/callback {callback.id} {satisfaction.value}", label)
            for satisfaction, label in SATISFACTION_LABELS.items()
        ),
    )


def _owner_of(ticket: Ticket, phone_of: PhoneOf) -> dict[str, object]:
    return {
        "number": ticket.number,
        "where": ticket.where,
        "owner": ticket.reporter.name,
        "phone": phone_of(ticket) or "—",
    }


# The owner's number is read the way the recipient may read it (``phone_of``, from
# ``storage.people.privacy.phones_for``): each recipient gets a notice of their own.


def owner_reminder(callback: Callback) -> Notice:
    """To the owner, once, when the question went unanswered."""
    notice = callback_due(callback)
    return Notice(
        "callback_owner_reminder",
        N_("提醒：{question}"),
        {"question": Msg(notice.template, **notice.params)},
        actions=notice.actions,
    )


def callback_reminder(callback: Callback, *, phone_of: PhoneOf) -> Notice:
    """To the desk, on the last day: whom to phone, as they did not answer in chat."""
    return Notice(
        "callback_reminder",
        N_(
            "【回访提醒】{number} {where}（{owner} {phone}）今天到回访期限，业主没有在聊天中"
            "回复，请电话回访。"
        ),
        _owner_of(callback.ticket, phone_of),
        actions=((f"/callbacks {callback.id}", N_("回访")),),
    )


def call_again(callback: Callback, *, phone_of: PhoneOf) -> Notice:
    """To the desk, the working day after a call nobody answered."""
    return Notice(
        "callback_call_again",
        N_(
            "【再次回访】{number} {where}（{owner} {phone}）上次未接通（第 {attempts} 次），"
            "请再打一次。"
        ),
        _owner_of(callback.ticket, phone_of) | {"attempts": callback.attempts},
        actions=((f"/callbacks {callback.id}", N_("回访")),),
    )


def callback_overdue(
    callback: Callback, settings: Settings, now: datetime, *, phone_of: PhoneOf
) -> Notice:
    """To the desk's supervisor, every working day until it is made."""
    return Notice(
        "callback_overdue",
        N_(
            "【回访逾期】{number} {where}（{owner} {phone}）的回访 {due_on} 到期，"
            "已逾期 {days} 天，仍未完成。"
        ),
        _owner_of(callback.ticket, phone_of)
        | {
            "due_on": format_day(callback.due_at, settings.tz),
            "days": days_overdue(callback, now, settings),
        },
    )


def days_overdue(callback: Callback, now: datetime, settings: Settings) -> int:
    """How many local days past its last day: 1 the day after."""
    last_day = deadline_day(callback.due_at, settings.tz)
    return max(0, (local_date(now, settings.tz) - last_day).days)


def quality_sample(
    picked: Sequence[Callback], t: Translator, kind: QualityCheckKind, *, phone_of: PhoneOf
) -> Notice:
    """000 3.12: the week's households for the quality specialist to call again; 003 篇十二
    三(四)1: the month's for the project manager. Recorded in 品质抽查."""
    lines = "\n".join(
        f"· {c.ticket.number} {c.ticket.where} {c.ticket.reporter.name} "
        f"{phone_of(c.ticket) or ''} "
        f"{t(SATISFACTION_LABELS[c.satisfaction]) if c.satisfaction else ''}".rstrip()
        for c in picked
    )
    if kind is QualityCheckKind.MONTHLY:
        template = N_(
            "【经理抽查】请抽查上月回访的以下 {count} 户，并在「品质抽查」中记录：\n{lines}"
        )
    else:
        template = N_(
            "【品质抽查】本周请电话回访以下 {count} 户，并在「品质抽查」中记录：\n{lines}"
        )
    return Notice(
        "quality_sample",
        template,
        {"count": len(picked), "lines": lines},
        actions=(("/quality", N_("品质抽查")),),
    )
