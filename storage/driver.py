"""Statements run for every message, on the database driver's own cursor.

Through SQLAlchemy a statement costs ten times what SQLite takes to run it: the compiled
form found in its cache, an execution context, a result object, and for the ORM the
loading of rows into objects and the unit of work that writes them back. For most
statements that is nothing beside a person's typing; for the few that every message runs
(its record, where its conversation stands, its replies) it was most of the engine's time.
Those are written here once as SQL and run on the cursor of the session's own connection,
in its transaction: their values are converted by their columns' own types, so that a row
written here is the row the ORM writes and a value read is the value it reads, and a
driver's error comes out as SQLAlchemy's (a lost connection invalidated, a busy database
an ``OperationalError``), as the callers' retries expect.

SQLAlchemy's events do not see these statements (``before_cursor_execute``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

# ":name", not "::type" (a PostgreSQL cast) nor a time's "12:30".
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")

Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Prepared:
    """A statement in one dialect's terms: its SQL in the driver's parameter style, and
    the conversions its values and its columns need there."""

    sql: str
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor | None, ...]


class DriverStatement:
    """One statement, written with ``:name`` parameters, for SQLite and PostgreSQL alike.

    ``binds`` names the parameters whose Python values a column type converts (an instant,
    JSON, an enum); ``results`` gives the type of each column returned (``None``: as the
    driver returns it).
    """

    def __init__(
        self,
        sql: str,
        *,
        binds: Mapping[str, TypeEngine[Any]] | None = None,
        results: Sequence[TypeEngine[Any] | None] = (),
        lock_rows_of: str | None = None,
    ) -> None:
        self.sql = sql
        # ``FOR UPDATE OF`` this table on PostgreSQL; SQLite has no row locks (every
        # transaction here holds its file's write lock from BEGIN IMMEDIATE).
        self.lock_rows_of = lock_rows_of
        self.binds = dict(binds or {})
        self.results = tuple(results)
        self._prepared: dict[str, _Prepared] = {}

    def rows(self, *, session: Session, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows it returns, each value as its column's type reads it."""
        connection = session.connection()
        prepared = self._for(connection.dialect)
        params = _bound(prepared, values)
        cursor = _execute(connection, prepared.sql, params)
        try:
            found = cursor.fetchall()
        except connection.dialect.loaded_dbapi.Error as error:
            raise _wrapped(connection, prepared.sql, params, error, cursor) from error
        finally:
            cursor.close()
        if not any(prepared.results):
            return [tuple(row) for row in found]
        return [
            tuple(
                value if process is None else process(value)
                for value, process in zip(row, prepared.results, strict=False)
            )
            for row in found
        ]

    def run(self, *, session: Session, values: Mapping[str, Any]) -> int:
        """Run it; how many rows it changed (-1, not known yet, inside ``together``)."""
        connection = session.connection()
        prepared = self._for(connection.dialect)
        cursor = _execute(connection, prepared.sql, _bound(prepared, values))
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_each(self, *, session: Session, values: Sequence[Mapping[str, Any]]) -> None:
        """Run it once for each set of values (the driver's ``executemany``)."""
        if not values:
            return
        connection = session.connection()
        prepared = self._for(connection.dialect)
        params = [_bound(prepared, each) for each in values]
        _execute(connection, prepared.sql, params, each=True).close()

    def _for(self, dialect: Dialect) -> _Prepared:
        prepared = self._prepared.get(dialect.name)
        if prepared is None:
            prepared = self._prepared[dialect.name] = self._prepare(dialect)
        return prepared

    def _prepare(self, dialect: Dialect) -> _Prepared:
        sql = self.sql
        if self.lock_rows_of is not None and dialect.name == "postgresql":
            sql += f" FOR UPDATE OF {self.lock_rows_of}"
        if dialect.paramstyle == "pyformat":  # psycopg
            sql = _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))
        elif dialect.paramstyle not in ("named", "qmark"):  # sqlite3 takes :name as well
            raise NotImplementedError(f"parameter style {dialect.paramstyle}")
        binds = tuple(
            (name, process)
            for name, type_ in self.binds.items()
            if (process := type_.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        results = tuple(
            None if type_ is None else type_.dialect_impl(dialect).result_processor(dialect, None)
            for type_ in self.results
        )
        return _Prepared(sql, binds, results)


@contextmanager
def together(session: Session) -> Iterator[None]:
    """The statements run in it go to the database together, and are waited for once, at
    the end: on PostgreSQL one round trip for writes whose results nobody reads (psycopg's
    pipeline mode), where each would be one. SQLite has no round trips: there they run as
    they come. Only this module's statements belong in it, and an error in any of them is
    raised at the end, as SQLAlchemy's."""
    connection = session.connection()
    pipeline = getattr(connection.connection.dbapi_connection, "pipeline", None)
    if pipeline is None:
        yield
        return
    try:
        with pipeline():
            yield
    except connection.dialect.loaded_dbapi.Error as error:
        raise _wrapped(connection, "(statements sent together)", None, error, None) from error


def _execute(connection: Connection, sql: str, params: Any, *, each: bool = False) -> Any:
    """The statement run on a cursor of the session's connection (``each``: once for each
    set of values), the cursor returned; a driver's error raised as SQLAlchemy's."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        (cursor.executemany if each else cursor.execute)(sql, params)
    except connection.dialect.loaded_dbapi.Error as error:
        cursor.close()
        raise _wrapped(connection, sql, params, error, cursor) from error
    return cursor


def _bound(prepared: _Prepared, values: Mapping[str, Any]) -> dict[str, Any]:
    params = dict(values)
    for name, process in prepared.binds:
        params[name] = process(params[name])
    return params


def _wrapped(
    connection: Connection, sql: str, params: Any, error: Any, cursor: Any
) -> exc.StatementError:
    """The driver's error as SQLAlchemy raises it; a connection found lost is invalidated,
    so that the pool does not hand it out again."""
    dialect = connection.dialect
    lost = bool(dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor))
    if lost:
        connection.invalidate(error)
    wrapped: exc.StatementError = exc.DBAPIError.instance(
        sql,
        params,
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return wrapped
