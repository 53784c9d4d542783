"""Quality checks (000 3.12, 003 篇十二 三(四)1): the quality specialist re-checks a few of
last week's callbacks, the project manager spot-checks last month's; each is recorded in
chat, and 不满意 reopens the ticket as an unsatisfied callback would."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select

from scheduler import jobs
from storage.callback import quality
from storage.callback.models import QualityCheck, QualityCheckKind, Satisfaction
from storage.errors import PermissionDenied
from storage.ticket.models import RepairCategory, Ticket, TicketStatus
from tests.conftest import SampleEstate, local


def five_called_back(cuihu: SampleEstate, at: time_machine.Traveller) -> list[Ticket]:
    found = []
    for _ in range(5):
        ticket = cuihu.repair_done(at, RepairCategory.OTHER, local(2026, 11, 23, 10, 0))
        cuihu.called_back(ticket)
        found.append(ticket)
    return found


def test_the_specialists_weekly_recheck_is_recorded_and_unsatisfied_reopens_it(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    five_called_back(cuihu, at)
    assert jobs.quality_sample(s, local(2026, 11, 30, 9, 0)) == 1
    checks = quality.pending(session=s, estate_id=cuihu.id, actor=cuihu.person("马玲"))
    assert len(checks) == 3
    assert {c.kind for c in checks} == {QualityCheckKind.WEEKLY}
    assert quality.pending(session=s, estate_id=cuihu.id, actor=cuihu.person("陈静")) == []
    first, second = checks[0], checks[1]
    with pytest.raises(PermissionDenied, match="只有品质专员"):
        quality.record(
            session=s,
            check_id=first.id,
            actor=cuihu.person("陈静"),
            satisfaction=Satisfaction.SATISFIED,
        )
    quality.record(
        session=s,
        check_id=first.id,
        actor=cuihu.person("马玲"),
        satisfaction=Satisfaction.SATISFIED,
    )
    quality.record(
        session=s,
        check_id=second.id,
        actor=cuihu.person("马玲"),
        satisfaction=Satisfaction.UNSATISFIED,
        note="其实还在漏",
    )
    rework = s.scalars(select(Ticket).where(Ticket.rework_of_id == second.callback.ticket_id)).one()
    assert rework.status is TicketStatus.DISPATCHED
    assert "抽查：其实还在漏" in rework.description
    # A rerun of the same week draws nothing new.
    assert jobs.quality_sample(s, local(2026, 11, 30, 15, 0)) == 0
    assert len(s.scalars(select(QualityCheck)).all()) == 3


def test_the_project_manager_spot_checks_last_months_callbacks(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    five_called_back(cuihu, at)
    jobs.quality_sample(s, local(2026, 12, 1, 9, 0))
    checks = quality.pending(session=s, estate_id=cuihu.id, actor=cuihu.person("黄经理"))
    assert len(checks) == 5  # 5 a month; November had five
    assert {c.kind for c in checks} == {QualityCheckKind.MONTHLY}
    assert {c.period for c in checks} == {"2026-11"}
