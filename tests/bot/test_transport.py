"""The Bot API's client under PTB (bot/telegram/transport.py), against real servers on
127.0.0.1: what PTB's own backend does, it does."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from telegram import Bot
from telegram.error import NetworkError, RetryAfter, TimedOut

from bot.telegram.transport import AiohttpRequest
from tests.servers import free_port, serving

TOKEN = "123456:TRANSPORT"  # a fake server's


async def _slow(request: Request) -> JSONResponse:
    await asyncio.sleep(2)
    return JSONResponse({"ok": True, "result": True})


async def _flooded(request: Request) -> JSONResponse:
    return JSONResponse(
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        },
        status_code=429,
    )


async def _echo(request: Request) -> JSONResponse:
    form = parse_qsl((await request.body()).decode())
    return JSONResponse({"ok": True, "result": dict(form)})


API = Starlette(
    routes=[
        Route("/bot{token}/slow", _slow, methods=["POST"]),
        Route("/bot{token}/flooded", _flooded, methods=["POST"]),
        Route("/bot{token}/echo", _echo, methods=["POST"]),
    ]
)


def _bot(base: str, request: AiohttpRequest | None = None) -> Bot:
    return Bot(TOKEN, base_url=f"{base}/bot", request=request or AiohttpRequest(read_timeout=0.5))


def _call(bot: Bot, method: str, params: dict[str, object] | None = None) -> object:
    """One call in an event loop of its own, as a CLI command makes it, and the client
    shut down after it as PTB's ``async with bot`` does."""

    async def call() -> object:
        try:
            return await bot.do_api_request(method, params)
        finally:
            await bot.request.shutdown()

    return asyncio.run(call())


def test_a_bot_api_that_does_not_answer_in_time_is_a_timeout() -> None:
    with serving(API) as base, pytest.raises(TimedOut):
        _call(_bot(base), "slow")


def test_a_bot_api_that_cannot_be_reached_is_a_network_error() -> None:
    with pytest.raises(NetworkError):
        _call(_bot(f"http://127.0.0.1:{free_port()}"), "anything")


def test_telegrams_429_is_ptbs_retry_after_with_its_wait() -> None:
    with serving(API) as base, pytest.raises(RetryAfter) as refused:
        _call(_bot(base), "flooded")
    assert refused.value.retry_after == timedelta(seconds=7)


def test_the_parameters_go_as_ptb_sends_them_and_the_client_serves_loop_after_loop() -> None:
    with serving(API) as base:
        bot = _bot(base, AiohttpRequest())
        for text in ("第一次", "第二次"):
            said = _call(bot, "echo", {"chat_id": 5, "text": text})
            assert said == {"chat_id": "5", "text": text}
