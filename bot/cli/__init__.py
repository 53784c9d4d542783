"""The ``wuye`` command: running wuye, administering estates, backing up and restoring the
database, the desk's read-outs, the clock's jobs, each platform's own commands, and the
developers' tools."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import typer

from bot.channels import REGISTRY
from bot.cli import (
    admin,
    backup,
    developers,
    duty,
    jobs,
    notices,
    person,
    readouts,
    residents,
    running,
)
from storage.config import SettingsError
from storage.errors import DomainError

app = typer.Typer(
    help="wuye 物业: the property-management service desk in chat.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
for command in (running.run, running.chat, running.serve, running.poll):
    app.command()(command)
app.command()(admin.invite)
app.command()(backup.backup)
app.command()(backup.restore)
app.command()(readouts.digest)
for name, group in (
    ("db", admin.db_app),
    ("estate", admin.estate_app),
    ("duty", duty.duty_app),
    ("tickets", readouts.tickets_app),
    ("patrols", readouts.patrols_app),
    ("callbacks", readouts.callbacks_app),
    ("report", readouts.report_app),
    ("person", person.person_app),
    ("residents", residents.residents_app),
    ("notice", notices.notice_app),
    ("survey", notices.survey_app),
    ("jobs", jobs.jobs_app),
    ("i18n", developers.i18n_app),
):
    app.add_typer(group, name=name)
for platform in REGISTRY:  # `wuye wechat menu`, `wuye wecom link`
    if platform.commands is not None:
        app.add_typer(platform.commands, name=platform.platform)


def main(argv: list[str] | None = None) -> None:
    """Entry point: a bad setting or a refused request ends with its reason, not a traceback."""
    runner: Callable[..., Any] = app
    try:
        runner(args=argv, standalone_mode=True)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        sys.exit(2)
    except DomainError as exc:
        typer.echo(f"wuye: {exc}", err=True)
        sys.exit(1)
