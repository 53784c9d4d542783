"""What `GET /metrics` shows Prometheus: traffic, latency, the outbox, deliveries, jobs.

Counters live where their events happen (binding's attempts in ``storage/identity``, the
clock's runs in ``scheduler``), all in prometheus-client's default registry, which this
exposes; the outbox's depth and age are read from the database when Prometheus scrapes,
so every worker reports the same truth. With several workers, set
PROMETHEUS_MULTIPROC_DIR to a shared empty directory (prometheus-client's multiprocess
mode) so a scrape sees all of them.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import SecretStr
from sqlalchemy import and_, func, not_, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from storage.clock import utcnow
from storage.database import Database
from storage.identity import attempts  # noqa: F401  (registers wuye_binding_attempts_total)
from storage.outbox.models import OutboxMessage, OutboxStatus
from storage.outbox.service import REPLY

log = logging.getLogger(__name__)

UPDATES = Counter(
    "wuye_updates_total", "Platform updates received, by outcome", ["platform", "outcome"]
)
HANDLING = Histogram(
    "wuye_update_handling_seconds",
    "Time to answer one update",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
INBOUND = Counter(
    "wuye_inbound_total",
    "Messages kept in the inbox (by why), taken again from it, or given up",
    ["platform", "outcome"],
)
INBOX_WAITING = Gauge(
    "wuye_inbox_waiting",
    "Messages waiting in this process's view of the inbox",
    ["platform"],
    multiprocess_mode="max",
)
NOTICES = Counter(
    "wuye_notifications_total", "Notices sent, refused or deferred", ["platform", "result"]
)


async def measured(
    platform: str, handle: Callable[[Request], Awaitable[Response]], request: Request
) -> Response:
    """A platform's request handled, counted by its outcome and timed."""
    with HANDLING.labels(platform).time():
        response = await handle(request)
    UPDATES.labels(platform, str(response.status_code)).inc()
    return response


class OutboxCollector(Collector):
    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.db.session() as session:
            # A reply still in its sender's lease is on its way, not waiting; one a crash
            # left behind counts once its lease has run out.
            on_its_way = and_(OutboxMessage.kind == REPLY, OutboxMessage.next_attempt_at > utcnow())
            depth, oldest = session.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING, not_(on_its_way)
                )
            ).one()
        yield GaugeMetricFamily(
            "wuye_outbox_pending", "Notices waiting to be sent", value=float(depth or 0)
        )
        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0.0
        yield GaugeMetricFamily(
            "wuye_outbox_oldest_pending_seconds", "Age of the oldest notice waiting", value=age
        )


def exposition(db: Database) -> bytes:
    """The text Prometheus scrapes: this process's counters (or all workers'), and the outbox."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        registry.register(OutboxCollector(db))
        return generate_latest(registry)
    registry.register(OutboxCollector(db))
    return generate_latest(REGISTRY) + generate_latest(registry)


# --- Who may read /metrics, and where it is served (WUYE_METRICS_TOKEN, WUYE_METRICS_LISTEN) ---
# The counters and the outbox's depth tell an outsider how busy the desk is and when it is
# failing: production serves them only to who has the token, or only on a private address.


def endpoint(db: Database, token: SecretStr | None) -> Callable[[Request], Awaitable[Response]]:
    """``GET /metrics``; with a token, only for ``Authorization: Bearer <token>``."""
    expected = f"Bearer {token.get_secret_value()}".encode() if token is not None else None

    async def metrics(request: Request) -> Response:
        if expected is not None:
            given = request.headers.get("authorization", "")
            # The scheme is case-insensitive (RFC 7235); the token is compared in constant
            # time, as bytes (compare_digest refuses a str that is not ASCII).
            scheme, _, credentials = given.partition(" ")
            if not hmac.compare_digest(
                f"{scheme.capitalize()} {credentials.strip()}".encode(), expected
            ):
                return Response(
                    status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'}
                )
        body = await asyncio.to_thread(exposition, db)
        return Response(body, media_type="text/plain; version=0.0.4")

    return metrics


def metrics_app(db: Database, token: SecretStr | None) -> Starlette:
    """/metrics alone, for the address of WUYE_METRICS_LISTEN."""
    return Starlette(routes=[Route("/metrics", endpoint(db, token))])


def _listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that every worker process can bind too: with
    ``--workers N`` each worker serves /metrics, and the kernel hands each scrape to one of
    them (with PROMETHEUS_MULTIPROC_DIR, any one reports all)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


@asynccontextmanager
async def listening(
    db: Database, token: SecretStr | None, host: str, port: int
) -> AsyncIterator[None]:
    """/metrics served on host:port while the block runs, in the running event loop."""
    import uvicorn

    class Beside(uvicorn.Server):
        # It runs inside the main server's lifespan: the main server takes SIGTERM and
        # SIGINT and, stopping, stops this one. Left to install its own handlers, this one
        # would take the signal first and stop /metrics while the app still serves.
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    sock = _listening_socket(host, port)
    # No log_config, no log_level: a Config given them sets uvicorn's loggers up anew, for
    # the whole process, silencing the main server's and dropping the filters that hide
    # secrets (``logs.hide``).
    config = uvicorn.Config(
        metrics_app(db, token), lifespan="off", log_config=None, log_level=None, workers=1
    )
    server = Beside(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():  # it failed to start: say why
                serving.result()
                raise RuntimeError(f"/metrics could not be served on {host}:{port}")
            await asyncio.sleep(0.01)
        log.info("serving /metrics on %s:%s", host, port)
        yield
    finally:
        server.should_exit = True
        await serving
        sock.close()
