"""The one web app every configured channel mounts its routes on: `wuye serve`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import metrics
from bot.channel import Channel
from bot.channels import REGISTRY, configured
from bot.dispatcher import Dispatcher
from bot.telegram.channel import TelegramChannel
from conversations.engine import Engine
from conversations.flows import FLOWS
from scheduler.clock import Clock
from storage.config import Settings
from storage.database import Database

C = TypeVar("C", bound=Channel)
log = logging.getLogger(__name__)


@dataclass
class Wuye:
    """Everything a process runs, wired once: database, engine, channels, dispatcher."""

    settings: Settings
    db: Database
    engine: Engine
    channels: list[Channel]
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        self.dispatcher = Dispatcher(self.db, self.channels)

    @classmethod
    def from_settings(cls, settings: Settings) -> Wuye:
        db = Database(settings)
        engine = Engine(db, FLOWS)
        return cls(settings=settings, db=db, engine=engine, channels=configured(settings, engine))

    def channel(self, kind: type[C]) -> C | None:
        """The channel of this kind, when its settings were given."""
        return next((c for c in self.channels if isinstance(c, kind)), None)


def create_app(wuye: Wuye, *, dispatch: bool = True) -> Starlette:
    """The ASGI app; ``dispatch=False`` leaves sending notices to another process."""
    settings = wuye.settings

    async def healthz(request: Request) -> Response:
        serving = {channel.platform for channel in wuye.channels}
        return JSONResponse({"ok": True} | {k.platform: k.platform in serving for k in REGISTRY})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(wuye.db.upgrade)
        # /metrics on its own address comes up before the webhooks are set (a port taken
        # stops the start there) and goes down after the channels have finished.
        async with _metrics_listener(wuye):
            stop = asyncio.Event()
            for channel in wuye.channels:
                await channel.start()
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
                for channel in wuye.channels:
                    await channel.stop()

    routes: list[BaseRoute] = [Route("/healthz", healthz)]
    if settings.metrics_listen is None:
        if settings.metrics_token is not None or settings.public_url is None:
            # Behind its token, or on a machine with no public address (local use).
            routes.append(Route("/metrics", metrics.endpoint(wuye.db, settings.metrics_token)))
        else:
            # Production with nothing to guard /metrics: it is not served (fail closed).
            log.warning(
                "/metrics is not served: WUYE_PUBLIC_URL is set and neither WUYE_METRICS_TOKEN"
                " nor WUYE_METRICS_LISTEN is; set WUYE_METRICS_TOKEN (Prometheus sends it as"
                " a bearer token) or WUYE_METRICS_LISTEN=127.0.0.1:9100 (a private address)"
            )
    for channel in wuye.channels:
        routes += channel.routes()
    return Starlette(routes=routes, lifespan=lifespan)


def _metrics_listener(wuye: Wuye) -> AbstractAsyncContextManager[None]:
    """/metrics on WUYE_METRICS_LISTEN while the app runs, when that is set."""
    address = wuye.settings.metrics_address
    if address is None:
        return nullcontext()
    return metrics.listening(wuye.db, wuye.settings.metrics_token, *address)


def _start_clock(wuye: Wuye) -> Clock:
    """The scheduler runs in the serving process (what it queues wakes the dispatcher)."""
    clock = Clock(wuye.db)
    clock.start()
    return clock


async def poll(wuye: Wuye, stop: asyncio.Event) -> None:
    """`wuye poll`: Telegram by long polling; the other channels send, the dispatcher and
    the clock run beside it."""
    telegram = wuye.channel(TelegramChannel)
    if telegram is None:
        raise ValueError("WUYE_TELEGRAM_TOKEN is not set")
    await asyncio.to_thread(wuye.db.upgrade)
    others = [channel for channel in wuye.channels if channel is not telegram]
    for channel in others:
        await channel.start()
    dispatching = asyncio.create_task(wuye.dispatcher.run(stop))
    clock = _start_clock(wuye)
    try:
        await telegram.poll(stop)  # it prepares itself, and sets no webhook
    finally:
        await asyncio.to_thread(clock.stop)
        stop.set()
        await dispatching
        for channel in wuye.channels:
            await channel.stop()


def app_from_environment() -> Starlette:
    """The app as each uvicorn worker builds it (``wuye serve --workers N``): from the
    settings in the environment, each worker with its own connections. On PostgreSQL any
    worker takes any update, the clock runs in the one that holds its lock, and every
    worker helps drain the outbox."""
    from bot import logs
    from storage.config import check_serving, load_settings

    logs.configure(json=True)  # each worker process sets its own logging up
    settings = load_settings()
    logs.hide(settings.secret_values())
    # `wuye serve` checked already; this is for a worker started by another supervisor.
    check_serving(settings)
    return create_app(Wuye.from_settings(settings))
