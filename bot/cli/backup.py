"""Backup and restore: a copy of the database while wuye runs, and the database put back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import database
from storage import backup as backups


def size(n: int) -> str:
    """A file's size as people read it: 812 B, 48.2 kB, 1.3 MB."""
    if n < 1000:
        return f"{n} B"
    thousands = min(len(str(n)) - 1, 9) // 3  # 1: kB, 2: MB, 3: GB
    return f"{n / 1000**thousands:.1f} {('kB', 'MB', 'GB')[thousands - 1]}"


def backup(
    file: Annotated[Path, typer.Argument(dir_okay=False, help="Where to write the backup.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE if it exists.")] = False,
) -> None:
    """Back up the database to FILE, safely while wuye runs.

    SQLite: a copy made with SQLite's backup API; PostgreSQL: pg_dump -Fc. An existing FILE
    is kept unless --force."""
    # The copy is of the database as it is: backing up does not migrate it.
    with database(upgrade=False) as db:
        written = backups.backup(db=db, file=file, force=force)
    typer.echo(
        f"backed up {written.database} ({backups.KIND_LABELS[written.kind]}) "
        f"to {written.file}: {size(written.size)}"
    )


def restore(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="A wuye backup.")
    ],
    force: Annotated[
        bool, typer.Option("--force", help="Replace a database that already holds data.")
    ] = False,
) -> None:
    """Restore the database (WUYE_DATABASE_URL) from a FILE written by `wuye backup`.

    Stop wuye first. A database that already holds data is replaced only with --force. The
    schema is then brought to the current version: an older backup is upgraded."""
    with database(upgrade=False) as db:
        restored = backups.restore(db=db, file=file, force=force)
    typer.echo(
        f"restored {restored.file} into {restored.database} ({backups.KIND_LABELS[restored.kind]})"
    )
    if not restored.current:
        typer.echo(f"schema: {restored.schema}, NOT the current head: run `wuye db upgrade`")
    elif restored.upgraded:
        typer.echo(f"schema: upgraded from {restored.revision} to {restored.schema} (current)")
    else:
        typer.echo(f"schema: {restored.schema} (current)")
