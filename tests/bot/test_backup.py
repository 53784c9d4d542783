"""The restore drill: `wuye backup` of a database in use, `wuye restore` into another, and
the desk going on from the copy, on SQLite and on PostgreSQL."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bot.cli import app, main
from storage import backup as backups
from storage.audit.models import AuditEvent
from storage.config import load_settings
from storage.database import Database
from storage.estate import importer
from storage.estate import service as estates
from storage.people.models import Person
from storage.ticket import repairs
from storage.ticket.models import RepairCategory, Ticket
from tests.conftest import ON_POSTGRESQL_ONLY, wait_until

PASSWORD = "s3cret-not-for-print"


@pytest.fixture
def wuye(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WUYE_DATABASE_URL", db_url)
    return CliRunner()


@pytest.fixture
def estate(db: Database, sample_data: object) -> None:
    """The sample estate, committed: what a running desk's database holds."""
    with db.transaction() as session:
        importer.import_estate(session=session, data=sample_data)


@pytest.fixture
def new_database(db_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases of the test's kind (a file not there yet, or a database made
    with CREATE DATABASE on the test server), dropped afterwards."""
    made: list[str] = []

    def make() -> str:
        name = f"wuye_restore_{uuid.uuid4().hex[:12]}"
        if db_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / name}.db"
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(db_url).set(database=name).render_as_string(hide_password=False)

    server = create_engine(db_url, isolation_level="AUTOCOMMIT")
    yield make
    with server.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def report_repair(db: Database) -> int:
    """张伟 reports a repair in his flat; the new ticket's id, once committed."""
    with db.transaction() as session:
        estate = estates.get_estate(session=session, code="cuihu")
        owner = session.scalars(select(Person).where(Person.name == "张伟")).one()
        unit = estates.find_unit(session=session, estate_id=estate.id, designation="1-1-502")
        ticket = repairs.report_repair(
            session=session,
            actor=owner,
            unit_id=unit.id,
            category=RepairCategory.PLUMBING,
            description="厨房水管漏水",
        )
        return ticket.id


class Desk(threading.Thread):
    """The service at work: repairs reported one after another, each committed."""

    def __init__(self, db: Database) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.committed: list[int] = []  # ticket ids, in the order their commits returned
        self.closing = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.closing.is_set():
                self.committed.append(report_repair(self.db))
        except BaseException as error:  # the test says what went wrong, not a hung join
            self.error = error


def tickets_in(url: str) -> list[int]:
    db = Database(load_settings(database_url=url))
    try:
        with db.transaction() as session:
            return list(session.scalars(select(Ticket.id).order_by(Ticket.id)))
    finally:
        db.dispose()


def audited(url: str, state: str) -> list[AuditEvent]:
    db = Database(load_settings(database_url=url))
    try:
        with db.transaction() as session:
            return list(
                session.scalars(
                    select(AuditEvent).where(
                        AuditEvent.object_type == "database", AuditEvent.to_state == state
                    )
                )
            )
    finally:
        db.dispose()


def refusal(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """What `wuye ARGS` says when it refuses: one line, exit status 1."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as ended:
        main(args)
    assert ended.value.code == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    return line


@pytest.mark.usefixtures("estate")
def test_a_busy_database_is_backed_up_restored_into_a_new_one_and_the_desk_goes_on(
    wuye: CliRunner, db: Database, db_url: str, tmp_path: Path, new_database: Callable[[], str]
) -> None:
    file = tmp_path / "wuye.backup"
    desk = Desk(db)
    desk.start()
    try:
        wait_until(lambda: len(desk.committed) >= 3)
        before = list(desk.committed)  # committed before the backup began
        backed_up = wuye.invoke(app, ["backup", str(file)])
        after = len(desk.committed)
        wait_until(lambda: len(desk.committed) > after)  # the desk was not stopped by it
    finally:
        desk.closing.set()
        desk.join()
    assert desk.error is None
    assert backed_up.exit_code == 0, backed_up.output
    assert after > len(before)  # repairs were committed while the backup ran
    kind = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    assert f"({kind}) to {file}: " in backed_up.output
    assert [event.actor_label for event in audited(db_url, "backed_up")] == ["system"]

    target = new_database()
    restored = wuye.invoke(app, ["restore", str(file)], env={"WUYE_DATABASE_URL": target})
    assert restored.exit_code == 0, restored.output
    assert f"restored {file} into " in restored.output
    assert "(current)" in restored.output

    copied = tickets_in(target)
    assert set(before) <= set(copied)
    # One consistent moment: the tickets up to some commit, each whole, none after a gap.
    assert copied == desk.committed[: len(copied)]
    [event] = audited(target, "restored")
    assert event.actor_label == "system"
    assert str(file) in (event.note or "")

    db_restored = Database(load_settings(database_url=target))
    try:
        assert db_restored.is_current()
        with db_restored.transaction() as session:
            trails = session.scalar(
                select(func.count(func.distinct(AuditEvent.object_id))).where(
                    AuditEvent.object_type == "ticket"
                )
            )
        assert trails == len(copied)  # every ticket came with its audit trail
        new = report_repair(db_restored)  # the desk goes on from the copy
    finally:
        db_restored.dispose()
    assert new not in copied
    assert tickets_in(target) == [*copied, new]


def test_a_backup_never_overwrites_a_file_unless_forced(
    wuye: CliRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "wuye.backup"
    file.write_bytes(b"last week's backup")
    line = refusal(["backup", str(file)], capsys)
    assert line == f"wuye: {file} 已存在，不会覆盖（确认覆盖请用 --force）"
    assert file.read_bytes() == b"last week's backup"
    forced = wuye.invoke(app, ["backup", str(file), "--force"])
    assert forced.exit_code == 0, forced.output
    assert file.read_bytes()[:5] in (b"SQLit", b"PGDMP")
    assert list(tmp_path.glob("*.partial")) == []


@pytest.mark.usefixtures("estate")
def test_a_restore_over_data_is_refused_unless_forced(
    wuye: CliRunner, db: Database, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = report_repair(db)
    file = tmp_path / "wuye.backup"
    assert wuye.invoke(app, ["backup", str(file)]).exit_code == 0
    later = report_repair(db)

    line = refusal(["restore", str(file)], capsys)
    assert "已有数据" in line
    assert "恢复会替换全部数据（确认请用 --force）" in line
    assert tickets_in(db_url) == [first, later]  # nothing was touched

    db.dispose()  # the desk is stopped for a restore over its own database
    forced = wuye.invoke(app, ["restore", str(file), "--force"])
    assert forced.exit_code == 0, forced.output
    assert tickets_in(db_url) == [first]


def test_an_older_backup_is_restored_and_upgraded_to_the_current_schema(
    wuye: CliRunner,
    db_url: str,
    tmp_path: Path,
    new_database: Callable[[], str],
    request: pytest.FixtureRequest,
) -> None:
    old, target = new_database(), new_database()
    if db_url.startswith("sqlite"):  # a copy of the migrated file is quicker than migrating
        for url in (old, target):
            shutil.copy(request.getfixturevalue("sqlite_template"), make_url(url).database or "")
    else:
        # The new database was already set up by a wuye command (each one upgrades it):
        # empty, but with tables of the newer schema, which the backup does not know.
        assert wuye.invoke(app, ["db", "upgrade"], env={"WUYE_DATABASE_URL": target}).exit_code == 0
    source = Database(load_settings(database_url=old))
    scripts = ScriptDirectory.from_config(source.alembic_config())
    head = scripts.get_current_head()
    assert head is not None
    previous = scripts.get_revision(head).down_revision
    assert isinstance(previous, str)
    if db_url.startswith("sqlite"):
        command.downgrade(source.alembic_config(), previous)
    else:
        source.upgrade(previous)
    source.dispose()
    file = tmp_path / "old.backup"
    written = wuye.invoke(app, ["backup", str(file)], env={"WUYE_DATABASE_URL": old})
    assert written.exit_code == 0, written.output

    restored = wuye.invoke(app, ["restore", str(file)], env={"WUYE_DATABASE_URL": target})
    assert restored.exit_code == 0, restored.output
    assert f"schema: upgraded from {previous} to {head} (current)" in restored.output
    upgraded = Database(load_settings(database_url=target))
    assert upgraded.is_current()
    upgraded.dispose()


def test_what_is_not_a_backup_of_this_database_is_refused(
    wuye: CliRunner, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n", encoding="utf-8")
    kind = "SQLite" if db_url.startswith("sqlite") else "PostgreSQL"
    line = refusal(["restore", str(notes)], capsys)
    assert line == f"wuye: {notes} 不是 {kind} 数据库的备份"


@ON_POSTGRESQL_ONLY
def test_without_pg_dump_the_backup_says_what_to_install(
    wuye: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    monkeypatch.setattr(backups, "POSTGRES_BINARIES", str(tmp_path / "postgresql" / "*" / "bin"))
    line = refusal(["backup", "wuye.dump"], capsys)
    assert line == (
        "wuye: 找不到 pg_dump：请安装 PostgreSQL 客户端（postgresql-client），或把它放进 PATH"
    )
    assert list(tmp_path.glob("wuye.dump*")) == []


@pytest.fixture
def with_password(db_url: str, wuye: CliRunner, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test database's URL with a password in it (the socket's peer login ignores it)."""
    url = make_url(db_url).set(password=PASSWORD).render_as_string(hide_password=False)
    monkeypatch.setenv("WUYE_DATABASE_URL", url)
    return url


@ON_POSTGRESQL_ONLY
@pytest.mark.usefixtures("with_password")
def test_the_password_is_never_printed(
    wuye: CliRunner, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    written = wuye.invoke(app, ["backup", "wuye.dump"])
    assert written.exit_code == 0, written.output
    assert ":***@" in written.output
    assert PASSWORD not in written.output
    # Back over the database it came from, which holds data now: the backup's audit line.
    line = refusal(["restore", "wuye.dump"], capsys)
    assert ":***@" in line
    assert PASSWORD not in line


@ON_POSTGRESQL_ONLY
@pytest.mark.usefixtures("with_password")
def test_a_failing_pg_dump_is_reported_with_its_error_and_leaves_no_file(
    wuye: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A pg_dump older than the server, say: it notes what it was given, and fails.
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = tools / "pg_dump"
    fake.write_text(
        "#!/bin/sh\n"
        'printf "%s\\n" "$@" > "$0.args"\n'
        'echo "pg_dump: error: aborting because of server version mismatch" >&2\n'
        'echo "pg_dump: detail: tried with password $PGPASSWORD" >&2\n'
        "exit 1\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{Path('/usr/bin')}:{Path('/bin')}")
    line = refusal(["backup", "wuye.dump"], capsys)
    assert line == (
        "wuye: pg_dump 失败：pg_dump: error: aborting because of server version mismatch; "
        "pg_dump: detail: tried with password ***"
    )
    # The password reached pg_dump in its environment, never on its command line.
    assert PASSWORD not in (tools / "pg_dump.args").read_text(encoding="utf-8")
    assert list(tmp_path.glob("wuye.dump*")) == []
