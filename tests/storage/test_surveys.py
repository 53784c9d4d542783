"""业主评议 (003 篇十二 七(一)): each quarter at least 20% of the occupied households are
asked, none twice in a year, and the results are rates per item of what was answered."""

from __future__ import annotations

import math
import random
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from conversations.summaries import month_summary
from scheduler.documents import write_survey_workbook
from storage.callback.models import Satisfaction
from storage.errors import AlreadyRecorded, IllegalTransition, InvalidInput
from storage.estate.models import Building, Unit, UnitState
from storage.figures.monthly import monthly_report
from storage.i18n import translator
from storage.identity.models import ChatIdentity
from storage.people.models import Person, Residency, ResidentRelation
from storage.survey import service as surveys
from storage.survey.models import SurveyInvitation
from tests.conftest import SampleEstate, local


def every_household_bound(cuihu: SampleEstate, vacant: int = 20) -> int:
    """An owner bound to a chat in each of the sample's 120 units, the first ``vacant`` of
    them empty: returns how many are occupied."""
    s = cuihu.session
    units = s.scalars(
        select(Unit).join(Building).where(Building.estate_id == cuihu.id).order_by(Unit.id)
    ).all()
    for n, unit in enumerate(units):
        if n < vacant:
            unit.state = UnitState.VACANT
        person = Person(name=f"业主{n}", phone=f"136{n:08d}")
        s.add_all(
            [
                person,
                Residency(person=person, unit=unit, relation=ResidentRelation.OWNER),
                ChatIdentity(platform="telegram", external_id=f"owner-{n}", person=person),
            ]
        )
    s.flush()
    return len(units) - vacant


def drawn_units(cuihu: SampleEstate, survey_id: int) -> set[int]:
    return set(
        cuihu.session.scalars(
            select(SurveyInvitation.unit_id).where(SurveyInvitation.survey_id == survey_id)
        )
    )


def test_a_quarter_draws_20_percent_of_occupied_households_and_the_next_repeats_none(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    occupied = every_household_bound(cuihu)
    rng = random.Random(7)  # noqa: S311 (a draw to repeat, not a secret)
    at.move_to(local(2026, 7, 1, 10, 0))
    q3 = surveys.start(session=cuihu.session, estate_id=cuihu.id, period="2026q3", by="t", rng=rng)
    assert (q3.wanted, q3.asked) == (math.ceil(occupied * 0.2), 20)
    first = drawn_units(cuihu, q3.survey.id)
    vacant = {
        u.id for u in cuihu.session.scalars(select(Unit).where(Unit.state == UnitState.VACANT))
    }
    assert not first & vacant

    at.move_to(local(2026, 10, 1, 10, 0))
    q4 = surveys.start(session=cuihu.session, estate_id=cuihu.id, period="2026Q4", by="t", rng=rng)
    second = drawn_units(cuihu, q4.survey.id)
    assert len(second) == 20
    assert not first & second  # no household twice within the year
    assert not second & vacant
    with pytest.raises(AlreadyRecorded, match="2026Q4 的业主评议已经开始过了"):
        surveys.start(session=cuihu.session, estate_id=cuihu.id, period="2026Q4", by="t")

    # A year on, the first quarter's households may be asked again.
    at.move_to(local(2027, 7, 2, 10, 0))
    q3_next = surveys.start(
        session=cuihu.session, estate_id=cuihu.id, period="2027Q3", by="t", rng=rng
    )
    assert q3_next.asked == 20
    assert not drawn_units(cuihu, q3_next.survey.id) & second  # Q4 2026 is within the year


def test_a_survey_nobody_can_be_asked_in_is_not_started(cuihu: SampleEstate) -> None:
    with pytest.raises(InvalidInput, match="没有可以在聊天中询问的住户"):
        surveys.start(session=cuihu.session, estate_id=cuihu.id, period="2026Q4", by="t")
    with pytest.raises(InvalidInput, match="季度应写作 2026Q4"):
        surveys.start(session=cuihu.session, estate_id=cuihu.id, period="2026-12", by="t")


def test_the_results_and_workbook_hold_the_rates_of_what_was_answered(
    cuihu: SampleEstate, at: time_machine.Traveller, tmp_path: Path
) -> None:
    every_household_bound(cuihu)
    s = cuihu.session
    drawn = surveys.start(
        session=s,
        estate_id=cuihu.id,
        period="2026Q4",
        by="t",
        rng=random.Random(3),  # noqa: S311
    )
    invitations = drawn.survey.invitations
    keys = [item["key"] for item in drawn.survey.items]
    # 10 of the 20 answer: the first 6 satisfied with everything, 3 fairly satisfied, one
    # unsatisfied with 保洁 (the fourth item) and satisfied with the rest.
    for n, invitation in enumerate(invitations[:10]):
        level = Satisfaction.SATISFIED if n < 6 or n == 9 else Satisfaction.FAIRLY_SATISFIED
        answers = {key: level.value for key in keys}
        if n == 9:
            answers[keys[3]] = Satisfaction.UNSATISFIED.value
        surveys.answer(
            session=s,
            invitation_id=invitation.id,
            person=invitation.person,
            answers=answers,
            remark="垃圾房有异味" if n == 9 else "",
        )
    with pytest.raises(InvalidInput, match="还有题目没有回答"):
        surveys.answer(
            session=s,
            invitation_id=invitations[10].id,
            person=invitations[10].person,
            answers={keys[0]: "satisfied"},
            remark="",
        )
    at.shift(timedelta(days=15))
    # Past its last day an answer is refused, though the clock has not closed it yet.
    late = invitations[11]
    with pytest.raises(IllegalTransition, match="这次业主评议已经结束"):
        surveys.answer(
            session=s,
            invitation_id=late.id,
            person=late.person,
            answers={key: "satisfied" for key in keys},
            remark="",
        )
    assert surveys.close_due(session=s, now=local(2026, 12, 8, 9, 1)) == 1
    found = surveys.results(session=s, survey=drawn.survey)
    assert (found.asked, found.answered, found.response_rate) == (20, 10, 0.5)
    cleaning = found.items[3]
    assert cleaning.label == "保洁"
    assert cleaning.counts[Satisfaction.UNSATISFIED] == 1
    assert cleaning.rate == 0.9
    assert found.items[0].rate == 1.0
    assert found.remarks == [(invitations[9].unit.designation, "垃圾房有异味")]

    path = tmp_path / "评议.xlsx"
    write_survey_workbook(found, "翠湖花园", path, ZoneInfo("Asia/Shanghai"))
    sheet = load_workbook(path)["业主评议2026Q4"]
    rows = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert rows["保洁"] == (6, 3, 1, 0.9)
    assert rows["服务态度"] == (7, 3, 0, 1.0)
    assert rows["回收率"][0] == 0.5
    answers = load_workbook(path)["答卷2026Q4"]
    assert answers.max_row == 21  # the header and every household drawn, answered or not

    # The month's report carries the survey closed in it.
    report = monthly_report(session=s, estate_id=cuihu.id, month=local(2026, 12, 1).date())
    assert [r.survey.period for r in report.surveys] == ["2026Q4"]
    assert "业主评议 2026Q4：回收 10/20，综合满意率" in month_summary(
        report, "翠湖花园", translator(None)
    )
