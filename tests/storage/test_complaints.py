"""投诉 (002 五清楚一报告, 003): taken up within 24 h, answered within 72 h,
major ones reported at once."""

from __future__ import annotations

import pytest
import time_machine

from storage.callback import service as callbacks
from storage.callback.models import Satisfaction
from storage.errors import IllegalTransition, NotFound, PermissionDenied
from storage.outbox import service as outbox
from storage.ticket import complaints, lifecycle, queries
from storage.ticket.models import ComplaintSeverity, Ticket, TicketStatus
from tests.conftest import SampleEstate, local


def complain(
    cuihu: SampleEstate, severity: ComplaintSeverity = ComplaintSeverity.GENERAL
) -> Ticket:
    return complaints.file_complaint(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        subject="楼道垃圾无人清理",
        description="三天没有清理了，气味很大",
        severity=severity,
    )


def kinds_sent_to(cuihu: SampleEstate, name: str) -> list[str]:
    return [
        m.kind
        for m in outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person(name).id)
    ]


def test_a_complaint_filed_at_9_is_to_be_taken_up_by_9_tomorrow_and_answered_in_72_hours(
    cuihu: SampleEstate,
) -> None:
    ticket = complain(cuihu)
    assert ticket.number == f"TS{ticket.id:06d}"
    assert ticket.due_at == local(2026, 11, 24, 9, 0)
    assert ticket.reply_due_at == local(2026, 11, 26, 9, 0)


def test_a_general_complaint_is_forwarded_handled_answered_called_back_and_closed(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    ticket = complain(cuihu)
    cuihu.forward(ticket, to="bj")
    assert kinds_sent_to(cuihu, "高主管") == ["complaint_forwarded"]
    lifecycle.accept(session=s, ticket_id=ticket.id, actor=cuihu.person("高主管"))
    at.move_to(local(2026, 11, 23, 16, 0))
    complaints.reply_complaint(
        session=s, ticket_id=ticket.id, actor=cuihu.person("孙丽"), text="已安排保洁每日两次清理"
    )
    assert "complaint_replied" in kinds_sent_to(cuihu, "张伟")
    assert cuihu.callback(ticket).due_at == local(2026, 12, 1, 0, 0)
    cuihu.called_back(ticket)
    assert ticket.status is TicketStatus.CLOSED


def test_a_complaint_not_taken_up_in_24_hours_nor_answered_in_72_is_found(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    ticket = complain(cuihu)
    cuihu.forward(ticket, to="bj")
    assert (
        queries.complaints_not_handled(
            session=s, estate_id=cuihu.id, now=local(2026, 11, 24, 8, 59)
        )
        == []
    )
    assert queries.complaints_not_handled(
        session=s, estate_id=cuihu.id, now=local(2026, 11, 24, 9, 0)
    ) == [ticket]
    lifecycle.accept(session=s, ticket_id=ticket.id, actor=cuihu.person("许阿姨"))
    assert (
        queries.complaints_not_handled(session=s, estate_id=cuihu.id, now=local(2026, 11, 26, 9, 0))
        == []
    )
    assert queries.complaints_not_replied(
        session=s, estate_id=cuihu.id, now=local(2026, 11, 26, 9, 0)
    ) == [ticket]


def test_a_major_complaint_reaches_the_project_manager_at_once_and_the_owner_gets_a_date(
    cuihu: SampleEstate,
) -> None:
    ticket = complain(cuihu, ComplaintSeverity.MAJOR)
    assert ticket.status is TicketStatus.ESCALATED
    assert kinds_sent_to(cuihu, "黄经理") == ["major_complaint"]
    [told] = outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("张伟").id)
    # Told is not taken up: 24 hours on, nobody having accepted it, it is overdue.
    assert queries.complaints_not_handled(
        session=cuihu.session, estate_id=cuihu.id, now=local(2026, 11, 24, 9, 0)
    ) == [ticket]
    lifecycle.accept(session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("黄经理"))
    assert (
        queries.complaints_not_handled(
            session=cuihu.session, estate_id=cuihu.id, now=local(2026, 11, 24, 9, 0)
        )
        == []
    )
    assert told.kind == "complaint_reply_date"
    assert "2026-11-26 09:00" in told.text


def test_the_desk_upgrades_a_complaint_to_major_with_a_later_reply_date(
    cuihu: SampleEstate,
) -> None:
    ticket = complain(cuihu)
    complaints.escalate_complaint(
        session=cuihu.session,
        ticket_id=ticket.id,
        actor=cuihu.person("陈静"),
        reason="涉及多户，超出客服权限",
        reply_due_at=local(2026, 11, 30, 17, 0),
    )
    assert ticket.severity is ComplaintSeverity.MAJOR
    assert ticket.status is TicketStatus.ESCALATED
    assert ticket.reply_due_at == local(2026, 11, 30, 17, 0)
    assert kinds_sent_to(cuihu, "黄经理") == ["major_complaint"]
    with pytest.raises(PermissionDenied):
        complaints.escalate_complaint(
            session=cuihu.session,
            ticket_id=complain(cuihu).id,
            actor=cuihu.person("周师傅"),
            reason="我也想上报",
        )


def test_an_unsatisfied_complaint_callback_goes_up_to_the_project_manager(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    ticket = complain(cuihu)
    cuihu.forward(ticket, to="bj")
    complaints.reply_complaint(
        session=s, ticket_id=ticket.id, actor=cuihu.person("陈静"), text="已处理"
    )
    at.move_to(local(2026, 11, 25, 9, 0))
    cuihu.called_back(ticket, Satisfaction.UNSATISFIED, by="张伟", note="并没有处理")
    assert ticket.status is TicketStatus.ESCALATED
    assert ticket.reply_due_at == local(2026, 11, 28, 9, 0)
    assert kinds_sent_to(cuihu, "黄经理") == ["complaint_unsatisfied"]
    # Answered again, it gets a new callback.
    complaints.reply_complaint(
        session=s, ticket_id=ticket.id, actor=cuihu.person("黄经理"), text="已更换保洁班组"
    )
    assert callbacks.pending_for_ticket(session=s, ticket_id=ticket.id) is not None


def test_complaints_are_never_shown_to_line_staff(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    with pytest.raises(NotFound):
        queries.get_ticket(
            session=cuihu.session, ticket_id=ticket.id, viewer=cuihu.person("许阿姨")
        )
    assert queries.get_ticket(
        session=cuihu.session, ticket_id=ticket.id, viewer=cuihu.person("陈静")
    )
    # Not even to a household member: a complaint is the complainant's own.
    with pytest.raises(NotFound):
        queries.get_ticket(session=cuihu.session, ticket_id=ticket.id, viewer=cuihu.person("王芳"))


def test_only_the_desk_registers_a_written_complaint(cuihu: SampleEstate) -> None:
    with pytest.raises(PermissionDenied, match="书面投诉请交至客服中心"):
        complain(cuihu, ComplaintSeverity.WRITTEN)
    written = complaints.file_complaint(
        session=cuihu.session,
        actor=cuihu.person("陈静"),
        on_behalf_of=cuihu.person("张伟").id,
        unit_id=cuihu.unit("1-1-502").id,
        subject="物业费",
        description="来函",
        severity=ComplaintSeverity.WRITTEN,
    )
    assert written.status is TicketStatus.NEW


def test_repair_steps_do_not_apply_to_complaints(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    with pytest.raises(IllegalTransition, match="不是报修单"):
        cuihu.dispatch(ticket)
