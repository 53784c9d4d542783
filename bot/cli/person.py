"""A person's own information (个人信息保护法): their copy of everything held about them,
and its erasure. Both go into the person's trail, with the login that ran the command."""

from __future__ import annotations

import getpass
import json
import os
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from bot.cli.common import unit_of_work
from storage.people import privacy

person_app = typer.Typer(
    help="A person's own information: export everything held about them, or erase it.",
    no_args_is_help=True,
)

PhoneOption = Annotated[str, typer.Option("--phone", help="The person's phone number on file.")]


def operator() -> str:
    """Who asked, for the trail: a command has no chat account, the shell has a login."""
    try:
        return f"命令行 {getpass.getuser()}"
    except OSError:  # no login name (a container's anonymous user)
        return "命令行"


def _write_private(path: Path, text: str) -> None:
    """Readable by the owner of the file alone, from its first byte: it is personal data."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


@person_app.command("export")
def person_export(
    phone: PhoneOption,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the JSON to this file, not the screen.")
    ] = None,
) -> None:
    """Everything held about a person, as JSON: their row, units, chat accounts, tickets
    with texts and attachments, callbacks, binding requests, messages, audit trail."""
    with unit_of_work() as (session, _):
        person = privacy.find_by_phone(session=session, phone=phone)
        data = privacy.export(session=session, person=person, requested_by=operator())
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        # Written before the export's trail line is committed: no line for a file not written.
        if out is None:
            typer.echo(text, nl=False)
        else:
            _write_private(out, text)
            typer.echo(f"written: {out}")


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{table} {n}" for table, n in sorted(counts.items())) or "nothing"


@person_app.command("forget")
def person_forget(
    phone: PhoneOption,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase a person: chat accounts, conversations, binding requests, units and messages
    are removed; tickets, callbacks and the audit trail stay under an anonymous name,
    without the phone or what the person wrote, so that the monthly figures do not change."""
    with unit_of_work() as (session, settings):
        person = privacy.find_by_phone(session=session, phone=phone)
        if not yes:
            typer.confirm(
                f"Erase everything held about {person.name} "
                f"({privacy.mask_phone(person.phone or '')}, #{person.id})? "
                "Their tickets stay, anonymous. This cannot be undone.",
                abort=True,
            )
        done = privacy.forget(session=session, person=person, requested_by=operator())
    # Only once the erasure is committed: a rolled-back one still needs its photos.
    files = privacy.remove_files(done.files, attachments_dir=settings.attachments_dir)
    typer.echo(f"forgotten: #{done.person_id} is now {done.label}")
    typer.echo(f"  removed: {_counts(done.removed)}; files {files}")
    typer.echo(f"  cleared: {_counts(done.blanked)}")
