"""Who hears of a new repair, at once: the desk on duty, or its notice group, to dispatch
it; an urgent one (紧急维修) pages up a ladder, through the night, until someone accepts.

The clock (``scheduler/jobs.repair_deadlines``) calls the same functions every minute:
each notice is keyed, so what was sent at the report is not sent again, and what waited
(a repair at 19:00, for the desk's 08:30) goes when its time comes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.announcement import service as announcements
from storage.announcement.models import ANNOUNCEMENT_KIND_LABELS
from storage.chat import service as chat
from storage.clock import format_local
from storage.database import settings_of
from storage.duty import service as duty
from storage.errors import NotFound
from storage.estate.models import Estate
from storage.i18n import Msg
from storage.outbox import service as outbox
from storage.outbox.notice import Notice
from storage.people import service as people
from storage.people.models import DepartmentKind, Person, StaffRole
from storage.ticket import notices
from storage.ticket.models import Ticket

# The ladder an unaccepted urgent repair climbs, one rung per page interval.
LADDER = ("on_duty", "department_head", "project_manager")


def _rostered(
    session: Session, estate: Estate, kind: DepartmentKind, now: datetime
) -> list[Person]:
    return people.holders(
        duty.on_duty(session, estate_id=estate.id, kind=kind, at=now, tz=settings_of(session).tz)
    )


def desk_on_duty(session: Session, estate: Estate, now: datetime) -> list[Person]:
    """Customer service on the roster now; with nobody rostered, all of customer service
    (their supervisor, or the project manager, when the estate has none)."""
    return _rostered(session, estate, DepartmentKind.CUSTOMER_SERVICE, now) or people.desk_staff(
        session=session, estate_id=estate.id
    )


def technicians_on_duty(session: Session, estate: Estate, now: datetime) -> list[Person]:
    """Engineering on the roster now; with nobody rostered, every technician."""
    return _rostered(session, estate, DepartmentKind.ENGINEERING, now) or people.holders(
        people.staff_with_roles(session=session, roles={StaffRole.ENGINEERING}, estate_id=estate.id)
    )


def tell_desk(session: Session, estate: Estate, notice: Notice, *, key: str, now: datetime) -> int:
    """To the desk: its notice group when one is linked, else who is on duty."""
    groups = chat.chats_of_kind(
        session=session, estate_id=estate.id, kind=DepartmentKind.CUSTOMER_SERVICE
    )
    if groups:
        return sum(
            outbox.notice_to_chat(
                session=session,
                platform=group.platform,
                chat_id=group.chat_id,
                notice=notice,
                idempotency_key=f"{key}:{group.platform}:{group.chat_id}",
            )
            is not None
            for group in groups
        )
    return outbox.notify_each(
        session=session, recipients=desk_on_duty(session, estate, now), notice=notice, key=key
    )


def announce(session: Session, ticket: Ticket, now: datetime) -> int:
    """A repair just reported: an urgent one pages at once; an ordinary one reaches the
    desk now when it is open, else at its opening (the clock sends it then)."""
    if ticket.urgent:
        return page(session, ticket, now)
    if duty.desk_open(ticket.estate, now, settings_of(session).tz):
        return alert_desk(session, ticket, now)
    return 0


def alert_desk(session: Session, ticket: Ticket, now: datetime) -> int:
    return tell_desk(
        session,
        ticket.estate,
        notices.repair_reported(ticket, now, _outage(session, ticket, now)),
        key=f"repair_reported:{ticket.id}",
        now=now,
    )


def _outage(session: Session, ticket: Ticket, now: datetime) -> Msg | str:
    """The outage under way in the repair's building that it may be about, for the desk."""
    if ticket.unit is None or ticket.category is None:
        return ""
    found = announcements.outages_for(
        session=session, unit=ticket.unit, category=ticket.category.value, now=now
    )
    if not found:
        return ""
    outage = found[0]
    return notices.outage_line(
        announcements.places([outage]),
        ANNOUNCEMENT_KIND_LABELS[outage.kind],
        outage.title,
        format_local(outage.ends_at, settings_of(session).tz),
    )


def rung_due(ticket: Ticket, now: datetime, every_minutes: int) -> int:
    """How far up the ladder an unaccepted urgent repair has climbed by ``now``."""
    climbed = int((now - ticket.created_at) / timedelta(minutes=every_minutes))
    return min(max(climbed, 0), len(LADDER) - 1)


def page(session: Session, ticket: Ticket, now: datetime) -> int:
    """Every rung the urgent repair has reached, each person once per rung: the technicians
    with 接单, those who send someone (the desk, the head, the project manager) with 派单."""
    settings = settings_of(session)
    queued = 0
    for rung in range(rung_due(ticket, now, settings.urgent_page_every_minutes) + 1):
        takers, senders = _on_rung(session, ticket, LADDER[rung], now)
        for recipients, to_take in ((takers, True), (senders, False)):
            queued += outbox.notify_each(
                session=session,
                recipients=recipients,
                notice=notices.urgent_page(ticket, now, settings, to_take=to_take),
                key=f"urgent_page:{ticket.id}:{rung}",
            )
    return queued


def _on_rung(
    session: Session, ticket: Ticket, rung: str, now: datetime
) -> tuple[list[Person], list[Person]]:
    """Who on this rung would take the order themselves, and who would send someone."""
    if rung == "on_duty":
        holder = [ticket.assignee.person] if ticket.assignee is not None else []
        takers = _once([*holder, *technicians_on_duty(session, ticket.estate, now)])
        taking = {person.id for person in takers}
        desk = [p for p in desk_on_duty(session, ticket.estate, now) if p.id not in taking]
        return takers, _once(desk)
    if rung == "department_head":
        try:
            engineering = people.department_of_kind(
                session=session, estate_id=ticket.estate_id, kind=DepartmentKind.ENGINEERING
            )
        except NotFound:
            return [], people.project_managers(session=session, estate_id=ticket.estate_id)
        return [], people.responsible_for(session=session, department=engineering)
    return [], people.project_managers(session=session, estate_id=ticket.estate_id)


def _once(found: list[Person]) -> list[Person]:
    return list({person.id: person for person in found}.values())
