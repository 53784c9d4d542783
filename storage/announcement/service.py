"""通知公告 (003 篇十 8, 篇九 3; 004 二.1 信息传递): the desk writes a notice for the estate,
some buildings, entrances or units, or the residents with an open ticket; a supervisor
approves it (an emergency goes at once); it goes out through the outbox to every bound
resident of its audience, once each, and they press 收到. An outage (停水, 停电, 电梯停运)
names its expected end: while it lasts an owner reporting a matching repair is told of it
first, and at its end its residents are told it is over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from storage.announcement import notices
from storage.announcement.models import (
    ANNOUNCEMENT_STATUS_LABELS,
    Announcement,
    AnnouncementDelivery,
    AnnouncementKind,
    AnnouncementStatus,
)
from storage.clock import utcnow
from storage.config import Settings
from storage.database import settings_of
from storage.errors import InvalidInput, NotFound, PermissionDenied
from storage.estate import service as estates
from storage.estate.models import Building, Unit
from storage.i18n import N_
from storage.identity.models import ChatIdentity
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.people import service as people
from storage.people.models import DESK_ROLES, MANAGER_ROLES, Person, Residency
from storage.text import required
from storage.ticket.models import OPEN_STATUSES, Ticket
from storage.workflow import StateMachine

S = AnnouncementStatus
ANNOUNCEMENT_FLOW = StateMachine(
    N_("通知公告"),
    {
        S.PENDING_APPROVAL: frozenset({S.SCHEDULED, S.REFUSED, S.CANCELLED}),
        S.SCHEDULED: frozenset({S.SENT, S.CANCELLED}),
        S.SENT: frozenset({S.ENDED}),
    },
    ANNOUNCEMENT_STATUS_LABELS,
    entries=frozenset({S.PENDING_APPROVAL, S.SCHEDULED}),
)


@dataclass(frozen=True)
class Audience:
    """Who a notice is for. Nothing named is the whole estate; ``open_tickets`` narrows it
    to the residents with an open ticket in those units."""

    buildings: tuple[str, ...] = ()
    entrances: tuple[str, ...] = ()  # "3-1": building 3, 单元 1
    units: tuple[str, ...] = ()
    open_tickets: bool = False

    def record(self) -> dict[str, object]:
        return {
            "buildings": list(self.buildings),
            "entrances": list(self.entrances),
            "units": list(self.units),
            "open_tickets": self.open_tickets,
        }

    @classmethod
    def of(cls, announcement: Announcement) -> Audience:
        record = announcement.audience or {}
        return cls(
            buildings=tuple(record.get("buildings", ())),
            entrances=tuple(record.get("entrances", ())),
            units=tuple(record.get("units", ())),
            open_tickets=bool(record.get("open_tickets")),
        )

    @property
    def whole_estate(self) -> bool:
        return not (self.buildings or self.entrances or self.units)

    def describe(self) -> str:
        """In the desk's words, for the preview and the list: 3栋、5栋 1单元、2-1-301."""
        parts = [f"{code}栋" for code in self.buildings]
        parts += [f"{entrance.replace('-', '栋')}单元" for entrance in self.entrances]
        parts += list(self.units)
        where = "、".join(parts) if parts else "全小区"
        return f"{where}（有未结工单的住户）" if self.open_tickets else where


def parse_places(text: str) -> Audience:
    """What the desk types for the audience: 3, 5 (buildings), 3-1 (an entrance),
    3-1-1204 (a unit), separated by spaces, commas or 、."""
    buildings: list[str] = []
    entrances: list[str] = []
    units: list[str] = []
    for part in text.replace("，", ",").replace("、", ",").replace(" ", ",").split(","):
        place = estates.normalize_designation(part)
        if not place:
            continue
        pieces = place.split("-")
        target = buildings if len(pieces) == 1 else entrances if len(pieces) == 2 else units
        target.append(place)
    if not (buildings or entrances or units):
        raise InvalidInput("请写明楼栋、单元或房号，例如 3 或 3-1 或 3-1-1204")
    return Audience(tuple(buildings), tuple(entrances), tuple(units))


def audience_units(*, session: Session, estate_id: int, audience: Audience) -> list[Unit]:
    """The audience's units; a building, entrance or unit the estate lacks is refused."""
    everything = list(
        session.scalars(
            select(Unit)
            .join(Building, Unit.building_id == Building.id)
            .where(Building.estate_id == estate_id)
            .order_by(Unit.id)
        )
    )
    # Each place named must exist; which units the audience covers is ``_covers``'s, the
    # one rule an outage's warning follows too.
    for code in audience.buildings:
        if not any(_covers(Audience(buildings=(code,)), u) for u in everything):
            raise InvalidInput("本小区没有楼栋「{code}」", code=code)
    for entrance in audience.entrances:
        if not any(_covers(Audience(entrances=(entrance,)), u) for u in everything):
            raise InvalidInput("本小区没有单元「{entrance}」", entrance=entrance)
    for designation in audience.units:
        estates.find_unit(session=session, estate_id=estate_id, designation=designation)
    return [u for u in everything if _covers(audience, u)]


class Recipient(NamedTuple):
    """A resident a notice is for, as its rows need them: thousands at a time, so read as
    columns, not as people (loading each as an object cost a notice to 10,000 a third of a
    second)."""

    id: int
    locale: str
    bound: bool  # has a chat account: the notice can reach them


def recipients(*, session: Session, estate_id: int, audience: Audience) -> list[Recipient]:
    """Each resident of the audience's units, once (a person with two units hears once)."""
    unit_ids = [
        u.id for u in audience_units(session=session, estate_id=estate_id, audience=audience)
    ]
    if not unit_ids:
        return []
    # A join, not EXISTS per row: on residents imported a moment ago, before PostgreSQL has
    # counted them, the planner ran that as a scan of every account for every resident.
    accounts = select(ChatIdentity.person_id).distinct().subquery()
    query = (
        select(Person.id, Person.locale, accounts.c.person_id.is_not(None))
        .join(Residency, Residency.person_id == Person.id)
        .outerjoin(accounts, accounts.c.person_id == Person.id)
        .where(Residency.unit_id.in_(unit_ids))
    )
    if audience.open_tickets:
        query = query.where(
            select(Ticket.id)
            .where(
                Ticket.reporter_id == Person.id,
                Ticket.unit_id == Residency.unit_id,
                Ticket.status.in_(list(OPEN_STATUSES)),
            )
            .exists()
        )
    rows = session.execute(query.distinct().order_by(Person.id))
    return [Recipient(id, locale, bool(bound)) for id, locale, bound in rows]


@dataclass(frozen=True)
class Reach:
    """Before sending: how many the audience holds, and how many of them can be reached."""

    residents: int
    bound: int

    @property
    def not_bound(self) -> int:
        return self.residents - self.bound


def reach(*, session: Session, estate_id: int, audience: Audience) -> Reach:
    found = recipients(session=session, estate_id=estate_id, audience=audience)
    return Reach(len(found), sum(recipient.bound for recipient in found))


def may_approve(*, session: Session, actor: Person, estate_id: int) -> bool:
    post = people.staff_post(session=session, person_id=actor.id, estate_id=estate_id)
    return post is not None and post.role in MANAGER_ROLES


def approvers(*, session: Session, estate_id: int) -> list[Person]:
    """Who approves a notice: the desk's supervisors, and the project manager."""
    found = people.desk_heads(session=session, estate_id=estate_id)
    found += people.project_managers(session=session, estate_id=estate_id)
    return list({person.id: person for person in found}.values())


def needs_approval(
    *, session: Session, estate_id: int, actor: Person | None, emergency: bool
) -> bool:
    """Whether a notice this writer sends waits for a supervisor: not an emergency (unless
    the setting says so), not one a supervisor or the command line sends."""
    settings = settings_of(session)
    if not settings.announcement_needs_approval or actor is None:
        return False
    if emergency and settings.announcement_emergency_skips_approval:
        return False
    return not may_approve(session=session, actor=actor, estate_id=estate_id)


def create(
    *,
    session: Session,
    estate_id: int,
    kind: AnnouncementKind,
    title: str,
    text: str,
    audience: Audience,
    actor: Person | None,
    by: str,
    send_at: datetime | None = None,
    ends_at: datetime | None = None,
    emergency: bool = False,
) -> Announcement:
    """A notice written: waiting for a supervisor's approval, or (an emergency, a notice a
    supervisor writes, one from the command line, or approval turned off) on its way at
    ``send_at`` (now when not given)."""
    settings = settings_of(session)
    if actor is not None:
        people.require_staff(
            session=session,
            actor=actor,
            estate_id=estate_id,
            roles=DESK_ROLES,
            doing=N_("发布通知"),
        )
    now = utcnow()
    send_at = send_at or now
    if kind.is_outage and ends_at is None:
        raise InvalidInput("停水、停电、电梯停运的通知要写明预计恢复时间")
    if ends_at is not None and ends_at <= max(send_at, now):
        raise InvalidInput("预计恢复时间应晚于发送时间")
    audience_units(session=session, estate_id=estate_id, audience=audience)  # each place exists
    announcement = Announcement(
        estate_id=estate_id,
        kind=kind,
        title=required(title, N_("标题"), max_length=100),
        text=required(text, N_("通知内容"), max_length=2000),
        audience=audience.record(),
        emergency=emergency,
        send_at=send_at,
        ends_at=ends_at,
        created_by=actor,
        created_at=now,
    )
    approved = not needs_approval(
        session=session, estate_id=estate_id, actor=actor, emergency=emergency
    )
    ANNOUNCEMENT_FLOW.start(
        session=session,
        obj=announcement,
        state=S.SCHEDULED if approved else S.PENDING_APPROVAL,
        actor=actor,
        note=f"{audience.describe()}（{by}）",
    )
    if approved:
        announcement.approved_by_id = actor.id if actor is not None else None
        release(session=session, announcement=announcement, now=now, settings=settings)
    else:
        outbox.notify_each(
            session=session,
            recipients=approvers(session=session, estate_id=estate_id),
            notice=notices.approval_asked(announcement, audience.describe()),
        )
    return announcement


def get(
    *,
    session: Session,
    announcement_id: int,
    estate_id: int | None = None,
    for_update: bool = False,
) -> Announcement:
    """The notice; ``for_update``, locked until the caller commits: two people deciding it,
    or the desk and the clock, move it one after the other, the second from the first's
    state (and refused by the state machine when that move is no longer allowed)."""
    found = session.get(
        Announcement,
        announcement_id,
        with_for_update={"of": Announcement} if for_update else None,
        populate_existing=for_update,
    )
    if found is None or (estate_id is not None and found.estate_id != estate_id):
        raise NotFound("找不到通知 #{id}", id=announcement_id)
    return found


def decide(
    *, session: Session, announcement_id: int, actor: Person, approve: bool, reason: str = ""
) -> Announcement:
    """A supervisor approves a notice (it goes out at its time) or sends it back with why."""
    announcement = get(session=session, announcement_id=announcement_id, for_update=True)
    if not may_approve(session=session, actor=actor, estate_id=announcement.estate_id):
        raise PermissionDenied("只有主管或项目经理可以审批通知")
    target = S.SCHEDULED if approve else S.REFUSED
    ANNOUNCEMENT_FLOW.move(
        session=session, obj=announcement, target=target, actor=actor, note=reason or None
    )
    if announcement.created_by is not None and announcement.created_by_id != actor.id:
        outbox.notify(
            session=session,
            recipient=announcement.created_by,
            notice=notices.decided(announcement, approve=approve, by=actor.name, reason=reason),
        )
    if approve:
        announcement.approved_by_id = actor.id
        release(
            session=session, announcement=announcement, now=utcnow(), settings=settings_of(session)
        )
    return announcement


def _desks(session: Session, announcement_id: int, actor: Person, doing: str) -> Announcement:
    """The notice, for someone at its estate's desk (or refused, saying what they tried),
    locked for what they are about to do with it."""
    announcement = get(session=session, announcement_id=announcement_id, for_update=True)
    people.require_staff(
        session=session,
        actor=actor,
        estate_id=announcement.estate_id,
        roles=DESK_ROLES,
        doing=doing,
    )
    return announcement


def cancel(*, session: Session, announcement_id: int, actor: Person) -> Announcement:
    """Withdrawn before it went out."""
    announcement = _desks(session, announcement_id, actor, N_("撤回通知"))
    ANNOUNCEMENT_FLOW.move(session=session, obj=announcement, target=S.CANCELLED, actor=actor)
    return announcement


def goes_out_at(
    send_at: datetime, *, emergency: bool, now: datetime, settings: Settings
) -> datetime:
    """When a notice asked for ``send_at`` really goes: then, or (an ordinary one due at
    night) when quiet hours end."""
    moment = max(send_at, now)
    if emergency or not settings.is_quiet(moment):
        return moment
    local = moment.astimezone(settings.tz)
    morning = local.replace(
        hour=settings.quiet_hours_end.hour,
        minute=settings.quiet_hours_end.minute,
        second=0,
        microsecond=0,
    )
    if morning <= local:
        morning += timedelta(days=1)
    return morning.astimezone(UTC)


def held(announcement: Announcement, now: datetime, settings: Settings) -> bool:
    """Waiting: for its time, or (an ordinary one) for the end of quiet hours."""
    return announcement.send_at > now or (not announcement.emergency and settings.is_quiet(now))


_DELIVERIES_POSTGRESQL = text(
    "INSERT INTO announcement_delivery (announcement_id, person_id, outbox_id)"
    " SELECT :announcement_id, r.person_id, r.outbox_id"
    " FROM unnest(CAST(:person_ids AS INTEGER[]), CAST(:outbox_ids AS INTEGER[]))"
    " AS r(person_id, outbox_id)"
)


def release(
    *, session: Session, announcement: Announcement, now: datetime, settings: Settings
) -> int:
    """Sent, if it is due and not held by the night: a delivery for each resident of its
    audience, and the notice (with 收到) queued for each bound one, once. Returns how many
    were queued."""
    if announcement.status is not S.SCHEDULED or held(announcement, now, settings):
        return 0
    audience = Audience.of(announcement)
    found = recipients(session=session, estate_id=announcement.estate_id, audience=audience)
    bound = [recipient for recipient in found if recipient.bound]
    # Thousands of residents: their rows go in two statements, not a unit of work each.
    # Sent once: the notice is locked and moves to 已发送 in this same transaction.
    queued = outbox.notify_all(
        session=session,
        recipients=bound,
        notice=notices.announcement(announcement, settings.tz),
        key=f"announcement:{announcement.id}",
    )
    if found and session.get_bind().dialect.name == "postgresql":
        session.execute(  # as arrays, as outbox.notify_all writes the outbox's rows
            _DELIVERIES_POSTGRESQL,
            {
                "announcement_id": announcement.id,
                "person_ids": [recipient.id for recipient in found],
                "outbox_ids": [queued.get(recipient.id) for recipient in found],
            },
        )
    elif found:
        session.execute(
            insert(AnnouncementDelivery),
            [
                {
                    "announcement_id": announcement.id,
                    "person_id": recipient.id,
                    "outbox_id": queued.get(recipient.id),
                }
                for recipient in found
            ],
        )
    ANNOUNCEMENT_FLOW.move(
        session=session,
        obj=announcement,
        target=S.SENT,
        actor=None,
        note=f"已发送 {len(bound)} 人，未绑定 {len(found) - len(bound)} 人",
    )
    announcement.sent_at = now
    return len(queued)


def release_due(*, session: Session, now: datetime, settings: Settings) -> int:
    """The clock's part: every approved notice whose time has come."""
    due = session.scalars(
        select(Announcement)
        .where(Announcement.status == S.SCHEDULED, Announcement.send_at <= now)
        .order_by(Announcement.send_at, Announcement.id)
        # Locked as the desk's 撤回 locks it: a notice is sent or withdrawn, not both.
        .with_for_update(of=Announcement)
    ).all()
    return sum(release(session=session, announcement=a, now=now, settings=settings) for a in due)


def end(
    *, session: Session, announcement: Announcement, actor: Person | None, now: datetime
) -> int:
    """An outage over (at its expected end, or the desk says so earlier): each resident it
    reached is told. Returns how many were queued."""
    if announcement.status is not S.SENT or not announcement.kind.is_outage:
        raise InvalidInput("只有已发送的停水、停电、电梯停运通知可以结束")
    ANNOUNCEMENT_FLOW.move(session=session, obj=announcement, target=S.ENDED, actor=actor)
    announcement.ended_at = now
    reached = session.scalars(
        select(Person)
        .join(AnnouncementDelivery, AnnouncementDelivery.person_id == Person.id)
        .where(
            AnnouncementDelivery.announcement_id == announcement.id,
            AnnouncementDelivery.outbox_id.is_not(None),
        )
    ).all()
    return outbox.notify_each(
        session=session,
        recipients=reached,
        notice=notices.outage_over(announcement),
        key=f"announcement_over:{announcement.id}",
    )


def end_due(*, session: Session, now: datetime, settings: Settings) -> int:
    """Outages past their expected end. An ordinary one's end waits for the morning."""
    if settings.is_quiet(now):
        return 0
    due = session.scalars(
        select(Announcement)
        .where(
            Announcement.status == S.SENT,
            Announcement.ends_at.is_not(None),
            Announcement.ends_at <= now,
        )
        .with_for_update(of=Announcement)
    ).all()
    return sum(end(session=session, announcement=a, actor=None, now=now) for a in due)


def end_early(*, session: Session, announcement_id: int, actor: Person) -> Announcement:
    """The desk says the water (the power, the lift) is back before the expected end."""
    announcement = _desks(session, announcement_id, actor, N_("结束停水停电通知"))
    end(session=session, announcement=announcement, actor=actor, now=utcnow())
    return announcement


def acknowledge(*, session: Session, announcement_id: int, person: Person) -> Announcement | None:
    """收到 pressed: kept once (a second press changes nothing). None when this notice was
    not sent to them."""
    delivery = session.scalar(
        select(AnnouncementDelivery).where(
            AnnouncementDelivery.announcement_id == announcement_id,
            AnnouncementDelivery.person_id == person.id,
        )
    )
    if delivery is None:
        return None
    if delivery.acknowledged_at is None:
        delivery.acknowledged_at = utcnow()
    return session.get(Announcement, announcement_id)


def acknowledge_latest(*, session: Session, person: Person) -> Announcement | None:
    """收到 typed: the latest notice the person has not acknowledged."""
    delivery = session.scalar(
        select(AnnouncementDelivery)
        .where(
            AnnouncementDelivery.person_id == person.id,
            AnnouncementDelivery.acknowledged_at.is_(None),
            AnnouncementDelivery.outbox_id.is_not(None),
        )
        .order_by(AnnouncementDelivery.id.desc())
        .limit(1)
    )
    if delivery is None:
        return None
    return acknowledge(session=session, announcement_id=delivery.announcement_id, person=person)


@dataclass(frozen=True)
class Counts:
    """收到回执: where each copy is."""

    residents: int
    delivered: int
    failed: int
    waiting: int
    not_bound: int
    acknowledged: int


def counts(*, session: Session, announcement_id: int) -> Counts:
    rows = session.execute(
        select(
            OutboxMessage.status, AnnouncementDelivery.acknowledged_at.is_not(None), func.count()
        )
        .select_from(AnnouncementDelivery)
        .outerjoin(OutboxMessage, AnnouncementDelivery.outbox_id == OutboxMessage.id)
        .where(AnnouncementDelivery.announcement_id == announcement_id)
        .group_by(OutboxMessage.status, AnnouncementDelivery.acknowledged_at.is_not(None))
    ).all()
    by_status: dict[OutboxStatus | None, int] = {}
    acknowledged = 0
    for status, acked, n in rows:
        by_status[status] = by_status.get(status, 0) + n
        acknowledged += n if acked else 0
    return Counts(
        residents=sum(by_status.values()),
        delivered=by_status.get(OutboxStatus.SENT, 0),
        failed=by_status.get(OutboxStatus.FAILED, 0),
        waiting=by_status.get(OutboxStatus.PENDING, 0),
        not_bound=by_status.get(None, 0),
        acknowledged=acknowledged,
    )


def listing(*, session: Session, estate_id: int, limit: int = 20) -> list[Announcement]:
    """The estate's notices, the latest first."""
    query = (
        select(Announcement)
        .where(Announcement.estate_id == estate_id)
        .order_by(Announcement.created_at.desc(), Announcement.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def waiting_approval(*, session: Session, estate_id: int) -> list[Announcement]:
    query = (
        select(Announcement)
        .where(Announcement.estate_id == estate_id, Announcement.status == S.PENDING_APPROVAL)
        .order_by(Announcement.id)
    )
    return list(session.scalars(query))


def _outage_kinds(category: str, settings: Settings) -> set[AnnouncementKind]:
    matching = {
        AnnouncementKind.WATER_OUTAGE: settings.water_outage_categories,
        AnnouncementKind.POWER_OUTAGE: settings.power_outage_categories,
        AnnouncementKind.LIFT_OUTAGE: settings.lift_outage_categories,
    }
    return {kind for kind, categories in matching.items() if category in categories}


# Built once: asked at a repair's place step and again at its confirm.
_OUTAGES_NOW = (
    select(Announcement)
    .where(
        Announcement.estate_id == bindparam("estate_id"),
        Announcement.status == S.SENT,
        Announcement.kind != AnnouncementKind.GENERAL,
        Announcement.send_at <= bindparam("now"),
        # Past its expected end it is over, whether or not the clock has said so yet.
        Announcement.ends_at > bindparam("now"),
    )
    .order_by(Announcement.send_at)
)


def outages_now(
    *, session: Session, estate_id: int, now: datetime | None = None
) -> list[Announcement]:
    """The outages under way at the estate: sent, not over."""
    values = {"estate_id": estate_id, "now": now or utcnow()}
    return list(session.scalars(_OUTAGES_NOW, values))


def outages_for(
    *, session: Session, unit: Unit, category: str, now: datetime | None = None
) -> list[Announcement]:
    """An outage of the unit's building (or its entrance, or the unit, or the whole estate)
    that a repair in ``category`` is likely about: the owner is told of it first."""
    kinds = _outage_kinds(category, settings_of(session))
    if not kinds:
        return []
    found = []
    for outage in outages_now(session=session, estate_id=unit.estate_id, now=now):
        audience = Audience.of(outage)
        if outage.kind in kinds and _covers(audience, unit):
            found.append(outage)
    return found


def _covers(audience: Audience, unit: Unit) -> bool:
    """Whether the audience takes in this unit: the estate, its building, its entrance (or,
    in a building without entrances, "8-101" naming the unit itself), or the unit."""
    designation = unit.designation
    return (
        audience.whole_estate
        or unit.building.code in audience.buildings
        or any(designation.startswith(f"{e}-") or designation == e for e in audience.entrances)
        or designation in audience.units
    )


def places(outages: Sequence[Announcement]) -> str:
    return "；".join(Audience.of(o).describe() for o in outages)
