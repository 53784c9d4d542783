"""Running wuye: the console chat (with the sample estate, or as it is), the web server,
and Telegram by long polling."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from bot import logs
from bot.cli.admin import describe, imported
from bot.cli.common import database
from bot.console import Console, ConsoleChannel
from bot.dispatcher import Dispatcher
from conversations.engine import Engine
from conversations.flows import FLOWS
from scheduler.clock import Clock
from storage.config import SettingsError, check_serving, load_settings
from storage.database import Database
from storage.estate import importer
from storage.estate import service as estates
from storage.identity import service as identity
from storage.people import service as people

# In an estate file's try_it lines: a fresh binding code, or the name, of a staff member.
STAFF_PLACEHOLDER = re.compile(r"\{(invite|name):([A-Za-z0-9_-]+)\}")


def console_chat(db: Database, user: str, *, interactive: bool, clock: bool = False) -> None:
    """The console chat. Notices for console users print in the terminal after each line;
    with ``clock`` the scheduler runs beside it, as in `wuye serve`."""
    # The terminal is the chat: warnings meant for an operator's log (a paused binding, a
    # notice for someone with no chat account) would read as wuye's answers. Errors show.
    with logs.only(logging.ERROR):
        _console_chat(db, user, interactive=interactive, clock=clock)


def _console_chat(db: Database, user: str, *, interactive: bool, clock: bool) -> None:
    console = Console(Engine(db, FLOWS), user)
    dispatcher = Dispatcher(db, [ConsoleChannel(typer.echo, offered=console.offered)])
    console.after = lambda: asyncio.run(dispatcher.run_once())
    ticking = Clock(db) if clock else None
    if ticking is not None:
        ticking.start()
    try:
        if not interactive:
            console.run(sys.stdin)
            return

        def lines() -> Iterator[str]:
            while True:
                try:
                    yield input(f"[{console.user}] > ")
                except EOFError:
                    return

        console.run(lines())
    finally:
        if ticking is not None:
            ticking.stop()


def chat(
    user: Annotated[str, typer.Option(help="The chat identity to talk as.")] = "demo",
) -> None:
    """Talk to wuye in the terminal; with stdin not a terminal, one message per line."""
    with database() as db:
        console_chat(db, user, interactive=sys.stdin.isatty())


def try_it(session: Session, lines: list[str]) -> str:
    """An estate file's hints for a newcomer, with fresh binding codes in them."""
    estate = estates.list_estates(session=session)[0]

    def filled(match: re.Match[str]) -> str:
        member = people.staff_by_code(session=session, estate_id=estate.id, code=match[2])
        if member is None:
            return "?"
        if match[1] == "name":
            return member.person.name
        return identity.create_invite(session=session, person=member.person, estate_id=estate.id)

    return "\n".join(["", *(STAFF_PLACEHOLDER.sub(filled, line) for line in lines), ""])


def run(
    sample: Annotated[Path, typer.Option(help="Estate file imported at start.")] = importer.SAMPLE,
    user: Annotated[str, typer.Option(help="The chat identity to start as.")] = "owner",
) -> None:
    """Set up the database with the sample estate and start the console chat."""
    spec = importer.parse(importer.read(sample), str(sample))
    with database() as db:
        with db.transaction() as session:
            # The URL as it is shown everywhere: its password masked.
            shown = db.engine.url.render_as_string(hide_password=True)
            typer.echo(f"wuye: database {shown}, time zone {db.settings.timezone}")
            created = importer.import_estate(session=session, data=spec)
            typer.echo(imported(sample, created))
            typer.echo(describe(session))
            hints = try_it(session, spec.try_it)
        typer.echo(hints)
        console_chat(db, user, interactive=sys.stdin.isatty(), clock=True)


# What `wuye serve` runs on where it can (uvloop has no Windows build).
SERVER_LOOP = "uvloop" if sys.platform != "win32" else "asyncio"
SERVER_HTTP = "httptools"


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL for > 1).")] = 1,
) -> None:
    """The web server every configured platform's webhook comes to, with /healthz."""
    import uvicorn

    logs.configure(json=True)
    settings = load_settings()
    logs.hide(settings.secret_values())
    # Settings that cannot serve stop it here, before it migrates or binds a port: a worker
    # that failed in its own start would be started again and again by uvicorn.
    check_serving(settings)
    if settings.metrics_address is not None and settings.metrics_address[1] == port:
        raise SettingsError(
            f"wuye serve: WUYE_METRICS_LISTEN uses port {port}, the app's own (--port):"
            " give /metrics another port"
        )
    if workers > 1 and not settings.database_url.startswith("postgresql"):
        raise typer.BadParameter("several workers need PostgreSQL (WUYE_DATABASE_URL)")
    with database():  # migrate once, before any worker starts
        pass
    uvicorn.run(
        "bot.web:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
        access_log=settings.access_log,
        # uvloop's event loop and httptools' parser rather than asyncio's and h11: a webhook
        # is mostly transport, and these are its C halves (bench/README.md, issue 19).
        loop=SERVER_LOOP,
        http=SERVER_HTTP,
    )


def poll() -> None:
    """Telegram by long polling, for a company with no public address."""

    from bot.web import Wuye
    from bot.web import poll as poll_telegram

    logs.configure(json=True)
    settings = load_settings()
    logs.hide(settings.secret_values())
    # The same checks as `wuye serve`'s, less the webhook's: polling sets none.
    check_serving(settings, command="wuye poll", webhook=False)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await poll_telegram(Wuye.from_settings(settings), stop)

    asyncio.run(main())
