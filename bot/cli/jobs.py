"""The scheduler's jobs, on demand: what they would send now, or queued."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import func, select

from bot.cli.common import database
from scheduler.clock import REGISTRY
from storage.clock import utcnow
from storage.outbox.models import OutboxMessage

jobs_app = typer.Typer(help="The scheduler's jobs, on demand.", no_args_is_help=True)


@jobs_app.command("list")
def jobs_list() -> None:
    """The jobs the scheduler runs, and how often."""
    for job in REGISTRY:
        typer.echo(
            f"{job.name:24} every {job.every_minutes} min  {job.run.__doc__ or ''}".split("\n")[0]
        )


@jobs_app.command("run")
def jobs_run(
    job: Annotated[str | None, typer.Argument(help="A job's name; all when omitted.")] = None,
    send: Annotated[bool, typer.Option("--send", help="Keep what it queues.")] = False,
) -> None:
    """Run jobs now, as the scheduler would: a dry run shows what they would send and keeps
    nothing; with --send their notices are queued (each at most once, as always)."""
    chosen = [j for j in REGISTRY if job in (None, j.name)]
    if not chosen:
        raise typer.BadParameter(f"no job {job!r}: see `wuye jobs list`")
    with database() as db, db.session() as session, session.begin() as transaction:
        before = session.scalar(select(func.max(OutboxMessage.id))) or 0
        now = utcnow()
        for each in chosen:
            typer.echo(f"{each.name}: {each.run(session, now)}")
        for notice in session.scalars(
            select(OutboxMessage).where(OutboxMessage.id > before).order_by(OutboxMessage.id)
        ):
            who = notice.recipient.name if notice.recipient else notice.chat_id
            typer.echo(f"  → {who}: " + notice.text.replace("\n", "\n    "))
        if not send:
            transaction.rollback()
            typer.echo("(dry run: nothing kept; --send to queue)")
