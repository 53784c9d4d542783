"""What the commands share: the options people type, a unit of work, printing rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session

from storage.clock import local_date, utcnow
from storage.config import Settings, load_settings
from storage.database import Database, opened
from storage.estate import service as estates
from storage.estate.models import Estate

EstateOption = Annotated[str | None, typer.Option("--estate", help="Estate code; all if omitted.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@contextmanager
def database(*, upgrade: bool = True) -> Iterator[Database]:
    """The database of the settings in the environment, migrated, closed afterwards."""
    with opened(load_settings(), upgrade=upgrade) as db:
        yield db


@contextmanager
def unit_of_work() -> Iterator[tuple[Session, Settings]]:
    with database() as db, db.transaction() as session:
        yield session, db.settings


def estate_id(session: Session, code: str | None) -> int | None:
    return estates.get_estate(session=session, code=code).id if code else None


def estates_named(session: Session, code: str | None) -> list[Estate]:
    if code:
        return [estates.get_estate(session=session, code=code)]
    return estates.list_estates(session=session)


def emit(rows: list[dict[str, Any]], as_json: bool, columns: list[str]) -> None:
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("（无）")
        return
    for row in rows:
        typer.echo("  ".join(str(row[c]) if row[c] is not None else "—" for c in columns))


def parse_day(value: str | None, settings: Settings) -> date:
    """A local day given as 2026-11-23; today when not given."""
    if value is None:
        return local_date(utcnow(), settings.tz)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-23") from None
