"""WeChat's real wire format: signed (and AES-encrypted) XML posted into `wuye serve`,
its API calls going to a fake WeChat server."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import xmltodict
from sqlalchemy import func, select, text, update
from wechatpy.crypto import WeChatCrypto

from bot import invites
from bot.web import Wuye, create_app
from storage.announcement import service as announcements
from storage.announcement.models import AnnouncementKind
from storage.callback import service as callbacks
from storage.chat.models import ChatWindow, SeenMessage
from storage.clock import utcnow
from storage.config import Settings, load_settings
from storage.database import Database
from storage.estate import importer
from storage.identity import service as identity
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.people.models import Person
from storage.ticket import lifecycle, repairs
from storage.ticket.models import Ticket
from tests.bot.fake_wechat import FakeWechat
from tests.bot.work import TECHNICIAN, contents, leak_dispatched, owners_photos
from tests.conftest import answer_notice
from tests.pictures import gps_of, jpeg, phone_exif, png
from tests.servers import serving

TOKEN = "wuyeToken2026"
APP_ID = "wx1234567890abcdef"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_KEY = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg"
_ids = itertools.count(5_000_000_001)


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324


@dataclass
class Account:
    url: str
    settings: Settings
    db: Database
    fake: FakeWechat

    def dispatch(self) -> int:
        """Send what the outbox holds, as a second worker process would."""
        worker = Wuye.from_settings(self.settings)
        try:
            return asyncio.run(worker.dispatcher.run_once())
        finally:
            worker.db.dispose()


@pytest.fixture
def fake() -> Iterator[FakeWechat]:
    wechat = FakeWechat()
    with serving(wechat.app()) as url:
        wechat.url = url
        yield wechat


@pytest.fixture
def account(
    db_url: str, tmp_path: Path, fake: FakeWechat, sample_data: object
) -> Callable[..., AbstractContextManager[Account]]:
    @contextmanager
    def start(dispatch: bool = True, **overrides: Any) -> Iterator[Account]:
        options: dict[str, Any] = {
            "database_url": db_url,
            "wechat_token": TOKEN,
            "wechat_app_id": APP_ID,
            "wechat_app_secret": "app-secret",
            "wechat_aes_key": KEY,
            "wechat_api_base_url": fake.url,
            "wechat_template_notice": "TEMPLATE-NOTICE",
            "wechat_reply_budget_seconds": 1.5,
            "attachments_dir": tmp_path / "attachments",
            "inbox_dir": tmp_path / "inbox",
            "chat_messages_per_second": 100,
        } | overrides
        settings = load_settings(**options)
        db = Database(settings)
        db.upgrade()
        with db.transaction() as session:
            if session.scalar(select(func.count(Person.id))) == 0:
                importer.import_estate(session=session, data=sample_data)
        with serving(create_app(Wuye.from_settings(settings), dispatch=dispatch)) as url:
            yield Account(url, settings, db, fake)
        db.dispose()

    return start


@dataclass
class Follower:
    account: Account
    openid: str
    encrypt_with: str | None = KEY  # None: plain mode

    def post(
        self,
        inner: str,
        *,
        nonce: str | None = None,
        timestamp: str | None = None,
        forged: bool = False,
    ) -> httpx.Response:
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or secrets.token_hex(8)
        params = {
            "timestamp": timestamp,
            "nonce": nonce,
            "openid": self.openid,
            "signature": sign(TOKEN, timestamp, nonce),
        }
        body = inner
        if self.encrypt_with is not None:
            envelope = xmltodict.parse(
                WeChatCrypto(TOKEN, self.encrypt_with, APP_ID).encrypt_message(
                    inner, nonce, timestamp
                )
            )["xml"]
            params |= {"encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
            body = (
                f"<xml><ToUserName><![CDATA[gh_wuye]]></ToUserName>"
                f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
            )
        if forged:
            params["signature"] = sign("not-the-token", timestamp, nonce)
        return httpx.post(
            f"{self.account.url}/wechat", params=params, content=body.encode(), timeout=30
        )

    def reply(self, response: httpx.Response) -> str:
        assert response.status_code == 200, response.text
        if response.text == "success":
            return ""
        xml = xmltodict.parse(response.text)["xml"]
        if "Encrypt" in xml:
            crypto = WeChatCrypto(TOKEN, KEY, APP_ID)
            inner = crypto.decrypt_message(
                response.text, xml["MsgSignature"], str(xml["TimeStamp"]), xml["Nonce"]
            )
            xml = xmltodict.parse(inner)["xml"]
        return str(xml["Content"])

    def _message(self, kind: str, fields: str, msg_id: int | None = None) -> str:
        return (
            f"<xml><ToUserName><![CDATA[gh_wuye]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{kind}]]></MsgType>{fields}"
            f"<MsgId>{msg_id or next(_ids)}</MsgId></xml>"
        )

    def say(self, content: str, msg_id: int | None = None) -> str:
        return self.reply(
            self.post(self._message("text", f"<Content><![CDATA[{content}]]></Content>", msg_id))
        )

    def image(self, media_id: str) -> str:
        return self.reply(
            self.post(
                self._message(
                    "image",
                    f"<PicUrl><![CDATA[http://mmbiz/{media_id}]]></PicUrl>"
                    f"<MediaId><![CDATA[{media_id}]]></MediaId>",
                )
            )
        )

    def voice(self, media_id: str, recognition: str) -> str:
        return self.reply(
            self.post(
                self._message(
                    "voice",
                    f"<MediaId><![CDATA[{media_id}]]></MediaId><Format><![CDATA[amr]]></Format>"
                    f"<Recognition><![CDATA[{recognition}]]></Recognition>",
                )
            )
        )

    def event(self, event: str, key: str = "") -> str:
        inner = (
            f"<xml><ToUserName><![CDATA[gh_wuye]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{next(_ids)}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>"
        )
        return self.reply(self.post(inner))


def bind_owner(follower: Follower) -> None:
    assert "请先绑定身份" in follower.event("subscribe")
    follower.say("2")  # 房号 + 预留手机号
    follower.say("1-1-502")
    assert "绑定成功，张伟" in follower.say("13800138001")


def wait_for(event: threading.Event, timeout: float = 15) -> None:
    assert event.wait(timeout), "nothing arrived at the fake WeChat API"
    event.clear()


def wait_until(fake: FakeWechat, openid: str, words: str, timeout: float = 15) -> None:
    """Until a message holding ``words`` reached the follower: others may come first (the
    owner hears of the dispatch before the repair is done)."""
    deadline = time.monotonic() + timeout
    while not any(words in text for text in fake.texts(openid)):
        assert fake.arrived.wait(max(0.0, deadline - time.monotonic())), f"no {words!r}"
        fake.arrived.clear()


def test_the_url_is_verified_only_with_the_right_signature(
    account: Callable[..., AbstractContextManager[Account]],
) -> None:
    with account() as acc:
        stamp, nonce = str(int(time.time())), "n1"
        good = {
            "signature": sign(TOKEN, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
            "echostr": "echo-123",
        }
        assert httpx.get(f"{acc.url}/wechat", params=good).text == "echo-123"
        bad = good | {"signature": sign("guess", stamp, nonce)}
        assert httpx.get(f"{acc.url}/wechat", params=bad).status_code == 403


def test_forged_stale_and_replayed_requests_are_refused_and_nothing_is_stored(
    account: Callable[..., AbstractContextManager[Account]],
) -> None:
    with account() as acc:
        owner = Follower(acc, "oForger")
        inner = owner._message("text", "<Content><![CDATA[报修]]></Content>")
        assert owner.post(inner, forged=True).status_code == 403
        stale = str(int(time.time()) - 3600)
        assert owner.post(inner, timestamp=stale).status_code == 403
        with acc.db.transaction() as session:
            assert session.scalar(select(func.count(SeenMessage.id))) == 0
        stamp = str(int(time.time()))
        assert owner.post(inner, nonce="once", timestamp=stamp).status_code == 200
        # The very same signed request again, e.g. captured and replayed by someone else.
        assert owner.post(inner, nonce="once", timestamp=stamp).status_code == 403


def test_an_owner_reports_a_leak_by_voice_with_a_photo_and_hears_back_the_right_way(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    fake.media["voice-1"] = (b"#!AMR voice", "audio/amr")
    photo = jpeg()
    fake.media["photo-1"] = (photo, "image/jpeg")
    with account(wechat_mode="safe") as acc:
        owner = Follower(acc, "oOwner1")
        bind_owner(owner)
        offer = owner.voice("voice-1", "卫生间天花板漏水了")
        assert "要用它报修吗" in offer
        assert "1. 是" in offer
        assert "（回复 1-2）" in offer
        owner.say("1")  # 是
        owner.say("5")  # 房屋渗漏水
        owner.say("1")  # 1-1-502
        assert "已收到 1 张照片" in owner.image("photo-1")
        owner.say("完成")
        owner.say("跳过")
        assert "报修成功，单号 BX000001" in owner.say("1")
        with acc.db.transaction() as session:
            ticket = session.get(Ticket, 1)
            assert ticket is not None
            assert ticket.description == "卫生间天花板漏水了"
            kept = sorted(Path(a.ref).read_bytes() for a in ticket.attachments)
            assert kept == sorted([b"#!AMR voice", photo])
            desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
            tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
            repairs.dispatch_repair(session=session, ticket_id=1, actor=desk)
            lifecycle.accept(session=session, ticket_id=1, actor=tech)
            repairs.finish_repair(session=session, ticket_id=1, actor=tech, note="更换防水层")
        # Within 48 hours of the owner's last message: customer service.
        wait_until(fake, "oOwner1", "您的报修 BX000001 已完工")

        with acc.db.transaction() as session:  # three silent days later, the callback is due
            session.execute(update(ChatWindow).values(last_inbound_at=utcnow() - timedelta(days=3)))
            callback = callbacks.pending_for_ticket(session=session, ticket_id=1)
            assert callback is not None
            callbacks.ask_owner(session=session, callback_id=callback.id)
            callbacks.ask_owner(session=session, callback_id=callback.id)  # asked once only
        wait_for(fake.arrived)
        [asked] = fake.texts("oOwner1", kind="template")
        assert "您对维修满意吗" in asked
        assert "BX000001" in asked


def test_the_same_msgid_posted_three_times_makes_one_ticket(
    account: Callable[..., AbstractContextManager[Account]],
) -> None:
    with account() as acc:
        owner = Follower(acc, "oOwner2")
        bind_owner(owner)
        owner.say("报修")
        owner.say("1")
        owner.say("1")
        owner.say("电梯不动了")
        owner.say("跳过")
        owner.say("跳过")
        answers = [owner.say("1", msg_id=777_777) for _ in range(3)]  # WeChat's retries
        assert "报修成功" in answers[0]
        assert answers[1:] == ["", ""]
        with acc.db.transaction() as session:
            assert session.scalar(select(func.count(Ticket.id))) == 1


def test_a_message_encrypted_with_the_previous_key_still_opens_after_a_rotation(
    account: Callable[..., AbstractContextManager[Account]],
) -> None:
    with account(wechat_previous_aes_key=OLD_KEY) as acc:
        assert "请先绑定身份" in Follower(acc, "oOld", encrypt_with=OLD_KEY).say("你好")
    with account(wechat_aes_key=OLD_KEY) as acc:  # and without the key, it does not
        assert (
            Follower(acc, "oNew", encrypt_with=KEY)
            .post(Follower(acc, "oNew")._message("text", "<Content>x</Content>"))
            .status_code
            == 403
        )


def test_safe_mode_refuses_plain_messages_and_plain_mode_answers_plainly(
    account: Callable[..., AbstractContextManager[Account]],
) -> None:
    with account(wechat_mode="safe") as acc:
        plain = Follower(acc, "oPlain", encrypt_with=None)
        assert plain.post(plain._message("text", "<Content>你好</Content>")).status_code == 403
    with account(wechat_aes_key=None) as acc:
        plain = Follower(acc, "oPlain2", encrypt_with=None)
        response = plain.post(plain._message("text", "<Content>你好</Content>"))
        assert "<Encrypt>" not in response.text
        assert "请先绑定身份" in plain.reply(response)


def test_a_slow_database_still_gets_a_reply_in_time_and_the_answer_follows(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account() as acc:
        owner = Follower(acc, "oSlow")
        lock = acc.db.engine.connect()
        lock.begin()  # on SQLite, BEGIN IMMEDIATE: every writer waits behind this
        if acc.db.engine.dialect.name == "postgresql":
            lock.execute(text("LOCK TABLE seen_message IN EXCLUSIVE MODE"))
        started = time.monotonic()
        answer = owner.say("你好")
        elapsed = time.monotonic() - started
        lock.rollback()
        lock.close()
        assert answer == ""  # "success": WeChat is answered, and will not retry
        assert elapsed < 5
        wait_for(fake.arrived)  # the greeting, as a customer-service message
        assert any("请先绑定身份" in t for t in fake.texts("oSlow"))


def test_an_expired_token_is_fetched_again_and_shared(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account() as acc:
        owner = Follower(acc, "oToken")
        bind_owner(owner)
        from storage.outbox import service as outbox

        def notify(number: str) -> None:
            with acc.db.transaction() as session:
                person = session.scalars(select(Person).where(Person.name == "张伟")).one()
                outbox.notify(
                    session=session,
                    recipient=person,
                    notice=answer_notice(number),
                )
            wait_for(fake.arrived)
            assert any(number in t for t in fake.texts("oToken"))

        notify("TS000009")  # the first notice fetches a token, kept in the database
        assert fake.tokens_issued == 1
        notify("TS000010")  # the next one uses the shared token
        assert fake.tokens_issued == 1
        fake.revoke_tokens()  # WeChat invalidated it: 40001 on the next call
        notify("TS000011")
        assert fake.tokens_issued == 2


def test_a_follower_who_refuses_notices_is_marked_undeliverable(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    fake.silent.add("oQuiet")  # WeChat says 45015: outside the 48 hours
    fake.refusing.add("oQuiet")  # and the template is refused (43101)
    with account(dispatch=False) as acc:
        bind_owner(Follower(acc, "oQuiet"))
        with acc.db.transaction() as session:
            person = session.scalars(select(Person).where(Person.name == "张伟")).one()
            from storage.outbox import service as outbox

            outbox.notify(
                session=session,
                recipient=person,
                notice=answer_notice("TS000010"),
            )
        assert acc.dispatch() == 0
        with acc.db.transaction() as session:
            notice = session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind != "reply")
            ).one()
            assert notice.status is OutboxStatus.FAILED
            assert notice.last_error is not None
            assert "43101" in notice.last_error
        assert acc.dispatch() == 0  # given up for good: not tried again
        assert [s.kind for s in fake.sent] == []


def test_the_custom_menu_and_its_clicks(
    account: Callable[..., AbstractContextManager[Account]],
    fake: FakeWechat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    with account() as acc:
        for name, value in (
            ("DATABASE_URL", acc.settings.database_url),
            ("WECHAT_TOKEN", TOKEN),
            ("WECHAT_APP_ID", APP_ID),
            ("WECHAT_APP_SECRET", "app-secret"),
            ("WECHAT_API_BASE_URL", fake.url),
        ):
            monkeypatch.setenv(f"WUYE_{name}", value)
        result = CliRunner().invoke(app, ["wechat", "menu"])
        assert result.exit_code == 0, result.output
        [menu] = [s.body for s in fake.sent if s.kind == "menu"]
        # The flows that are commands, then help and cancel: two in the bar, the rest under 更多.
        repair, complaint, more = menu["button"]
        assert (repair["name"], repair["key"]) == ("报修", "/repair")
        assert (complaint["name"], complaint["key"]) == ("投诉", "/complaint")
        assert more["name"] == "更多"
        assert [(b["name"], b["key"]) for b in more["sub_button"]] == [
            ("我的工单", "/mine"),
            ("回访评价", "/callback"),
            ("语言", "/language"),
            ("帮助", "/help"),
            ("取消", "/cancel"),
        ]
        owner = Follower(acc, "oMenu")
        bind_owner(owner)
        assert "请选择报修类别" in owner.event("CLICK", "/repair")
        assert "已取消「报修」" in owner.event("CLICK", "/cancel")
        assert "您还没有工单" in owner.event("CLICK", "/mine")
        english = CliRunner().invoke(app, ["wechat", "menu", "--language", "en"])
        assert english.exit_code == 0, english.output
        assert "Repair / Complaint / More (My tickets" in english.output


def test_staff_linked_to_wecom_get_their_notices_there(
    account: Callable[..., AbstractContextManager[Account]],
    fake: FakeWechat,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from typer.testing import CliRunner

    from bot.cli import app

    with account(
        dispatch=False,
        wecom_corp_id="ww-corp",
        wecom_secret="corp-secret",
        wecom_agent_id=1000002,
        wecom_api_base_url=fake.url,
    ) as acc:
        monkeypatch.setenv("WUYE_DATABASE_URL", acc.settings.database_url)
        linked = CliRunner().invoke(
            app, ["wecom", "link", "--estate", "cuihu", "--staff", "G01", "--userid", "zhou.shifu"]
        )
        assert linked.exit_code == 0, linked.output
        owner = Follower(acc, "oOwnerW")
        bind_owner(owner)
        owner.say("报修")
        owner.say("1")
        owner.say("1")
        owner.say("电梯不动了")
        owner.say("跳过")
        owner.say("跳过")
        owner.say("1")
        with acc.db.transaction() as session:
            desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
            from storage.people.models import StaffMember

            tech = session.scalars(select(StaffMember).where(StaffMember.staff_code == "G01")).one()
            repairs.dispatch_repair(session=session, ticket_id=1, actor=desk, assignee_id=tech.id)
        assert acc.dispatch() == 2  # the technician's work, and the owner told who comes
        [sent] = [s.body for s in fake.sent if s.kind == "wecom"]
        assert sent["touser"] == "zhou.shifu"
        assert sent["agentid"] == 1000002
        assert "【新维修单】BX000001" in sent["text"]["content"]


def test_a_location_message_gives_a_public_place_and_my_tickets_lists_it(
    account: Callable[..., AbstractContextManager[Account]],
) -> None:
    with account() as acc:
        owner = Follower(acc, "oWhere")
        bind_owner(owner)
        owner.say("报修")
        owner.say("7")  # 电路/照明
        assert "公共区域" in owner.say("2")
        where = owner._message(
            "location",
            "<Location_X>31.2304</Location_X>"
            "<Location_Y>121.4737</Location_Y><Scale>15</Scale>"
            "<Label><![CDATA[翠湖花园北门]]></Label>",
        )
        assert "请描述问题" in owner.reply(owner.post(where))
        owner.say("路灯不亮")
        owner.say("跳过")
        owner.say("跳过")
        owner.say("1")
        listing = owner.say("我的工单")
        assert "BX000001 翠湖花园北门 (31.23040,121.47370) 电路/照明 · 待处理" in listing


def test_the_clocks_notices_reach_wechat_exactly_once(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    import time_machine

    from scheduler.clock import Clock
    from tests.conftest import local

    with account(dispatch=False) as acc:
        owner = Follower(acc, "oClock")
        bind_owner(owner)
        with (
            time_machine.travel(local(2026, 11, 23, 9, 0), tick=False),
            acc.db.transaction() as session,
        ):
            desk = session.scalars(select(Person).where(Person.name == "陈静")).one()
            tech = session.scalars(select(Person).where(Person.name == "周师傅")).one()
            owner_person = session.scalars(select(Person).where(Person.name == "张伟")).one()
            from storage.estate import service as estates
            from storage.ticket.models import RepairCategory

            unit = estates.find_unit(session=session, estate_id=1, designation="1-1-502")
            ticket = repairs.report_repair(
                session=session,
                actor=owner_person,
                unit_id=unit.id,
                category=RepairCategory.WATER_LEAK,
                description="漏水",
            )
            repairs.dispatch_repair(session=session, ticket_id=ticket.id, actor=desk)
            lifecycle.accept(session=session, ticket_id=ticket.id, actor=tech)
            repairs.finish_repair(session=session, ticket_id=ticket.id, actor=tech, note="好了")
        acc.dispatch()  # "done" goes out now, inside the 48 hours
        clock = Clock(acc.db)
        try:
            for _ in range(2):  # Thursday morning, twice: a restart must not ask twice
                clock.tick(local(2026, 11, 26, 9, 0))
                acc.dispatch()
        finally:
            clock.stop()
        asked = [
            t
            for kind in ("custom", "template")
            for t in fake.texts("oClock", kind)
            if "您对维修满意吗" in t
        ]
        assert len(asked) == 1


def test_a_monthly_report_reaches_a_follower_with_its_chart(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat, tmp_path: Path
) -> None:
    with account(dispatch=False) as acc:
        owner = Follower(acc, "oChart")
        bind_owner(owner)
        chart = tmp_path / "pareto.png"
        chart.write_bytes(b"\x89PNG\r\n\x1a\n chart")
        with acc.db.transaction() as session:
            person = session.scalars(select(Person).where(Person.name == "张伟")).one()
            from storage.outbox import service as outbox

            outbox.notify_text(
                session=session,
                recipient=person,
                kind="monthly_report",
                text="【月度报告】翠湖花园 2026-11",
                params={"image": str(chart)},
            )
        assert acc.dispatch() == 1
        assert fake.texts("oChart")[-2:] == ["[image uploaded-1]", "【月度报告】翠湖花园 2026-11"]
        assert fake.media["uploaded-1"][0].count(b"chart") == 1


def at_the_photo_step(owner: Follower) -> None:
    """The owner 张伟, reporting a leak, asked for its photos."""
    bind_owner(owner)
    owner.say("报修")
    owner.say("5")  # 房屋渗漏水
    owner.say("1")  # 1-1-502
    assert "请发送照片" in owner.say("卫生间天花板渗水")


def test_a_wechat_image_that_is_really_text_is_refused_and_the_step_asks_again(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    fake.media["note"] = (b"not a photo at all, just words\n", "image/jpeg")
    with account() as acc:
        owner = Follower(acc, "oOwnerText")
        at_the_photo_step(owner)
        answer = owner.image("note")
        assert answer.startswith("这个文件不是照片，没有收下。请发 JPG 或 PNG 照片。")
        assert "这里需要照片：请发送照片，或点「完成」继续" in answer
        assert not (Path(acc.settings.attachments_dir) / "wechat").exists()
        owner.say("完成")
        owner.say("跳过")
        assert "报修成功" in owner.say("1")
        with acc.db.transaction() as session:
            ticket = session.get(Ticket, 1)
            assert ticket is not None
            assert ticket.attachments == []  # not even WeChat's link to the refused file


def test_a_wechat_original_photo_is_kept_under_its_hash_without_its_gps_position(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    # 原图: WeChat passes the phone's EXIF on; the media id is WeChat's string.
    fake.media["../../原图"] = (jpeg(phone_exif()), "image/jpeg")
    with account() as acc:
        owner = Follower(acc, "oOwnerGps")
        at_the_photo_step(owner)
        assert "已收到 1 张照片" in owner.image("../../原图")
        [kept] = (Path(acc.settings.attachments_dir) / "wechat").iterdir()
        assert kept.name == f"{hashlib.sha256(kept.read_bytes()).hexdigest()}.jpg"
        assert gps_of(kept.read_bytes()) == {}


# ------------------------------------------------------------ photos go with the work


def bind_staff(follower: Follower, name: str) -> None:
    """A staff member follows the account and binds with the code the desk gave."""
    with follower.account.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        code = identity.create_invite(session=session, person=person, estate_id=1)
    assert "请先绑定身份" in follower.event("subscribe")
    follower.say("1")  # 使用绑定码
    assert f"绑定成功，{name}" in follower.say(code)


def the_notice(db: Database) -> OutboxMessage:
    with db.transaction() as session:
        return session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "repair_dispatched")
        ).one()


def test_the_owners_two_photos_reach_the_technician_as_two_image_messages_then_the_notice(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(dispatch=False) as acc:
        photos = owners_photos(acc.settings, "wechat", jpeg(phone_exif()), png())
        bind_staff(Follower(acc, "oTech"), TECHNICIAN)
        leak_dispatched(acc.db, photos)
        acc.dispatch()
        image_1, image_2, text = fake.texts("oTech")
        assert (image_1, image_2) == ("[image uploaded-1]", "[image uploaded-2]")
        assert text.startswith("【新维修单】BX000001")
        assert "1. 接单" in text  # the button, as WeChat shows one
        assert fake.pictures("oTech") == contents(photos)
        assert [(u.by, u.kind) for u in fake.uploads] == [("wechat", "image")] * 2
        with acc.db.transaction() as session:  # three customer-service messages counted
            window = session.scalars(select(ChatWindow)).one()
            assert window.sent_since_inbound == 3


def test_a_photo_wechat_still_holds_goes_by_its_media_id_without_an_upload(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    fake.media["owner-photo"] = (jpeg(), "image/jpeg")  # sent by the owner, not downloaded
    with account(dispatch=False) as acc:
        bind_staff(Follower(acc, "oTech"), TECHNICIAN)
        leak_dispatched(acc.db, ["wechat:owner-photo"])
        acc.dispatch()
        assert fake.texts("oTech")[0] == "[image owner-photo]"
        assert fake.texts("oTech")[1].startswith("【新维修单】BX000001")
        assert fake.uploads == []


def test_a_photo_gone_from_disk_or_from_wechat_is_left_out_and_the_notice_still_arrives(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(dispatch=False) as acc:
        [gone] = owners_photos(acc.settings, "wechat", jpeg())
        Path(gone).unlink()
        bind_staff(Follower(acc, "oTech"), TECHNICIAN)
        leak_dispatched(acc.db, [gone, "wechat:past-its-3-days"])  # WeChat says 40007
        acc.dispatch()
        [text] = fake.texts("oTech")
        assert text.startswith("【新维修单】BX000001")
        assert fake.uploads == []
        assert the_notice(acc.db).status is OutboxStatus.SENT


def test_outside_the_48_hours_the_template_carries_the_text_without_the_photos(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(dispatch=False) as acc:
        photos = owners_photos(acc.settings, "wechat", jpeg(), png())
        bind_staff(Follower(acc, "oTech"), TECHNICIAN)
        with acc.db.transaction() as session:
            session.execute(update(ChatWindow).values(last_inbound_at=utcnow() - timedelta(days=3)))
        leak_dispatched(acc.db, photos)
        acc.dispatch()
        assert fake.texts("oTech") == []
        [template] = fake.texts("oTech", kind="template")
        assert template.startswith("【新维修单】BX000001")
        assert fake.uploads == []  # nothing uploaded that could not go
        assert the_notice(acc.db).status is OutboxStatus.SENT


def test_when_wechat_says_the_window_closed_at_a_photo_the_template_carries_the_text(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(dispatch=False) as acc:
        photos = owners_photos(acc.settings, "wechat", jpeg(), png())
        bind_staff(Follower(acc, "oTech"), TECHNICIAN)
        fake.silent.add("oTech")  # 45015, though the window we keep says it is open
        leak_dispatched(acc.db, photos)
        acc.dispatch()
        [template] = fake.texts("oTech", kind="template")
        assert template.startswith("【新维修单】BX000001")
        assert the_notice(acc.db).status is OutboxStatus.SENT


def test_a_nearly_full_window_sends_what_photos_fit_and_keeps_room_for_the_text(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(dispatch=False) as acc:
        photos = owners_photos(acc.settings, "wechat", jpeg(), png())
        bind_staff(Follower(acc, "oTech"), TECHNICIAN)
        with acc.db.transaction() as session:  # three of the five already sent
            session.execute(update(ChatWindow).values(sent_since_inbound=3))
        leak_dispatched(acc.db, photos)
        acc.dispatch()
        image, text = fake.texts("oTech")
        assert image == "[image uploaded-1]"
        assert text.startswith("【新维修单】BX000001")
        assert fake.pictures("oTech") == contents(photos[:1])


def test_on_wecom_the_owners_two_photos_come_as_two_image_messages_then_the_notice(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(
        dispatch=False,
        wecom_corp_id="ww-corp",
        wecom_secret="corp-secret",
        wecom_agent_id=1000002,
        wecom_api_base_url=fake.url,
    ) as acc:
        photos = owners_photos(acc.settings, "wechat", jpeg(phone_exif()), png())
        gone = owners_photos(acc.settings, "wechat", jpeg(size=(16, 8)))
        Path(gone[0]).unlink()
        with acc.db.transaction() as session:
            person = session.scalars(select(Person).where(Person.name == TECHNICIAN)).one()
            identity.link_account(
                session=session, person=person, platform="wecom", external_id="zhou.shifu"
            )
        # WeChat's media id means nothing to the corp, and one file is gone: both left out.
        leak_dispatched(acc.db, [*photos, "wechat:owner-photo", *gone])
        acc.dispatch()
        image_1, image_2, text = fake.texts("zhou.shifu", kind="wecom")
        assert (image_1, image_2) == ("[image uploaded-1]", "[image uploaded-2]")
        assert text.startswith("【新维修单】BX000001")
        assert fake.pictures("zhou.shifu", kind="wecom") == contents(photos)
        assert [(u.by, u.kind) for u in fake.uploads] == [("wecom", "image")] * 2
        agents = {s.body["agentid"] for s in fake.sent if s.kind == "wecom"}
        assert agents == {1000002}
        assert the_notice(acc.db).status is OutboxStatus.SENT


# ---------------------------------------------------------------- residents and notices


def a_code(db: Database, name: str) -> str:
    with db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        return identity.create_invite(session=session, person=person, estate_id=1)


def test_the_binding_qr_code_is_wechats_and_scanning_it_binds_at_once(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat, tmp_path: Path
) -> None:
    with account() as acc:
        code = a_code(acc.db, "张伟")
        found = invites.scannable(acc.settings, acc.db, code, valid_days=7)
        assert found.wechat == f"http://weixin.qq.com/q/{code}"
        [asked] = [s.body for s in fake.sent if s.kind == "qrcode"]
        assert asked["action_name"] == "QR_STR_SCENE"
        assert asked["expire_seconds"] == 7 * 24 * 3600
        [png_file] = invites.qr_files(found, tmp_path / "qr.png")
        assert png_file.read_bytes().startswith(b"\x89PNG")

        # A follower who already follows scans it: a SCAN event with the code as its key.
        follower = Follower(acc, "oZhangScan")
        assert "绑定成功，张伟" in follower.event("SCAN", key=code)
        # A first follow from the QR code: subscribe, its key qrscene_<code>.
        newcomer = Follower(acc, "oZhaoScan")
        assert "绑定成功，赵敏" in newcomer.event(
            "subscribe", key=f"qrscene_{a_code(acc.db, '赵敏')}"
        )
        # Scanning a used code's poster again answers with the menu, once bound.
        assert "绑定码无效" not in follower.event("SCAN", key=code)


def test_a_notice_reaches_a_follower_outside_the_48_hours_as_a_template(
    account: Callable[..., AbstractContextManager[Account]], fake: FakeWechat
) -> None:
    with account(dispatch=False) as acc:
        inside, outside = Follower(acc, "oLi"), Follower(acc, "oZhao")
        assert "绑定成功" in inside.event("SCAN", key=a_code(acc.db, "李强"))
        assert "绑定成功" in outside.event("SCAN", key=a_code(acc.db, "赵敏"))
        with acc.db.transaction() as session:
            session.execute(
                update(ChatWindow)
                .where(ChatWindow.chat_id == "oZhao")
                .values(last_inbound_at=utcnow() - timedelta(days=3))
            )
            announcements.create(
                session=session,
                estate_id=1,
                kind=AnnouncementKind.GENERAL,
                title="电梯保养",
                text="3栋电梯今天 14:00-16:00 保养。",
                audience=announcements.Audience(buildings=("3",)),
                actor=None,
                by="测试",
                emergency=True,  # at once, whatever the hour the suite runs at
            )
        acc.dispatch()
        assert any(t.startswith("【紧急通知】电梯保养") for t in fake.texts("oLi"))
        assert not any("电梯保养" in t for t in fake.texts("oZhao"))
        [template] = fake.texts("oZhao", kind="template")
        assert template.startswith("【紧急通知】电梯保养")
        # 收到 typed on WeChat (its numbered menu has no button) counts the same.
        assert "已确认收到「电梯保养」" in inside.say("收到")
