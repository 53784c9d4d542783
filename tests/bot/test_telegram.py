"""Telegram's real wire format into `wuye serve` over HTTP; its calls out to a fake Bot API."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from bot.telegram.channel import TelegramChannel, make_bot
from bot.telegram.wire import split_text
from bot.web import Wuye, create_app
from storage.announcement import service as announcements
from storage.announcement.models import AnnouncementKind
from storage.attachment.files import MB
from storage.chat.models import SeenMessage
from storage.clock import utcnow
from storage.config import Settings, load_settings
from storage.database import Database
from storage.estate import importer
from storage.estate import service as estates
from storage.identity import service as identity
from storage.identity.models import InviteCode
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.people import roster
from storage.people.models import Person, ResidentRelation
from storage.ticket.models import Ticket, TicketStatus
from tests.bot.fake_telegram import BOT, FakeTelegram
from tests.bot.work import TECHNICIAN, contents, leak_dispatched, owners_photos
from tests.conftest import answer_notice
from tests.pictures import gps_of, jpeg, phone_exif, png
from tests.servers import serving

TOKEN = "123456:TEST-token"
SECRET = "webhook-secret_42"
METRICS_TOKEN = "metrics-token-of-the-tests"
_updates = itertools.count(1)
_messages = itertools.count(1)


@dataclass
class Served:
    url: str
    settings: Settings
    db: Database
    fake: FakeTelegram

    def post(self, update: dict[str, Any], secret: str = SECRET) -> httpx.Response:
        """Deliver an Update as Telegram does, and make the call the response asks for."""
        response = httpx.post(
            f"{self.url}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
            timeout=30,
        )
        if response.status_code == 200 and response.content:
            call = dict(response.json())
            method = call.pop("method")
            httpx.post(f"{self.fake.url}/bot{TOKEN}/{method}", json=call, timeout=30)
        return response

    def dispatch(self) -> int:
        """Send what the outbox holds, as a second worker process would."""

        async def once() -> int:
            worker = Wuye.from_settings(self.settings)
            telegram = worker.channel(TelegramChannel)
            assert telegram is not None
            await telegram.bot.initialize()
            try:
                return await worker.dispatcher.run_once()
            finally:
                await telegram.bot.shutdown()
                worker.db.dispose()

        return asyncio.run(once())


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    telegram = FakeTelegram()
    with serving(telegram.app()) as url:
        telegram.url = url
        yield telegram


@pytest.fixture
def served(
    db_url: str, tmp_path: Path, fake: FakeTelegram, sample_data: object
) -> Iterator[Served]:
    settings = load_settings(
        database_url=db_url,
        telegram_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=fake.url,
        public_url="https://wuye.example.com",
        # With a public address /metrics is served only behind its token (or nowhere).
        metrics_token=METRICS_TOKEN,
        attachments_dir=tmp_path / "attachments",
        inbox_dir=tmp_path / "inbox",
        # Pacing has its own test; the stories here would otherwise wait a second a reply,
        # and type faster than a person (a flood: tests/bot/test_inbox.py).
        telegram_chat_messages_per_second=100,
        chat_messages_per_second=100,
    )
    db = Database(settings)
    db.upgrade()
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)
    with serving(create_app(Wuye.from_settings(settings), dispatch=False)) as url:
        yield Served(url, settings, db, fake)
    db.dispose()


@dataclass
class TelegramUser:
    served: Served
    user_id: int
    name: str
    language: str = "zh-hans"
    chat_type: str = "private"
    chat_id: int | None = None
    last_response: httpx.Response = field(init=False)

    @property
    def chat(self) -> dict[str, Any]:
        chat_id = self.chat_id or self.user_id
        return {"id": chat_id, "type": self.chat_type, "first_name": self.name}

    @property
    def sender(self) -> dict[str, Any]:
        return {
            "id": self.user_id,
            "is_bot": False,
            "first_name": self.name,
            "language_code": self.language,
        }

    def _message(self, **content: Any) -> dict[str, Any]:
        return {
            "message_id": next(_messages),
            "date": int(time.time()),
            "chat": self.chat,
            "from": self.sender,
            **content,
        }

    def _post(self, update: dict[str, Any]) -> list[str]:
        before = len(self.served.fake.texts(self.chat["id"]))
        response = self.served.post({"update_id": next(_updates), **update})
        assert response.status_code == 200, response.text
        self.last_response = response
        return self.served.fake.texts(self.chat["id"])[before:]

    def say(self, text: str) -> list[str]:
        return self._post({"message": self._message(text=text)})

    def photo(self, file_id: str, caption: str | None = None) -> list[str]:
        sizes = [
            {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 60},
            {"file_id": file_id, "file_unique_id": f"uniq-{file_id}", "width": 1280, "height": 960},
        ]
        extra = {"caption": caption} if caption else {}
        return self._post({"message": self._message(photo=sizes, **extra)})

    def press(self, label: str) -> list[str]:
        """Press the button so labelled on the newest message that shows one."""
        found = self.served.fake.with_button(self.chat["id"], label)
        if found is None:
            raise AssertionError(f"no button {label!r}")
        message_id, button = found
        return self._post(
            {
                "callback_query": {
                    "id": f"cq-{next(_updates)}",
                    "from": self.sender,
                    "chat_instance": "ci",
                    "data": button["callback_data"],
                    "message": {
                        "message_id": message_id,
                        "date": int(time.time()),
                        "chat": self.chat,
                        "from": BOT,
                        "text": self.served.fake.messages[str(self.chat["id"])][message_id]["text"],
                    },
                }
            }
        )


def bind(served: Served, name: str, user_id: int) -> TelegramUser:
    with served.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        code = identity.create_invite(session=session, person=person, estate_id=1)
    user = TelegramUser(served, user_id, name)
    user.say("/start")
    user.press("使用绑定码")
    assert any("绑定成功" in text for text in user.say(code))
    return user


def test_start_registers_commands_in_three_languages_and_sets_the_webhook(served: Served) -> None:
    calls = {c.method: c.params for c in served.fake.calls}
    languages = [
        c.params.get("language_code") for c in served.fake.calls if c.method == "setMyCommands"
    ]
    assert languages == [None, "zh", "en"]
    english = [c.params for c in served.fake.calls if c.method == "setMyCommands"][-1]
    assert {"command": "repair", "description": "Repair"} in english["commands"]
    assert calls["setWebhook"]["url"] == "https://wuye.example.com/telegram/webhook"
    assert calls["setWebhook"]["secret_token"] == SECRET
    assert calls["setWebhook"]["allowed_updates"] == ["message", "callback_query"]
    assert httpx.get(f"{served.url}/healthz").json() == {
        "ok": True,
        "telegram": True,
        "wechat": False,
        "wecom": False,
    }


def test_a_forged_secret_is_refused_and_nothing_is_stored(served: Served) -> None:
    update = {
        "update_id": 1,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 5, "type": "private"},
            "from": {"id": 5, "is_bot": False, "first_name": "x"},
            "text": "报修",
        },
    }
    assert served.post(update, secret="guessed").status_code == 403
    assert httpx.post(f"{served.url}/telegram/webhook", json=update).status_code == 403
    with served.db.transaction() as session:
        assert session.scalar(select(func.count(SeenMessage.id))) == 0
    assert served.fake.sent() == []


def test_garbage_and_oversized_bodies_are_refused(served: Served) -> None:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    url = f"{served.url}/telegram/webhook"
    assert httpx.post(url, content=b"{not json", headers=headers).status_code == 400
    assert httpx.post(url, json={"no": "update_id"}, headers=headers).status_code == 400
    assert httpx.post(url, content=b"x" * (2 << 20), headers=headers).status_code == 413


def test_the_same_update_posted_twice_is_handled_once(served: Served) -> None:
    owner = TelegramUser(served, 7001, "张伟")
    update = {"update_id": 424242, "message": owner._message(text="你好")}
    assert served.post(update).status_code == 200
    first = len(served.fake.sent(7001))
    assert first > 0
    assert served.post(update).status_code == 200  # Telegram's redelivery
    assert len(served.fake.sent(7001)) == first


def test_a_press_is_answered_in_the_webhook_response_and_its_question_turns_into_the_next(
    served: Served,
) -> None:
    stranger = TelegramUser(served, 8005, "路人")
    stranger.say("/start")
    assert not stranger.last_response.content  # a message: nothing for Telegram to do
    question_id = max(served.fake.messages["8005"])
    assert "请输入房号" in "".join(stranger.press("房号 + 预留手机号"))
    call = stranger.last_response.json()
    assert call["method"] == "answerCallbackQuery"
    # Made by Telegram on wuye's behalf, once the response came: after wuye's own call.
    assert [c.method for c in served.fake.calls[-2:]] == ["editMessageText", "answerCallbackQuery"]
    answered = [c for c in served.fake.calls if c.method == "answerCallbackQuery"]
    assert [c.params["callback_query_id"] for c in answered] == [call["callback_query_id"]]
    question = served.fake.messages["8005"][question_id]
    assert "请输入房号" in question["text"]
    buttons = (question["reply_markup"] or {}).get("inline_keyboard", [])
    assert "房号 + 预留手机号" not in [b["text"] for row in buttons for b in row]  # pressed once


def test_a_question_telegram_will_not_edit_is_followed_by_a_new_message(served: Served) -> None:
    stranger = TelegramUser(served, 8006, "路人")
    stranger.say("/start")
    question_id = max(served.fake.messages["8006"])
    served.fake.uneditable.add(question_id)
    assert "请输入房号" in "".join(stranger.press("房号 + 预留手机号"))
    assert [c.method for c in served.fake.calls[-4:]] == [
        "editMessageText",  # refused: "message can't be edited"
        "editMessageReplyMarkup",  # refused as well; the press was answered all the same
        "sendMessage",
        "answerCallbackQuery",
    ]
    assert "请输入房号" in served.fake.sent(8006)[-1]["text"]


def test_the_repair_story_runs_over_telegram(served: Served) -> None:
    leak = jpeg()
    served.fake.files["leak-photo"] = leak
    owner = TelegramUser(served, 8001, "张伟")
    assert "请先绑定身份" in owner.say("/start")[0]
    owner.press("房号 + 预留手机号")
    owner.say("1-1-502")
    assert any("绑定成功，张伟" in text for text in owner.say("13800138001"))
    owner.say("/repair")
    owner.press("房屋渗漏水")
    owner.press("1-1-502")
    owner.say("卫生间天花板渗水")
    owner.photo("leak-photo")
    owner.press("完成")
    owner.press("跳过")
    assert any("报修成功，单号 BX000001" in text for text in owner.press("确认提交"))
    assert "answerCallbackQuery" in served.fake.methods()
    # Each press turned its question into what followed; no old question kept its buttons.
    assert "editMessageReplyMarkup" not in served.fake.methods()
    assert served.fake.with_button(8001, "房屋渗漏水") is None
    with served.db.transaction() as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None
        [photo] = ticket.attachments
        assert Path(photo.ref).read_bytes() == leak

    desk = bind(served, "陈静", 8002)
    desk.say("派单")
    desk.press("BX000001")
    assert any("已派给 周师傅" in text for text in desk.press("周师傅"))
    tech = bind(served, "周师傅", 8003)
    served.dispatch()
    assert any("【新维修单】BX000001" in text for text in served.fake.texts(8003))
    tech.say("维修工单")
    tech.press("BX000001")
    tech.press("接单")
    assert any("已告诉业主：预计 下午三点 上门" in text for text in tech.say("下午三点"))
    served.dispatch()
    assert any("预计 下午三点 上门" in text for text in served.fake.texts(8001))
    tech.say("维修工单")
    tech.press("BX000001")
    tech.press("完工")
    tech.say("更换防水层")
    tech.press("跳过")
    assert any("已完工" in text for text in tech.press("确认提交"))
    served.dispatch()
    assert any("您的报修 BX000001 已完工" in text for text in served.fake.texts(8001))

    owner.say("回访评价")
    owner.press("满意")
    assert any("感谢您的评价" in text for text in owner.press("跳过"))
    with served.db.transaction() as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None
        assert ticket.status is TicketStatus.CLOSED


def test_a_patrol_with_a_location_and_a_voice_note_over_telegram(served: Served) -> None:
    served.fake.files["voice-1"] = b"OggS voice"
    guard = bind(served, "冯军", 8601)
    guard.say("/patrol")
    guard._post({"message": guard._message(location={"latitude": 31.2304, "longitude": 121.4737})})
    guard.press("消防违章")
    guard.say("消防通道堆放杂物")
    guard.press("跳过")
    guard.press("是")
    assert any("现场整改，已验证" in t for t in guard.press("确认提交"))
    with served.db.transaction() as session:
        from storage.patrol.models import PatrolFinding

        finding = session.scalars(select(PatrolFinding)).one()
        assert finding.place == "31.23040,121.47370"

    owner = bind(served, "张伟", 8602)
    voice = {"file_id": "voice-1", "file_unique_id": "uniq-voice-1", "duration": 3}
    assert any("要用它报修吗" in t for t in owner._post({"message": owner._message(voice=voice)}))
    owner.press("是")
    owner.press("电梯")
    owner.press("1-1-502")
    owner.say("电梯门关不上")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    with served.db.transaction() as session:
        ticket = session.scalars(select(Ticket)).one()
        [kept] = ticket.attachments
        assert Path(kept.ref).read_bytes() == b"OggS voice"


def test_a_429_storm_delays_but_loses_nothing_and_nothing_goes_early(served: Served) -> None:
    owner = TelegramUser(served, 8101, "张伟")
    served.fake.flood, served.fake.retry_after = 2, 1
    texts = owner.say("/start")
    assert "请先绑定身份" in texts[0]
    assert len(texts) == 2  # the greeting and the first question: both delivered
    attempts = [
        c
        for c in served.fake.calls
        if c.method == "sendMessage" and str(c.params["chat_id"]) == "8101"
    ]
    assert len(attempts) == 4  # two refused with 429, then both delivered
    for refused, retried in itertools.pairwise(attempts[:3]):
        assert retried.at - refused.at >= 0.95  # not before retry_after


def test_a_user_who_blocked_the_bot_is_marked_undeliverable_not_retried(
    served: Served,
) -> None:
    owner = bind(served, "张伟", 8201)
    served.fake.blocked.add("8201")
    with served.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == "张伟")).one()
        from storage.outbox import service as outbox

        outbox.notify(
            session=session,
            recipient=person,
            notice=answer_notice(),
        )
    assert served.dispatch() == 0
    with served.db.transaction() as session:
        notice = session.scalars(select(OutboxMessage).where(OutboxMessage.kind != "reply")).one()
        assert notice.status is OutboxStatus.FAILED
        assert notice.last_error is not None
        assert "blocked by the user" in notice.last_error
    assert served.dispatch() == 0
    assert (
        len(
            [
                c
                for c in served.fake.calls
                if c.method == "sendMessage"
                and str(c.params["chat_id"]) == "8201"
                and "TS000001" in c.params["text"]
            ]
        )
        == 1
    )
    assert owner.user_id == 8201


def test_a_reply_that_cannot_go_out_now_is_kept_and_delivered_later(served: Served) -> None:
    served.fake.down.add("8501")
    stranger = TelegramUser(served, 8501, "新用户")
    assert stranger.say("/start") == []  # Telegram is down for this chat; the webhook is fine
    with served.db.transaction() as session:
        kept = session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        assert [(k.kind, k.chat_id) for k in kept] == [("reply", "8501"), ("reply", "8501")]
        assert kept[1].buttons is not None  # the choices are kept with the question
        assert ["code", "使用绑定码（客服中心提供）"] in kept[1].buttons
        assert all(k.next_attempt_at <= utcnow() for k in kept)  # the dispatcher's, at once
    served.fake.down.clear()
    assert served.dispatch() == 2
    texts = served.fake.texts(8501)
    assert "请先绑定身份" in texts[0]
    stranger.say("1")  # answering by number works as well as pressing
    assert "请输入绑定码" in served.fake.texts(8501)[-1]


def test_in_a_group_only_commands_addressed_to_the_bot_are_answered(served: Served) -> None:
    member = TelegramUser(served, 8301, "何队长", chat_type="supergroup", chat_id=-100777)
    assert member.say("大家好") == []
    assert member.say("/help") == []  # a command for some other bot, perhaps
    assert member.say("/help@wuye_test_bot") != []


def test_one_chat_is_paced_without_holding_up_another(fake: FakeTelegram) -> None:
    from bot.telegram.sender import TelegramSender
    from conversations.messages import Reply

    async def burst() -> None:
        bot = make_bot(load_settings(telegram_token=TOKEN, telegram_api_base_url=fake.url))
        await bot.initialize()
        sender = TelegramSender(bot, chat_per_second=2, chat_burst=2)
        await asyncio.gather(
            *(sender.send("501", Reply(f"甲{n}")) for n in range(4)),
            sender.send("502", Reply("乙")),
        )
        await bot.shutdown()

    asyncio.run(burst())
    first = [c.at for c in fake.calls if c.method == "sendMessage" and c.params["chat_id"] == 501]
    other = [c.at for c in fake.calls if c.method == "sendMessage" and c.params["chat_id"] == 502]
    assert len(first) == 4
    assert first[3] - first[0] >= 0.9  # two at once, then two a second
    assert other[0] - first[0] < 0.5  # the other chat did not wait behind the first


def test_polling_takes_updates_without_a_webhook(
    db_url: str, fake: FakeTelegram, sample_data: object
) -> None:
    from bot.web import poll

    settings = load_settings(  # a public address, but polling: no webhook is set
        database_url=db_url,
        telegram_token=TOKEN,
        telegram_api_base_url=fake.url,
        public_url="https://wuye.example.com",
    )
    fake.updates.append(
        {
            "update_id": 77,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": 9001, "type": "private"},
                "from": {"id": 9001, "is_bot": False, "first_name": "新用户"},
                "text": "/start",
            },
        }
    )

    async def main() -> None:
        stop = asyncio.Event()
        polling = asyncio.create_task(poll(Wuye.from_settings(settings), stop))
        assert await asyncio.to_thread(fake.delivered.wait, 30)
        stop.set()
        await asyncio.wait_for(polling, 30)

    asyncio.run(main())
    assert "deleteWebhook" in fake.methods()
    assert "setWebhook" not in fake.methods()
    assert "setMyCommands" in fake.methods()
    assert any("请先绑定身份" in text for text in fake.texts(9001))
    offsets = [c.params.get("offset") for c in fake.calls if c.method == "getUpdates"]
    assert 78 in offsets or len(offsets) == 1  # the next poll asks for what follows


def test_a_group_linked_by_its_department_head_receives_the_departments_notices(
    served: Served,
) -> None:
    bind(served, "郑工", 8401)
    group = TelegramUser(served, 8401, "郑工", chat_type="group", chat_id=-100888)
    assert any("本群已设为工程部的通知群" in t for t in group.say("/link@wuye_test_bot"))
    owner = bind(served, "张伟", 8402)
    owner.say("/repair")
    owner.press("电梯")
    owner.press("1-1-502")
    owner.say("电梯异响")
    owner.press("跳过")
    owner.press("跳过")
    owner.press("确认提交")
    with served.db.transaction() as session:
        clerk = session.scalars(select(Person).where(Person.name == "陈静")).one()
        from storage.ticket import repairs

        repairs.dispatch_repair(session=session, ticket_id=1, actor=clerk)
    served.dispatch()
    assert any("【新维修单】BX000001" in t for t in served.fake.texts(-100888))


def test_long_texts_are_split_at_telegrams_limit_on_line_ends() -> None:
    text = "\n".join(f"第{n}行：" + "字" * 50 for n in range(200))
    pieces = split_text(text)
    assert all(len(piece) <= 4096 for piece in pieces)
    assert "\n".join(pieces) == text
    assert split_text("短") == ["短"]
    assert [len(p) for p in split_text("字" * 5000)] == [4096, 904]


def test_the_clocks_digest_and_escalations_reach_telegram_exactly_once(served: Served) -> None:
    from scheduler.clock import Clock
    from tests.conftest import local

    head = bind(served, "孙丽", 8701)  # the desk's supervisor
    manager = bind(served, "黄经理", 8702)
    import time_machine

    from storage.estate import service as estates
    from storage.ticket import complaints

    # Filed on a known Monday morning, whatever day the tests run.
    with (
        time_machine.travel(local(2026, 11, 23, 9, 0), tick=False),
        served.db.transaction() as session,
    ):
        owner = session.scalars(select(Person).where(Person.name == "张伟")).one()
        unit = estates.find_unit(session=session, estate_id=1, designation="1-1-502")
        complaints.file_complaint(
            session=session, actor=owner, unit_id=unit.id, subject="噪音", description="夜间施工"
        )
    clock = Clock(served.db)
    tomorrow_evening = local(2026, 11, 24, 18, 30)  # well past the complaint's 24 hours
    for _ in range(2):  # a second scheduler run (a restart, another process) sends nothing
        clock.tick(tomorrow_evening)
        served.dispatch()
    clock.stop()
    digests = [t for t in served.fake.texts(8702) if t.startswith("【每日汇总】翠湖花园")]
    assert len(digests) == 1
    assert len([t for t in served.fake.texts(8701) if "【投诉超 24 小时未受理】" in t]) == 1
    assert len([t for t in served.fake.texts(8701) if t.startswith("【每日汇总】")]) == 1
    assert head.user_id != manager.user_id


def test_metrics_count_updates_and_show_the_outbox(served: Served) -> None:
    owner = bind(served, "张伟", 8801)
    with served.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == "张伟")).one()
        from storage.outbox import service as outbox

        outbox.notify(
            session=session,
            recipient=person,
            notice=answer_notice(),
        )
    served.post({"update_id": 1}, secret="forged")
    bearer = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    text = httpx.get(f"{served.url}/metrics", headers=bearer).text
    handled = next(
        line
        for line in text.splitlines()
        if line.startswith('wuye_updates_total{outcome="200",platform="telegram"}')
    )
    assert float(handled.split()[-1]) >= 3  # the binding took three updates at least
    assert 'wuye_updates_total{outcome="403",platform="telegram"}' in text
    assert "wuye_update_handling_seconds_bucket" in text
    assert "wuye_outbox_pending 1.0" in text
    assert "wuye_outbox_oldest_pending_seconds" in text
    assert owner.user_id == 8801


def at_the_photo_step(served: Served, user_id: int) -> TelegramUser:
    """The owner 张伟, reporting a leak, asked for its photos."""
    owner = bind(served, "张伟", user_id)
    owner.say("/repair")
    owner.press("房屋渗漏水")
    owner.press("1-1-502")
    asked = owner.say("卫生间天花板渗水")
    assert any("请发送照片" in text for text in asked)
    return owner


def kept_files(served: Served) -> list[Path]:
    """Every file kept under the attachments folder."""
    return sorted(p for p in Path(served.settings.attachments_dir).rglob("*") if p.is_file())


def test_a_photo_telegram_names_dot_dot_slash_is_kept_inside_the_folder_under_its_hash(
    served: Served,
) -> None:
    photo = jpeg(phone_exif())  # and with where it was taken in it
    served.fake.files["evil"] = photo
    served.fake.file_info["evil"] = {"file_unique_id": "../../evil"}
    owner = at_the_photo_step(served, 8901)
    sizes = [{"file_id": "evil", "file_unique_id": "../../evil", "width": 8, "height": 4}]
    taken = owner._post({"message": owner._message(photo=sizes)})
    assert any("已收到 1 张照片" in text for text in taken)
    owner.press("完成")
    owner.press("跳过")
    assert any("报修成功" in text for text in owner.press("确认提交"))
    folder = Path(served.settings.attachments_dir) / "telegram"
    with served.db.transaction() as session:
        ticket = session.get(Ticket, 1)
        assert ticket is not None
        [attachment] = ticket.attachments
    kept = Path(attachment.ref)
    assert kept.parent == folder
    assert kept.suffix == ".jpg"
    assert kept.stem == hashlib.sha256(kept.read_bytes()).hexdigest()
    assert kept_files(served) == [kept]
    # Nothing named after what Telegram sent, inside the folder or two folders up.
    assert list(Path(served.settings.attachments_dir).parent.rglob("*evil*")) == []
    assert gps_of(kept.read_bytes()) == {}  # and the owner's home is not in it


def test_a_30_mb_photo_is_refused_before_its_download_and_the_step_asks_again(
    served: Served,
) -> None:
    served.fake.file_info["huge"] = {"file_size": 30 * MB}
    owner = at_the_photo_step(served, 8902)
    answer = owner.photo("huge")
    assert answer[0] == "照片太大（超过 20 MB），没有收下，请压缩后再发。"
    assert "这里需要照片：请发送照片，或点「完成」继续" in answer
    assert any("请发送照片（可以多张）" in text for text in answer[1:])
    assert "huge" not in served.fake.downloads  # refused on what getFile said
    assert kept_files(served) == []


def test_a_photo_whose_size_telegram_did_not_say_is_counted_when_it_arrives(
    served: Served,
) -> None:
    served.fake.files["unsized"] = b"\xff\xd8\xff\xe0" + bytes(20 * MB)
    served.fake.file_info["unsized"] = {"file_size": None}
    owner = at_the_photo_step(served, 8903)
    assert owner.photo("unsized")[0] == "照片太大（超过 20 MB），没有收下，请压缩后再发。"
    assert "unsized" in served.fake.downloads
    assert kept_files(served) == []


def test_a_text_file_served_as_a_jpg_is_refused_and_a_real_photo_then_taken(
    served: Served,
) -> None:
    served.fake.files["note"] = b"Dear property office, this is not a photo.\n"
    served.fake.files["leak"] = jpeg()
    owner = at_the_photo_step(served, 8904)
    answer = owner.photo("note")
    assert answer[0] == "这个文件不是照片，没有收下。请发 JPG 或 PNG 照片。"
    assert "这里需要照片：请发送照片，或点「完成」继续" in answer
    assert kept_files(served) == []
    assert any("已收到 1 张照片" in text for text in owner.photo("leak"))
    assert len(kept_files(served)) == 1


# ------------------------------------------------------------ photos go with the work


def test_the_owners_two_photos_reach_the_technician_as_one_album_then_the_notice(
    served: Served,
) -> None:
    photos = owners_photos(served.settings, "telegram", jpeg(phone_exif()), png())
    bind(served, TECHNICIAN, 9101)
    leak_dispatched(served.db, photos)
    served.dispatch()
    shown = served.fake.shown(9101)
    album, text = shown[-2:]
    assert album == "[sendMediaGroup 2]"
    assert text.startswith("【新维修单】BX000001")
    assert served.fake.pictures(9101) == [("sendMediaGroup", contents(photos))]
    # The button rides on the text: a media group cannot carry one.
    found = served.fake.with_button(9101, "接单")
    assert found is not None
    assert served.fake.messages["9101"][found[0]]["text"] == text


def test_one_photo_goes_as_a_photo_before_the_notice(served: Served) -> None:
    photos = owners_photos(served.settings, "telegram", jpeg())
    bind(served, TECHNICIAN, 9102)
    leak_dispatched(served.db, photos)
    served.dispatch()
    assert served.fake.shown(9102)[-2] == "[sendPhoto 1]"
    assert served.fake.shown(9102)[-1].startswith("【新维修单】BX000001")
    assert served.fake.pictures(9102) == [("sendPhoto", contents(photos))]


def test_a_photo_gone_from_disk_is_left_out_and_the_notice_still_arrives(
    served: Served,
) -> None:
    photos = owners_photos(served.settings, "telegram", jpeg(), png())
    for photo in photos:
        Path(photo).unlink()  # the attachments folder lost them (a restore, a clean-up)
    bind(served, TECHNICIAN, 9103)
    leak_dispatched(served.db, photos)
    served.dispatch()
    assert served.fake.shown(9103)[-1].startswith("【新维修单】BX000001")
    assert served.fake.pictures(9103) == []
    assert not [c for c in served.fake.calls if c.method in ("sendPhoto", "sendMediaGroup")]
    with served.db.transaction() as session:
        notice = session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "repair_dispatched")
        ).one()
        assert notice.status is OutboxStatus.SENT


def sender_of(fake: FakeTelegram, **limits: Any) -> Any:
    """A sender to the fake Bot API, the way the channel makes one; used inside a loop."""
    from bot.telegram.sender import TelegramSender

    bot = make_bot(load_settings(telegram_token=TOKEN, telegram_api_base_url=fake.url))
    return TelegramSender(bot, **({"chat_per_second": 100, "chat_burst": 100} | limits))


def send_with_pictures(fake: FakeTelegram, text: str, images: list[str], **limits: Any) -> None:
    from conversations.messages import Reply

    async def send() -> None:
        sender = sender_of(fake, **limits)
        await sender.bot.initialize()
        try:
            await sender.send("9201", Reply(text, (), tuple(images)))
        finally:
            await sender.bot.shutdown()

    asyncio.run(send())


def test_eleven_photos_go_as_an_album_of_ten_and_one_photo(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    images = []
    for n in range(11):
        (tmp_path / f"{n}.jpg").write_bytes(jpeg(size=(8 + n, 4)))
        images.append(str(tmp_path / f"{n}.jpg"))
    send_with_pictures(fake, "十一张", images)
    assert fake.shown(9201) == ["[sendMediaGroup 10]", "[sendPhoto 1]", "十一张"]
    sent = [photo for _, items in fake.pictures(9201) for photo in items]
    assert sent == [Path(image).read_bytes() for image in images]


def test_an_album_counts_as_its_photos_against_the_chats_limit(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg())
    (tmp_path / "b.png").write_bytes(png())
    # Two messages at once, then two a second: the album of two uses both.
    send_with_pictures(
        fake,
        "两张",
        [str(tmp_path / "a.jpg"), str(tmp_path / "b.png")],
        chat_per_second=2,
        chat_burst=2,
    )
    album, text = (c for c in fake.calls if c.method in ("sendMediaGroup", "sendMessage"))
    assert album.method == "sendMediaGroup"
    assert text.at - album.at >= 0.4  # waited for room, not sent at once


def test_a_429_on_the_album_is_waited_out_and_nothing_is_lost(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg())
    (tmp_path / "b.png").write_bytes(png())
    fake.flooded, fake.flood, fake.retry_after = {"sendMediaGroup"}, 1, 1
    send_with_pictures(fake, "两张", [str(tmp_path / "a.jpg"), str(tmp_path / "b.png")])
    refused, retried = (c for c in fake.calls if c.method == "sendMediaGroup")
    assert not refused.ok
    assert retried.at - refused.at >= 0.95  # not before retry_after
    assert fake.shown(9201) == ["[sendMediaGroup 2]", "两张"]


def test_a_file_id_telegram_forgot_sinks_only_its_own_picture(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    (tmp_path / "a.jpg").write_bytes(jpeg())
    fake.forgotten.add("old-file")  # a photo kept by its file id, no longer on Telegram
    send_with_pictures(fake, "照片", [str(tmp_path / "a.jpg"), "telegram:old-file"])
    assert [c.method for c in fake.calls if not c.ok] == ["sendMediaGroup", "sendPhoto"]
    assert fake.pictures(9201) == [("sendPhoto", [(tmp_path / "a.jpg").read_bytes()])]
    assert fake.shown(9201) == ["[sendPhoto 1]", "照片"]


def test_a_photo_kept_by_its_file_id_is_sent_by_it(fake: FakeTelegram) -> None:
    send_with_pictures(fake, "照片", ["telegram:leak-photo", "wechat:not-ours"])
    assert fake.pictures(9201) == [("sendPhoto", ["leak-photo"])]
    assert fake.shown(9201) == ["[sendPhoto 1]", "照片"]


def test_a_user_who_blocked_the_bot_is_refused_at_the_first_picture(
    fake: FakeTelegram, tmp_path: Path
) -> None:
    from bot.channel import Refused

    (tmp_path / "a.jpg").write_bytes(jpeg())
    fake.blocked.add("9201")
    with pytest.raises(Refused, match="blocked by the user"):
        send_with_pictures(fake, "照片", [str(tmp_path / "a.jpg")])
    assert [c.method for c in fake.calls if c.method.startswith("send")] == ["sendPhoto"]


# ---------------------------------------------------------------- residents and notices


def printed_code(served: Served, name: str, code: str) -> None:
    """A code as the lobby sheet prints it (known here, as if read off the paper)."""
    with served.db.transaction() as session:
        person = session.scalars(select(Person).where(Person.name == name)).one()
        session.add(
            InviteCode(
                code_hash=hashlib.sha256(code.encode()).hexdigest(),
                person=person,
                estate_id=1,
                expires_at=utcnow() + timedelta(days=30),
            )
        )


def test_a_deep_link_start_with_the_code_binds_at_once(served: Served) -> None:
    printed_code(served, "张伟", "K7Q2M9XB")
    owner = TelegramUser(served, 8801, "张伟")
    assert any("绑定成功，张伟" in text for text in owner.say("/start K7Q2M9XB"))
    assert served.fake.with_button(8801, "报修") is not None
    # The same link again, by someone else, is refused like any used code.
    other = TelegramUser(served, 8802, "别人")
    assert any("绑定码无效或已过期" in text for text in other.say("/start K7Q2M9XB"))


def test_a_notice_to_building_3_reaches_each_of_its_bound_residents_once_paced(
    served: Served,
) -> None:
    served.fake.enforce_limits = True  # 30 a second overall, as Telegram answers
    with served.db.transaction() as session:
        units = [
            estates.find_unit(session=session, estate_id=1, designation=f"3-1-{floor}0{room}")
            for floor in range(2, 12)
            for room in range(1, 5)
        ]
        for n, unit in enumerate(units):  # 40 tenants of building 3 and their chats
            person = roster.add_resident(
                session=session,
                unit=unit,
                name=f"租户{n}",
                phone=f"135{n:08d}",
                relation=ResidentRelation.TENANT,
                actor=None,
                by="测试",
            )
            identity.link_account(
                session=session, person=person, platform="telegram", external_id=str(9000 + n)
            )
    zhang = bind(served, "张伟", 8901)  # building 1: not in the audience
    li = bind(served, "李强", 8902)  # 3-1-1204 and 2-2-301: in it once
    before = len(served.fake.texts(8901))
    with served.db.transaction() as session:
        notice = announcements.create(
            session=session,
            estate_id=1,
            kind=AnnouncementKind.WATER_OUTAGE,
            title="3栋停水通知",
            text="12月5日 9:00-18:00 管网维修停水。",
            audience=announcements.Audience(buildings=("3",)),
            actor=None,
            by="测试",
            ends_at=utcnow() + timedelta(hours=8),
            # A burst main: at once, whatever the hour the suite runs at.
            emergency=True,
        )
        notice_id = notice.id
    started = time.monotonic()
    while served.dispatch():
        pass
    took = time.monotonic() - started
    sends = [c for c in served.fake.calls if c.method == "sendMessage" and c.ok]
    got = Counter(
        str(c.params["chat_id"]) for c in sends if "3栋停水通知" in str(c.params.get("text"))
    )
    assert got == Counter({str(9000 + n): 1 for n in range(40)} | {"8902": 1})
    assert len(served.fake.texts(8901)) == before  # 张伟 heard nothing
    assert took >= 0.3  # 41 sends at 30 a second: paced, not all at once
    assert zhang.user_id == 8901

    li.press("收到")
    assert served.fake.texts(8902)[-1].startswith("已确认收到「3栋停水通知」")
    with served.db.transaction() as session:
        counts = announcements.counts(session=session, announcement_id=notice_id)
    # 赵敏 of 3-1-801 has not bound a chat: counted, not reached.
    assert (counts.residents, counts.delivered, counts.not_bound, counts.acknowledged) == (
        42,
        41,
        1,
        1,
    )
