"""回访 (003 篇十二 三(四)2, 三(五); 002): when callbacks are due and what they lead to."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import time_machine
import yaml
from sqlalchemy import select

from storage.audit import service as audit
from storage.callback import service as callbacks
from storage.callback.models import Callback, CallbackChannel, Satisfaction
from storage.clock import format_day
from storage.config import load_settings
from storage.database import Database
from storage.errors import AlreadyRecorded, DomainError, PermissionDenied
from storage.estate import importer
from storage.estate.models import Estate
from storage.outbox import service as outbox
from storage.people.models import Person
from storage.ticket import lifecycle, queries, repairs
from storage.ticket.models import RepairCategory, Ticket, TicketStatus
from tests.conftest import SAMPLE, SHANGHAI, SampleEstate, local


def due_on(callback: Callback) -> str:
    return format_day(callback.due_at, SHANGHAI)


@pytest.mark.parametrize(
    ("category", "due"),
    [
        (RepairCategory.LIFT, "2026-11-25"),  # safety facility: 2 days → Wednesday
        (RepairCategory.FIRE_SAFETY, "2026-11-25"),
        (RepairCategory.WATER_LEAK, "2026-11-26"),  # water leak: 3 days → Thursday
        (RepairCategory.PLUMBING, "2026-11-30"),  # anything else: a week → next Monday
        (RepairCategory.DOOR_LOCK, "2026-11-30"),
    ],
)
def test_a_repair_done_on_monday_is_due_for_callback_by_its_class(
    cuihu: SampleEstate, at: time_machine.Traveller, category: RepairCategory, due: str
) -> None:
    ticket = cuihu.repair_done(at, category, local(2026, 11, 23, 15, 0))
    assert due_on(cuihu.callback(ticket)) == due


def test_a_leak_repair_done_at_2350_on_the_30th_is_due_on_the_3rd_of_next_month(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 11, 30, 23, 50))
    callback = cuihu.callback(ticket)
    assert due_on(callback) == "2026-12-03"
    # Due through the whole of the 3rd, local time, and overdue from its first minute after.
    assert callback.due_at == local(2026, 12, 4, 0, 0)


def test_the_callback_day_is_the_estates_day_not_utcs(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    # 07:00 in Shanghai on Monday the 30th is still Sunday the 29th in UTC.
    ticket = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 11, 30, 7, 0))
    assert due_on(cuihu.callback(ticket)) == "2026-12-03"


def test_callback_windows_are_settings(sample_data: object, tmp_path: object) -> None:
    settings = load_settings(database_url=f"sqlite:///{tmp_path}/w.db", callback_days_leak=1)
    db = Database(settings)
    db.upgrade()
    with time_machine.travel(local(2026, 11, 23, 9, 0), tick=False) as at, db.transaction() as s:
        importer.import_estate(session=s, data=sample_data)
        cuihu = SampleEstate(s, s.scalars(select(Estate)).one())
        ticket = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 11, 23, 15, 0))
        assert due_on(cuihu.callback(ticket)) == "2026-11-24"
    db.dispose()


def test_a_satisfied_callback_closes_the_repair(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
    callback = callbacks.record(
        session=cuihu.session,
        callback_id=cuihu.callback(ticket).id,
        actor=cuihu.person("陈静"),
        satisfaction=Satisfaction.FAIRLY_SATISFIED,
        note="速度可以更快",
    )
    assert ticket.status is TicketStatus.CLOSED
    assert callback.channel is CallbackChannel.PHONE
    assert callback.recorded_by is not None
    trail = audit.history(session=cuihu.session, object_type="callback", object_id=callback.id)
    assert [(e.from_state, e.to_state) for e in trail] == [(None, "pending"), ("pending", "done")]
    assert trail[1].note == "较满意：速度可以更快"


def test_the_owner_answers_the_callback_in_chat(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
    callback = callbacks.record(
        session=cuihu.session,
        callback_id=cuihu.callback(ticket).id,
        actor=cuihu.person("张伟"),
        satisfaction=Satisfaction.SATISFIED,
    )
    assert callback.channel is CallbackChannel.CHAT


def test_a_stranger_or_a_technician_cannot_record_a_callback(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
    for who in ("李强", "周师傅"):
        with pytest.raises(PermissionDenied):
            callbacks.record(
                session=cuihu.session,
                callback_id=cuihu.callback(ticket).id,
                actor=cuihu.person(who),
                satisfaction=Satisfaction.SATISFIED,
            )
    assert ticket.status is TicketStatus.DONE


def test_a_callback_recorded_twice_is_refused_and_the_first_answer_stands(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    ticket = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
    callback_id = cuihu.callback(ticket).id
    callbacks.record(
        session=cuihu.session,
        callback_id=callback_id,
        actor=cuihu.person("陈静"),
        satisfaction=Satisfaction.SATISFIED,
    )
    with pytest.raises(AlreadyRecorded, match="已于 2026-11-23 15:00 由 陈静 记录"):
        callbacks.record(
            session=cuihu.session,
            callback_id=callback_id,
            actor=cuihu.person("刘洋"),
            satisfaction=Satisfaction.UNSATISFIED,
        )
    callback = cuihu.session.get(Callback, callback_id)
    assert callback is not None
    assert callback.satisfaction is Satisfaction.SATISFIED
    assert ticket.status is TicketStatus.CLOSED


def test_unsatisfied_sends_the_repair_back_to_the_repairer_within_24_hours(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    s = cuihu.session
    ticket = cuihu.repair_done(at, RepairCategory.WATER_LEAK, local(2026, 11, 23, 15, 0))
    at.move_to(local(2026, 11, 25, 10, 0))
    callback = callbacks.record(
        session=s,
        callback_id=cuihu.callback(ticket).id,
        actor=cuihu.person("陈静"),
        satisfaction=Satisfaction.UNSATISFIED,
        note="还在渗水",
    )
    assert ticket.status is TicketStatus.CALLED_BACK  # not closed while the rework is open
    rework = s.get(Ticket, callback.rework_ticket_id)
    assert rework is not None
    assert rework.rework_of_id == ticket.id
    assert rework.status is TicketStatus.DISPATCHED
    assert rework.assignee is not None
    assert rework.assignee.person.name == "周师傅"
    assert rework.due_at == local(2026, 11, 26, 10, 0)
    [notice] = [
        n
        for n in outbox.for_recipient(session=s, recipient_id=cuihu.person("周师傅").id)
        if n.kind == "rework_assigned"
    ]
    assert "还在渗水" in notice.text
    assert ticket.number in notice.text

    # Overdue once the 24 hours pass without the rework done.
    assert queries.overdue_work(session=s, estate_id=cuihu.id, now=local(2026, 11, 26, 10, 1))

    # The rework runs its own course; its satisfied callback closes the original too.
    lifecycle.accept(session=s, ticket_id=rework.id, actor=cuihu.person("周师傅"))
    repairs.finish_repair(
        session=s, ticket_id=rework.id, actor=cuihu.person("周师傅"), note="重做防水"
    )
    callbacks.record(
        session=s,
        callback_id=cuihu.callback(rework).id,
        actor=cuihu.person("张伟"),
        satisfaction=Satisfaction.SATISFIED,
    )
    assert rework.status is TicketStatus.CLOSED
    assert ticket.status is TicketStatus.CLOSED


def test_due_callbacks_are_listed_oldest_first_and_overdue_ones_found(
    cuihu: SampleEstate, at: time_machine.Traveller
) -> None:
    other = cuihu.repair_done(at, RepairCategory.PLUMBING, local(2026, 11, 23, 15, 0))
    lift = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 24, 9, 0))
    s = cuihu.session
    assert callbacks.due(session=s, estate_id=cuihu.id, on=date(2026, 11, 25)) == []
    assert [
        c.ticket_id for c in callbacks.due(session=s, estate_id=cuihu.id, on=date(2026, 11, 26))
    ] == [lift.id]
    assert [
        c.ticket_id for c in callbacks.due(session=s, estate_id=cuihu.id, on=date(2026, 12, 1))
    ] == [lift.id, other.id]
    assert callbacks.overdue(session=s, estate_id=cuihu.id, now=local(2026, 11, 26, 23, 59)) == []
    assert [
        c.ticket_id
        for c in callbacks.overdue(session=s, estate_id=cuihu.id, now=local(2026, 11, 27, 0, 0))
    ] == [lift.id]


def test_two_workers_recording_the_same_callback_at_once_record_it_once(db: Database) -> None:
    with time_machine.travel(local(2026, 11, 23, 9, 0), tick=False) as at:
        with db.transaction() as s:
            importer.import_estate(session=s, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
            cuihu = SampleEstate(s, s.scalars(select(Estate)).one())
            ticket = cuihu.repair_done(at, RepairCategory.LIFT, local(2026, 11, 23, 15, 0))
            callback_id = cuihu.callback(ticket).id
            staff_ids = [cuihu.person("陈静").id, cuihu.person("刘洋").id]

        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def record(person_id: int, satisfaction: Satisfaction) -> None:
            barrier.wait()
            try:
                with db.transaction() as s:
                    actor = s.get(Person, person_id)
                    assert actor is not None
                    callbacks.record(
                        session=s, callback_id=callback_id, actor=actor, satisfaction=satisfaction
                    )
                outcomes.append("recorded")
            except DomainError:
                outcomes.append("refused")

        threads = [
            threading.Thread(target=record, args=(staff_ids[0], Satisfaction.SATISFIED)),
            threading.Thread(target=record, args=(staff_ids[1], Satisfaction.UNSATISFIED)),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    assert sorted(outcomes) == ["recorded", "refused"]
    with db.transaction() as s:
        events = audit.history(session=s, object_type="callback", object_id=callback_id)
        assert [e.to_state for e in events] == ["pending", "done"]
        reworks = s.scalars(select(Ticket).where(Ticket.rework_of_id.is_not(None))).all()
        stored = s.get(Callback, callback_id)
        assert stored is not None
        assert len(reworks) == (1 if stored.satisfaction is Satisfaction.UNSATISFIED else 0)
