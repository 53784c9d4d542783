"""Faults of real processes: `wuye serve` killed mid-send, its database locked or gone.

Each test runs the real command against fake platform servers on 127.0.0.1 and holds
the fault for real (a SIGKILL, another process holding SQLite's write lock, the
connection to PostgreSQL cut), then checks that every message was answered once.
"""

from __future__ import annotations

import contextlib
import select as selectors
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from storage.chat.models import Conversation, SeenMessage
from storage.config import load_settings
from storage.database import Database
from storage.estate import importer
from storage.identity.models import ChatIdentity
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.people.models import Person
from tests.bot.fake_telegram import FakeTelegram
from tests.bot.fake_wechat import FakeWechat
from tests.bot.test_telegram import SECRET, TOKEN, Served, TelegramUser, _updates
from tests.bot.test_wechat import APP_ID, KEY, Account, Follower
from tests.bot.test_wechat import TOKEN as WECHAT_TOKEN
from tests.conftest import POSTGRES_URL, _truncate, wait_until
from tests.servers import free_port, serving, wuye_serve


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
def wechat() -> Iterator[FakeWechat]:
    fake = FakeWechat()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake


def environment(database_url: str, tmp_path: Path, **more: str) -> dict[str, str]:
    return {
        "WUYE_DATABASE_URL": database_url,
        "WUYE_ATTACHMENTS_DIR": str(tmp_path / "attachments"),
        "WUYE_INBOX_DIR": str(tmp_path / "inbox"),
        **more,
    }


def telegram_environment(fake: FakeTelegram) -> dict[str, str]:
    return {
        "WUYE_TELEGRAM_TOKEN": TOKEN,
        "WUYE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "WUYE_TELEGRAM_API_BASE_URL": fake.url,
        "WUYE_TELEGRAM_CHAT_MESSAGES_PER_SECOND": "100",
    }


# Alembic's operations are one module-wide context: the outages' databases are migrated
# one at a time, then run side by side.
MIGRATING = threading.Lock()


def estate(database_url: str, sample_data: object, **owners: int) -> Database:
    """The sample estate, with owners bound to Telegram accounts (name → user id)."""
    db = Database(load_settings(database_url=database_url))
    with MIGRATING:
        db.upgrade()
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
        for name, user_id in owners.items():
            person = session.scalars(select(Person).where(Person.name == name)).one()
            session.add(ChatIdentity(platform="telegram", external_id=str(user_id), person=person))
    return db


def stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def test_a_reply_the_server_died_sending_is_sent_once_after_the_restart(
    db_url: str, tmp_path: Path, telegram: FakeTelegram, sample_data: object
) -> None:
    """kill -9 between the commit of the description and the photo question going out."""
    db = estate(db_url, sample_data, 张伟=9101)
    env = environment(
        db_url, tmp_path, WUYE_REPLY_LEASE_SECONDS="2", **telegram_environment(telegram)
    )
    first, url = wuye_serve(env, tmp_path)
    try:
        owner = TelegramUser(Served(url, db.settings, db, telegram), 9101, "张伟")
        owner.say("报修")
        owner.press("电梯")
        owner.press("1-1-502")
        telegram.hang.add("9101")
        update = {"update_id": next(_updates), "message": owner._message(text="电梯异响")}
        posting = threading.Thread(target=lambda: owner.served.post(update), daemon=True)
        posting.start()

        def asked_for_photos() -> bool:
            return any("照片" in str(c.params.get("text")) for c in telegram.calls if not c.ok)

        wait_until(asked_for_photos)  # committed, and the reply on its way
        first.kill()  # SIGKILL: nothing runs after this
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
    telegram.hang.clear()
    with db.transaction() as session:
        conversation = session.scalars(
            select(Conversation).where(Conversation.user_id == "9101")
        ).one()
        assert conversation.step == "photos"  # the step was committed before the send
        unsent = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.kind == "reply"
            )
        ).all()
        assert {row.in_reply_to for row in unsent} == {f"telegram:9101:u{update['update_id']}"}
        [question] = [row for row in unsent if "照片" in row.text]

    second, url = wuye_serve(env, tmp_path)
    try:
        # Telegram delivers the update again: its webhook never answered.
        Served(url, db.settings, db, telegram).post(update)

        def confirmed() -> bool:
            with db.transaction() as session:
                rows = [session.get(OutboxMessage, row.id) for row in unsent]
                return all(row is not None and row.status is OutboxStatus.SENT for row in rows)

        wait_until(confirmed)
        delivered = [text for text in telegram.texts(9101) if text == question.text]
        assert len(delivered) == 1  # once: by the redelivery or the dispatcher, not both
        assert telegram.with_button(9101, "跳过") is not None  # with its buttons
    finally:
        stop(second)
        db.dispose()


def hold_sqlite_write_lock(path: str, seconds: float) -> subprocess.Popen[str]:
    """Another process takes SQLite's write lock and keeps it: a backup, a stuck script."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            f"time.sleep({seconds})\n"
            "c.execute('ROLLBACK')\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "locked"
    return holder


def sqlite_locked(
    seconds: int,
    tmp_path: Path,
    telegram: FakeTelegram,
    wechat: FakeWechat,
    sample_data: object,
) -> None:
    """WeChat followers and a Telegram owner write while another process holds SQLite's
    write lock for ``seconds``: each is answered once after it lets go."""
    tmp_path.mkdir()
    user = 9200 + seconds
    path = str(tmp_path / "wuye.db")
    url = f"sqlite:///{path}"
    db = estate(url, sample_data, 张伟=user)
    env = environment(
        url,
        tmp_path,
        WUYE_SQLITE_BUSY_TIMEOUT_MS="2000",
        WUYE_WECHAT_TOKEN=WECHAT_TOKEN,
        WUYE_WECHAT_APP_ID=APP_ID,
        WUYE_WECHAT_APP_SECRET="app-secret",
        WUYE_WECHAT_AES_KEY=KEY,
        WUYE_WECHAT_API_BASE_URL=wechat.url,
        **telegram_environment(telegram),
    )
    server, base = wuye_serve(env, tmp_path)
    try:
        account = Account(base, db.settings, db, wechat)
        followers = [Follower(account, f"oLocked{seconds}-{n}") for n in range(3)]
        owner = TelegramUser(Served(base, db.settings, db, telegram), user, "张伟")
        holder = hold_sqlite_write_lock(path, seconds)
        try:
            responses: list[tuple[int, bool]] = []

            def say_hello(follower: Follower) -> None:
                message = follower._message("text", "<Content>你好</Content>")
                started = time.monotonic()
                status = follower.post(message).status_code
                responses.append((status, time.monotonic() - started < 5))

            talking = [threading.Thread(target=say_hello, args=(f,)) for f in followers]
            for thread in talking:
                thread.start()
            owner.say("我的工单")
            for thread in talking:
                thread.join()
            assert responses == [(200, True)] * 3  # "success", within WeChat's 5 seconds
            assert holder.poll() is None, "the lock was released before the messages came"
        finally:
            holder.wait()

        def answered() -> bool:
            return all(
                any("请先绑定身份" in t for t in wechat.texts(f.openid)) for f in followers
            ) and any("工单" in t for t in telegram.texts(user) if "繁忙" not in t)

        try:
            wait_until(answered, seconds=30)
        except AssertionError:
            print("WECHAT", [wechat.texts(f.openid) for f in followers])
            print("TELEGRAM", telegram.texts(user))
            print("INBOX", list((tmp_path / "inbox").rglob("*")))
            print((tmp_path / "serve.log").read_text())
            raise

        def replies_unsent() -> int:
            with db.transaction() as session:
                return (
                    session.scalar(
                        select(func.count(OutboxMessage.id)).where(
                            OutboxMessage.status == OutboxStatus.PENDING,
                            OutboxMessage.kind == "reply",
                        )
                    )
                    or 0
                )

        wait_until(lambda: replies_unsent() == 0)
        with db.transaction() as session:
            assert (session.scalar(select(func.count(SeenMessage.id))) or 0) >= 4
        for follower in followers:  # once: the greeting came one time only
            assert sum("请先绑定身份" in t for t in wechat.texts(follower.openid)) == 1
        assert not list((tmp_path / "inbox").glob("*/*.json"))  # nothing left waiting
    finally:
        stop(server)
        db.dispose()


class Cable:
    """A TCP proxy in front of PostgreSQL's socket that can be cut: the server "stopped"."""

    def __init__(self, unix_socket: str) -> None:
        self.target = unix_socket
        self.port = free_port()
        self.cut = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", self.port))
        self.listener.settimeout(0.1)
        self.connections: list[socket.socket] = []
        self.closed = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            if self.cut.is_set():
                client.close()  # refused, as by a stopped server
                continue
            server = socket.socket(socket.AF_UNIX)
            server.connect(self.target)
            self.connections += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        try:
            while not self.cut.is_set():
                ready, _, _ = selectors.select([a, b], [], [], 0.1)
                for side in ready:
                    data = side.recv(65536)
                    if not data:
                        return
                    (b if side is a else a).sendall(data)
        except OSError:
            return
        finally:
            a.close()
            b.close()

    def unplug(self) -> None:
        self.cut.set()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.connections.clear()

    def plug(self) -> None:
        self.cut.clear()

    def close(self) -> None:
        self.closed.set()
        self.unplug()
        self.listener.close()


def postgresql_stopped(
    postgres_database: Database,
    tmp_path: Path,
    telegram: FakeTelegram,
    sample_data: object,
) -> None:
    """Three owners keep writing while the connection to PostgreSQL is cut for 20 s:
    every message is answered once after it is back."""
    tmp_path.mkdir()
    assert POSTGRES_URL is not None
    _truncate(postgres_database)
    real = make_url(POSTGRES_URL)
    cable = Cable(f"{real.query.get('host', '/var/run/postgresql')}/.s.PGSQL.5432")
    through = real.set(host="127.0.0.1", port=cable.port, query={})
    url = through.render_as_string(hide_password=False)
    owners = {"张伟": 9301, "王芳": 9302, "李强": 9303}
    db = estate(POSTGRES_URL, sample_data, **owners)
    env = environment(
        url,
        tmp_path,
        WUYE_DATABASE_PING_AFTER_IDLE_SECONDS="0",
        # Two messages a second each is more than a person types: not a flood test here.
        WUYE_CHAT_MESSAGES_PER_SECOND="50",
    )
    server, base = wuye_serve({**env, **telegram_environment(telegram)}, tmp_path)
    served = Served(base, db.settings, db, telegram)
    users = [TelegramUser(served, user_id, name) for name, user_id in owners.items()]
    sent: list[str] = []

    def load(rounds: int) -> None:
        for _ in range(rounds):
            for user in users:
                update: dict[str, Any] = {
                    "update_id": next(_updates),
                    "message": user._message(text="我的工单"),
                }
                sent.append(str(update["message"]["message_id"]))
                assert served.post(update).status_code == 200

    try:
        load(2)
        cable.unplug()
        outage = threading.Event()
        timer = threading.Timer(20, outage.set)
        timer.start()
        while not outage.is_set():
            load(1)  # owners keep writing while the database is gone
            outage.wait(0.5)
        cable.plug()
        load(2)

        def all_taken() -> bool:
            with db.transaction() as session:
                seen = session.scalar(
                    select(func.count(SeenMessage.id)).where(SeenMessage.platform == "telegram")
                )
                unsent = session.scalar(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status == OutboxStatus.PENDING,
                        OutboxMessage.kind == "reply",
                    )
                )
            return seen == len(sent) and unsent == 0

        wait_until(all_taken, seconds=90)
        with db.transaction() as session:
            replies = (
                session.scalar(
                    select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "reply")
                )
                or 0
            )
        answers = [
            c
            for c in telegram.calls
            if c.method == "sendMessage"
            and c.ok
            and int(c.params["chat_id"]) in owners.values()
            and "繁忙" not in str(c.params["text"])
        ]
        assert len(answers) == replies  # each reply delivered once, none twice
        assert replies >= len(sent)  # every message answered
    finally:
        stop(server)
        cable.close()
        db.dispose()


def test_sqlite_locked_for_8_and_for_60_seconds_and_postgresql_stopped_for_20_lose_nothing(
    postgres_database: Database,
    tmp_path: Path,
    telegram: FakeTelegram,
    wechat: FakeWechat,
    sample_data: object,
) -> None:
    """The three outages at once, each on its own `wuye serve`: the suite waits for the
    longest, not for all three in turn."""
    with ThreadPoolExecutor(3) as outages:
        running = [
            outages.submit(sqlite_locked, 8, tmp_path / "locked-8", telegram, wechat, sample_data),
            outages.submit(
                sqlite_locked, 60, tmp_path / "locked-60", telegram, wechat, sample_data
            ),
            outages.submit(
                postgresql_stopped, postgres_database, tmp_path / "stopped", telegram, sample_data
            ),
        ]
        for outage in running:
            outage.result()
