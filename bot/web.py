"""The one web app every platform mounts on: `wuye serve`."""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from xml.parsers.expat import ExpatError

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.dispatcher import Dispatcher, Refused, Send
from bot.metrics import HANDLING, UPDATES, exposition
from bot.telegram.channel import TelegramChannel, make_bot
from bot.telegram.sender import Undeliverable
from bot.wechat.api import WechatApi
from bot.wechat.channel import Forbidden, WechatChannel
from bot.wechat.wecom import WecomSender
from conversations.engine import Engine
from conversations.flows import FLOWS
from conversations.messages import Reply
from scheduler.clock import Clock
from storage.config import Settings
from storage.database import Database
from storage.identity.models import Platform

log = logging.getLogger(__name__)
MAX_BODY = 1 << 20  # an Update is a few KB; anything near a megabyte is not Telegram


@dataclass
class Wuye:
    """Everything a process runs, wired once: database, engine, channels, dispatcher."""

    settings: Settings
    db: Database
    engine: Engine
    telegram: TelegramChannel | None = None
    wechat: WechatChannel | None = None
    wecom: WecomSender | None = None
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        senders: dict[Platform, Send] = {}
        if self.telegram is not None:
            senders[Platform.TELEGRAM] = _telegram_sender(self.telegram)
        if self.wechat is not None:
            senders[Platform.WECHAT] = _wechat_sender(self.wechat)
        if self.wecom is not None:
            senders[Platform.WECOM] = _threaded(self.wecom.send)
        self.dispatcher = Dispatcher(self.db, senders)

    @classmethod
    def from_settings(cls, settings: Settings) -> Wuye:
        db = Database(settings)
        engine = Engine(db, FLOWS)
        telegram = None
        if settings.telegram_token is not None:
            telegram = TelegramChannel(bot=make_bot(settings), engine=engine, settings=settings)
        wechat = None
        if settings.wechat_token is not None:
            wechat = WechatChannel(settings=settings, engine=engine, api=WechatApi(settings, db))
        wecom = WecomSender(settings, db) if settings.wecom_corp_id is not None else None
        return cls(
            settings=settings, db=db, engine=engine, telegram=telegram, wechat=wechat, wecom=wecom
        )


def _telegram_sender(channel: TelegramChannel) -> Send:
    async def send(chat_id: str, reply: Reply) -> None:
        try:
            await channel.sender.send(chat_id, reply)
        except Undeliverable as refused:
            raise Refused(str(refused)) from refused

    return send


def _wechat_sender(channel: WechatChannel) -> Send:
    return _threaded(channel.send)


def _threaded(send: Callable[[str, Reply], None]) -> Send:
    """wechatpy's clients are blocking: run them beside the event loop, not on it."""

    async def sending(chat_id: str, reply: Reply) -> None:
        await asyncio.to_thread(send, chat_id, reply)

    return sending


def create_app(wuye: Wuye, *, dispatch: bool = True) -> Starlette:
    """The ASGI app; ``dispatch=False`` leaves sending notices to another process."""
    settings = wuye.settings

    async def metrics(request: Request) -> Response:
        body = await asyncio.to_thread(exposition, wuye.db)
        return Response(body, media_type="text/plain; version=0.0.4")

    async def healthz(request: Request) -> Response:
        return JSONResponse(
            {"ok": True, "telegram": wuye.telegram is not None, "wechat": wuye.wechat is not None}
        )

    async def telegram_webhook(request: Request) -> Response:
        channel = wuye.telegram
        if channel is None:
            return Response(status_code=404)
        with HANDLING.labels("telegram").time():
            response = await _telegram_update(channel, request)
        UPDATES.labels("telegram", str(response.status_code)).inc()
        return response

    async def _telegram_update(channel: TelegramChannel, request: Request) -> Response:
        secret = settings.telegram_webhook_secret
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if secret is None or not hmac.compare_digest(
            given.encode(), secret.get_secret_value().encode()
        ):
            return Response(status_code=403)
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return Response(status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY:
            return Response(status_code=413)
        try:
            data = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return Response(status_code=400)
        call = await channel.handle(data, webhook=True)
        return JSONResponse(call) if call is not None else Response(status_code=200)

    async def wechat(request: Request) -> Response:
        channel = wuye.wechat
        if channel is None:
            return Response(status_code=404)
        with HANDLING.labels("wechat").time():
            response = await _wechat_request(channel, request)
        UPDATES.labels("wechat", str(response.status_code)).inc()
        return response

    async def _wechat_request(channel: WechatChannel, request: Request) -> Response:
        params = dict(request.query_params)
        try:
            if request.method == "GET":
                return PlainTextResponse(channel.verify_url(params))
            body = await request.body()
            if len(body) > MAX_BODY:
                return Response(status_code=413)
            answer = await channel.receive(params, body)
        except Forbidden as refused:
            log.info("wechat request refused: %s", refused)
            return Response(status_code=403)
        except (ValueError, KeyError, ExpatError) as bad:
            log.info("wechat request unreadable: %s", bad)
            return Response(status_code=400)
        return Response(answer, media_type="application/xml")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(wuye.db.upgrade)
        stop = asyncio.Event()
        if wuye.telegram is not None:
            await wuye.telegram.start()
            if settings.public_url is not None:
                await wuye.telegram.set_webhook()
        dispatching = asyncio.create_task(wuye.dispatcher.run(stop)) if dispatch else None
        clock = _start_clock(wuye) if dispatch else None
        try:
            yield
        finally:
            if clock is not None:
                await asyncio.to_thread(clock.stop)
            stop.set()
            if dispatching is not None:
                await dispatching
            if wuye.wechat is not None and wuye.wechat.pending:
                await asyncio.wait(set(wuye.wechat.pending), timeout=30)
            if wuye.telegram is not None:
                await wuye.telegram.stop()

    routes = [Route("/healthz", healthz), Route("/metrics", metrics)]
    if wuye.telegram is not None:
        routes.append(Route("/telegram/webhook", telegram_webhook, methods=["POST"]))
    if wuye.wechat is not None:
        routes.append(Route("/wechat", wechat, methods=["GET", "POST"]))
    return Starlette(routes=routes, lifespan=lifespan)


def _start_clock(wuye: Wuye) -> Clock:
    """The scheduler runs in the serving process (what it queues wakes the dispatcher)."""
    clock = Clock(wuye.db)
    clock.start()
    return clock


async def poll(wuye: Wuye, stop: asyncio.Event) -> None:
    """`wuye poll`: the same bot by long polling, and the dispatcher beside it."""
    if wuye.telegram is None:
        raise ValueError("WUYE_TELEGRAM_TOKEN is not set")
    await asyncio.to_thread(wuye.db.upgrade)
    await wuye.telegram.start()
    dispatching = asyncio.create_task(wuye.dispatcher.run(stop))
    clock = _start_clock(wuye)
    try:
        await wuye.telegram.poll(stop)
    finally:
        await asyncio.to_thread(clock.stop)
        stop.set()
        await dispatching
        await wuye.telegram.stop()


def app_from_environment() -> Starlette:
    """The app as each uvicorn worker builds it (``wuye serve --workers N``): from the
    settings in the environment, each worker with its own connections. On PostgreSQL any
    worker takes any update, the clock runs in the one that holds its lock, and every
    worker helps drain the outbox."""
    from bot import logs
    from storage.config import load_settings

    logs.configure(json=True)  # each worker process sets its own logging up
    return create_app(Wuye.from_settings(load_settings()))
