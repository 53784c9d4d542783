"""报修 (003, 004): new → dispatched → accepted → done → called back → closed."""

from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.audit import service as audit
from storage.database import Database
from storage.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from storage.estate import importer
from storage.estate.models import Estate
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage
from storage.ticket import lifecycle, queries, repairs
from storage.ticket.models import RepairCategory, Ticket, TicketStatus
from tests.conftest import SampleEstate, local


def report_leak(cuihu: SampleEstate) -> Ticket:
    return repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.WATER_LEAK,
        description="卫生间天花板渗水",
        photos=["telegram:AgADBQAD"],
        preferred_time="周末上午",
    )


def test_a_repair_runs_from_report_to_closed_and_every_step_is_audited(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    ticket = report_leak(cuihu)
    assert ticket.status is TicketStatus.NEW
    assert ticket.number == f"BX{ticket.id:06d}"
    assert ticket.contact_phone == "13800138001"
    assert [a.ref for a in ticket.attachments] == ["telegram:AgADBQAD"]

    cuihu.dispatch(ticket, to="周师傅")
    assert ticket.department is not None
    assert ticket.department.name == "工程部"
    at.move_to(local(2026, 11, 23, 10, 0))
    lifecycle.accept(session=s, ticket_id=ticket.id, actor=cuihu.person("周师傅"))
    at.move_to(local(2026, 11, 23, 15, 0))
    repairs.finish_repair(
        session=s,
        ticket_id=ticket.id,
        actor=cuihu.person("周师傅"),
        note="更换防水层",
        photos=["telegram:done"],
    )
    cuihu.called_back(ticket)
    assert ticket.status is TicketStatus.CLOSED

    trail = audit.history(session=s, object_type="ticket", object_id=ticket.id)
    assert [(e.from_state, e.to_state, e.actor_label) for e in trail] == [
        (None, "new", "张伟"),
        ("new", "dispatched", "陈静"),
        ("dispatched", "accepted", "周师傅"),
        ("accepted", "done", "周师傅"),
        ("done", "called_back", "陈静"),
        ("called_back", "closed", "陈静"),
    ]
    assert trail[3].at == local(2026, 11, 23, 15, 0)
    assert trail[3].note == "更换防水层"


def test_dispatch_notifies_the_repairer_in_the_same_transaction(cuihu: SampleEstate) -> None:
    ticket = report_leak(cuihu)
    cuihu.dispatch(ticket, to="周师傅")
    [notice] = outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("周师傅").id)
    assert notice.kind == "repair_dispatched"
    assert ticket.number in notice.text
    assert "1-1-502" in notice.text
    assert "房屋渗漏水" in notice.text


def test_dispatch_without_assignee_goes_to_engineering_and_its_head(cuihu: SampleEstate) -> None:
    ticket = report_leak(cuihu)
    cuihu.dispatch(ticket)
    assert ticket.department is not None
    assert ticket.department.code == "gc"
    assert outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("郑工").id)
    # Anyone of the department may then take it up, and it becomes theirs.
    lifecycle.accept(session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("吴师傅"))
    assert ticket.assignee is not None
    assert ticket.assignee.person.name == "吴师傅"


def test_a_rolled_back_change_leaves_neither_ticket_nor_notification(
    db: Database, sample_data: object
) -> None:
    with db.transaction() as s:
        importer.import_estate(session=s, data=sample_data)

    def crash_after_dispatch() -> None:
        with db.transaction() as s:
            cuihu = SampleEstate(s, s.scalars(select(Estate)).one())
            ticket = report_leak(cuihu)
            cuihu.dispatch(ticket)
            raise RuntimeError("the worker crashed before commit")

    with pytest.raises(RuntimeError, match="crashed"):
        crash_after_dispatch()
    with db.transaction() as s:
        assert s.scalar(select(func.count(Ticket.id))) == 0
        assert s.scalar(select(func.count(OutboxMessage.id))) == 0


def test_an_owner_reports_only_for_a_unit_they_are_bound_to(cuihu: SampleEstate) -> None:
    with pytest.raises(PermissionDenied, match="自己绑定的房号"):
        repairs.report_repair(
            session=cuihu.session,
            actor=cuihu.person("赵敏"),
            unit_id=cuihu.unit("1-1-502").id,
            category=RepairCategory.PLUMBING,
            description="下水道堵塞",
        )
    assert cuihu.session.scalar(select(func.count(Ticket.id))) == 0


def test_an_owner_may_report_a_public_area_of_their_own_estate(cuihu: SampleEstate) -> None:
    ticket = repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("赵敏"),
        estate_id=cuihu.id,
        place="3栋大堂",
        category=RepairCategory.PUBLIC_AREA,
        description="大堂灯不亮",
    )
    assert ticket.unit_id is None
    assert ticket.where == "3栋大堂"


def test_the_desk_registers_a_phone_report_for_an_owner(cuihu: SampleEstate) -> None:
    ticket = repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("陈静"),
        on_behalf_of=cuihu.person("李强").id,
        unit_id=cuihu.unit("2-2-301").id,
        category=RepairCategory.DOOR_LOCK,
        description="门锁坏了",
    )
    assert ticket.reporter.name == "李强"
    assert ticket.recorded_by_id == cuihu.person("陈静").id
    with pytest.raises(PermissionDenied, match="只有员工可以代业主提交报修"):
        repairs.report_repair(
            session=cuihu.session,
            actor=cuihu.person("张伟"),
            on_behalf_of=cuihu.person("王芳").id,
            unit_id=cuihu.unit("1-1-502").id,
            category=RepairCategory.DOOR_LOCK,
            description="门锁坏了",
        )


@pytest.mark.parametrize("description", ["", "   ", "字" * 2001])
def test_an_empty_or_overlong_description_is_refused_and_nothing_is_written(
    cuihu: SampleEstate, description: str
) -> None:
    with pytest.raises(InvalidInput, match="报修内容"):
        repairs.report_repair(
            session=cuihu.session,
            actor=cuihu.person("张伟"),
            unit_id=cuihu.unit("1-1-502").id,
            category=RepairCategory.OTHER,
            description=description,
        )
    assert cuihu.session.scalar(select(func.count(Ticket.id))) == 0


def test_a_repair_cannot_be_finished_before_it_is_accepted(cuihu: SampleEstate) -> None:
    ticket = report_leak(cuihu)
    cuihu.dispatch(ticket, to="周师傅")
    with pytest.raises(IllegalTransition, match="「已派单」，不能改为「已完工」"):
        repairs.finish_repair(
            session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("周师傅"), note="修好了"
        )
    assert ticket.status is TicketStatus.DISPATCHED


def test_only_the_assignee_finishes_a_repair(cuihu: SampleEstate) -> None:
    ticket = report_leak(cuihu)
    cuihu.dispatch(ticket, to="周师傅")
    with pytest.raises(PermissionDenied, match="已派给 周师傅"):
        lifecycle.accept(session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("吴师傅"))
    lifecycle.accept(session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("周师傅"))
    with pytest.raises(PermissionDenied, match="只有接单人"):
        repairs.finish_repair(
            session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("吴师傅"), note="修好了"
        )


def test_owners_and_technicians_do_not_dispatch(cuihu: SampleEstate) -> None:
    ticket = report_leak(cuihu)
    for who in ("张伟", "周师傅"):
        with pytest.raises(PermissionDenied):
            repairs.dispatch_repair(
                session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person(who)
            )


def test_an_owner_sees_only_their_own_units_tickets(cuihu: SampleEstate) -> None:
    ticket = report_leak(cuihu)
    s = cuihu.session
    # 王芳 lives in the same unit: she sees the household's repair.
    assert queries.get_ticket(session=s, ticket_id=ticket.id, viewer=cuihu.person("王芳"))
    assert [t.id for t in queries.tickets_of_owner(session=s, person=cuihu.person("王芳"))] == [
        ticket.id
    ]
    # 李强 does not: to him the ticket does not exist.
    with pytest.raises(NotFound):
        queries.get_ticket(session=s, ticket_id=ticket.id, viewer=cuihu.person("李强"))
    assert queries.tickets_of_owner(session=s, person=cuihu.person("李强")) == []


def test_the_reporter_may_cancel_before_work_starts_but_not_after(cuihu: SampleEstate) -> None:
    s = cuihu.session
    ticket = report_leak(cuihu)
    lifecycle.cancel(
        session=s, ticket_id=ticket.id, actor=cuihu.person("张伟"), reason="已自行修好"
    )
    assert ticket.status is TicketStatus.CANCELLED
    other = report_leak(cuihu)
    cuihu.dispatch(other, to="周师傅")
    lifecycle.accept(session=s, ticket_id=other.id, actor=cuihu.person("周师傅"))
    with pytest.raises(IllegalTransition):
        lifecycle.cancel(session=s, ticket_id=other.id, actor=cuihu.person("张伟"), reason="算了")
    with pytest.raises(PermissionDenied):
        lifecycle.cancel(session=s, ticket_id=other.id, actor=cuihu.person("李强"), reason="算了")


def test_work_orders_list_what_is_mine_and_what_waits_in_my_department(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    mine = report_leak(cuihu)
    cuihu.dispatch(mine, to="周师傅")
    waiting = report_leak(cuihu)
    cuihu.dispatch(waiting)
    theirs = report_leak(cuihu)
    cuihu.dispatch(theirs, to="吴师傅")
    orders = queries.work_orders(session=s, staff=cuihu.staff("周师傅"))
    assert {t.id for t in orders} == {mine.id, waiting.id}


def test_unknown_ticket_is_not_found(cuihu: SampleEstate, session: Session) -> None:
    with pytest.raises(NotFound):
        lifecycle.accept(session=session, ticket_id=999_999, actor=cuihu.person("周师傅"))
