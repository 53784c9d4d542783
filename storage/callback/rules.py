"""When a callback is due: the one place where 2 / 3 / 7 days live (003 篇十二 三(四)2)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.callback.models import PENDING, Callback
from storage.clock import days_after, deadline_day, format_day, local_date, start_of_local_day
from storage.config import Settings
from storage.database import settings_of
from storage.people.models import Person
from storage.ticket.models import CallbackClass, Ticket, TicketKind


def window_days(ticket: Ticket, settings: Settings) -> int:
    if ticket.kind is TicketKind.COMPLAINT:
        return settings.callback_days_complaint
    if ticket.category is None:  # ck_ticket_kind_fields makes this unreachable for stored rows
        raise ValueError(f"repair {ticket.number} has no category")
    return {
        CallbackClass.SAFETY: settings.callback_days_safety,
        CallbackClass.LEAK: settings.callback_days_leak,
        CallbackClass.OTHER: settings.callback_days_other,
    }[ticket.category.callback_class]


def callback_due_at(ticket: Ticket, start: datetime, settings: Settings) -> datetime:
    """The clock starts when the repair is done (or the complaint replied), in local days."""
    return days_after(start, window_days(ticket, settings), settings.tz)


def ask_owner_at(start: datetime, due_at: datetime, settings: Settings) -> datetime:
    """The owner is asked the morning after the work (the setting's days), and at the
    latest at the start of the last day."""
    tz = settings.tz
    asked = local_date(start, tz) + timedelta(days=settings.callback_ask_after_days)
    return start_of_local_day(min(asked, deadline_day(due_at, tz)), tz)


def schedule(*, session: Session, ticket: Ticket, start: datetime, actor: Person) -> Callback:
    settings = settings_of(session)
    due_at = callback_due_at(ticket, start, settings)
    callback = Callback(ticket=ticket, due_at=due_at, ask_at=ask_owner_at(start, due_at, settings))
    audit.record_new(
        session=session,
        obj=callback,
        state=PENDING,
        actor=actor,
        note=f"回访期限 {format_day(callback.due_at, settings.tz)}",
    )
    return callback
