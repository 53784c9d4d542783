"""A copy of the database, and the database put back from one.

SQLite is copied with SQLite's online backup API: one step, inside one read transaction,
so the copy is a consistent snapshot while the service goes on writing (WAL lets readers
and the writer work at the same time; a plain file copy would miss the WAL's pages).
PostgreSQL is dumped with ``pg_dump`` in its custom format, itself one consistent
snapshot, and put back with ``pg_restore``. A restore leaves the schema at the current
head: an older backup is upgraded. Each copy and each restore is a line in the audit trail.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import ClassVar, Literal

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Engine, inspect, literal_column, select, table
from sqlalchemy.exc import DBAPIError

from storage.audit import service as audit
from storage.database import Database
from storage.errors import DomainError, InvalidInput

Kind = Literal["sqlite", "postgresql"]
KIND_LABELS: dict[Kind, str] = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
# Where Debian's packages put the client tools of each server version.
POSTGRES_BINARIES = "/usr/lib/postgresql/*/bin"
# What each kind of backup file begins with.
SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
ALEMBIC_TABLE = "alembic_version"


class TheDatabase:
    """What the audit trail names when the database as a whole is copied or put back."""

    audit_type: ClassVar[str] = "database"
    id: int = 0


THE_DATABASE = TheDatabase()


@dataclass(frozen=True)
class Backup:
    file: Path
    kind: Kind
    size: int
    database: str  # the URL, its password masked


@dataclass(frozen=True)
class Restore:
    file: Path
    kind: Kind
    database: str  # the URL, its password masked
    revision: str  # the schema the backup was written with
    schema: str  # the schema the database is at now
    upgraded: bool  # from the backup's schema to the current head
    current: bool  # the schema is the current head


def backup(*, db: Database, file: Path, force: bool = False) -> Backup:
    """Write a copy of ``db`` to ``file``, while the service keeps writing; an existing
    file is kept unless ``force``."""
    kind = kind_of(db)
    if file.exists() and not force:
        raise InvalidInput("{file} 已存在，不会覆盖（确认覆盖请用 --force）", file=str(file))
    if kind == "sqlite":
        source = _sqlite_path(db)
        if not source.exists():
            raise InvalidInput(
                "无法读取 {file}：{problem}", file=str(source), problem=os.strerror(errno.ENOENT)
            )
        if _same_file(source, file):
            raise InvalidInput("{file} 就是数据库本身", file=str(file))
    if _schema_of(db) is None:
        raise DomainError(
            "{what} 不是 wuye 的数据库（没有数据库结构版本）", what=masked_url(db.engine.url)
        )
    # Written beside the file and renamed into place: a failed backup leaves no half file,
    # and an earlier backup of the same name stays whole until the new one is.
    partial = file.with_name(file.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if kind == "sqlite":
            _copy_sqlite(
                f"{_sqlite_path(db).resolve().as_uri()}?mode=rw",
                str(partial),
                timeout=db.settings.sqlite_busy_timeout_ms / 1000,
            )
            # The copy comes in the service's WAL mode; a backup is better one file alone,
            # that opens anywhere, even read-only, with nothing beside it.
            with closing(sqlite3.connect(partial)) as copy:
                copy.execute("PRAGMA journal_mode=DELETE")
        else:
            _run_postgres_tool("pg_dump", db.engine.url, ["--format=custom", f"--file={partial}"])
        partial.replace(file)
    finally:
        partial.unlink(missing_ok=True)
    written = Backup(
        file=file, kind=kind, size=file.stat().st_size, database=masked_url(db.engine.url)
    )
    _audited(db, "backed_up", f"{file.resolve()} ({written.size} bytes)")
    return written


def _audited(db: Database, what: str, note: str) -> None:
    """A line in the trail of the database itself, by the system (a command, not a person)."""
    with db.transaction() as session:
        audit.record(
            session=session, obj=THE_DATABASE, from_state=None, to_state=what, actor=None, note=note
        )


def restore(*, db: Database, file: Path, force: bool = False) -> Restore:
    """Replace what ``db`` holds with the backup in ``file``, then bring its schema to the
    current head. A database that holds data is replaced only if ``force``."""
    kind = kind_of(db)
    if kind == "sqlite" and _same_file(_sqlite_path(db), file):
        raise InvalidInput("{file} 就是数据库本身", file=str(file))
    revision = _backup_revision(file, kind)
    _schema_of(db)  # the database can be reached before anything is changed
    scripts = ScriptDirectory.from_config(db.alembic_config())
    if revision is None:
        raise DomainError("{what} 不是 wuye 的数据库（没有数据库结构版本）", what=str(file))
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise DomainError(
            "{file} 的数据库结构版本 {revision} 比这个 wuye 的新：请用写出它的 wuye 版本恢复",
            file=str(file),
            revision=revision,
        )
    if not force and (tables := tables_with_data(db.engine)):
        raise InvalidInput(
            "{database} 已有数据（{tables}），恢复会替换全部数据（确认请用 --force）",
            database=masked_url(db.engine.url),
            tables=", ".join(tables[:3]) + ("…" if len(tables) > 3 else ""),
        )
    # No pooled connection may keep reading the database that is being replaced.
    db.dispose()
    if kind == "sqlite":
        _copy_sqlite(
            f"{file.resolve().as_uri()}?mode=ro&immutable=1",
            str(_sqlite_path(db)),
            timeout=db.settings.sqlite_busy_timeout_ms / 1000,
        )
    else:
        _drop_tables_not_in(db.engine, file)
        # One transaction: a restore that fails halfway leaves the database as it was.
        _run_postgres_tool(
            "pg_restore",
            db.engine.url,
            ["--clean", "--if-exists", "--no-owner", "--single-transaction", str(file)],
        )
    db.dispose()
    upgraded = not db.is_current()
    if upgraded:
        db.upgrade()
    # Checked again rather than assumed: what the report says is what the database holds.
    current = db.is_current()
    head = _revision(db.engine) or revision
    _audited(
        db,
        "restored",
        f"{file.resolve()} (schema {revision}" + (f", upgraded to {head})" if upgraded else ")"),
    )
    return Restore(
        file=file,
        kind=kind,
        database=masked_url(db.engine.url),
        revision=revision,
        schema=head,
        upgraded=upgraded,
        current=current,
    )


def kind_of(db: Database) -> Kind:
    return "sqlite" if db.engine.dialect.name == "sqlite" else "postgresql"


def masked_url(url: URL) -> str:
    """The URL to print: never its password."""
    return url.render_as_string(hide_password=True)


def tables_with_data(engine: Engine) -> list[str]:
    """The tables that hold at least one row; the schema's version alone is not data."""
    names = [name for name in inspect(engine).get_table_names() if name != ALEMBIC_TABLE]
    with engine.connect() as connection:
        return [
            name
            for name in sorted(names)
            if connection.execute(
                select(literal_column("1")).select_from(table(name)).limit(1)
            ).first()
        ]


def find_tool(name: str) -> str:
    """A PostgreSQL client tool: on PATH, else the newest of Debian's installed versions."""
    if found := shutil.which(name):
        return found
    installed = [Path(folder) / name for folder in glob(POSTGRES_BINARIES)]
    versions = sorted(
        (tool for tool in installed if os.access(tool, os.X_OK)),
        key=lambda tool: int(tool.parent.parent.name) if tool.parent.parent.name.isdigit() else 0,
    )
    if not versions:
        raise DomainError(
            "找不到 {tool}：请安装 PostgreSQL 客户端（postgresql-client），或把它放进 PATH",
            tool=name,
        )
    return str(versions[-1])


def _schema_of(db: Database) -> str | None:
    """The database's schema version; a database that cannot be reached says why."""
    try:
        return _revision(db.engine)
    except DBAPIError as error:
        problem = str(error.orig).strip()
        if db.engine.url.password:
            problem = problem.replace(db.engine.url.password, "***")
        raise DomainError(
            "无法连接 {database}：{problem}", database=masked_url(db.engine.url), problem=problem
        ) from None


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _sqlite_path(db: Database) -> Path:
    return Path(db.engine.url.database or "")


def _same_file(one: Path, other: Path) -> bool:
    return one.resolve() == other.resolve()


def _copy_sqlite(source: str, target: str, *, timeout: float) -> None:
    """Copy one SQLite database over another in one step of the online backup API."""
    try:
        with (
            closing(sqlite3.connect(source, uri=True, timeout=timeout)) as origin,
            closing(sqlite3.connect(target, timeout=timeout)) as copy,
        ):
            origin.backup(copy)
    except sqlite3.Error as error:
        raise DomainError(
            "{tool} 失败：{problem}", tool="SQLite backup", problem=str(error)
        ) from None


def _backup_kind(file: Path) -> Kind | None:
    try:
        with file.open("rb") as opened:
            start = opened.read(len(SQLITE_HEADER))
    except OSError as error:
        raise InvalidInput(
            "无法读取 {file}：{problem}",
            file=str(file),
            problem=error.strerror or type(error).__name__,
        ) from None
    if start.startswith(SQLITE_HEADER):
        return "sqlite"
    if start.startswith(PG_DUMP_HEADER):
        return "postgresql"
    return None


def _backup_revision(file: Path, kind: Kind) -> str | None:
    """The schema version the backup in ``file`` was written at, read before anything is
    replaced: a file that is not a backup of this kind, or of a wuye database, changes nothing."""
    if _backup_kind(file) != kind:
        raise InvalidInput(
            "{file} 不是 {kind} 数据库的备份", file=str(file), kind=KIND_LABELS[kind]
        )
    if kind == "sqlite":
        uri = f"{file.resolve().as_uri()}?mode=ro&immutable=1"
        try:
            with closing(sqlite3.connect(uri, uri=True)) as backed_up:
                row = backed_up.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error:
            return None
        return str(row[0]) if row else None
    # The archive's data for the version table, as the SQL pg_restore would run.
    listing = _run(
        "pg_restore",
        [f"--table={ALEMBIC_TABLE}", "--data-only", "--file=-", str(file)],
        env=dict(os.environ),
        secret=None,
    )
    lines = iter(listing.splitlines())
    for line in lines:
        if line.startswith("COPY ") and f".{ALEMBIC_TABLE} " in line:
            revision = next(lines, "\\.")
            return None if revision == "\\." else revision
    return None


def _drop_tables_not_in(engine: Engine, file: Path) -> None:
    """Drop the tables the backup does not hold, such as a newer migration's in a database
    upgraded before the restore, and the foreign keys of a newer migration's columns:
    ``--clean`` drops only what the backup holds, and a newer foreign key would stop it
    dropping the table it points at. Called only on a
    database that holds no data, or that ``force`` allows to be replaced."""
    inspector = inspect(engine)
    schema = inspector.default_schema_name
    listed = [
        fields
        for line in _run(
            "pg_restore", ["--list", str(file)], env=dict(os.environ), secret=None
        ).splitlines()
        if not line.startswith(";") and len(fields := line.split()) > 5
    ]
    backed_up = {fields[5] for fields in listed if fields[3:5] == ["TABLE", schema]}
    # A newer column's foreign key (on a table the backup holds) to a table --clean drops.
    foreign_keys = {fields[7] for fields in listed if fields[3:6] == ["FK", "CONSTRAINT", schema]}
    extra = sorted(set(inspector.get_table_names()) - backed_up)
    newer_keys = [
        (table, key["name"])
        for table in sorted(backed_up & set(inspector.get_table_names()))
        for key in inspector.get_foreign_keys(table)
        if key["name"] and key["name"] not in foreign_keys
    ]
    if not extra and not newer_keys:
        return
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as connection:
        for table, name in newer_keys:
            connection.exec_driver_sql(
                f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS {quote(name)}"
            )
        if extra:
            connection.exec_driver_sql(
                "DROP TABLE IF EXISTS " + ", ".join(quote(name) for name in extra) + " CASCADE"
            )


def _run_postgres_tool(name: str, url: URL, arguments: list[str]) -> str:
    """Run pg_dump or pg_restore on the URL's database; the password goes in the
    environment, where ``ps`` does not show it, never on the command line."""
    # libpq reads the same URL (host, port, user, database and query parameters such as
    # host=/var/run/postgresql or sslmode), less SQLAlchemy's driver and the password.
    conninfo = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    ).render_as_string(hide_password=False)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    return _run(name, [f"--dbname={conninfo}", *arguments], env=env, secret=url.password)


def _run(name: str, arguments: list[str], *, env: dict[str, str], secret: str | None) -> str:
    tool = find_tool(name)
    try:
        done = subprocess.run(  # noqa: S603  (our own arguments, no shell)
            [tool, *arguments], env=env, capture_output=True, text=True, check=False
        )
    except OSError as error:
        raise DomainError("{tool} 失败：{problem}", tool=name, problem=str(error)) from None
    if done.returncode != 0:
        # The error, without the notices pg_restore --clean prints on its way.
        problem = "; ".join(
            line.strip()
            for line in done.stderr.splitlines()
            if line.strip() and not line.startswith("NOTICE:")
        )
        if secret:
            problem = problem.replace(secret, "***")
        raise DomainError(
            "{tool} 失败：{problem}", tool=name, problem=problem or "exit " + str(done.returncode)
        )
    return done.stdout
