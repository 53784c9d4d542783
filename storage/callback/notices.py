"""What people are told about callbacks: one builder per kind of notice."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from storage.callback.models import SATISFACTION_LABELS, Callback
from storage.clock import format_day
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
        template = N_("您的投诉 {number}（{what}）已答复，您对处理结果满意吗？请在下面选择您的评价。")
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


def callback_reminder(callback: Callback, *, phone_of: PhoneOf) -> Notice:
    """To the desk, the same day: whom to call."""
    return Notice(
        "callback_reminder",
        N_("【回访提醒】{number} {where}（{owner} {phone}）今天到回访期限，请及时回访。"),
        _owner_of(callback.ticket, phone_of),
    )


def callback_overdue(callback: Callback, settings: Settings, *, phone_of: PhoneOf) -> Notice:
    """To the desk's supervisor, every working day until it is made."""
    return Notice(
        "callback_overdue",
        N_("【回访逾期】{number} {where}（{owner} {phone}）的回访 {due_on} 到期，仍未完成。"),
        _owner_of(callback.ticket, phone_of) | {"due_on": format_day(callback.due_at, settings.tz)},
    )


def quality_sample(picked: Sequence[Callback], t: Translator, *, phone_of: PhoneOf) -> Notice:
    """000 3.12: the week's households for the quality specialist to call again."""
    lines = "\n".join(
        f"· {c.ticket.number} {c.ticket.where} {c.ticket.reporter.name} "
        f"{phone_of(c.ticket) or ''} "
        f"{t(SATISFACTION_LABELS[c.satisfaction]) if c.satisfaction else ''}".rstrip()
        for c in picked
    )
    return Notice(
        "quality_sample",
        N_("【品质抽查】本周请电话回访以下 {count} 户：\n{lines}"),
        {"count": len(picked), "lines": lines},
    )
