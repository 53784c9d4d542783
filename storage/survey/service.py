"""业主评议 (000 3.10: at least once a year; 003 篇十二 七(一): a quarterly questionnaire to at
least 20% of the occupied households, no household twice in a year, collected within half
a month, summarised by the 5th): drawn, asked in chat one question at a time, reminded
once, closed, and its results to the project manager and the quality specialist."""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.callback.models import Satisfaction
from storage.clock import utcnow
from storage.config import Settings
from storage.database import settings_of
from storage.errors import AlreadyRecorded, IllegalTransition, InvalidInput, NotFound
from storage.estate.models import Building, Estate, Unit, UnitState
from storage.identity.models import ChatIdentity
from storage.outbox import service as outbox
from storage.people import service as people
from storage.people.models import Person, Residency, ResidentRelation, StaffRole
from storage.survey import notices
from storage.survey.models import Survey, SurveyInvitation, SurveyStatus

# The seed's questionnaire (002 服务质量调查; 003 篇十二 七(一)), when the estate file has none.
DEFAULT_ITEMS = ("服务态度", "维修及时性", "维修质量", "保洁", "绿化", "秩序维护", "总体满意度")
SATISFIED = frozenset({Satisfaction.SATISFIED, Satisfaction.FAIRLY_SATISFIED})
_PERIOD = re.compile(r"^(\d{4})Q([1-4])$")
# Whom a household's question goes to: the owner first, then family, then a tenant.
_ASKED_FIRST = {ResidentRelation.OWNER: 0, ResidentRelation.FAMILY: 1, ResidentRelation.TENANT: 2}


def items_of(estate: Estate) -> list[dict[str, str]]:
    labels = estate.survey_items or list(DEFAULT_ITEMS)
    return [{"key": f"q{n}", "label": label} for n, label in enumerate(labels, 1)]


def check_period(period: str) -> str:
    period = period.strip().upper()
    if not _PERIOD.match(period):
        raise InvalidInput("季度应写作 2026Q4，而不是「{period}」", period=period)
    return period


def _occupied(session: Session, estate_id: int) -> list[Unit]:
    return list(
        session.scalars(
            select(Unit)
            .join(Building, Unit.building_id == Building.id)
            .where(Building.estate_id == estate_id, Unit.state == UnitState.OCCUPIED)
            .order_by(Unit.id)
        )
    )


def _recently_asked(session: Session, estate_id: int, since: datetime) -> set[int]:
    return set(
        session.scalars(
            select(SurveyInvitation.unit_id)
            .join(Survey, SurveyInvitation.survey_id == Survey.id)
            .where(Survey.estate_id == estate_id, Survey.opened_at >= since)
        )
    )


def _askable(session: Session, unit_ids: list[int]) -> dict[int, Person]:
    """Each unit's resident to ask: bound to a chat, the owner before family and tenants."""
    if not unit_ids:
        return {}
    rows = session.execute(
        select(Residency)
        .join(ChatIdentity, ChatIdentity.person_id == Residency.person_id)
        .where(Residency.unit_id.in_(unit_ids))
        .order_by(Residency.id)
    ).scalars()
    chosen: dict[int, Residency] = {}
    for residency in rows:
        current = chosen.get(residency.unit_id)
        rank = _ASKED_FIRST.get(residency.relation, 3)
        if current is None or rank < _ASKED_FIRST.get(current.relation, 3):
            chosen[residency.unit_id] = residency
    return {unit_id: residency.person for unit_id, residency in chosen.items()}


@dataclass(frozen=True)
class Drawn:
    survey: Survey
    wanted: int  # the share of the occupied households
    asked: int  # households asked (fewer when not enough could be reached)


def start(
    *,
    session: Session,
    estate_id: int,
    period: str,
    by: str,
    rng: random.Random | None = None,
    now: datetime | None = None,
) -> Drawn:
    """Draw the quarter's households and ask each in chat. At least the setting's share of
    the occupied households, none asked in the past year; only households with a resident
    bound to a chat can be asked here (the rest are the desk's, on paper or by phone)."""
    settings = settings_of(session)
    now = now or utcnow()
    period = check_period(period)
    estate = session.get(Estate, estate_id)
    if estate is None:
        raise NotFound("找不到项目 #{id}", id=estate_id)
    if session.scalar(
        select(Survey.id).where(Survey.estate_id == estate_id, Survey.period == period)
    ):
        raise AlreadyRecorded("{period} 的业主评议已经开始过了", period=period)
    occupied = _occupied(session, estate_id)
    wanted = math.ceil(len(occupied) * settings.survey_sample_percent / 100)
    recent = _recently_asked(
        session, estate_id, now - timedelta(days=settings.survey_no_repeat_days)
    )
    askable = _askable(session, [u.id for u in occupied if u.id not in recent])
    candidates = [u for u in occupied if u.id in askable]
    if not candidates:
        raise InvalidInput(
            "没有可以在聊天中询问的住户：已入住 {occupied} 户，过去一年未参评且有住户绑定的 0 户",
            occupied=len(occupied),
        )
    drawn = (rng or random.SystemRandom()).sample(candidates, min(wanted, len(candidates)))
    survey = Survey(
        estate_id=estate_id,
        period=period,
        items=items_of(estate),
        status=SurveyStatus.OPEN,
        occupied=len(occupied),
        opened_at=now,
        closes_at=now + timedelta(days=settings.survey_days),
        started_by=by,
    )
    audit.record_new(
        session=session,
        obj=survey,
        state=SurveyStatus.OPEN.value,
        actor=None,
        note=f"{period}：已入住 {len(occupied)} 户，应抽 {wanted} 户，抽取 {len(drawn)} 户（{by}）",
    )
    for unit in sorted(drawn, key=lambda u: u.id):
        person = askable[unit.id]
        invitation = SurveyInvitation(survey=survey, unit=unit, person=person, asked_at=now)
        session.add(invitation)
        session.flush()
        outbox.notify(
            session=session,
            recipient=person,
            notice=notices.invited(invitation, settings),
            idempotency_key=f"survey:{survey.id}:{unit.id}",
        )
    return Drawn(survey, wanted, len(drawn))


def invitation(
    *, session: Session, invitation_id: int, person: Person, for_update: bool = False
) -> SurveyInvitation:
    """The person's own invitation, still open to answer: its survey neither closed nor past
    its last day (the clock that closes it may not have run yet). ``for_update`` locks the
    survey, as closing it does: an answer is in the results or refused, never lost."""
    found = session.get(SurveyInvitation, invitation_id)
    if found is None or found.person_id != person.id:
        raise NotFound("找不到这份业主评议问卷")
    if for_update:
        session.get(Survey, found.survey_id, with_for_update={"of": Survey}, populate_existing=True)
        session.refresh(found, with_for_update={"of": SurveyInvitation})
    if found.answered_at is not None:
        raise AlreadyRecorded("您已经提交过这份问卷，谢谢！")
    if found.survey.status is not SurveyStatus.OPEN or found.survey.closes_at <= utcnow():
        raise IllegalTransition("这次业主评议已经结束，谢谢您的关注。")
    return found


def open_invitations(*, session: Session, person: Person) -> list[SurveyInvitation]:
    query = (
        select(SurveyInvitation)
        .join(Survey, SurveyInvitation.survey_id == Survey.id)
        .where(
            SurveyInvitation.person_id == person.id,
            SurveyInvitation.answered_at.is_(None),
            Survey.status == SurveyStatus.OPEN,
        )
        .order_by(SurveyInvitation.id)
    )
    return list(session.scalars(query))


def answer(
    *,
    session: Session,
    invitation_id: int,
    person: Person,
    answers: dict[str, str],
    remark: str,
) -> SurveyInvitation:
    found = invitation(session=session, invitation_id=invitation_id, person=person, for_update=True)
    keys = [item["key"] for item in found.survey.items]
    if sorted(answers) != sorted(keys):
        raise InvalidInput("问卷还有题目没有回答")
    found.answers = {key: Satisfaction(answers[key]).value for key in keys}
    found.remark = remark.strip() or None
    found.answered_at = utcnow()
    audit.record(
        session=session,
        obj=found.survey,
        from_state=SurveyStatus.OPEN.value,
        to_state=SurveyStatus.OPEN.value,
        actor=person,
        note=f"{found.unit.designation} 已答卷",
    )
    return found


def remind_due(*, session: Session, now: datetime, settings: Settings) -> int:
    """Once, this many days after the question, to whoever has not answered."""
    before = now - timedelta(days=settings.survey_reminder_days)
    due = session.scalars(
        select(SurveyInvitation)
        .join(Survey, SurveyInvitation.survey_id == Survey.id)
        .where(
            Survey.status == SurveyStatus.OPEN,
            Survey.closes_at > now,
            SurveyInvitation.answered_at.is_(None),
            SurveyInvitation.reminded_at.is_(None),
            SurveyInvitation.asked_at <= before,
        )
        .order_by(SurveyInvitation.id)
    ).all()
    for found in due:
        found.reminded_at = now
        outbox.notify(
            session=session,
            recipient=found.person,
            notice=notices.reminder(found, settings),
            idempotency_key=f"survey_reminder:{found.id}",
        )
    return len(due)


@dataclass(frozen=True)
class ItemResult:
    label: str
    counts: Counter[Satisfaction]

    @property
    def answered(self) -> int:
        return sum(self.counts.values())

    @property
    def rate(self) -> float | None:
        """满意率: 满意 and 较满意 of those who answered."""
        if not self.answered:
            return None
        return sum(self.counts[s] for s in SATISFIED) / self.answered


@dataclass
class Results:
    survey: Survey
    asked: int
    answered: int
    items: list[ItemResult] = field(default_factory=list)
    remarks: list[tuple[str, str]] = field(default_factory=list)  # (unit, remark)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def overall(self) -> float | None:
        """All items' answers together."""
        total = sum(item.answered for item in self.items)
        if not total:
            return None
        return sum(sum(item.counts[s] for s in SATISFIED) for item in self.items) / total


def results(*, session: Session, survey: Survey) -> Results:
    invitations = survey.invitations
    answered = [i for i in invitations if i.answered_at is not None]
    found = Results(survey=survey, asked=len(invitations), answered=len(answered))
    for item in survey.items:
        counts: Counter[Satisfaction] = Counter(
            Satisfaction(i.answers[item["key"]]) for i in answered if i.answers
        )
        found.items.append(ItemResult(item["label"], counts))
    found.remarks = [(i.unit.designation, i.remark) for i in answered if i.remark]
    return found


def readers(*, session: Session, estate_id: int) -> list[Person]:
    """Who the results go to: the project manager and the quality specialist."""
    return people.holders(
        people.staff_with_roles(
            session=session,
            roles={StaffRole.PROJECT_MANAGER, StaffRole.QUALITY_SPECIALIST},
            estate_id=estate_id,
        )
    )


def close(*, session: Session, survey: Survey, now: datetime, by: str | None = None) -> Results:
    """Closed: no more answers; its results to the project manager and the quality
    specialist."""
    session.refresh(survey, with_for_update={"of": Survey})  # the answers being given wait
    if survey.status is not SurveyStatus.OPEN:
        raise IllegalTransition("这次业主评议已经结束了")
    survey.status, survey.closed_at = SurveyStatus.CLOSED, now
    found = results(session=session, survey=survey)
    audit.record(
        session=session,
        obj=survey,
        from_state=SurveyStatus.OPEN.value,
        to_state=SurveyStatus.CLOSED.value,
        actor=None,
        note=f"回收 {found.answered}/{found.asked}" + (f"（{by}）" if by else ""),
    )
    outbox.notify_each(
        session=session,
        recipients=readers(session=session, estate_id=survey.estate_id),
        notice=notices.results(found),
        key=f"survey_results:{survey.id}",
    )
    return found


def close_due(*, session: Session, now: datetime) -> int:
    due = session.scalars(
        select(Survey)
        .where(Survey.status == SurveyStatus.OPEN, Survey.closes_at <= now)
        .with_for_update(of=Survey)
    ).all()
    for survey in due:
        close(session=session, survey=survey, now=now)
    return len(due)


def get(*, session: Session, estate_id: int, period: str) -> Survey:
    found = session.scalar(
        select(Survey).where(Survey.estate_id == estate_id, Survey.period == check_period(period))
    )
    if found is None:
        raise NotFound("没有 {period} 的业主评议", period=period)
    return found


def closed_between(
    *, session: Session, estate_id: int, start: datetime, end: datetime
) -> list[Survey]:
    """Surveys closed in a month: the monthly report carries their results."""
    query = (
        select(Survey)
        .where(
            Survey.estate_id == estate_id,
            Survey.status == SurveyStatus.CLOSED,
            Survey.closed_at >= start,
            Survey.closed_at < end,
        )
        .order_by(Survey.closed_at)
    )
    return list(session.scalars(query))
