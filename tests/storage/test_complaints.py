"""投诉 (002 五清楚一报告, 003): taken up within 24 h, answered within 72 h,
major ones reported at once."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import time_machine

from scheduler import jobs
from storage.audit import service as audit
from storage.callback import service as callbacks
from storage.callback.models import Satisfaction
from storage.errors import AlreadyRecorded, IllegalTransition, NotFound, PermissionDenied
from storage.estate import importer
from storage.outbox import service as outbox
from storage.ticket import complaints, lifecycle, queries
from storage.ticket.models import ComplaintSeverity, ReportChannel, Ticket, TicketStatus
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


def take_up(
    cuihu: SampleEstate, ticket: Ticket, by: str, reply_due_at: datetime | None = None
) -> None:
    complaints.take_up(
        session=cuihu.session,
        ticket_id=ticket.id,
        actor=cuihu.person(by),
        reply_due_at=reply_due_at,
    )


def reply(cuihu: SampleEstate, ticket: Ticket, by: str, text: str = "已处理") -> None:
    complaints.reply_complaint(
        session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person(by), text=text
    )


def registered_major(cuihu: SampleEstate) -> Ticket:
    """The desk registers 张伟's phoned-in complaint as major."""
    return complaints.file_complaint(
        session=cuihu.session,
        actor=cuihu.person("陈静"),
        on_behalf_of=cuihu.person("张伟").id,
        unit_id=cuihu.unit("1-1-502").id,
        subject="电梯多次困人",
        description="本月第三次",
        severity=ComplaintSeverity.MAJOR,
        channel=ReportChannel.PHONE,
    )


def test_a_complaint_at_9_on_a_monday_reaches_the_desk_on_duty_at_once(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    assert kinds_sent_to(cuihu, "陈静") == ["complaint_reported"]
    [alert] = outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("陈静").id)
    assert ticket.number in alert.text
    assert alert.buttons == [[f"/complaints {ticket.id}", "处理"]]


def test_a_complaint_at_19_reaches_the_desk_when_it_opens(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    at.move_to(local(2026, 11, 24, 19, 0))
    ticket = complain(cuihu)
    assert kinds_sent_to(cuihu, "陈静") == []
    at.move_to(local(2026, 11, 25, 8, 0))
    jobs.complaint_deadlines(cuihu.session, local(2026, 11, 25, 8, 0))
    assert kinds_sent_to(cuihu, "陈静") == []
    jobs.complaint_deadlines(cuihu.session, local(2026, 11, 25, 8, 30))
    jobs.complaint_deadlines(cuihu.session, local(2026, 11, 25, 8, 31))
    assert kinds_sent_to(cuihu, "陈静") == ["complaint_reported"]
    assert ticket.status is TicketStatus.NEW


def test_the_desk_answers_a_general_complaint_at_once(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    assert complaints.handlings(
        session=cuihu.session, ticket=ticket, actor=cuihu.person("陈静")
    ) == [
        complaints.Handling.TAKE_UP,
        complaints.Handling.REPLY,
        complaints.Handling.FORWARD,
        complaints.Handling.ESCALATE,
    ]
    reply(cuihu, ticket, "陈静", "已通知保洁今天下午清理")
    assert ticket.status is TicketStatus.REPLIED
    assert ticket.accepted_at is not None
    assert "complaint_replied" in kinds_sent_to(cuihu, "张伟")
    assert cuihu.callback(ticket)


def test_a_general_complaint_is_forwarded_handled_answered_called_back_and_closed(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = complain(cuihu)
    cuihu.forward(ticket, to="bj")
    assert kinds_sent_to(cuihu, "高主管") == ["complaint_forwarded"]
    # The cleaner it may be about never sees it; the desk waits for the department.
    with pytest.raises(PermissionDenied):
        take_up(cuihu, ticket, "许阿姨")
    with pytest.raises(IllegalTransition, match="已转部门"):
        reply(cuihu, ticket, "陈静")
    take_up(cuihu, ticket, "高主管")
    complaints.record_progress(
        session=cuihu.session,
        ticket_id=ticket.id,
        actor=cuihu.person("高主管"),
        note="已约谈当班保洁",
    )
    at.move_to(local(2026, 11, 23, 16, 0))
    reply(cuihu, ticket, "高主管", "已安排保洁每日两次清理")
    assert "complaint_replied" in kinds_sent_to(cuihu, "张伟")
    assert cuihu.callback(ticket).due_at == local(2026, 12, 1, 0, 0)
    trail = [
        e.note
        for e in audit.history(session=cuihu.session, object_type="ticket", object_id=ticket.id)
    ]
    assert trail == ["投诉", "转至保洁部", "受理", "已约谈当班保洁", "已安排保洁每日两次清理"]
    cuihu.called_back(ticket)
    assert ticket.status is TicketStatus.CLOSED


def test_a_department_hands_back_a_complaint_that_is_not_its_own(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    cuihu.forward(ticket, to="bj")
    complaints.hand_back(
        session=cuihu.session,
        ticket_id=ticket.id,
        actor=cuihu.person("高主管"),
        reason="是绿化的落叶",
    )
    assert ticket.status is TicketStatus.NEW
    assert ticket.department is None
    assert "complaint_handed_back" in kinds_sent_to(cuihu, "陈静")
    assert complaints.Handling.FORWARD in complaints.handlings(
        session=cuihu.session, ticket=ticket, actor=cuihu.person("陈静")
    )


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
    jobs.complaint_deadlines(s, local(2026, 11, 24, 9, 0))
    # Late with the department: its head hears, not the desk's supervisor.
    assert "complaint_unhandled" in kinds_sent_to(cuihu, "高主管")
    assert "complaint_unhandled" not in kinds_sent_to(cuihu, "孙丽")
    take_up(cuihu, ticket, "高主管")
    assert (
        queries.complaints_not_handled(session=s, estate_id=cuihu.id, now=local(2026, 11, 26, 9, 0))
        == []
    )
    jobs.complaint_deadlines(s, local(2026, 11, 26, 6, 0))  # night: nothing
    assert "complaint_due_soon" not in kinds_sent_to(cuihu, "高主管")
    jobs.complaint_deadlines(s, local(2026, 11, 26, 8, 0))
    assert "complaint_due_soon" in kinds_sent_to(cuihu, "高主管")
    assert queries.complaints_not_replied(
        session=s, estate_id=cuihu.id, now=local(2026, 11, 26, 9, 0)
    ) == [ticket]


def test_a_major_complaint_reaches_the_project_manager_who_chooses_the_reply_date(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = registered_major(cuihu)
    assert ticket.status is TicketStatus.ESCALATED
    assert ticket.channel is ReportChannel.PHONE
    assert "major_complaint" in kinds_sent_to(cuihu, "黄经理")
    # The owner hears once: its number; the date comes when the leadership takes it up.
    assert kinds_sent_to(cuihu, "张伟") == ["complaint_received"]
    # Late with the leadership: the project manager hears, not the desk's supervisor.
    jobs.complaint_deadlines(cuihu.session, local(2026, 11, 24, 9, 0))
    assert "complaint_unhandled" in kinds_sent_to(cuihu, "黄经理")
    assert "complaint_unhandled" not in kinds_sent_to(cuihu, "孙丽")
    with pytest.raises(PermissionDenied):
        take_up(cuihu, ticket, "陈静")
    chosen = complaints.reply_date_choices(ticket, local(2026, 11, 24, 9, 0))[-1]
    take_up(cuihu, ticket, "黄经理", reply_due_at=chosen)
    assert ticket.reply_due_at == chosen == local(2026, 12, 1, 9, 0)
    told = [
        m for m in outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("张伟").id)
    ]
    assert [m.kind for m in told] == ["complaint_received", "complaint_reply_date"]
    assert "2026-12-01 09:00" in told[-1].text
    # The project manager forwards it; the department handles and answers it.
    cuihu.forward(ticket, to="gc", by="黄经理")
    take_up(cuihu, ticket, "郑工")
    reply(cuihu, ticket, "郑工", "已更换电梯主板，并安排每月检测")
    assert ticket.status is TicketStatus.REPLIED
    assert [
        m.kind
        for m in outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("张伟").id)
    ].count("complaint_reply_date") == 1


def test_an_owner_asks_for_the_leadership_and_the_desk_confirms_it(cuihu: SampleEstate) -> None:
    with pytest.raises(PermissionDenied, match="由客服中心判断"):
        complain(cuihu, ComplaintSeverity.MAJOR)
    ticket = complaints.file_complaint(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        subject="电梯多次困人",
        description="本月第三次",
        leadership_requested=True,
    )
    assert ticket.severity is ComplaintSeverity.GENERAL
    [alert] = outbox.for_recipient(session=cuihu.session, recipient_id=cuihu.person("陈静").id)
    assert "业主希望由领导处理" in alert.text
    complaints.escalate_complaint(
        session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("陈静"), reason="涉及安全"
    )
    assert ticket.severity is ComplaintSeverity.MAJOR
    assert ticket.status is TicketStatus.ESCALATED
    assert "major_complaint" in kinds_sent_to(cuihu, "黄经理")
    assert kinds_sent_to(cuihu, "张伟") == ["complaint_went_up"]
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
    reply(cuihu, ticket, "陈静")
    at.move_to(local(2026, 11, 25, 9, 0))
    cuihu.called_back(ticket, Satisfaction.UNSATISFIED, by="张伟", note="并没有处理")
    assert ticket.status is TicketStatus.ESCALATED
    assert ticket.reply_due_at == local(2026, 11, 28, 9, 0)
    assert "complaint_unsatisfied" in kinds_sent_to(cuihu, "黄经理")
    # Answered again, it gets a new callback.
    reply(cuihu, ticket, "黄经理", "已更换保洁班组")
    assert callbacks.pending_for_ticket(session=s, ticket_id=ticket.id) is not None


def test_a_button_pressed_after_a_colleague_acted_says_who_did_what(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    reply(cuihu, ticket, "刘洋", "已处理完毕")
    with pytest.raises(AlreadyRecorded, match="由 刘洋 处理（已处理完毕）"):
        complaints.in_hand(session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("陈静"))


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
    with pytest.raises(PermissionDenied, match="由客服中心判断"):
        complain(cuihu, ComplaintSeverity.WRITTEN)
    written = complaints.file_complaint(
        session=cuihu.session,
        actor=cuihu.person("陈静"),
        on_behalf_of=cuihu.person("张伟").id,
        unit_id=cuihu.unit("1-1-502").id,
        subject="物业费",
        description="来函",
        severity=ComplaintSeverity.WRITTEN,
        channel=ReportChannel.WRITTEN,
    )
    assert written.status is TicketStatus.NEW
    assert kinds_sent_to(cuihu, "张伟") == ["complaint_received"]


def test_repair_steps_do_not_apply_to_complaints(cuihu: SampleEstate) -> None:
    ticket = complain(cuihu)
    with pytest.raises(IllegalTransition, match="不是报修单"):
        cuihu.dispatch(ticket)
    with pytest.raises(IllegalTransition, match="不是报修单"):
        lifecycle.accept(session=cuihu.session, ticket_id=ticket.id, actor=cuihu.person("陈静"))


def test_a_complaint_past_its_reply_date_is_offered_dates_still_ahead(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = registered_major(cuihu)
    assert "complaint_reported" not in kinds_sent_to(cuihu, "陈静")  # the leadership's at once
    now = local(2026, 11, 30, 10, 0)  # past the 26th's reply date
    at.move_to(now)
    choices = complaints.reply_date_choices(ticket, now)
    assert choices == [
        local(2026, 12, 1, 10, 0),
        local(2026, 12, 3, 10, 0),
        local(2026, 12, 7, 10, 0),
    ]
    take_up(cuihu, ticket, "黄经理", reply_due_at=choices[0])
    assert ticket.reply_due_at == local(2026, 12, 1, 10, 0)


def test_a_forwarded_complaint_nobody_took_up_comes_back_to_the_desk(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = complain(cuihu)
    cuihu.forward(ticket, to="gc")
    desk = cuihu.person("陈静")
    assert complaints.waiting_for(session=cuihu.session, estate_id=cuihu.id, actor=desk) == []
    at.move_to(local(2026, 11, 24, 9, 0))  # a day on, nobody in 工程部 took it up
    assert complaints.waiting_for(session=cuihu.session, estate_id=cuihu.id, actor=desk) == [ticket]
    cuihu.forward(ticket, to="bj")
    assert ticket.department is not None
    assert ticket.department.code == "bj"
    assert "complaint_forwarded" in kinds_sent_to(cuihu, "高主管")


def test_the_companys_leader_above_the_manager_hears_of_major_complaints_and_late_ones(
    cuihu: SampleEstate, at: time_machine.Traveller, sample_data: dict[str, Any]
) -> None:
    """An estate file may name the company's leader (公司领导) above the project manager."""
    sample_data["staff"].append(
        {
            "code": "C01",
            "name": "董总",
            "phone": "13900139099",
            "role": "company_leader",
            "department": "gl",
        }
    )
    importer.import_estate(session=cuihu.session, data=sample_data)
    ticket = registered_major(cuihu)
    assert "major_complaint" in kinds_sent_to(cuihu, "黄经理")
    assert "major_complaint" in kinds_sent_to(cuihu, "董总")
    take_up(cuihu, ticket, "黄经理")
    jobs.complaint_deadlines(cuihu.session, local(2026, 11, 26, 9, 0))  # past the reply date
    assert "complaint_unanswered" in kinds_sent_to(cuihu, "董总")
    # A late general complaint with a department is the project manager's to hear alone.
    other = complain(cuihu)
    cuihu.forward(other, to="bj")
    jobs.complaint_deadlines(cuihu.session, local(2026, 11, 26, 9, 30))
    assert kinds_sent_to(cuihu, "董总").count("complaint_unanswered") == 1
