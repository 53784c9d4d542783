"""The clock: one leader among processes, catch-up at start, every notice once."""

from __future__ import annotations

import threading

import time_machine
import yaml
from sqlalchemy import func, select

from scheduler.clock import Clock
from storage.database import Database
from storage.estate import importer
from storage.outbox import service as outbox
from storage.outbox.models import OutboxMessage
from tests.conftest import SAMPLE, local


def digests(db: Database) -> int:
    with db.transaction() as session:
        return int(
            session.scalar(
                select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "digest")
            )
            or 0
        )


def test_two_scheduler_processes_send_one_digest(db: Database) -> None:
    with db.transaction() as session:
        importer.import_estate(session=session, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
    # Two processes: each its own connections, as two `wuye serve` would have.
    first, second = Database(db.settings), Database(db.settings)
    clock_a, clock_b = Clock(first), Clock(second)
    try:
        with time_machine.travel(local(2026, 11, 24, 18, 30), tick=False):
            clock_a.tick()
            clock_b.tick()
            assert digests(db) == 6  # five heads and the manager, once each
            clock_a.stop()  # the leader goes away; the other takes over, sends nothing twice
            assert clock_b.tick() == 0
            if db.engine.dialect.name == "postgresql":
                assert clock_b.leadership.held()
    finally:
        clock_a.stop()
        clock_b.stop()
        first.dispose()
        second.dispose()


def test_on_postgresql_only_the_lock_holder_runs_the_jobs(db: Database) -> None:
    if db.engine.dialect.name != "postgresql":
        assert Clock(db).leadership.held()  # SQLite serves one process: it always leads
        return
    other = Database(db.settings)
    leader, follower = Clock(db), Clock(other)
    try:
        assert leader.leadership.held()
        assert not follower.leadership.held()
        leader.stop()
        assert follower.leadership.held()
    finally:
        leader.stop()
        follower.stop()
        other.dispose()


def test_a_started_clock_catches_up_the_digest_missed_while_it_was_down(db: Database) -> None:
    with db.transaction() as session:
        importer.import_estate(session=session, data=yaml.safe_load(SAMPLE.read_text("utf-8")))
    queued = threading.Event()
    stop_waking = outbox.when_queued(db=db, callback=queued.set)  # as the dispatcher listens
    with time_machine.travel(local(2026, 11, 24, 20, 0), tick=False):
        clock = Clock(db)
        clock.start()  # the real APScheduler: every job runs at once on start
        try:
            assert queued.wait(30)
        finally:
            clock.stop()
            stop_waking()
    assert digests(db) == 6
