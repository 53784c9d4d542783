"""Patrol rounds (001 巡检规程 3.2-3.5, 巡查内容 1.2): the estate file declares them (日检,
周检, 巡检, 客服全面巡查, 主管抽查, 经理复查), their walkers, days, window and areas. At the
window's start the walkers are reminded; whoever of them walks it records it area by area
(正常, or a finding); a round not recorded by the window's end is missed, and the
supervisor is told. The project manager's weekly re-check (经理复查) goes through last
week's findings one by one instead of areas.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.clock import local_date, start_of_local_day, utcnow
from storage.database import settings_of
from storage.errors import InvalidInput, NotFound, PermissionDenied
from storage.estate.models import Estate
from storage.i18n import N_
from storage.patrol.models import (
    ROUND_KIND_LABELS,
    PatrolFinding,
    PatrolRound,
    RoundCheck,
    RoundKind,
    RoundStatus,
    RoundVisit,
)
from storage.people import service as people
from storage.people.models import Person, StaffMember
from storage.text import optional


def scheduled_on(patrol_round: PatrolRound, day: date, estate: Estate) -> bool:
    """Whether the round is walked that day: one of its weekdays, and a working day of
    China's (and the estate's) calendar if it keeps to those."""
    if not patrol_round.active or day.weekday() not in patrol_round.weekdays:
        return False
    return not patrol_round.working_days_only or estate.is_working_day(day)


def window(patrol_round: PatrolRound, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The round's window on that day, in local time."""
    return (
        datetime.combine(day, patrol_round.starts_at, tz),
        datetime.combine(day, patrol_round.ends_at, tz),
    )


def rounds_of(*, session: Session, estate_id: int) -> list[PatrolRound]:
    query = select(PatrolRound).where(PatrolRound.estate_id == estate_id)
    return list(session.scalars(query.order_by(PatrolRound.starts_at, PatrolRound.code)))


def walkers(*, session: Session, patrol_round: PatrolRound) -> list[StaffMember]:
    """Who walks the round, by their staff codes, the leader first (those still on staff)."""
    found = []
    for code in patrol_round.walkers:
        post = people.staff_by_code(session=session, estate_id=patrol_round.estate_id, code=code)
        if post is not None and post.active:
            found.append(post)
    return found


def supervisors(*, session: Session, patrol_round: PatrolRound) -> list[Person]:
    """Who hears of a missed round: the head of the leader's department, else the project
    manager, else the customer-service head (巡检组长, 001 3.1), the first of them not
    walking it; the project manager when everyone is on it."""
    on_round = {post.person_id for post in walkers(session=session, patrol_round=patrol_round)}
    leaders = walkers(session=session, patrol_round=patrol_round)[:1]
    candidates: list[list[Person]] = []
    if leaders:
        candidates.append(
            people.department_heads(session=session, department_id=leaders[0].department_id)
        )
    candidates.append(people.project_managers(session=session, estate_id=patrol_round.estate_id))
    candidates.append(people.desk_heads(session=session, estate_id=patrol_round.estate_id))
    for group in candidates:
        others = [p for p in group if p.id not in on_round]
        if others:
            return others
    return people.project_managers(session=session, estate_id=patrol_round.estate_id)


def visit(*, session: Session, patrol_round: PatrolRound, day: date) -> RoundVisit | None:
    return session.scalar(
        select(RoundVisit).where(RoundVisit.round_id == patrol_round.id, RoundVisit.day == day)
    )


def to_record(*, session: Session, post: StaffMember, now: datetime) -> list[PatrolRound]:
    """The rounds a staff member walks today whose window has begun and that nobody has
    recorded yet (a missed one may still be recorded, late, until the day ends)."""
    settings = settings_of(session)
    estate = session.get_one(Estate, post.estate_id)
    today = local_date(now, settings.tz)
    found = []
    for patrol_round in rounds_of(session=session, estate_id=post.estate_id):
        if post.staff_code not in patrol_round.walkers or not scheduled_on(
            patrol_round, today, estate
        ):
            continue
        starts, _ = window(patrol_round, today, settings.tz)
        done = visit(session=session, patrol_round=patrol_round, day=today)
        if now >= starts and (done is None or done.status is RoundStatus.MISSED):
            found.append(patrol_round)
    return found


@dataclass(frozen=True)
class Check:
    """What the walker found in one area: 正常, or the finding reported there."""

    area: str
    ok: bool
    finding_id: int | None = None
    note: str | None = None


def record(
    *,
    session: Session,
    actor: Person,
    round_id: int,
    checks: Sequence[Check],
) -> RoundVisit:
    """The round walked today, area by area; recorded after the window (missed) it is kept
    as done late, the trail saying so."""
    patrol_round = session.get(PatrolRound, round_id)
    if patrol_round is None:
        raise NotFound("找不到巡检 #{round_id}", round_id=round_id)
    post = people.require_staff(
        session=session, actor=actor, estate_id=patrol_round.estate_id, doing=N_("登记巡检")
    )
    if post.staff_code not in patrol_round.walkers and not post.is_manager:
        raise PermissionDenied("您不在「{round}」的巡检人员中", round=patrol_round.name)
    if not checks:
        raise InvalidInput("请至少登记一个区域的检查结果")
    settings = settings_of(session)
    now = utcnow()
    today = local_date(now, settings.tz)
    done = visit(session=session, patrol_round=patrol_round, day=today)
    if done is not None and done.status is RoundStatus.DONE:
        raise InvalidInput(
            "「{round}」今天已由 {who} 登记",
            round=patrol_round.name,
            who=done.recorded_by.person.name if done.recorded_by else "",
        )
    problems = sum(not check.ok for check in checks)
    summary = f"{len(checks)} 项，{problems} 项有问题"
    if done is None:
        done = RoundVisit(round=patrol_round, day=today, status=RoundStatus.DONE)
        audit.record_new(
            session=session, obj=done, state=RoundStatus.DONE.value, actor=actor, note=summary
        )
    else:  # missed, and walked after all
        audit.record(
            session=session,
            obj=done,
            from_state=done.status.value,
            to_state=RoundStatus.DONE.value,
            actor=actor,
            note=f"补登：{summary}",
        )
        done.status = RoundStatus.DONE
    done.recorded_by, done.recorded_at = post, now
    for check in checks:
        done.checks.append(
            RoundCheck(
                area=check.area[:200],
                ok=check.ok,
                finding_id=check.finding_id,
                note=optional(check.note, "备注", max_length=500),
            )
        )
    return done


def visits_between(
    *, session: Session, estate_id: int, first: date, last: date
) -> list[RoundVisit]:
    """The rounds walked or missed from ``first`` to ``last``, by day and window."""
    query = (
        select(RoundVisit)
        .join(PatrolRound, RoundVisit.round_id == PatrolRound.id)
        .where(PatrolRound.estate_id == estate_id, RoundVisit.day >= first, RoundVisit.day <= last)
        .order_by(RoundVisit.day, PatrolRound.starts_at, PatrolRound.code)
    )
    return list(session.scalars(query))


def mark_missed(
    *, session: Session, patrol_round: PatrolRound, day: date, now: datetime
) -> RoundVisit | None:
    """The window is over and nobody recorded the round: it is missed (once)."""
    if visit(session=session, patrol_round=patrol_round, day=day) is not None:
        return None
    missed = RoundVisit(round=patrol_round, day=day, status=RoundStatus.MISSED, missed_at=now)
    audit.record_new(
        session=session,
        obj=missed,
        state=RoundStatus.MISSED.value,
        actor=None,
        note="巡检时段结束，未登记",
    )
    return missed


def last_week_findings(*, session: Session, estate_id: int, today: date) -> list[PatrolFinding]:
    """经理复查: the findings reported last week (Monday to Sunday), oldest first."""
    tz = settings_of(session).tz
    monday = today - timedelta(days=today.weekday())
    start = start_of_local_day(monday - timedelta(days=7), tz)
    end = start_of_local_day(monday, tz)
    query = select(PatrolFinding).where(
        PatrolFinding.estate_id == estate_id,
        PatrolFinding.created_at >= start,
        PatrolFinding.created_at < end,
        PatrolFinding.archived_at.is_(None),
    )
    return list(session.scalars(query.order_by(PatrolFinding.id)))


@dataclass
class Coverage:
    """How a kind of round went over a period: due, walked, missed."""

    kind: RoundKind
    due: int = 0
    done: int = 0
    late: int = 0
    missed: int = 0
    findings: int = 0

    @property
    def label(self) -> str:
        return ROUND_KIND_LABELS.get(self.kind, self.kind.value)


def coverage(
    *, session: Session, estate: Estate, first: date, last: date, now: datetime
) -> list[Coverage]:
    """Per kind of round: how many were due from ``first`` to ``last`` (those whose window
    has ended by ``now``), done, done late, missed, and the findings they reported."""
    tz = settings_of(session).tz
    rows: dict[RoundKind, Coverage] = {}
    visits = {
        (v.round_id, v.day): v
        for v in visits_between(session=session, estate_id=estate.id, first=first, last=last)
    }
    for patrol_round in rounds_of(session=session, estate_id=estate.id):
        row = rows.setdefault(patrol_round.kind, Coverage(patrol_round.kind))
        day = first
        while day <= last:
            found = visits.get((patrol_round.id, day))
            if scheduled_on(patrol_round, day, estate) and window(patrol_round, day, tz)[1] <= now:
                row.due += 1
                if found is None or found.status is RoundStatus.MISSED:
                    row.missed += 1
            if found is not None and found.status is RoundStatus.DONE:
                row.done += 1
                row.late += found.missed_at is not None
                row.findings += sum(not c.ok for c in found.checks)
            day += timedelta(days=1)
    return list(rows.values())


def day_of_rounds(
    *, session: Session, estate: Estate, day: date, now: datetime
) -> tuple[list[RoundVisit], list[PatrolRound]]:
    """A day's rounds for the digest: those recorded, and those due whose window has ended
    with nothing recorded."""
    tz = settings_of(session).tz
    done: list[RoundVisit] = []
    missed: list[PatrolRound] = []
    for patrol_round in rounds_of(session=session, estate_id=estate.id):
        found = visit(session=session, patrol_round=patrol_round, day=day)
        if found is not None and found.status is RoundStatus.DONE:
            done.append(found)
        elif scheduled_on(patrol_round, day, estate) and window(patrol_round, day, tz)[1] <= now:
            missed.append(patrol_round)
    return done, missed
