"""The outbox: one notice per change, and at most one per idempotency key."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage, OutboxStatus
from tests.conftest import SampleEstate


def test_a_notice_is_rendered_in_the_desks_words_and_waits_to_be_sent(
    cuihu: SampleEstate,
) -> None:
    message = outbox.notify(
        session=cuihu.session,
        recipient=cuihu.person("郑工"),
        kind="finding_extended",
        params={
            "number": "XC000001",
            "due_on": "2026-12-10",
            "approved_by": "黄经理",
            "reason": "等配件",
        },
    )
    assert message is not None
    assert message.text == "巡查问题 XC000001 整改期限已延至 2026-12-10（黄经理 批准）：等配件"
    assert message.status is OutboxStatus.PENDING
    assert message.attempts == 0
    assert outbox.pending(session=cuihu.session) == [message]


def test_the_same_idempotency_key_queues_one_notice(cuihu: SampleEstate) -> None:
    params = {
        "number": "XC000001",
        "due_on": "2026-12-10",
        "approved_by": "黄经理",
        "reason": "等配件",
    }
    key = "digest:cuihu:郑工:2026-11-23"
    first = outbox.notify(
        session=cuihu.session,
        recipient=cuihu.person("郑工"),
        kind="finding_extended",
        params=params,
        idempotency_key=key,
    )
    second = outbox.notify(
        session=cuihu.session,
        recipient=cuihu.person("郑工"),
        kind="finding_extended",
        params=params,
        idempotency_key=key,
    )
    assert first is not None
    assert second is None
    assert cuihu.session.scalar(select(func.count(OutboxMessage.id))) == 1
