"""Every storage test runs twice: on a real SQLite file and on a real PostgreSQL server.

PostgreSQL comes from ``WUYE_TEST_POSTGRES_URL`` (``tests/run.sh`` starts the
server and creates a throw-away database). Without it the PostgreSQL half is
skipped with a reason, unless ``WUYE_REQUIRE_POSTGRES=1`` (the test command and
CI), where a missing server is an error: nothing is skipped silently.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from storage.base import Base
from storage.callback import service as callbacks
from storage.callback.models import Callback, Satisfaction
from storage.config import Settings, load_settings
from storage.database import Database
from storage.estate import importer
from storage.estate import service as estates
from storage.estate.models import Estate, Unit
from storage.outbox.notice import Notice
from storage.patrol import service as patrols
from storage.patrol.models import PatrolFinding
from storage.people.models import Department, Person, StaffMember
from storage.ticket import complaints, lifecycle, repairs
from storage.ticket.models import RepairCategory, Ticket

SHANGHAI = ZoneInfo("Asia/Shanghai")
SAMPLE = importer.SAMPLE
REQUIRE_POSTGRES = os.environ.get("WUYE_REQUIRE_POSTGRES") == "1"
# pytest-xdist's workers (tests/run.sh runs two) each get a database of their own, made
# beside the one given and dropped when the worker is done: a truncate in one worker must
# not empty another's tables.
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def _workers_database(given: str | None) -> str | None:
    if given is None or WORKER is None:
        return given
    url = make_url(given)
    return url.set(database=f"{url.database}_{WORKER}").render_as_string(hide_password=False)


POSTGRES_URL = _workers_database(os.environ.get("WUYE_TEST_POSTGRES_URL"))


def _workers_database_anew(*, create: bool) -> None:
    """The worker's database dropped (left by a run that was killed), and made again."""
    given = os.environ.get("WUYE_TEST_POSTGRES_URL")
    if given is None or POSTGRES_URL is None or given == POSTGRES_URL:
        return
    name = make_url(POSTGRES_URL).database
    server = create_engine(given, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if create:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def pytest_sessionstart(session: pytest.Session) -> None:
    _workers_database_anew(create=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _workers_database_anew(create=False)


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A moment on the estate's wall clock (Asia/Shanghai)."""
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


def answer_notice(number: str = "TS000001", reply: str = "已处理") -> Notice:
    """A complaint's answer for its owner, as ``storage.ticket.notices`` words it."""
    return Notice(
        "complaint_replied",
        "您的投诉 {number} 答复如下：\n{reply}",
        {"number": number, "reply": reply},
    )


def wait_until(condition: Callable[[], bool], seconds: float = 30) -> None:
    """For work in another thread or process: check, and wait on an event nobody sets, briefly."""
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        pause.wait(0.1)


@pytest.fixture
def at() -> Iterator[time_machine.Traveller]:
    """Time stands still; tests move it with ``at.move_to(local(...))``."""
    with time_machine.travel(local(2026, 11, 23, 9, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: migrating once keeps the suite fast."""
    path = tmp_path_factory.mktemp("template") / "wuye.db"
    db = Database(load_settings(database_url=f"sqlite:///{path}"))
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Database]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("WUYE_REQUIRE_POSTGRES=1 but WUYE_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured: set WUYE_TEST_POSTGRES_URL (tests/run.sh does)")
    db = Database(load_settings(database_url=POSTGRES_URL))
    db.upgrade()
    yield db
    db.dispose()


def _truncate(db: Database) -> None:
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "wuye.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    db: Database = request.getfixturevalue("postgres_database")
    _truncate(db)
    assert POSTGRES_URL is not None
    yield POSTGRES_URL


# For a test of PostgreSQL alone: ``@ON_POSTGRESQL_ONLY`` before it, and ``db`` is there.
ON_POSTGRESQL_ONLY = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


def server_drops_connection(db: Database) -> int:
    """PostgreSQL ends the connection ``db`` pooled last, as a restart or a failover would.
    Returns the server process that served it."""
    with db.engine.connect() as connection:
        pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    outside = create_engine(db.engine.url, poolclass=NullPool)
    with outside.connect() as connection:
        ended = connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        assert ended.scalar_one()
    outside.dispose()
    return int(pid)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # Charts and downloads go to the test's own folder, never into the checkout.
    return load_settings(
        database_url=db_url,
        attachments_dir=tmp_path / "attachments",
        inbox_dir=tmp_path / "inbox",
    )


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


@dataclass
class SampleEstate:
    """The sample estate (``importer.SAMPLE``), with lookups by the names people use."""

    session: Session
    estate: Estate

    @property
    def id(self) -> int:
        return self.estate.id

    def person(self, name: str) -> Person:
        person = self.session.scalar(select(Person).where(Person.name == name))
        assert person is not None, name
        return person

    def staff(self, name: str) -> StaffMember:
        member = self.session.scalar(select(StaffMember).join(Person).where(Person.name == name))
        assert member is not None, name
        return member

    def unit(self, designation: str) -> Unit:
        return estates.find_unit(
            session=self.session, estate_id=self.estate.id, designation=designation
        )

    def dispatch(self, ticket: Ticket, to: str | None = None, by: str = "陈静") -> None:
        """The desk sends a repair to a technician, or with ``to`` omitted to engineering."""
        repairs.dispatch_repair(
            session=self.session,
            ticket_id=ticket.id,
            actor=self.person(by),
            assignee_id=self.staff(to).id if to else None,
        )

    def repair_done(
        self, at: time_machine.Traveller, category: RepairCategory, done: datetime
    ) -> Ticket:
        """张伟's repair in 1-1-502, dispatched to 周师傅, who finishes it at ``done``."""
        ticket = repairs.report_repair(
            session=self.session,
            actor=self.person("张伟"),
            unit_id=self.unit("1-1-502").id,
            category=category,
            description="需要维修",
        )
        self.dispatch(ticket, to="周师傅")
        lifecycle.accept(session=self.session, ticket_id=ticket.id, actor=self.person("周师傅"))
        at.move_to(done)
        repairs.finish_repair(
            session=self.session, ticket_id=ticket.id, actor=self.person("周师傅"), note="已修复"
        )
        return ticket

    def forward(self, complaint: Ticket, to: str, by: str = "陈静") -> None:
        """The desk forwards a complaint to a department, by the department's code."""
        complaints.forward_complaint(
            session=self.session,
            ticket_id=complaint.id,
            actor=self.person(by),
            department_id=self.department(to).id,
        )

    def extend(
        self, finding: PatrolFinding, *, asked_by: str, approved_by: str, to: date, reason: str
    ) -> None:
        """The department asks for more time (申请延期) and its head approves it."""
        request = patrols.request_extension(
            session=self.session,
            finding_id=finding.id,
            actor=self.person(asked_by),
            new_due_on=to,
            reason=reason,
        )
        patrols.decide_extension(
            session=self.session,
            request_id=request.id,
            actor=self.person(approved_by),
            approve=True,
        )

    def department(self, code: str) -> Department:
        department = self.session.scalar(
            select(Department).where(
                Department.estate_id == self.estate.id, Department.code == code
            )
        )
        assert department is not None, code
        return department

    def callback(self, ticket: Ticket) -> Callback:
        """The ticket's callback still to be made."""
        callback = callbacks.pending_for_ticket(session=self.session, ticket_id=ticket.id)
        assert callback is not None, ticket.number
        return callback

    def called_back(
        self,
        ticket: Ticket,
        satisfaction: Satisfaction = Satisfaction.SATISFIED,
        by: str = "陈静",
        note: str | None = None,
    ) -> Callback:
        """Someone (by default the desk) records the ticket's callback."""
        return callbacks.record(
            session=self.session,
            callback_id=self.callback(ticket).id,
            actor=self.person(by),
            satisfaction=satisfaction,
            note=note,
        )


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """One unit of work for a test, rolled back at the end."""
    with db.session() as s, s.begin():
        yield s


@pytest.fixture
def sample_data() -> object:
    return yaml.safe_load(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture
def cuihu(session: Session, sample_data: object, at: time_machine.Traveller) -> SampleEstate:
    importer.import_estate(session=session, data=sample_data)
    return SampleEstate(session, estates.get_estate(session=session, code="cuihu"))
