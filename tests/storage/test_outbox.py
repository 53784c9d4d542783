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


ACKNOWLEDGED = Notice(
    EXTENDED.kind, EXTENDED.template, EXTENDED.params, actions=(("!ack 1", "收到"),)
)


def _queued(session: Session) -> dict[int, OutboxMessage]:
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient_id.is_not(None)))
    return {row.recipient_id or 0: row for row in rows}


def test_a_notice_to_each_is_queued_once_per_recipient_in_their_language(
    cuihu: SampleEstate,
) -> None:
    """The clock asks every minute: each recipient is queued once, and one added to the
    roster later still gets it."""
    zheng, chen = cuihu.person("郑工"), cuihu.person("陈静")
    chen.locale = "en"
    session = cuihu.session

    def ask(*recipients: Person) -> int:
        return outbox.notify_each(
            session=session, recipients=recipients, notice=ACKNOWLEDGED, key="extended:1"
        )

    assert ask(zheng) == 1
    assert ask(zheng, chen) == 1
    assert ask(zheng, chen) == 0
    queued = _queued(session)
    assert sorted(queued) == sorted([zheng.id, chen.id])
    assert queued[zheng.id].text == ACKNOWLEDGED.text("zh_Hans")
    assert queued[chen.id].text == ACKNOWLEDGED.text("en") != queued[zheng.id].text
    assert queued[chen.id].buttons == [["!ack 1", ACKNOWLEDGED.buttons("en")[0][1]]]
    assert queued[chen.id].idempotency_key == f"extended:1:{chen.id}"
    assert queued[chen.id].status is OutboxStatus.PENDING
    assert session.info.get(outbox.QUEUED)


def test_a_notice_to_all_writes_every_recipients_row_in_one_go_and_says_which_is_whose(
    cuihu: SampleEstate,
) -> None:
    zheng, chen = cuihu.person("郑工"), cuihu.person("陈静")
    chen.locale = "en"
    session = cuihu.session
    ids = outbox.notify_all(
        session=session, recipients=[zheng, chen], notice=ACKNOWLEDGED, key="notice:7"
    )
    queued = _queued(session)
    assert ids == {person: row.id for person, row in queued.items()}
    assert queued[zheng.id].text == ACKNOWLEDGED.text("zh_Hans")
    assert queued[chen.id].text == ACKNOWLEDGED.text("en")
    assert queued[zheng.id].buttons == [["!ack 1", "收到"]]
    assert queued[chen.id].params == {key: str(v) for key, v in EXTENDED.params.items()}
    assert queued[chen.id].idempotency_key == f"notice:7:{chen.id}"
    assert queued[chen.id].next_attempt_at == queued[chen.id].created_at
    assert outbox.notify_all(session=session, recipients=[], notice=ACKNOWLEDGED, key="x") == {}
