"""The outbox dispatcher: retries with backoff, gives up with a reason, sends each notice once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import ClassVar

import time_machine
import yaml
from sqlalchemy import select

from bot.channel import Refused, SendOnly
from bot.dispatcher import Dispatcher
from conversations.messages import Reply
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.people.models import Person
from tests.conftest import SAMPLE, answer_notice, local


class Flaky(SendOnly):
    """A platform that fails a few times before it delivers (or refuses for good)."""

    platform: ClassVar[str] = "telegram"

    def __init__(self, failures: int = 0, refuse: bool = False) -> None:
        self.failures, self.refuse = failures, refuse
        self.delivered: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        if self.refuse:
            raise Refused("bot was blocked by the user")
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unreachable")
        self.delivered.append((chat_id, reply.text))


def queue_notice(db: Database) -> int:
    with db.transaction() as session:
        importer.import_estate(session=session, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
        person = session.scalars(select(Person).where(Person.name == "张伟")).one()
        identity.link_account(
            session=session, person=person, platform="telegram", external_id="4242"
        )
        notice = outbox.notify(
            session=session,
            recipient=person,
            notice=answer_notice(),
        )
        assert notice is not None
        session.flush()
        return notice.id


def status(db: Database, notice_id: int) -> OutboxMessage:
    with db.transaction() as session:
        found = session.get(OutboxMessage, notice_id)
        assert found is not None
        return found


def test_a_platform_that_fails_twice_then_succeeds_delivers_once(db: Database) -> None:
    with time_machine.travel(local(2026, 11, 24, 10, 0), tick=False) as clock:
        notice = queue_notice(db)
        platform = Flaky(failures=2)
        dispatcher = Dispatcher(db, [platform])
        assert asyncio.run(dispatcher.run_once()) == 0
        assert asyncio.run(dispatcher.run_once()) == 0  # backing off: not yet due again
        clock.shift(timedelta(seconds=31))
        assert asyncio.run(dispatcher.run_once()) == 0  # second failure
        clock.shift(timedelta(seconds=61))
        assert asyncio.run(dispatcher.run_once()) == 1
        clock.shift(timedelta(hours=1))
        assert asyncio.run(dispatcher.run_once()) == 0
    assert platform.delivered == [("4242", status(db, notice).text)]
    sent = status(db, notice)
    assert sent.status is OutboxStatus.SENT
    assert sent.attempts == 3


def test_a_notice_written_before_a_crash_is_sent_once_after_the_restart(db: Database) -> None:
    notice = queue_notice(db)  # the process dies here, before any dispatcher ran
    platform = Flaky()
    restarted = Dispatcher(Database(db.settings), [platform])
    assert asyncio.run(restarted.run_once()) == 1
    assert asyncio.run(restarted.run_once()) == 0
    assert len(platform.delivered) == 1
    assert status(db, notice).status is OutboxStatus.SENT


def test_a_refusal_is_final_and_its_reason_kept(db: Database) -> None:
    notice = queue_notice(db)
    dispatcher = Dispatcher(db, [Flaky(refuse=True)])
    assert asyncio.run(dispatcher.run_once()) == 0
    failed = status(db, notice)
    assert failed.status is OutboxStatus.FAILED
    assert failed.last_error == "telegram: bot was blocked by the user"


class Mixed(SendOnly):
    """A platform on which one chat has blocked the bot and another cannot be reached now."""

    platform: ClassVar[str] = "telegram"

    def __init__(self) -> None:
        self.delivered: list[str] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        if chat_id == "blocked":
            raise Refused("bot was blocked by the user")
        if chat_id == "unreachable":
            raise ConnectionError("platform unreachable")
        self.delivered.append(chat_id)


def test_a_round_of_notices_is_recorded_each_as_it_went(db: Database) -> None:
    """Delivered, refused for good, failed for now, nobody to reach: one round, recorded
    together, each with its own outcome and reason."""
    with time_machine.travel(local(2026, 11, 24, 10, 0), tick=False):
        with db.transaction() as session:
            data = yaml.safe_load(SAMPLE.read_text("utf-8"))
            importer.import_estate(session=session, data=data)
            accounts = {
                "张伟": "reached",
                "陈静": "blocked",
                "周师傅": "unreachable",
                "吴师傅": None,
            }
            ids = {}
            for name, account in accounts.items():
                person = session.scalars(select(Person).where(Person.name == name)).one()
                if account is not None:
                    identity.link_account(
                        session=session, person=person, platform="telegram", external_id=account
                    )
                queued = outbox.notify(session=session, recipient=person, notice=answer_notice())
                assert queued is not None
                session.flush()
                ids[name] = queued.id
        platform = Mixed()
        assert asyncio.run(Dispatcher(db, [platform]).run_once()) == 1
        assert platform.delivered == ["reached"]
        delivered, refused, deferred, nobody = (status(db, ids[name]) for name in accounts)
        ten = local(2026, 11, 24, 10, 0)
        assert (delivered.status, delivered.sent_at) == (OutboxStatus.SENT, ten)
        assert (refused.status, refused.last_error) == (
            OutboxStatus.FAILED,
            "telegram: bot was blocked by the user",
        )
        for waiting in (deferred, nobody):
            assert waiting.status is OutboxStatus.PENDING
            assert waiting.next_attempt_at == ten + timedelta(seconds=30)
        assert deferred.last_error == "telegram: platform unreachable"
        assert nobody.last_error == "no chat account to reach this person"
