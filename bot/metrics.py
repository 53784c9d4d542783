"""What `GET /metrics` shows Prometheus: traffic, latency, the outbox, deliveries, jobs.

Counters live where their events happen; the outbox's depth and age are read from the
database when Prometheus scrapes, so every worker reports the same truth. With several
workers, set PROMETHEUS_MULTIPROC_DIR to a shared empty directory (prometheus-client's
multiprocess mode) so a scrape sees all of them.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from storage.clock import utcnow
from storage.database import Database
from storage.outbox.models import OutboxMessage, OutboxStatus

UPDATES = Counter(
    "wuye_updates_total", "Platform updates received, by outcome", ["platform", "outcome"]
)
HANDLING = Histogram(
    "wuye_update_handling_seconds",
    "Time to answer one update",
    ["platform"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
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
            depth, oldest = session.execute(
                select(func.count(OutboxMessage.id), func.min(OutboxMessage.created_at)).where(
                    OutboxMessage.status == OutboxStatus.PENDING
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
