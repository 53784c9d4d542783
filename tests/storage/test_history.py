"""An estate's history grows every day; the evening's work must not grow with it.

The 18:30 digest and the due callbacks read today's work and what is still open. Years of
closed tickets are in the same tables, and SQLite's planner (no per-value statistics in
the build Python ships) can be led into walking all of them. These tests count the
virtual-machine steps SQLite takes, which do not depend on the machine's speed: ten
thousand closed tickets must leave the count nearly where it was. The statistics are
fresh, as the scheduler keeps them (``refresh_statistics``, at start and nightly).
PostgreSQL plans from per-value statistics; the benchmark measures it at scale.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from scheduler.jobs import refresh_statistics
from storage.callback import service as callbacks
from storage.callback.models import Callback
from storage.clock import utcnow
from storage.figures.daily import day_activity
from storage.ticket import complaints, queries, repairs
from storage.ticket.models import RepairCategory, Ticket
from tests.conftest import SampleEstate, local
from tests.history import its_callback, past_repair

HISTORY = 10_000


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the planner under test is SQLite's."""
    path = tmp_path / "wuye.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def steps(session: Session, work: Callable[[], object]) -> int:
    """SQLite VM instructions (in thousands) that ``work`` costs."""
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    counted = [0]

    def count() -> int:
        counted[0] += 1
        return 0  # 0: go on

    raw.set_progress_handler(count, 1000)
    try:
        work()
    finally:
        raw.set_progress_handler(None, 0)
    return counted[0]


def add_history(cuihu: SampleEstate, count: int) -> None:
    """``count`` repairs from the past four years, all done, called back and closed."""
    unit_id, reporter_id, now = cuihu.unit("1-1-502").id, cuihu.person("张伟").id, utcnow()
    rows = [
        past_repair(n, now=now, estate_id=cuihu.id, unit_id=unit_id, reporter_id=reporter_id)
        for n in range(count)
    ]
    ids = cuihu.session.scalars(insert(Ticket).returning(Ticket.id), rows).all()
    cuihu.session.execute(
        insert(Callback), [its_callback(i, row) for i, row in zip(ids, rows, strict=True)]
    )


def test_the_evening_queries_do_not_walk_the_estate_history(cuihu: SampleEstate) -> None:
    s = cuihu.session
    repair = repairs.report_repair(
        session=s,
        actor=cuihu.person("张伟"),
        unit_id=cuihu.unit("1-1-502").id,
        category=RepairCategory.PLUMBING,
        description="厨房漏水",
    )
    cuihu.dispatch(repair, to="周师傅")
    complaint = complaints.file_complaint(
        session=s,
        actor=cuihu.person("李强"),
        unit_id=cuihu.unit("2-2-301").id,
        subject="楼道灯不亮",
        description="三楼楼道灯坏了一周",
    )
    cuihu.forward(complaint, to="bj")
    today, now = local(2026, 11, 23).date(), utcnow() + timedelta(days=2)

    def evening() -> None:
        activity = day_activity(session=s, estate_id=cuihu.id, day=today, now=now)
        assert sum(d.still_open for d in activity.departments.values()) == 2
        callbacks.due(session=s, estate_id=cuihu.id, on=today)
        queries.overdue_work(session=s, estate_id=cuihu.id, now=now)
        queries.complaints_not_replied(session=s, estate_id=cuihu.id, now=now)
        queries.assignable(session=s, estate_id=cuihu.id)
        queries.open_complaints(session=s, estate_id=cuihu.id)

    before = steps(s, evening)
    add_history(cuihu, HISTORY)
    refresh_statistics(s, utcnow())
    after = steps(s, evening)

    # Walking the history costs dozens of steps per closed ticket; the open work is two.
    assert after <= before * 1.5 + 20, f"{before}k VM steps before the history, {after}k after"
