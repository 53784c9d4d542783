"""The clock: one registry of jobs, run by APScheduler in whichever process leads.

Each job decides for itself whether its time has come (an estate's digest time, a
callback's due day, a deadline) and keys every notice it queues. So a tick a minute
runs them all, a digest missed at 18:30 because the process was down goes out when it
is back that day, and a job run twice (a restart, a second process) sends nothing twice.

APScheduler's defaults do not fit: a job a second late is skipped, and its job store
cannot be shared. Here late runs are coalesced into one and never skipped, the jobs
live in code, and on PostgreSQL only the holder of an advisory lock runs them; the
server releases the lock when the holder's connection dies, and another takes over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from prometheus_client import Counter
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from scheduler import jobs
from storage.clock import utcnow
from storage.database import Database

log = logging.getLogger(__name__)
LOCK_KEY = 0x77757965  # "wuye"


@dataclass(frozen=True)
class ClockJob:
    name: str
    run: Callable[[Session, datetime], int]
    every_minutes: int = 1


REGISTRY: tuple[ClockJob, ...] = (
    ClockJob("daily_digests", jobs.daily_digests),
    ClockJob("morning_briefings", jobs.morning_briefings),
    ClockJob("due_callbacks", jobs.due_callbacks),
    ClockJob("overdue_callbacks", jobs.overdue_callbacks),
    ClockJob("repair_deadlines", jobs.repair_deadlines),
    ClockJob("complaint_deadlines", jobs.complaint_deadlines),
    ClockJob("message_deadlines", jobs.message_deadlines),
    ClockJob("patrol_deadlines", jobs.patrol_deadlines),
    ClockJob("patrol_rounds", jobs.patrol_rounds),
    ClockJob("resident_notices", jobs.resident_notices),
    ClockJob("owner_surveys", jobs.owner_surveys, every_minutes=30),
    ClockJob("quality_sample", jobs.quality_sample, every_minutes=30),
    ClockJob("weekly_figures", jobs.weekly_figures, every_minutes=30),
    ClockJob("monthly_reports", jobs.monthly_reports, every_minutes=30),
    ClockJob("archive_patrol_records", jobs.archive_patrol_records, every_minutes=24 * 60),
    ClockJob("forget_seen_messages", jobs.forget_seen_messages, every_minutes=24 * 60),
    ClockJob("forget_failed_bindings", jobs.forget_failed_bindings, every_minutes=24 * 60),
    ClockJob("refresh_statistics", jobs.refresh_statistics, every_minutes=24 * 60),
)


JOB_RUNS = Counter("wuye_scheduler_job_runs_total", "Scheduler job runs", ["job", "result"])


def run_job(db: Database, job: ClockJob, now: datetime | None = None) -> int:
    """One job in its own transaction: committed whole, or rolled back and logged."""
    started = time.monotonic()
    try:
        with db.transaction() as session:
            queued = job.run(session, now or utcnow())
    except Exception:
        log.exception("job %s failed; rolled back", job.name)
        JOB_RUNS.labels(job.name, "error").inc()
        return 0
    JOB_RUNS.labels(job.name, "ok").inc()
    log.info(
        "job %s queued %d in %.2fs",
        job.name,
        queued,
        time.monotonic() - started,
        extra={"job": job.name, "queued": queued},
    )
    return queued


class Leadership:
    """Whether this process runs the clock. SQLite serves one process: always."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._holding: Connection | None = None

    def held(self) -> bool:
        if self.db.engine.dialect.name != "postgresql":
            return True
        if self._holding is not None:
            try:
                self._holding.execute(text("SELECT 1"))
                self._holding.commit()
                return True
            except DBAPIError:  # the connection (and with it the lock) is gone
                self._holding = None
        connection = self.db.engine.connect()
        got = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
            ).scalar()
        )
        connection.commit()  # the lock belongs to the session, not to this transaction
        if got:
            self._holding = connection
        else:
            connection.close()
        return got

    def release(self) -> None:
        if self._holding is not None:
            try:
                self._holding.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                self._holding.commit()
            finally:
                self._holding.close()
                self._holding = None


class Clock:
    def __init__(
        self,
        db: Database,
        *,
        registry: tuple[ClockJob, ...] = REGISTRY,
    ) -> None:
        self.db = db
        self.registry = registry
        self.leadership = Leadership(db)
        self._scheduler: BackgroundScheduler | None = None

    def run(self, job: ClockJob, now: datetime | None = None) -> int:
        if not self.leadership.held():
            return 0
        return run_job(self.db, job, now)

    def tick(self, now: datetime | None = None) -> int:
        """Every job once, now: what the scheduler does a minute at a time."""
        return sum(self.run(job, now) for job in self.registry)

    def start(self) -> None:
        scheduler = BackgroundScheduler(
            timezone=self.db.settings.tz,
            executors={"default": {"type": "threadpool", "max_workers": 1}},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        tick = self.db.settings.clock_tick_seconds
        for job in self.registry:
            scheduler.add_job(
                self.run,
                "interval",
                args=[job],
                id=job.name,
                seconds=tick * job.every_minutes,
                next_run_time=datetime.now(self.db.settings.tz),  # catch up at start
            )
        scheduler.start()
        self._scheduler = scheduler

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self.leadership.release()
