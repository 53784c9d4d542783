"""Two `wuye serve` processes on one PostgreSQL: one conversation across both, one clock."""

from __future__ import annotations

import itertools
import signal
import subprocess
from collections.abc import Iterator
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from sqlalchemy import func, select, text, update

from storage.database import Database
from storage.estate import importer
from storage.estate.models import Estate
from storage.identity import service as identity
from storage.outbox.models import OutboxMessage
from storage.people.models import Person
from storage.ticket import complaints
from storage.ticket.models import Ticket
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.test_telegram import SECRET, TOKEN, Served, TelegramUser
from tests.conftest import POSTGRES_URL, _truncate, local, wait_until
from tests.servers import serving, wuye_serve


class Alternating(Served):
    """Each update to the other server, in turn."""

    urls: Iterator[str]

    def post(self, update: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        return httpx.post(
            f"{next(self.urls)}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            timeout=30,
        )


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    telegram = FakeTelegram()
    with serving(telegram.app()) as url:
        telegram.url = url
        yield telegram


def test_two_servers_share_a_conversation_and_the_clock_survives_its_leader(
    postgres_database: Database, fake: FakeTelegram, sample_data: object, tmp_path: Path
) -> None:
    db = postgres_database
    _truncate(db)
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
        session.execute(update(Estate).values(digest_time=clock_time(23, 59)))  # not yet
    assert POSTGRES_URL is not None
    env = {
        "WUYE_DATABASE_URL": POSTGRES_URL,
        "WUYE_TELEGRAM_TOKEN": TOKEN,
        "WUYE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "WUYE_TELEGRAM_API_BASE_URL": fake.url,
        "WUYE_CLOCK_TICK_SECONDS": "1",
        "WUYE_TELEGRAM_CHAT_MESSAGES_PER_SECOND": "100",
        "WUYE_QUIET_HOURS_START": "00:00",
        "WUYE_QUIET_HOURS_END": "00:00",
        "WUYE_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
    }

    def advisory_locks() -> int:
        with db.engine.connect() as connection:
            return int(
                connection.execute(
                    text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
                ).scalar()
                or 0
            )

    first, first_url = wuye_serve(env, tmp_path)
    second: subprocess.Popen[str] | None = None
    try:
        wait_until(lambda: advisory_locks() == 1)  # the first server leads the clock
        second, second_url = wuye_serve(env, tmp_path)
        both = Alternating(first_url, db.settings, db, fake)
        both.urls = itertools.cycle([first_url, second_url])

        # A whole conversation, its messages alternating between the two servers.
        owner = TelegramUser(both, 9801, "张伟")
        owner.say("/start")
        owner.press("房号 + 预留手机号")
        owner.say("1-1-502")
        owner.say("13800138001")
        owner.say("/repair")
        owner.press("电梯")
        owner.press("1-1-502")
        owner.say("电梯异响")
        owner.press("跳过")
        owner.press("跳过")
        assert any("报修成功，单号 BX000001" in t for t in owner.press("确认提交"))
        with db.transaction() as session:
            assert session.scalar(select(func.count(Ticket.id))) == 1

        with db.transaction() as session:
            head = session.scalars(select(Person).where(Person.name == "郑工")).one()
            code = identity.create_invite(session=session, person=head, estate_id=1)
        supervisor = TelegramUser(both, 9802, "郑工")
        supervisor.say("/start")
        supervisor.press("使用绑定码")
        supervisor.say(code)

        with db.transaction() as session:  # the digest falls due: the leader sends it
            session.execute(update(Estate).values(digest_time=clock_time(0, 0)))

        def digests() -> list[str]:
            return [t for t in fake.texts(9802) if t.startswith("【每日汇总】")]

        wait_until(lambda: len(digests()) == 1)

        first.send_signal(signal.SIGKILL)  # the leader dies without a word
        first.wait(timeout=30)
        wait_until(lambda: advisory_locks() == 1)  # the other has taken the clock over

        # Proof that the clock runs again: a complaint left for a day is escalated now.
        with time_machine.travel(local(2026, 11, 1, 9, 0), tick=False), db.transaction() as session:
            complainer = session.scalars(select(Person).where(Person.name == "李强")).one()
            complaints.file_complaint(
                session=session,
                actor=complainer,
                estate_id=1,
                place="2栋大堂",
                subject="噪音",
                description="夜间施工",
            )

        def escalated() -> int:
            with db.transaction() as session:
                return int(
                    session.scalar(
                        select(func.count(OutboxMessage.id)).where(
                            OutboxMessage.kind == "complaint_unhandled"
                        )
                    )
                    or 0
                )

        wait_until(lambda: escalated() > 0)
        assert len(digests()) == 1  # and the digest was not sent again by the new leader
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
