"""What the 18:30 digest will say (001 4.10): the day's new work, fixes, what is open, overdue."""

from __future__ import annotations

from datetime import date

import time_machine

from storage.callback.models import Satisfaction
from storage.figures.daily import day_activity
from storage.patrol import service as patrols
from storage.patrol.models import PatrolCategory
from storage.ticket import complaints, lifecycle, repairs
from storage.ticket.models import RepairCategory
from tests.conftest import SampleEstate, local


def test_a_busy_tuesday_by_department(cuihu: SampleEstate, at: time_machine.Traveller) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 16, 9, 0))  # last Monday: a finding for landscaping, a week to fix
    patrols.report_finding(
        session=s,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="中心花园",
        category=PatrolCategory.LANDSCAPING,
        description="草坪枯黄",
        department_id=cuihu.department("lh").id,
    )

    at.move_to(local(2026, 11, 24, 8, 0))
    repair = repairs.report_repair(
        session=s,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.ELECTRICAL,
        description="插座没电",
    )
    cuihu.dispatch(repair, to="周师傅")
    lifecycle.accept(session=s, ticket_id=repair.id, actor=cuihu.person("周师傅"))
    repairs.finish_repair(
        session=s, ticket_id=repair.id, actor=cuihu.person("周师傅"), note="更换插座"
    )
    cuihu.called_back(repair, by="张伟")
    complaint = complaints.file_complaint(
        session=s,
        actor=cuihu.person("李强"),
        unit_id=cuihu.unit("2-2-301").id,
        subject="垃圾桶满溢",
        description="无人清理",
    )
    cuihu.forward(complaint, to="bj")
    patrols.report_finding(
        session=s,
        actor=cuihu.person("陈静"),
        estate_id=cuihu.id,
        place="2栋电梯厅",
        category=PatrolCategory.PUBLIC_FACILITY,
        description="按钮失灵",
        department_id=cuihu.department("gc").id,
    )
    at.move_to(local(2026, 11, 24, 18, 30))

    activity = day_activity(session=s, estate_id=cuihu.id, day=date(2026, 11, 24))
    rows = {
        name: (d.new_tickets, d.new_findings, d.fixed, d.still_open, d.overdue)
        for name, d in activity.departments.items()
    }
    assert rows == {
        "工程部": (1, 1, 1, 1, 0),
        "保洁部": (1, 0, 0, 1, 0),
        "绿化部": (0, 0, 0, 1, 1),
    }
    assert activity.callbacks_done == 1
    assert activity.satisfaction == {Satisfaction.SATISFIED: 1}
    assert not activity.quiet


def test_a_quiet_day_is_reported_as_quiet(cuihu: SampleEstate) -> None:
    activity = day_activity(session=cuihu.session, estate_id=cuihu.id, day=date(2026, 11, 20))
    assert activity.quiet
    assert activity.callbacks_done == 0


def test_the_digest_counts_a_repair_nobody_dispatched_and_one_past_its_three_days(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 19, 10, 0))  # a Thursday: three days to finish, so Sunday
    late = repairs.report_repair(
        session=s,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.DOOR_LOCK,
        description="门锁坏了",
    )
    cuihu.dispatch(late, to="周师傅")
    at.move_to(local(2026, 11, 24, 9, 0))
    repairs.report_repair(  # nobody dispatches it all Tuesday
        session=s,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.ELECTRICAL,
        description="插座没电",
    )
    at.move_to(local(2026, 11, 24, 18, 30))
    activity = day_activity(session=s, estate_id=cuihu.id, day=date(2026, 11, 24))
    assert activity.departments["工程部"].overdue == 1  # the lock, past its Sunday
    assert activity.departments["未分派"].overdue == 1  # the socket, past the desk's day
