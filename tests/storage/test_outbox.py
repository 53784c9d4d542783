"""The outbox: one notice per change, and at most one per idempotency key."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.database import Database
from storage.estate import importer
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.outbox.notice import Notice
from storage.people.models import Person
from tests.conftest import SampleEstate

EXTENDED = Notice(
    "finding_extended",
    "巡查问题 {number} 整改期限已延至 {due_on}（{approved_by} 批准）：{reason}",
    {"number": "XC000001", "due_on": "2026-12-10", "approved_by": "黄经理", "reason": "等配件"},
)


def test_a_notice_is_rendered_in_the_desks_words_and_waits_to_be_sent(
    cuihu: SampleEstate,
) -> None:
    message = outbox.notify(
        session=cuihu.session,
        recipient=cuihu.person("郑工"),
        notice=EXTENDED,
    )
    assert message is not None
    assert message.text == "巡查问题 XC000001 整改期限已延至 2026-12-10（黄经理 批准）：等配件"
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0
    assert outbox.pending(session=cuihu.session) == [message]


def test_the_same_idempotency_key_queues_one_notice(cuihu: SampleEstate) -> None:
    key = "digest:cuihu:郑工:2026-11-23"
    first = outbox.notify(
        session=cuihu.session,
        recipient=cuihu.person("郑工"),
        notice=EXTENDED,
        idempotency_key=key,
    )
    second = outbox.notify(
        session=cuihu.session,
        recipient=cuihu.person("郑工"),
        notice=EXTENDED,
        idempotency_key=key,
    )
    assert first is not None
    assert second is None
    assert cuihu.session.scalar(select(func.count(OutboxMessage.id))) == 1


def test_the_dispatcher_is_woken_by_a_committed_notice_and_by_nothing_else(
    db: Database, sample_data: object
) -> None:
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
        recipient_id = session.scalars(select(Person.id).where(Person.name == "郑工")).one()
    woken: list[str] = []
    stop = outbox.when_queued(db=db, callback=lambda: woken.append("wake"))

    def queue(session: Session) -> None:
        person = session.get(Person, recipient_id)
        assert person is not None
        outbox.notify_text(
            session=session, recipient=person, kind="patrol", text="水泵房巡查发现漏水"
        )

    with db.transaction() as session:
        session.scalars(select(OutboxMessage)).all()  # a unit of work that queues nothing
    assert woken == []

    def fails_after_queueing() -> None:
        with db.transaction() as session:
            queue(session)
            raise RuntimeError("the change fails after the notice was queued")

    with pytest.raises(RuntimeError):
        fails_after_queueing()
    assert woken == []  # rolled back: there is nothing to send
    with db.transaction() as session:
        queue(session)
        assert woken == []  # not before the commit: the dispatcher would find nothing
    assert woken == ["wake"]
    stop()
    with db.transaction() as session:
        queue(session)
    assert woken == ["wake"]
