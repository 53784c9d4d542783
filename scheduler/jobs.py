"""The clock's jobs. Each takes a session and the current instant and queues notices.

Every notice has an idempotency key (job, estate or object, recipient, period), so a
job may run again (a retry, a restart, a catch-up, a second scheduler) and send
nothing twice. Jobs never talk to a platform: the outbox dispatcher does.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, text, update
from sqlalchemy.orm import Session

from conversations.summaries import day_summary, month_summary, reader_digest_text, week_summary
from scheduler.documents import write_pareto
from storage.announcement import service as announcements
from storage.callback import notices as callback_notices
from storage.callback import quality
from storage.callback import service as callbacks
from storage.callback.models import Callback, QualityCheckKind
from storage.chat.models import SeenMessage
from storage.clock import deadline_day, local_date, start_of_local_day
from storage.config import Settings
from storage.database import settings_of
from storage.duty import service as duty
from storage.estate.models import Estate
from storage.figures.daily import day_activity, estate_digest, reader_digest, staff_codes
from storage.figures.monthly import monthly_report, previous_month
from storage.figures.weekly import weekly_report
from storage.i18n import Translator, translator
from storage.identity import attempts as binding_attempts
from storage.outbox import service as outbox
from storage.outbox.notice import Notice
from storage.patrol import notices as patrol_notices
from storage.patrol import rounds
from storage.patrol import service as patrols
from storage.patrol.models import FindingStatus, PatrolFinding
from storage.people import privacy
from storage.people import service as people
from storage.people.models import (
    Person,
    StaffRole,
)
from storage.survey import service as surveys
from storage.ticket import complaints, intake, messages, queries
from storage.ticket import notices as ticket_notices
from storage.ticket.lifecycle import WORK_UNFINISHED
from storage.ticket.models import Ticket
from storage.ticket.models import TicketStatus as S


def _local(now: datetime, settings: Settings) -> datetime:
    return now.astimezone(settings.tz)


def quiet(now: datetime, settings: Settings) -> bool:
    """Night: reminders wait for the morning (quiet_hours_start → quiet_hours_end)."""
    return settings.is_quiet(now)


def _estates(session: Session) -> list[Estate]:
    return list(session.scalars(select(Estate).order_by(Estate.code)))


def _readers(session: Session, estate_id: int, roles: Collection[StaffRole]) -> list[Person]:
    return people.holders(
        people.staff_with_roles(session=session, roles=roles, estate_id=estate_id)
    )


# ---------------------------------------------------------------- 18:30 digest, 08:30 briefing


def daily_digests(session: Session, now: datetime) -> int:
    """001 4.10: the day's findings and tickets to every department head and the manager,
    at the estate's digest time, or as soon after it as the process is up that day."""
    local = _local(now, settings_of(session))
    return sum(
        digest(session, estate, local.date(), now)
        for estate in _estates(session)
        if local.time() >= estate.digest_time
    )


def digest_text(
    session: Session,
    estate: Estate,
    day: date,
    now: datetime,
    t: Translator,
    *,
    department_id: int | None = None,
    limit: int | None = None,
) -> tuple[str, bool]:
    """One reader's digest: a department's (every department's with None, with each
    department's counts and the callbacks), cut at ``limit`` items a section; and whether
    it was cut."""
    found = reader_digest(
        session=session, estate=estate, day=day, department_id=department_id, now=now
    )
    text, cut = reader_digest_text(found, estate.name, t, settings_of(session).tz, limit)
    if department_id is None:
        activity = day_activity(session=session, estate_id=estate.id, day=day, now=now)
        text += "\n" + day_summary(activity, t)
    return text, cut


def digest(session: Session, estate: Estate, day: date, now: datetime) -> int:
    """One estate's digest of one day: each department head reads their department's
    findings and work orders, the project manager every department's (001 4.10).

    The day is read once, and only when a reader has not had it yet: the clock asks every
    minute from the digest time until midnight. A long list is cut, with a button to see
    all.
    """
    settings = settings_of(session)
    posts = people.staff_with_roles(
        session=session,
        roles=[StaffRole.SUPERVISOR, StaffRole.PROJECT_MANAGER],
        estate_id=estate.id,
    )
    keys = {post.id: f"digest:{estate.code}:{post.person_id}:{day}" for post in posts}
    waiting = [
        post
        for post in posts
        if not outbox.already_queued(session=session, idempotency_key=keys[post.id])
    ]
    if not waiting:
        return 0
    found = estate_digest(session=session, estate=estate, day=day, now=now)
    activity = day_activity(session=session, estate_id=estate.id, day=day, now=now)
    rendered: dict[tuple[int | None, str], tuple[str, bool]] = {}
    queued = 0
    for post in waiting:
        person, t = post.person, translator(post.person.locale)
        scope = None if post.role is StaffRole.PROJECT_MANAGER else post.department_id
        if (scope, person.locale) not in rendered:
            mine = (
                found
                if scope is None
                else found.of_department(
                    post.department, staff_codes(session=session, department=post.department)
                )
            )
            text, cut = reader_digest_text(
                mine, estate.name, t, settings.tz, settings.digest_list_limit
            )
            if scope is None:
                text += "\n" + day_summary(activity, t)
            rendered[scope, person.locale] = text, cut
        text, cut = rendered[scope, person.locale]
        queued += (
            outbox.notify_text(
                session=session,
                recipient=person,
                kind="digest",
                text=text,
                idempotency_key=keys[post.id],
                buttons=[(f"/digest {day.isoformat()}", t("查看全部"))] if cut else [],
            )
            is not None
        )
    return queued


def morning_briefings(session: Session, now: datetime) -> int:
    """晨会 (001): yesterday's open problems and today's due callbacks, to customer service.
    A briefing missed until noon is not worth sending any more."""
    settings = settings_of(session)
    local = _local(now, settings)
    queued = 0
    for estate in _estates(session):
        if (
            not estate.briefing_time
            <= local.time()
            < max(estate.briefing_time, local.replace(hour=12).time())
        ):
            continue
        today = local.date()
        yesterday = day_activity(
            session=session, estate_id=estate.id, day=today - timedelta(days=1), now=now
        )
        due = callbacks.due(session=session, estate_id=estate.id, on=today)
        for person in _readers(
            session, estate.id, [StaffRole.CUSTOMER_SERVICE, StaffRole.SUPERVISOR]
        ):
            t = translator(person.locale)
            lines = [
                t("【晨会】{estate} {day}", estate=estate.name, day=today.isoformat()),
                day_summary(yesterday, t),
                *_due_callback_lines(due, now, settings, t),
            ]
            queued += (
                outbox.notify_text(
                    session=session,
                    recipient=person,
                    kind="briefing",
                    text="\n".join(lines),
                    idempotency_key=f"briefing:{estate.code}:{person.id}:{today}",
                )
                is not None
            )
    return queued


def _due_callback_lines(
    due: list[Callback], now: datetime, settings: Settings, t: Translator
) -> list[str]:
    """Today's callbacks, then the late ones with how late; "none" rather than a colon."""
    if not due:
        return [t("今天没有到期的回访。")]
    late = [(c, callback_notices.days_overdue(c, now, settings)) for c in due]
    today = [c for c, days in late if not days]
    overdue = [(c, days) for c, days in late if days]
    lines = []
    if today:
        lines.append(t("今天到期的回访 {count} 户：", count=len(today)))
        lines += [f"· {c.ticket.number} {c.ticket.where} {c.ticket.reporter.name}" for c in today]
    if overdue:
        lines.append(t("已逾期的回访 {count} 户：", count=len(overdue)))
        lines += [
            f"· {c.ticket.number} {c.ticket.where} {c.ticket.reporter.name} "
            + t("逾期 {days} 天", days=days)
            for c, days in overdue
        ]
    return lines


# ---------------------------------------------------------------- callbacks


def due_callbacks(session: Session, now: datetime) -> int:
    """Callbacks that reach people (003 篇十二 三(四)2, "within" 2/3/7 days): the owner is
    asked in chat the day after the work and reminded once; on the last day the desk is
    told to phone those who did not answer; a call nobody answered is due again the next
    working day."""
    settings = settings_of(session)
    if quiet(now, settings):
        return 0
    remind_after = timedelta(days=settings.callback_owner_reminder_days)
    queued = 0
    for callback in callbacks.waiting(session=session):
        last_day = deadline_day(callback.due_at, settings.tz)
        ask_at = callback.ask_at or start_of_local_day(last_day, settings.tz)
        if now < ask_at:
            continue
        queued += callbacks.ask_owner(session=session, callback_id=callback.id, now=now) is not None
        asked = callback.asked_at
        if asked is not None and asked + remind_after <= now < callback.due_at:
            queued += (
                outbox.notify(
                    session=session,
                    recipient=callback.ticket.reporter,
                    notice=callback_notices.owner_reminder(callback),
                    idempotency_key=f"callback_owner_reminder:{callback.id}",
                )
                is not None
            )
        if local_date(now, settings.tz) >= last_day and callback.attempts == 0:
            queued += _tell_desk_staff(
                session,
                callback,
                callback_notices.callback_reminder,
                f"callback_reminder:{callback.id}",
            )
        if callback.call_again_at is not None and callback.call_again_at <= now:
            queued += _tell_desk_staff(
                session,
                callback,
                callback_notices.call_again,
                f"callback_call_again:{callback.id}:{callback.attempts}",
            )
    return queued


def _tell_desk_staff(
    session: Session,
    callback: Callback,
    build: Callable[..., Notice],
    key: str,
) -> int:
    """One notice each: the owner's number is written as that reader may read it."""
    return sum(
        outbox.notify(
            session=session,
            recipient=person,
            notice=build(callback, phone_of=privacy.phones_for(session=session, viewer=person)),
            idempotency_key=f"{key}:{person.id}",
        )
        is not None
        for person in people.desk_staff(session=session, estate_id=callback.ticket.estate_id)
    )


def overdue_callbacks(session: Session, now: datetime) -> int:
    """Past due: the desk's supervisor hears of it, then once every working day until done."""
    settings = settings_of(session)
    local = _local(now, settings)
    if quiet(now, settings):
        return 0
    return sum(
        outbox.notify(
            session=session,
            recipient=person,
            notice=callback_notices.callback_overdue(
                callback, settings, now, phone_of=privacy.phones_for(session=session, viewer=person)
            ),
            idempotency_key=f"callback_overdue:{callback.id}:{local.date()}:{person.id}",
        )
        is not None
        for callback in callbacks.overdue(session=session, estate_id=None, now=now)
        if callback.ticket.estate.is_working_day(local.date())
        for person in people.desk_heads(session=session, estate_id=callback.ticket.estate_id)
    )


# ---------------------------------------------------------------- complaints, patrols


def complaint_deadlines(session: Session, now: datetime) -> int:
    """Every complaint's deadlines, following whoever holds it (``complaints.holders``):

    - new, reported after hours: the desk hears of it when it opens;
    - not taken up in time: whoever answers for the holder (the department's head, the
      desk's supervisor, the project manager for what the leadership holds);
    - the holder is warned before the reply date; past it, the project manager hears.

    The deadline is in the key: a reopened complaint has a new one and is not late at once."""
    settings = settings_of(session)
    if quiet(now, settings):
        return 0
    warn = timedelta(hours=settings.complaint_warning_hours)
    queued = 0
    for estate in _estates(session):
        open_ones = queries.open_complaints(session=session, estate_id=estate.id)
        for ticket in open_ones:
            if ticket.status is S.NEW:
                queued += complaints.announce(session, ticket, now)
            due = ticket.reply_due_at
            if due is not None and due - warn <= now < due:
                queued += outbox.notify_each(
                    session=session,
                    recipients=complaints.holders(session=session, ticket=ticket),
                    notice=ticket_notices.complaint_due_soon(ticket, settings),
                    key=_deadline_key("complaint_due_soon", ticket.id, due),
                )
        for ticket in queries.complaints_not_handled(session=session, estate_id=estate.id, now=now):
            queued += outbox.notify_each(
                session=session,
                recipients=complaints.answerable(session=session, ticket=ticket),
                notice=ticket_notices.complaint_unhandled(ticket, settings),
                key=_deadline_key("complaint_unhandled", ticket.id, ticket.due_at),
            )
        for ticket in queries.complaints_not_replied(session=session, estate_id=estate.id, now=now):
            # Late with the leadership: the company's leader above it hears too, if named.
            late_up = complaints.held_by_leadership(ticket)
            queued += outbox.notify_each(
                session=session,
                recipients=(people.leadership if late_up else people.project_managers)(
                    session=session, estate_id=estate.id
                ),
                notice=ticket_notices.complaint_unanswered(ticket, settings),
                key=_deadline_key("complaint_unanswered", ticket.id, ticket.reply_due_at),
            )
    return queued


def repair_deadlines(session: Session, now: datetime) -> int:
    """Every repair's deadlines (``storage.ticket.repairs.set_deadlines``):

    - urgent and not accepted: the ladder is paged, a rung every page interval, day and
      night; accepted but nobody on site by its time: the department head hears;
    - new and not dispatched: the desk hears of it when it opens (a report made after
      hours), again after the reminder minutes of desk time, then its supervisor;
    - the holder is warned before the finish deadline; at it, the department head hears,
      once each working day, never at night.
    """
    settings = settings_of(session)
    tz = settings.tz
    local = _local(now, settings)
    night = quiet(now, settings)
    remind = timedelta(minutes=settings.repair_dispatch_reminder_minutes)
    warn = timedelta(hours=settings.repair_warning_hours)
    queued = 0
    for estate in _estates(session):
        for ticket in queries.repairs_in(
            session=session, estate_id=estate.id, statuses=frozenset({S.NEW, S.DISPATCHED})
        ):
            if ticket.urgent:
                queued += intake.page(session, ticket, now)
            elif ticket.status is S.NEW and not night and duty.desk_open(estate, now, tz):
                queued += intake.alert_desk(session, ticket, now)
                waited = now - duty.desk_sees(estate, ticket.created_at, tz)
                if waited >= remind:
                    queued += intake.tell_desk(
                        session,
                        estate,
                        ticket_notices.repair_not_dispatched(ticket, now, settings),
                        key=f"repair_not_dispatched:{ticket.id}",
                        now=now,
                    )
                if waited >= 2 * remind:
                    queued += outbox.notify_each(
                        session=session,
                        recipients=people.desk_heads(session=session, estate_id=estate.id),
                        notice=ticket_notices.repair_not_dispatched(ticket, now, settings),
                        key=f"repair_not_dispatched_head:{ticket.id}",
                    )
        for ticket in queries.repairs_in(
            session=session, estate_id=estate.id, statuses=frozenset({S.ACCEPTED})
        ):
            late = ticket.arrive_due_at is not None and ticket.arrive_due_at <= now
            if ticket.urgent and ticket.arrived_at is None and late:
                queued += outbox.notify_each(
                    session=session,
                    recipients=_heads_of(session, ticket),
                    notice=ticket_notices.urgent_not_arrived(ticket, settings),
                    key=f"urgent_not_arrived:{ticket.id}",
                )
        if night:
            continue
        for ticket in queries.repairs_in(
            session=session, estate_id=estate.id, statuses=WORK_UNFINISHED
        ):
            if ticket.due_at is None or not ticket.due_at - warn <= now < ticket.due_at:
                continue
            queued += outbox.notify_each(
                session=session,
                recipients=_holders_of(session, ticket),
                notice=ticket_notices.repair_due_soon(ticket, settings),
                key=_deadline_key("repair_due_soon", ticket.id, ticket.due_at),
            )
        if not estate.is_working_day(local.date()):
            continue
        for ticket in queries.overdue_work(session=session, estate_id=estate.id, now=now):
            queued += outbox.notify_each(
                session=session,
                recipients=_heads_of(session, ticket),
                notice=ticket_notices.repair_overdue(ticket, settings),
                key=_deadline_key("repair_overdue", ticket.id, ticket.due_at) + f":{local.date()}",
            )
    return queued


def _holders_of(session: Session, ticket: Ticket) -> list[Person]:
    """Who holds an order: its assignee, else whoever answers for its department, else the
    desk (nobody dispatched it)."""
    if ticket.assignee is not None:
        return [ticket.assignee.person]
    if ticket.department is not None:
        return people.responsible_for(session=session, department=ticket.department)
    return people.desk_staff(session=session, estate_id=ticket.estate_id)


def _heads_of(session: Session, ticket: Ticket) -> list[Person]:
    """Who answers for a late order: its department's head, else the desk's."""
    if ticket.department is not None:
        return people.responsible_for(session=session, department=ticket.department)
    return people.desk_heads(session=session, estate_id=ticket.estate_id)


def message_deadlines(session: Session, now: datetime) -> int:
    """留言: a message left after hours reaches the desk when it opens; one not answered by
    its time goes to the desk's supervisor, once each working day, never at night."""
    settings = settings_of(session)
    if quiet(now, settings):
        return 0
    queued = 0
    for estate in _estates(session):
        if not duty.desk_open(estate, now, settings.tz):
            continue
        for ticket in messages.waiting(session=session, estate_id=estate.id):
            queued += messages.tell_desk_of(session, ticket)
            if ticket.due_at is None or ticket.due_at > now:
                continue
            if not estate.is_working_day(_local(now, settings).date()):
                continue
            queued += outbox.notify_each(
                session=session,
                recipients=people.desk_heads(session=session, estate_id=estate.id),
                notice=ticket_notices.message_not_answered(ticket, settings),
                key=_deadline_key("message_not_answered", ticket.id, ticket.due_at)
                + f":{_local(now, settings).date()}",
            )
    return queued


def _deadline_key(kind: str, object_id: int, deadline: datetime | None) -> str:
    return f"{kind}:{object_id}:{deadline.isoformat() if deadline else '-'}"


def patrol_deadlines(session: Session, now: datetime) -> int:
    """Not fixed by the deadline (or the approved extension) → the department head;
    handed back and not sent on by it → the desk's head; fixed but not verified within
    the verify days → customer service."""
    settings = settings_of(session)
    if quiet(now, settings):
        return 0
    queued = 0
    for estate in _estates(session):
        for finding in patrols.overdue(session=session, estate_id=estate.id, now=now):
            if finding.department is not None:
                queued += outbox.notify_each(
                    session=session,
                    recipients=people.responsible_for(
                        session=session, department=finding.department
                    ),
                    notice=patrol_notices.finding_overdue(finding, settings),
                    key=f"finding_overdue:{finding.id}:{finding.due_at}",
                )
        # A handed-back finding is the desk's to send on: late, its head hears.
        for finding in patrols.overdue(
            session=session, estate_id=estate.id, now=now, status=FindingStatus.RETURNED
        ):
            queued += outbox.notify_each(
                session=session,
                recipients=people.desk_heads(session=session, estate_id=estate.id),
                notice=patrol_notices.finding_overdue(finding, settings),
                key=f"finding_overdue:{finding.id}:{finding.due_at}",
            )
        late = now - timedelta(days=settings.patrol_verify_days)
        for finding in patrols.awaiting_verification(
            session=session, estate_id=estate.id, fixed_before=late
        ):
            queued += outbox.notify_each(
                session=session,
                recipients=people.desk_staff(session=session, estate_id=estate.id),
                notice=patrol_notices.finding_unverified(finding, settings),
                key=f"finding_unverified:{finding.id}:{finding.fixed_at}",
            )
    return queued


def patrol_rounds(session: Session, now: datetime) -> int:
    """001 巡检规程 4.1 (巡检人员应严格遵守巡检时间): at a round's window start its walkers
    are reminded; at its end, a round nobody recorded is missed and the supervisor told."""
    settings = settings_of(session)
    local = _local(now, settings)
    today = local.date()
    queued = 0
    for estate in _estates(session):
        for patrol_round in rounds.rounds_of(session=session, estate_id=estate.id):
            if not rounds.scheduled_on(patrol_round, today, estate):
                continue
            starts, ends = rounds.window(patrol_round, today, settings.tz)
            if local < starts:
                continue
            walking = rounds.walkers(session=session, patrol_round=patrol_round)
            if local < ends:
                if rounds.visit(session=session, patrol_round=patrol_round, day=today) is None:
                    queued += outbox.notify_each(
                        session=session,
                        recipients=people.holders(walking),
                        notice=patrol_notices.round_reminder(patrol_round, today),
                        key=f"round_reminder:{patrol_round.id}:{today}",
                    )
                continue
            if rounds.mark_missed(session=session, patrol_round=patrol_round, day=today, now=now):
                queued += outbox.notify_each(
                    session=session,
                    recipients=rounds.supervisors(session=session, patrol_round=patrol_round),
                    notice=patrol_notices.round_missed(
                        patrol_round, today, "、".join(p.person.name for p in walking)
                    ),
                    key=f"round_missed:{patrol_round.id}:{today}",
                )
    return queued


def resident_notices(session: Session, now: datetime) -> int:
    """通知公告: an approved notice whose time has come goes out (an ordinary one waits for
    the morning, an emergency does not); an outage past its expected end is over and its
    residents told so."""
    settings = settings_of(session)
    released = announcements.release_due(session=session, now=now, settings=settings)
    return released + announcements.end_due(session=session, now=now, settings=settings)


def owner_surveys(session: Session, now: datetime) -> int:
    """业主评议: one reminder to whoever has not answered; a survey past its days closes and
    its results go to the project manager and the quality specialist."""
    if quiet(now, settings_of(session)):
        return 0
    reminded = surveys.remind_due(session=session, now=now, settings=settings_of(session))
    return reminded + surveys.close_due(session=session, now=now)


# ---------------------------------------------------------------- weekly, monthly, yearly


def quality_sample(session: Session, now: datetime) -> int:
    """Quality checks of finished callbacks, drawn and handed to who records them in chat
    (品质抽查): each week the quality specialist re-checks last week's few by phone (000
    3.12); each month the project manager spot-checks last month's (003 篇十二 三(四)1).
    A sample is seeded by (estate, period): a rerun draws the same."""
    settings = settings_of(session)
    local = _local(now, settings)
    if quiet(now, settings):
        return 0
    tz = settings.tz
    year, week, _ = local.isocalendar()
    monday = local.date() - timedelta(days=local.weekday())
    first = local.date().replace(day=1)
    last_month = previous_month(first)
    periods = (
        (
            QualityCheckKind.WEEKLY,
            f"{year}-W{week:02d}",
            start_of_local_day(monday - timedelta(days=7), tz),
            start_of_local_day(monday, tz),
            settings.quality_sample_size,
        ),
        (
            QualityCheckKind.MONTHLY,
            f"{last_month:%Y-%m}",
            start_of_local_day(last_month, tz),
            start_of_local_day(first, tz),
            settings.quality_monthly_sample_size,
        ),
    )
    queued = 0
    for estate in _estates(session):
        for kind, period, since, until, size in periods:
            checkers = _readers(session, estate.id, [quality.CHECKERS[kind]])
            if not checkers:
                continue
            drawn = quality.draw(
                session=session,
                estate_id=estate.id,
                kind=kind,
                period=period,
                done_from=since,
                done_until=until,
                size=size,
            )
            if not drawn:
                continue
            for person in checkers:
                queued += (
                    outbox.notify(
                        session=session,
                        recipient=person,
                        notice=callback_notices.quality_sample(
                            [c.callback for c in drawn],
                            translator(person.locale),
                            kind,
                            phone_of=privacy.phones_for(session=session, viewer=person),
                        ),
                        idempotency_key=f"quality_sample:{estate.code}:{period}:{person.id}",
                    )
                    is not None
                )
    return queued


def archive_patrol_records(session: Session, now: datetime) -> int:
    """001 4.10: patrol records are kept two years; older ones are archived, not deleted."""
    cutoff = now - timedelta(days=settings_of(session).retention_days)
    result = session.execute(
        update(PatrolFinding)
        .where(PatrolFinding.created_at < cutoff, PatrolFinding.archived_at.is_(None))
        .values(archived_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def weekly_figures(session: Session, now: datetime) -> int:
    """Before the weekly meeting (001 例会制度, 003 篇十二 三(七)): the week's complaints and
    findings and what is still open, to the project manager and the department heads."""
    settings = settings_of(session)
    local = _local(now, settings)
    meeting = local.replace(
        hour=settings.weekly_meeting_time.hour,
        minute=settings.weekly_meeting_time.minute,
        second=0,
        microsecond=0,
    )
    due = meeting - timedelta(hours=settings.weekly_figures_hours_before)
    if local.isoweekday() != settings.weekly_meeting_weekday or not due <= local < meeting:
        return 0
    monday = local.date() - timedelta(days=local.weekday())
    queued = 0
    for estate in _estates(session):
        readers = _readers(session, estate.id, [StaffRole.PROJECT_MANAGER, StaffRole.SUPERVISOR])
        keys = {p.id: f"weekly:{estate.code}:{monday}:{p.id}" for p in readers}
        if all(outbox.already_queued(session=session, idempotency_key=k) for k in keys.values()):
            continue
        figures = weekly_report(session=session, estate_id=estate.id, monday=monday, now=now)
        for person in readers:
            queued += (
                outbox.notify_text(
                    session=session,
                    recipient=person,
                    kind="weekly_figures",
                    text=week_summary(figures, estate.name, translator(person.locale)),
                    idempotency_key=keys[person.id],
                )
                is not None
            )
    return queued


def monthly_reports(session: Session, now: datetime) -> int:
    """On the 1st (from 09:00, or later that month if the process was down): last month's
    figures and its 排列图 to the project manager and the quality specialist."""
    settings = settings_of(session)
    local = _local(now, settings)
    if local.day == 1 and local.hour < 9:
        return 0
    month = previous_month(local.date())
    return sum(monthly_report_for(session, estate, month) for estate in _estates(session))


def monthly_report_for(session: Session, estate: Estate, month: date) -> int:
    readers = _readers(
        session, estate.id, [StaffRole.PROJECT_MANAGER, StaffRole.QUALITY_SPECIALIST]
    )
    keys = {p.id: f"monthly:{estate.code}:{month:%Y-%m}:{p.id}" for p in readers}
    if all(outbox.already_queued(session=session, idempotency_key=k) for k in keys.values()):
        return 0  # computed and queued already: no need to count the month again
    figures = monthly_report(session=session, estate_id=estate.id, month=month)
    folder = Path(settings_of(session).attachments_dir) / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    chart = folder / f"{estate.code}-{month:%Y-%m}-pareto.png"
    write_pareto(figures, estate.name, chart)
    return sum(
        outbox.notify_text(
            session=session,
            recipient=person,
            kind="monthly_report",
            text=month_summary(figures, estate.name, translator(person.locale)),
            images=[str(chart)],
            idempotency_key=keys[person.id],
        )
        is not None
        for person in readers
    )


def forget_seen_messages(session: Session, now: datetime) -> int:
    """Platforms redeliver within minutes, not weeks: the dedupe record need not grow forever."""
    before = now - timedelta(days=14)
    result = session.execute(delete(SeenMessage).where(SeenMessage.seen_at < before))
    replies = outbox.forget_sent_replies(session=session, before=before)
    return int(result.rowcount or 0) + replies  # type: ignore[attr-defined]


def forget_failed_bindings(session: Session, now: datetime) -> int:
    """Wrong binding answers count for minutes; a day's are kept to look into, no more."""
    return binding_attempts.forget_failed_bindings(session=session, now=now)


def refresh_statistics(session: Session, now: datetime) -> int:
    """Table statistics for the planners, at start and nightly.

    SQLite keeps none of its own; without them it guesses, and a big estate's evening
    queries can walk its history. PostgreSQL's autovacuum usually has them, but lags after
    a bulk import; its ANALYZE samples, so a nightly one is cheap on any size.
    """
    session.execute(text("ANALYZE"))
    return 0
