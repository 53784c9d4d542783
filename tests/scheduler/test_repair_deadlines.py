"""Repairs, end to end, as the procedures read: the desk hears of a new repair at once (or
when it opens), an emergency pages the person on duty and climbs the ladder until someone
accepts, and every order has deadlines with a warning and an escalation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import time_machine
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import jobs
from storage.database import settings_of
from storage.duty import service as duty
from storage.outbox.models import OutboxMessage
from storage.people.models import DepartmentKind
from storage.ticket import queries, repairs
from storage.ticket.models import RepairCategory, ReportChannel, Ticket
from storage.ticket.models import TicketStatus as S
from tests.conftest import SampleEstate, local


def told(session: Session, kind: str) -> list[str]:
    """Who was told, for the notices of a kind, in the order they were queued."""
    found = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
    )
    return [m.recipient.name if m.recipient else str(m.chat_id) for m in found]


def notice(session: Session, kind: str) -> OutboxMessage:
    found = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).first()
    assert found is not None, kind
    return found


def leak(cuihu: SampleEstate, *, photos: tuple[str, ...] = (), urgent: bool = False) -> Ticket:
    return repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.WATER_LEAK,
        description="卫生间天花板渗水",
        photos=photos,
        urgent=urgent,
    )


def gas(cuihu: SampleEstate) -> Ticket:
    return repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.GAS,
        description="厨房有煤气味",
    )


def test_a_repair_at_ten_on_a_tuesday_reaches_the_desk_at_once_with_its_photo(
    cuihu: SampleEstate, at: time_machine.Traveller, tmp_path: Path
) -> None:
    photo = tmp_path / "leak.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    at.move_to(local(2026, 11, 24, 10, 0))  # a Tuesday
    ticket = leak(cuihu, photos=(str(photo),))
    s = cuihu.session
    assert told(s, "repair_reported") == ["陈静"]  # the desk on the roster: K01 on weekdays
    alert = notice(s, "repair_reported")
    assert alert.params["images"] == [str(photo)]
    assert alert.buttons == [[f"/assign {ticket.id}", "派单"]]
    assert "【新报修】BX000001" in alert.text
    assert "卫生间天花板渗水" in alert.text
    assert ticket.dispatch_due_at == local(2026, 11, 24, 18, 0)  # within the desk's day
    assert ticket.due_at == local(2026, 11, 28, 0, 0)  # finished within 3 days
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 10, 1)) == 0  # told once


def test_a_dated_shift_replaces_the_weekdays_and_with_nobody_on_duty_all_the_desk_is_told(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    duty.set_shift(
        s, estate_id=cuihu.id, staff_code="K02", shift="08:00-12:00", on_date=date(2026, 11, 24)
    )
    at.move_to(local(2026, 11, 24, 10, 0))
    leak(cuihu)
    assert told(s, "repair_reported") == ["刘洋"]  # a swap: 刘洋 instead of 陈静 today
    at.move_to(local(2026, 11, 24, 13, 0))  # nobody rostered after noon
    leak(cuihu)
    assert told(s, "repair_reported")[1:] == ["陈静", "刘洋"]


def test_a_repair_at_seven_in_the_evening_waits_for_the_desk_at_half_past_eight(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 19, 0))
    ticket = leak(cuihu)
    assert told(s, "repair_reported") == []
    assert ticket.dispatch_due_at == local(2026, 11, 25, 18, 0)  # the next desk day
    assert jobs.repair_deadlines(s, local(2026, 11, 25, 8, 29)) == 0
    assert jobs.repair_deadlines(s, local(2026, 11, 25, 8, 30)) == 1
    assert told(s, "repair_reported") == ["陈静"]
    assert "已等候 810 分钟" in notice(s, "repair_reported").text


def test_on_a_rest_day_the_desk_opens_at_nine(cuihu: SampleEstate) -> None:
    # 2026-10-01 is National Day, a Thursday; 2026-10-10 a Saturday worked in exchange.
    assert duty.desk_hours(cuihu.estate, date(2026, 10, 1))[0].hour == 9
    assert duty.desk_hours(cuihu.estate, date(2026, 10, 10))[0].minute == 30
    tz = settings_of(cuihu.session).tz
    assert duty.desk_sees(cuihu.estate, local(2026, 10, 1, 8, 40), tz) == local(2026, 10, 1, 9)


def test_a_gas_report_at_night_pages_the_technician_then_the_head_then_the_manager(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 23, 10))  # quiet hours: an emergency is paged anyway
    ticket = gas(cuihu)
    assert ticket.urgent
    assert ticket.dispatch_due_at == local(2026, 11, 24, 23, 25)  # accepted within 15 min
    assert ticket.arrive_due_at == local(2026, 11, 24, 23, 40)  # on site within 30
    # The technician on the night shift, and the desk (nobody rostered: all of it).
    assert told(s, "urgent_page") == ["吴师傅", "陈静", "刘洋"]
    page = notice(s, "urgent_page")
    assert page.buttons == [[f"/take {ticket.id}", "接单"]]
    assert "须 23:25 前接单、23:40 前到场" in page.text
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 23, 24)) == 0
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 23, 25)) == 1
    assert told(s, "urgent_page")[3:] == ["郑工"]  # the engineering head
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 23, 40)) == 1
    assert told(s, "urgent_page")[4:] == ["黄经理"]  # the project manager
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 23, 55)) == 0  # the top of the ladder


def test_whoever_accepts_the_page_stops_the_ladder_and_the_owner_hears_who_comes(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 23, 10))
    ticket = gas(cuihu)
    at.move_to(local(2026, 11, 24, 23, 14))
    repairs.take(session=s, ticket_id=ticket.id, actor=cuihu.person("周师傅"))
    assert ticket.status is S.ACCEPTED
    assert ticket.assignee == cuihu.staff("周师傅")
    assert "已由 周师傅 接单" in notice(s, "repair_taken").text
    assert told(s, "repair_taken") == ["张伟"]
    repairs.expect(
        session=s, ticket_id=ticket.id, actor=cuihu.person("周师傅"), expected_time="10分钟"
    )
    assert "周师傅 预计 10分钟 上门" in notice(s, "repair_expected").text
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 23, 30)) == 0  # nobody else paged
    # Not on site by 23:40: the head hears.
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 23, 41)) == 1
    assert told(s, "urgent_not_arrived") == ["郑工"]


def test_an_ordinary_repair_nobody_dispatched_reminds_the_desk_then_its_supervisor(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 10, 0))
    leak(cuihu)
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 10, 29)) == 0
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 10, 30)) == 1
    assert told(s, "repair_not_dispatched") == ["陈静"]
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 11, 0)) == 1
    assert told(s, "repair_not_dispatched")[1:] == ["孙丽"]
    assert jobs.repair_deadlines(s, local(2026, 11, 24, 11, 30)) == 0  # once each


def test_an_order_past_its_deadline_is_overdue_and_escalated_once_a_working_day_never_at_night(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 10, 0))
    ticket = leak(cuihu)
    cuihu.dispatch(ticket, to="周师傅")
    # Four hours before the end of Friday: 周师傅 is warned.
    assert jobs.repair_deadlines(s, local(2026, 11, 27, 19, 59)) == 0
    assert jobs.repair_deadlines(s, local(2026, 11, 27, 20, 0)) == 1
    assert told(s, "repair_due_soon") == ["周师傅"]
    assert ticket in queries.overdue_work(
        session=s, estate_id=cuihu.id, now=local(2026, 11, 28, 0, 1)
    )
    assert jobs.repair_deadlines(s, local(2026, 11, 28, 0, 1)) == 0  # night
    assert jobs.repair_deadlines(s, local(2026, 11, 28, 9, 0)) == 0  # a Saturday
    assert jobs.repair_deadlines(s, local(2026, 11, 30, 9, 0)) == 1  # Monday: the head
    assert told(s, "repair_overdue") == ["郑工"]
    assert jobs.repair_deadlines(s, local(2026, 11, 30, 15, 0)) == 0  # once that day
    assert jobs.repair_deadlines(s, local(2026, 12, 1, 9, 0)) == 1  # and the next


def test_the_desk_registers_a_phone_report_for_the_owner_who_is_told_its_number(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 10, 0))
    ticket = repairs.report_repair(
        session=s,
        actor=cuihu.person("陈静"),
        unit_id=cuihu.unit("1-1-502").id,
        on_behalf_of=cuihu.person("张伟").id,
        category=RepairCategory.DOOR_LOCK,
        description="入户门锁坏了",
        channel=ReportChannel.PHONE,
    )
    assert ticket.reporter == cuihu.person("张伟")
    assert ticket.recorded_by_id == cuihu.person("陈静").id
    assert ticket.channel is ReportChannel.PHONE
    assert told(s, "repair_received") == ["张伟"]
    assert "您的报修已登记（电话），单号 BX000001" in notice(s, "repair_received").text


def test_the_owner_hears_to_whom_it_was_dispatched_and_a_reassigned_holder_is_told(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    at.move_to(local(2026, 11, 24, 10, 0))
    ticket = leak(cuihu)
    cuihu.dispatch(ticket, to="周师傅")
    assert "已派给 周师傅" in notice(s, "repair_on_its_way").text
    repairs.reassign(
        session=s,
        ticket_id=ticket.id,
        actor=cuihu.person("陈静"),
        assignee_id=cuihu.staff("吴师傅").id,
    )
    assert told(s, "repair_taken_away") == ["周师傅"]
    assert told(s, "repair_on_its_way") == ["张伟", "张伟"]


def test_at_2_am_the_night_technician_is_on_duty_and_a_desk_swap_leaves_engineering_alone(
    cuihu: SampleEstate,
) -> None:
    """The roster is read for the day and the day before at once: G02's 20:00-08:00 from
    Monday covers Tuesday 02:00, and a dated shift for the desk on Tuesday replaces only
    the desk's weekday shifts, not engineering's."""
    s, tz = cuihu.session, settings_of(cuihu.session).tz
    duty.set_shift(
        s, estate_id=cuihu.id, staff_code="K02", shift="08:00-12:00", on_date=date(2026, 11, 24)
    )

    def on_duty(kind: DepartmentKind, hour: int) -> list[str]:
        members = duty.on_duty(
            s, estate_id=cuihu.id, kind=kind, at=local(2026, 11, 24, hour, 0), tz=tz
        )
        return [member.person.name for member in members]

    assert on_duty(DepartmentKind.ENGINEERING, 2) == ["吴师傅"]  # G02, from Monday 20:00
    assert on_duty(DepartmentKind.ENGINEERING, 10) == ["周师傅"]  # G01's weekday shift
    assert on_duty(DepartmentKind.CUSTOMER_SERVICE, 10) == ["刘洋"]  # K02's swap, not K01
    assert on_duty(DepartmentKind.CUSTOMER_SERVICE, 2) == []
