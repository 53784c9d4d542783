"""Personal information: who reads an owner's number, an owner's copy of what is held about
them, and their erasure with the estate's figures and trail intact."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import JSON, String, delete, func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from scheduler import jobs
from storage.audit import service as audit
from storage.audit.models import AuditErasure, AuditEvent
from storage.base import Base
from storage.callback import notices as callback_notices
from storage.callback.models import QualityCheckKind, Satisfaction
from storage.chat import service as chat
from storage.chat.models import Conversation
from storage.clock import utcnow
from storage.config import Settings
from storage.errors import NotFound, PermissionDenied
from storage.figures.monthly import monthly_report
from storage.i18n import translator
from storage.identity import notices as identity_notices
from storage.identity import service as identity
from storage.identity.models import BindingRequest, BindingStatus
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage
from storage.people import privacy
from storage.people import service as people
from storage.people.models import Person
from storage.ticket import complaints, lifecycle, repairs
from storage.ticket.models import RepairCategory, Ticket, TicketStatus
from tests.conftest import SampleEstate, local

PHONE, MASKED = "13800138001", "138****8001"


WEEKLY = QualityCheckKind.WEEKLY


def test_a_number_is_masked_to_its_first_three_and_last_four_digits() -> None:
    assert privacy.mask_phone(PHONE) == MASKED
    assert privacy.mask_phone("02161234567") == "021****4567"
    assert privacy.mask_phone("110") == "***"  # a short number is not kept whole


def _leak(cuihu: SampleEstate, to: str | None = "周师傅") -> Ticket:
    ticket = repairs.report_repair(
        session=cuihu.session,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.WATER_LEAK,
        description="卫生间天花板渗水",
    )
    cuihu.dispatch(ticket, to=to)
    return ticket


def test_the_desk_the_assigned_technician_and_the_owner_read_the_number_in_full(
    cuihu: SampleEstate,
) -> None:
    ticket = _leak(cuihu)
    assert ticket.contact_phone == PHONE

    def read(name: str | None) -> str | None:
        viewer = cuihu.person(name) if name else None
        return privacy.phone_for(session=cuihu.session, viewer=viewer, ticket=ticket)

    for name in ("陈静", "孙丽", "黄经理", "马玲", "周师傅", "张伟"):
        assert read(name) == PHONE, name
    # Another technician, other departments, a co-resident, the command line: masked.
    for masked_for in ("吴师傅", "冯军", "许阿姨", "林师傅", "王芳", None):
        assert read(masked_for) == MASKED, masked_for


def test_a_technician_reads_the_number_of_a_department_order_once_it_is_theirs(
    cuihu: SampleEstate,
) -> None:
    ticket = _leak(cuihu, to=None)  # to engineering, nobody yet
    wu = cuihu.person("吴师傅")
    assert privacy.phone_for(session=cuihu.session, viewer=wu, ticket=ticket) == MASKED
    lifecycle.accept(session=cuihu.session, ticket_id=ticket.id, actor=wu)
    assert privacy.phone_for(session=cuihu.session, viewer=wu, ticket=ticket) == PHONE


def test_a_callback_notice_shows_the_number_in_full_to_the_desk_and_masked_to_others(
    cuihu: SampleEstate, at: time_machine.Traveller, settings: Settings
) -> None:
    s = cuihu.session
    ticket = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 11, 23, 15, 0))
    callback = cuihu.callback(ticket)

    def reminder(name: str) -> str:
        phone_of = privacy.phones_for(session=s, viewer=cuihu.person(name))
        return callback_notices.callback_reminder(callback, phone_of=phone_of).text(None)

    assert f"（张伟 {PHONE}）" in reminder("陈静")
    for name in ("冯军", "许阿姨", "吴师傅"):
        text = reminder(name)
        assert f"（张伟 {MASKED}）" in text, name
        assert PHONE not in text
    overdue = callback_notices.callback_overdue(
        callback, settings, utcnow(), phone_of=privacy.phones_for(session=s, viewer=None)
    )
    assert MASKED in overdue.text(None)
    assert PHONE not in json.dumps({k: str(v) for k, v in overdue.params.items()})  # nor kept

    # What the clock sends the desk: each reader their own notice, the desk in full.
    assert jobs.due_callbacks(s, local(2026, 11, 26, 9, 0)) == 3
    sent = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "callback_reminder"))
    assert {(m.recipient.name if m.recipient else "", PHONE in m.text) for m in sent} == {
        ("陈静", True),
        ("刘洋", True),
    }


def test_the_quality_sample_reads_numbers_as_its_reader_may(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = cuihu.repair_done(at, RepairCategory.PLUMBING, local(2026, 11, 23, 15, 0))
    callback = cuihu.called_back(ticket)
    t = translator(None)
    specialist = privacy.phones_for(session=cuihu.session, viewer=cuihu.person("马玲"))
    guard = privacy.phones_for(session=cuihu.session, viewer=cuihu.person("冯军"))
    assert PHONE in callback_notices.quality_sample(
        [callback], t, WEEKLY, phone_of=specialist
    ).text(None)
    masked = callback_notices.quality_sample([callback], t, WEEKLY, phone_of=guard).text(None)
    assert MASKED in masked
    assert PHONE not in masked


# ---------------------------------------------------------------- export and erasure


def _everything_about_zhang(
    cuihu: SampleEstate, at: time_machine.Traveller, settings: Settings
) -> dict[str, Any]:
    """张伟 as a busy owner: two chat accounts (one still waiting for the desk), a
    conversation, a leak with a photo, a callback with his words, a complaint answered."""
    s = cuihu.session
    zhang, desk = cuihu.person("张伟"), cuihu.person("陈静")
    identity.link_account(session=s, person=zhang, platform="telegram", external_id="701")
    chat.note_inbound(session=s, platform="telegram", chat_id="701")
    chat.first_sighting(session=s, platform="telegram", chat_id="701", message_id="1")
    s.add(
        Conversation(
            platform="telegram",
            chat_id="701",
            user_id="701",
            flow="repair",
            step="description",
            data={"draft": f"张伟 {PHONE} 厨房水龙头"},
        )
    )
    request = BindingRequest(
        platform="wechat",
        external_id="o-zhang",
        person=zhang,
        estate_id=cuihu.id,
        unit_designation="1-1-502",
    )
    identity.BINDING_FLOW.start(
        session=s, obj=request, state=BindingStatus.PENDING, actor=zhang, note="1-1-502 · wechat"
    )
    outbox.notify_each(
        session=s,
        recipients=people.desk_staff(session=s, estate_id=cuihu.id),
        notice=identity_notices.binding_requested(request),
    )
    photo = Path(settings.attachments_dir) / "telegram" / "leak.jpg"
    photo.parent.mkdir(parents=True, exist_ok=True)
    photo.write_bytes(b"\xff\xd8\xff a photo of his bathroom")
    leak = repairs.report_repair(
        session=s,
        actor=zhang,
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.WATER_LEAK,
        description="卫生间天花板渗水，白天家里有老人，请先打电话",
        photos=[str(photo)],
        preferred_time="明天上午十点以后",
    )
    cuihu.dispatch(leak, to="周师傅")
    lifecycle.accept(session=s, ticket_id=leak.id, actor=cuihu.person("周师傅"))
    at.move_to(local(2026, 11, 23, 15, 0))
    repairs.finish_repair(
        session=s,
        ticket_id=leak.id,
        actor=cuihu.person("周师傅"),
        note="已更换防水层",
        photos=["telegram:done-1"],
    )
    jobs.due_callbacks(s, local(2026, 11, 26, 9, 0))  # the desk is told whom to call
    at.move_to(local(2026, 11, 26, 10, 0))
    cuihu.called_back(leak, Satisfaction.FAIRLY_SATISFIED, note="师傅来得有点晚，但修得很好")
    complaint = complaints.file_complaint(
        session=s,
        actor=zhang,
        subject="楼上装修噪音",
        description="502 楼上每天早上七点开始装修，老人休息不好",
        unit_id=cuihu.unit("1-1-502").id,
    )
    cuihu.forward(complaint, to="zx", by=desk.name)
    head = cuihu.person("何队长")
    complaints.take_up(session=s, ticket_id=complaint.id, actor=head)
    complaints.reply_complaint(
        session=s, ticket_id=complaint.id, actor=head, text="张伟您好，已与楼上业主沟通"
    )
    # Someone else's repair, which his erasure leaves as it is.
    other = repairs.report_repair(
        session=s,
        actor=cuihu.person("李强"),
        unit_id=cuihu.unit("2-2-301").id,
        category=RepairCategory.PLUMBING,
        description="厨房下水堵了",
    )
    s.flush()
    return {"zhang": zhang, "leak": leak, "complaint": complaint, "other": other, "photo": photo}


def test_an_export_holds_his_row_accounts_tickets_and_trail_and_is_itself_audited(
    cuihu: SampleEstate, at: time_machine.Traveller, settings: Settings
) -> None:
    held = _everything_about_zhang(cuihu, at, settings)
    zhang: Person = held["zhang"]
    person = privacy.find_by_phone(session=cuihu.session, phone="+86 138 0013 8001")
    assert person.id == zhang.id
    data = privacy.export(session=cuihu.session, person=person, requested_by="命令行 root")
    json.dumps(data, ensure_ascii=False)  # ready to be written as it is
    assert data["person"]["name"] == "张伟"
    assert data["person"]["phone"] == PHONE
    assert [r["unit"] for r in data["residencies"]] == ["1-1-502"]
    assert [(i["platform"], i["external_id"]) for i in data["chat_identities"]] == [
        ("telegram", "701")
    ]
    assert [b["external_id"] for b in data["binding_requests"]] == ["o-zhang"]
    leak, complaint = data["tickets"]
    assert (leak["number"], complaint["number"]) == (held["leak"].number, held["complaint"].number)
    assert leak["description"] == "卫生间天花板渗水，白天家里有老人，请先打电话"
    assert leak["preferred_time"] == "明天上午十点以后"
    assert [(a["purpose"], a["ref"]) for a in leak["attachments"]] == [
        ("report", str(held["photo"])),
        ("done", "telegram:done-1"),
    ]
    [callback] = leak["callbacks"]
    assert (callback["satisfaction"], callback["note"]) == (
        "fairly_satisfied",
        "师傅来得有点晚，但修得很好",
    )
    assert complaint["reply_text"] == "张伟您好，已与楼上业主沟通"
    assert [c["flow"] for c in data["conversations"]] == ["repair"]
    assert {m["kind"] for m in data["outbox_messages"]} >= {"repair_done", "complaint_replied"}
    assert held["other"].number not in json.dumps(data)  # nobody else's ticket
    kinds = {(e["object_type"], e["to_state"]) for e in data["audit_events"]}
    assert {("ticket", "new"), ("callback", "done"), ("binding", "pending")} <= kinds
    [line] = audit.history(session=cuihu.session, object_type="person", object_id=zhang.id)
    assert (line.to_state, line.actor_label) == (privacy.EXPORTED, audit.SYSTEM)
    assert line.note is not None
    assert "命令行 root" in line.note


def test_nobody_is_found_by_a_number_not_on_file(cuihu: SampleEstate) -> None:
    with pytest.raises(NotFound) as missing:
        privacy.find_by_phone(session=cuihu.session, phone="13700000000")
    assert "137****0000" in str(missing.value)  # not the number itself, even here


def _texts(session: Session) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text and JSON value in the database."""
    found = []
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
        for row in session.execute(select(*columns)).all() if columns else []:
            for column, value in zip(columns, row, strict=True):
                if value is not None:
                    text = value if isinstance(value, str) else json.dumps(value)
                    found.append((table.name, column.name, text))
                    # JSON as it is kept (Chinese as \u escapes) and as it reads.
                    found.append((table.name, column.name, json.dumps(value, ensure_ascii=False)))
    return found


def test_forgetting_him_leaves_no_name_or_number_and_the_figures_and_trail_as_they_were(
    cuihu: SampleEstate, at: time_machine.Traveller, settings: Settings
) -> None:
    s = cuihu.session
    held = _everything_about_zhang(cuihu, at, settings)
    zhang: Person = held["zhang"]
    assert any("张伟" in text for _, _, text in _texts(s))
    month = date(2026, 11, 1)
    figures = monthly_report(session=s, estate_id=cuihu.id, month=month)
    trail = s.scalar(select(func.count(AuditEvent.id))) or 0
    leak: Ticket = held["leak"]
    kept = [(leak.number, leak.status, leak.category, leak.created_at, leak.done_at)]

    done = privacy.forget(session=s, person=zhang, requested_by="命令行 root")

    assert done.label == f"已注销业主#{zhang.id}"
    leftovers = [
        (table, column, text)
        for table, column, text in _texts(s)
        if "张伟" in text or PHONE in text or MASKED in text
    ]
    assert leftovers == []
    # Nor what he wrote, wherever it was copied (the technician's order, the trail).
    for words in ("白天家里有老人", "师傅来得有点晚", "楼上装修噪音", "明天上午十点以后"):
        assert [(t, c) for t, c, text in _texts(s) if words in text] == [], words
    assert monthly_report(session=s, estate_id=cuihu.id, month=month) == figures
    assert s.scalar(select(func.count(AuditEvent.id))) == trail + 1
    s.refresh(leak)
    assert [(leak.number, leak.status, leak.category, leak.created_at, leak.done_at)] == kept
    assert leak.status is TicketStatus.CLOSED
    assert leak.reporter.name == done.label
    assert leak.contact_phone is None
    assert [a.ref for a in leak.attachments] == ["telegram:done-1"]  # the proof of the fix
    other = s.get(Ticket, held["other"].id)
    assert other is not None
    assert other.description == "厨房下水堵了"
    assert other.contact_phone == "13800138003"
    # His own lines of the trail go by his new name; the erasure is one more line.
    his = s.scalars(select(AuditEvent).where(AuditEvent.actor_id == zhang.id)).all()
    assert his
    assert {e.actor_label for e in his} == {done.label}
    [line] = audit.history(session=s, object_type="person", object_id=zhang.id)
    assert (line.to_state, line.actor_label) == (privacy.FORGOTTEN, audit.SYSTEM)
    assert s.scalars(select(AuditErasure)).all() == []  # the trail is append-only again
    # His accounts bind nobody, he is no resident, and nothing waits to be sent to him.
    assert identity.identify(session=s, platform="telegram", external_id="701") is None
    assert people.units_of(session=s, person_id=zhang.id) == []
    to_him = select(OutboxMessage).where(OutboxMessage.recipient_id == zhang.id)
    assert s.scalars(to_him).all() == []
    assert s.scalars(select(Conversation).where(Conversation.user_id == "701")).all() == []
    # The photo he sent goes once the erasure is committed; the technician's stays held.
    assert done.files == [str(held["photo"])]
    assert privacy.remove_files(done.files, attachments_dir=settings.attachments_dir) == 1
    assert not held["photo"].exists()
    with pytest.raises(NotFound):
        privacy.find_by_phone(session=s, phone=PHONE)


def test_a_member_of_staff_in_post_is_not_erased(cuihu: SampleEstate) -> None:
    with pytest.raises(PermissionDenied):
        privacy.forget(session=cuihu.session, person=cuihu.person("陈静"), requested_by="t")
    assert cuihu.person("陈静").phone == "13900139001"


def test_during_an_erasure_the_trail_lets_names_and_notes_change_and_nothing_else(
    cuihu: SampleEstate,
) -> None:
    s = cuihu.session
    _leak(cuihu)  # a line by 张伟 (reported), lines by 陈静 (dispatched)
    zhang, desk = cuihu.person("张伟"), cuihu.person("陈静")
    s.add(AuditErasure(person_id=zhang.id))
    s.flush()
    s.execute(
        update(AuditEvent)
        .where(AuditEvent.actor_id == zhang.id)
        .values(actor_label="已注销业主", note=None)
    )
    s.execute(update(AuditEvent).where(AuditEvent.actor_id == desk.id).values(note="（已删除）"))
    for refused in (
        update(AuditEvent).where(AuditEvent.actor_id == desk.id).values(actor_label="someone"),
        update(AuditEvent).values(to_state="closed"),
        update(AuditEvent).where(AuditEvent.actor_id == zhang.id).values(actor_id=desk.id),
        delete(AuditEvent),
    ):
        with pytest.raises(DBAPIError, match="append-only"), s.begin_nested():
            s.execute(refused)
    labels = s.scalars(select(AuditEvent.actor_label).order_by(AuditEvent.id)).all()
    assert labels[0] == "已注销业主"
    assert set(labels[1:]) == {"陈静"}
