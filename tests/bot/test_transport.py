"""The Bot API's client under PTB (bot/telegram/transport.py), against the fake Bot API on
127.0.0.1: what PTB's own backend does, it does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta

import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.telegram.transport import AiohttpRequest
from tests.bot.fake_telegram import FakeTelegram
from tests.servers import free_port, serving

TOKEN = "123456:TRANSPORT"  # the fake's


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    fake = FakeTelegram()
    with serving(fake.app()) as url:
        fake.url = url
        yield fake


def _bot(base: str, request: AiohttpRequest | None = None) -> Bot:
    return Bot(TOKEN, base_url=f"{base}/bot", request=request or AiohttpRequest(read_timeout=0.5))


def _send(bot: Bot, text: str = "您好", **more: object) -> object:
    """One call in an event loop of its own, as a CLI command makes it, and the client
    shut down after it as PTB's ``async with bot`` does."""

    async def call() -> object:
        try:
            return await bot.do_api_request("sendMessage", {"chat_id": 5, "text": text, **more})
        finally:
            await bot.request.shutdown()

    return asyncio.run(call())


def test_a_bot_api_that_does_not_answer_in_time_is_a_timeout(fake: FakeTelegram) -> None:
    fake.hang.add("5")
    try:
        with pytest.raises(TimedOut):
            _send(_bot(fake.url))
    finally:
        fake.hang.clear()


def test_a_bot_api_that_cannot_be_reached_is_a_network_error() -> None:
    with pytest.raises(NetworkError):
        _send(_bot(f"http://127.0.0.1:{free_port()}"))


def test_telegrams_429_is_ptbs_retry_after_with_its_wait(fake: FakeTelegram) -> None:
    fake.flood, fake.retry_after = 1, 7
    with pytest.raises(RetryAfter) as refused:
        _send(_bot(fake.url))
    assert refused.value.retry_after == timedelta(seconds=7)


def test_the_parameters_go_as_ptb_sends_them_and_the_client_serves_loop_after_loop(
    fake: FakeTelegram,
) -> None:
    bot = _bot(fake.url, AiohttpRequest())
    for text in ("第一次", "第二次"):
        _send(bot, text)
    assert [(call.method, call.params) for call in fake.calls] == [
        ("sendMessage", {"chat_id": 5, "text": "第一次"}),
        ("sendMessage", {"chat_id": 5, "text": "第二次"}),
    ]


def test_a_call_without_files_is_one_json_body_its_values_as_they_are(
    fake: FakeTelegram,
) -> None:
    """Buttons arrive as the object they are, and a text of digits (110, a phone number) as
    text: nothing is read back from a form field's string."""
    keyboard = {"inline_keyboard": [[{"text": "报修", "callback_data": "flow:repair"}]]}
    _send(_bot(fake.url, AiohttpRequest()), "110", reply_markup=keyboard)
    [sent] = [call.params for call in fake.calls if call.method == "sendMessage"]
    assert sent == {"chat_id": 5, "text": "110", "reply_markup": keyboard}
