"""wuye's benchmark: a script, not a test. Results and the command go in bench/README.md.

1. Webhook throughput and latency: ``wuye serve`` handling real Telegram Update JSON for a
   whole repair flow (every database write included, replies to a local fake Bot API),
   beside a bare python-telegram-bot echo bot on the same stack (Starlette, uvicorn, PTB's
   Bot, the same fake API). Each bot is its own server process; the load generator and the
   fake run in this one. The ratio is the headline.
2. Draining the outbox: N notices against Telegram's limit (30 a second), as a ratio to the
   ideal N / 30, with the fake enforcing the limits (so a 429 would be real).
3. The 18:30 digest's figures and the due callbacks in an estate with 1,000,000 past
   tickets (``--tickets 0`` skips it).

    .venv/bin/python bench/run.py [--users 200] [--concurrency 12] [--notices 1000]

WUYE_DATABASE_URL picks the database (a throw-away SQLite file by default).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, Update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.dispatcher import Dispatcher  # noqa: E402
from bot.telegram.channel import TelegramChannel, make_bot  # noqa: E402
from conversations.engine import Engine  # noqa: E402
from conversations.flows import FLOWS  # noqa: E402
from scheduler.clock import REGISTRY  # noqa: E402
from storage.clock import utcnow  # noqa: E402
from storage.config import Settings, load_settings  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.estate import importer  # noqa: E402
from storage.estate import service as estates  # noqa: E402
from storage.identity.models import ChatIdentity  # noqa: E402
from storage.outbox import service as outbox  # noqa: E402
from storage.outbox.models import OutboxMessage  # noqa: E402
from storage.people.models import Person  # noqa: E402
from tests.bot.fake_telegram import BOT, FakeTelegram  # noqa: E402
from tests.conftest import answer_notice  # noqa: E402
from tests.history import its_callback, past_repair  # noqa: E402
from tests.servers import free_port, serving  # noqa: E402

WARM_UP = 12  # owners whose repairs run before the measured ones, on each server
TOKEN = "123456:BENCH"  # noqa: S105  (the fake Bot API's, not a real bot's)
SECRET = "bench-secret"  # noqa: S105


def settings_for(
    fake_url: str, folder: Path, name: str, database_url: str | None = None, **extra: Any
) -> Settings:
    url = database_url or os.environ.get("WUYE_DATABASE_URL") or f"sqlite:///{folder}/{name}.db"
    return load_settings(
        database_url=url,
        telegram_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base_url=fake_url,
        attachments_dir=folder / "att",
        **extra,
    )


def fresh(settings: Settings) -> Database:
    db = Database(settings)
    db.upgrade()
    if db.engine.dialect.name == "postgresql":  # a clean slate on a reused database
        from sqlalchemy import text

        from storage.base import Base

        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with db.transaction() as session:
        data = yaml.safe_load(importer.SAMPLE.read_text("utf-8"))
        # The desk always open: every repair's intake alert is written and sent at once,
        # whatever the hour the benchmark runs at (after hours it would wait for 08:30).
        data["estate"]["desk_hours"] = {"workdays": "00:00-23:59", "rest_days": "00:00-23:59"}
        importer.import_estate(session=session, data=data)
    return db


# ---------------------------------------------------------------- 1. webhook


def repairs_reported(settings: Settings, owners: int, folder: Path) -> None:
    """Every owner's flow ended in its repair, and nothing waits in the inbox: a server
    that kept or failed messages would otherwise be timed answering nothing."""
    from storage.ticket.models import Ticket

    db = Database(settings)
    with db.transaction() as session:
        reported = session.scalar(select(func.count()).select_from(Ticket)) or 0
    db.dispose()
    kept = list((folder / "inbox").rglob("*.json"))  # wuye_environment's
    if reported != owners or kept:
        raise SystemExit(
            f"the server did not take every message: {reported} repairs of {owners} owners, "
            f"{len(kept)} messages kept in its inbox"
        )


def repair_flow(user: int, unit_id: int, ids: Any) -> list[dict[str, Any]]:
    """The Updates of one owner's whole repair, as Telegram sends them."""
    chat = {"id": user, "type": "private", "first_name": "业主"}
    sender = {"id": user, "is_bot": False, "first_name": "业主", "language_code": "zh-hans"}

    def message(text: str) -> dict[str, Any]:
        return {
            "update_id": next(ids),
            "message": {
                "message_id": next(ids),
                "date": 0,
                "chat": chat,
                "from": sender,
                "text": text,
            },
        }

    def press(data: str) -> dict[str, Any]:
        return {
            "update_id": next(ids),
            "callback_query": {
                "id": str(next(ids)),
                "from": sender,
                "chat_instance": "b",
                "data": data,
                "message": {"message_id": 1, "date": 0, "chat": chat, "from": BOT, "text": "?"},
            },
        }

    return [
        message("/repair"),
        press("water_leak"),
        press(str(unit_id)),
        message("卫生间天花板渗水"),
        press("skip"),
        press("skip"),
        press("confirm"),
    ]


async def _go_through(
    client: httpx.AsyncClient,
    url: str,
    fake: FakeTelegram,
    flow: list[dict[str, Any]],
    latencies: list[float],
) -> None:
    """One person's Updates, one after another, each timed."""
    for update in flow:
        query = update.get("callback_query")
        if query is not None:
            found = fake.with_button(query["from"]["id"], data=query["data"])
            if found is not None:  # (the echo bot shows no buttons to press)
                query["message"]["message_id"] = found[0]
        started = time.perf_counter()
        response = await client.post(
            f"{url}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        response.raise_for_status()
        latencies.append(time.perf_counter() - started)
        if response.content:  # a call in the response, which Telegram makes itself
            call = response.json()
            fake.made_in_response(call.pop("method"), call)


async def load(
    url: str, fake: FakeTelegram, flows: list[list[dict[str, Any]]], concurrency: int
) -> dict[str, float]:
    """Telegram's side: each person's Updates one after another, ``concurrency`` people at
    once; a press names the message its button is on, and a call in a webhook's response
    is made to the Bot API, as Telegram does both."""
    latencies: list[float] = []
    queue: asyncio.Queue[list[dict[str, Any]]] = asyncio.Queue()
    for flow in flows:
        queue.put_nowait(flow)

    async def user(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await _go_through(client, url, fake, queue.get_nowait(), latencies)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as client:
        await asyncio.gather(*(user(client) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"per_second": len(latencies) / wall, **spread(latencies)}


def spread(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "updates": len(ordered),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))],
    }


async def paced(
    url: str, fake: FakeTelegram, flows: list[list[dict[str, Any]]], per_second: float
) -> dict[str, float]:
    """Latency below the peak: owners arrive at a steady pace (one flow every
    7 / ``per_second`` seconds, so about ``per_second`` Updates a second), each going through
    their flow as fast as they are answered, however many are in it at once."""
    latencies: list[float] = []
    gap = len(flows[0]) / per_second

    async def owner(client: httpx.AsyncClient, flow: list[dict[str, Any]], delay: float) -> None:
        await asyncio.sleep(delay)
        timing: list[float] = []
        await _go_through(client, url, fake, flow, timing)
        latencies.extend(timing)

    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=None)) as client:
        await asyncio.gather(*(owner(client, flow, n * gap) for n, flow in enumerate(flows)))
    return spread(latencies)


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system), from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def echo_app(fake_url: str) -> Starlette:
    """The bare stack: PTB parses the Update, echoes the text (or the button) back."""
    bot = Bot(TOKEN, base_url=f"{fake_url}/bot", base_file_url=f"{fake_url}/file/bot")

    async def webhook(request: Request) -> Response:
        update = Update.de_json(await request.json(), bot)
        if update.message is not None:
            await bot.send_message(update.message.chat.id, update.message.text or "")
        elif update.callback_query is not None:
            await update.callback_query.answer()
            await bot.send_message(
                update.callback_query.from_user.id, update.callback_query.data or ""
            )
        return Response(status_code=200)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await bot.initialize()
        yield
        await bot.shutdown()

    return Starlette(
        routes=[Route("/telegram/webhook", webhook, methods=["POST"])], lifespan=lifespan
    )


@contextmanager
def server_process(
    command: list[str], env: dict[str, str], cwd: Path | None = None
) -> Iterator[tuple[str, int]]:
    """A server in its own process, as in production: it has a core and a GIL to itself,
    and the load generator and the fake Bot API (in this process) take nothing from it.
    Yields its URL and its process id."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603  (our own commands: wuye, this script)
        [*command, "--port", str(port)],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    if process.stdout is None:
        raise RuntimeError("no pipe from the server")
    said = []
    for line in process.stdout:
        said.append(line)
        if "Application startup complete" in line:
            break
    else:
        raise RuntimeError("the server did not start:\n" + "".join(said[-20:]))
    # Keep reading its access log, so a full pipe never stalls it.
    threading.Thread(target=process.stdout.read, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}", process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def clock_settled(url: str, timeout: float = 60.0) -> None:
    """Wait until the server's clock has run each of its jobs once. Its start-up round
    catches up on everything at once (the month's report and its chart among it) and takes
    seconds: measured with the load, it would be counted against every Update."""
    deadline = time.monotonic() + timeout
    names = {job.name for job in REGISTRY}
    while time.monotonic() < deadline:
        said = httpx.get(f"{url}/metrics", timeout=10).text
        ran = set(re.findall(r'wuye_scheduler_job_runs_total\{job="(\w+)"', said))
        if names <= ran:
            return
        time.sleep(0.2)  # a script, not a test: the server's clock is a real one
    raise RuntimeError(f"the clock's first round did not finish: {sorted(names - ran)}")


def bound_owners(settings: Settings, first: int, count: int) -> int:
    """A fresh database with the sample estate, and ``count`` Telegram accounts from user id
    ``first`` on, all bound to one owner (one owner on many phones). Returns their unit."""
    db = fresh(settings)
    with db.transaction() as session:
        owner = session.scalars(select(Person).where(Person.name == "张伟")).one()
        unit_id = estates.find_unit(session=session, estate_id=1, designation="1-1-502").id
        for n in range(count):
            session.add(ChatIdentity(platform="telegram", external_id=str(first + n), person=owner))
    db.dispose()
    return unit_id


def wuye_environment(settings: Settings, fake_url: str, folder: Path) -> dict[str, str]:
    return {
        "WUYE_DATABASE_URL": settings.database_url,
        "WUYE_TELEGRAM_TOKEN": TOKEN,
        "WUYE_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "WUYE_TELEGRAM_API_BASE_URL": fake_url,
        "WUYE_ATTACHMENTS_DIR": str(folder / "att"),
        "WUYE_INBOX_DIR": str(folder / "inbox"),
        # Pacing is measured apart (2.): here both bots send as fast as the fake answers.
        "WUYE_TELEGRAM_CHAT_MESSAGES_PER_SECOND": "1000",
        "WUYE_TELEGRAM_CHAT_BURST": "100",
        "WUYE_TELEGRAM_MESSAGES_PER_SECOND": "1000",
    }


def webhook_benchmark(
    users: int, concurrency: int, folder: Path, *, at_half: bool = True
) -> tuple[dict[str, float], dict[str, float]]:
    fake = FakeTelegram()
    with serving(fake.app()) as fake_url:
        fake.url = fake_url
        settings = settings_for(fake_url, folder, "webhook")
        # The measured owners, the warm-up's, and those at half the peak: all bound.
        unit_id = bound_owners(settings, 500_000, 2 * users + WARM_UP)
        env = wuye_environment(settings, fake_url, folder)
        ids = iter(range(1, 10**9))
        flows = [repair_flow(500_000 + n, unit_id, ids) for n in range(2 * users + WARM_UP)]
        wuye_command = [str(Path(sys.executable).parent / "wuye"), "serve"]
        with server_process(wuye_command, env) as (url, pid):
            # Unmeasured first: connections opened, code paths warm, the clock's start-up
            # round (which catches up every job at once) done.
            asyncio.run(load(url, fake, flows[2 * users :], concurrency))
            clock_settled(url)
            wuye = measured_load(pid, url, fake, flows[:users], concurrency)
            if at_half:
                half = asyncio.run(
                    paced(url, fake, flows[users : 2 * users], wuye["per_second"] / 2)
                )
                wuye |= {f"half_{key}": value for key, value in half.items()}
            repairs_reported(settings, users + WARM_UP + (users if at_half else 0), folder)
        echo_flows = [repair_flow(600_000 + n, unit_id, ids) for n in range(users + WARM_UP)]
        echo_command = [sys.executable, __file__, "--serve-echo", fake_url]
        with server_process(echo_command, {}) as (url, pid):
            asyncio.run(load(url, fake, echo_flows[users:], concurrency))
            echo = measured_load(pid, url, fake, echo_flows[:users], concurrency)
    return wuye, echo


def measured_load(
    pid: int, url: str, fake: FakeTelegram, flows: list[list[dict[str, Any]]], concurrency: int
) -> dict[str, float]:
    """``load``, with the server's CPU time per Update: what one process can take when it
    has a core to itself, which the load generator sharing this machine does not skew; and
    the load generator's own (with the fake Bot API), which must stay well under a core
    for the server's updates/s to be the server's."""
    before, own = cpu_seconds(pid), time.process_time()
    result = asyncio.run(load(url, fake, flows, concurrency))
    return result | {
        "cpu_ms": 1000 * (cpu_seconds(pid) - before) / result["updates"],
        "load_ms": 1000 * (time.process_time() - own) / result["updates"],
    }


# ---------------------------------------------------------------- 2. outbox drain


def drain_benchmark(notices: int, folder: Path) -> dict[str, float]:
    fake = FakeTelegram(enforce_limits=True)
    with serving(fake.app()) as fake_url:
        fake.url = fake_url
        settings = settings_for(fake_url, folder, "drain")
        db = fresh(settings)
        with db.transaction() as session:
            for n in range(notices):
                person = Person(name=f"住户{n}", locale="zh_Hans")
                session.add(person)
                session.add(
                    ChatIdentity(platform="telegram", external_id=str(700_000 + n), person=person)
                )
                session.flush()
                outbox.notify(session=session, recipient=person, notice=answer_notice(f"TS{n:06d}"))

        async def drain() -> float:
            bot = make_bot(settings)
            await bot.initialize()
            channel = TelegramChannel(bot=bot, engine=Engine(db, FLOWS), settings=settings)
            dispatcher = Dispatcher(db, [channel])
            started = time.perf_counter()
            while await dispatcher.run_once(limit=200):
                pass
            elapsed = time.perf_counter() - started
            await bot.shutdown()
            return elapsed

        elapsed = asyncio.run(drain())
        sent = sum(1 for c in fake.calls if c.method == "sendMessage" and c.ok)
        refused = sum(1 for c in fake.calls if c.method == "sendMessage" and not c.ok)
        db.dispose()
    ideal = notices / settings.telegram_messages_per_second
    return {
        "notices": notices,
        "sent": sent,
        "seconds": elapsed,
        "ideal": ideal,
        "ratio": elapsed / ideal,
        "429s": refused,
    }


def announcement_benchmark(residents: int, folder: Path) -> dict[str, float]:
    """A notice to ``residents`` bound residents of the sample's building 3 (通知公告):
    how long writing it takes (a delivery row and an outbox row each, in one transaction),
    and the process's peak memory for it. The drain's pace is ``drain_benchmark``'s."""
    import resource

    from storage.announcement import service as announcements
    from storage.announcement.models import AnnouncementKind
    from storage.estate.models import Building, Unit
    from storage.people.models import Residency

    settings = settings_for("http://127.0.0.1:9", folder, "announcement")
    db = fresh(settings)
    with db.transaction() as session:
        units = session.scalars(
            select(Unit).join(Building).where(Building.code == "3").order_by(Unit.id)
        ).all()
        for n in range(residents):
            person = Person(name=f"住户{n}", phone=f"135{n:08d}")
            session.add_all(
                [
                    person,
                    Residency(person=person, unit=units[n % len(units)]),
                    ChatIdentity(platform="telegram", external_id=str(800_000 + n), person=person),
                ]
            )
        session.flush()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with db.transaction() as session:
        announcements.create(
            session=session,
            estate_id=1,
            kind=AnnouncementKind.WATER_OUTAGE,
            title="3栋停水通知",
            text="管网维修",
            audience=announcements.Audience(buildings=("3",)),
            actor=None,
            by="bench",
            ends_at=utcnow() + timedelta(hours=8),
            emergency=True,  # at once, whatever the hour the benchmark runs at
        )
    elapsed = time.perf_counter() - started
    with db.transaction() as session:
        queued = session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "announcement")
        )
    db.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "residents": residents,
        "queued": float(queued or 0),
        "seconds": elapsed,
        "peak_mb": peak / 1024,
        "grew_mb": (peak - before) / 1024,
    }


# ---------------------------------------------------------------- 3. queries at scale


def queries_benchmark(tickets: int, folder: Path) -> dict[str, float]:
    """The 18:30 digest's figures and the due callbacks, in an estate with ``tickets`` past
    tickets (all done and called back), timed as the median of 5 runs."""
    from sqlalchemy import insert

    from storage.callback import service as callbacks
    from storage.callback.models import Callback
    from storage.clock import local_date, utcnow
    from storage.figures.daily import day_activity
    from storage.ticket.models import Ticket

    settings = settings_for("http://127.0.0.1:9", folder, "queries")
    db = fresh(settings)
    with db.transaction() as session:
        owner = session.scalars(select(Person).where(Person.name == "张伟")).one()
        unit = estates.find_unit(session=session, estate_id=1, designation="1-1-502")
        owner_id, unit_id = owner.id, unit.id
    now = utcnow()
    started = time.perf_counter()
    chunk = 20_000
    for first in range(0, tickets, chunk):
        rows = [
            {"id": n + 1}
            | past_repair(n, now=now, estate_id=1, unit_id=unit_id, reporter_id=owner_id)
            for n in range(first, min(first + chunk, tickets))
        ]
        with db.engine.begin() as connection:
            connection.execute(insert(Ticket), rows)
            connection.execute(insert(Callback), [its_callback(r["id"], r) for r in rows])
    filled = time.perf_counter() - started
    from scheduler.jobs import refresh_statistics

    with db.transaction() as session:  # what the daily job does on a live system
        refresh_statistics(session, now)
    today = local_date(now, settings.tz)

    def median_ms(run: Any) -> float:
        times = []
        for _ in range(5):
            with db.transaction() as session:
                begun = time.perf_counter()
                run(session)
                times.append(time.perf_counter() - begun)
        return 1000 * statistics.median(times)

    digest_ms = median_ms(lambda s: day_activity(session=s, estate_id=1, day=today, now=now))
    due_ms = median_ms(lambda s: callbacks.due(session=s, estate_id=1, on=today))
    db.dispose()
    return {"tickets": tickets, "fill_s": filled, "digest_ms": digest_ms, "due_ms": due_ms}


def serve_echo(fake_url: str, port: int) -> None:
    """The echo bot's server under uvicorn, access log on, on the stack a bare PTB bot has."""
    import uvicorn

    # A bare PTB bot's defaults: asyncio's event loop and h11, as `pip install
    # python-telegram-bot uvicorn` gives it (uvicorn would pick uvloop and httptools, which
    # wuye installs, when they are there).
    uvicorn.run(
        echo_app(fake_url),
        host="127.0.0.1",
        port=port,
        log_level="info",
        loop="asyncio",
        http="h11",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve-echo", metavar="FAKE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=12)
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--residents", type=int, default=10_000)
    args = parser.parse_args()
    if args.serve_echo:
        serve_echo(args.serve_echo, args.port)
        return
    with tempfile.TemporaryDirectory() as folder:
        wuye, echo = webhook_benchmark(args.users, args.concurrency, Path(folder))
        drain = drain_benchmark(args.notices, Path(folder))
        scale = queries_benchmark(args.tickets, Path(folder)) if args.tickets else None
        notice = announcement_benchmark(args.residents, Path(folder)) if args.residents else None
    print(
        "| | updates | updates/s | p50 ms | p99 ms | CPU ms an Update "
        "| the load generator's CPU ms an Update |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, row in (("wuye, full repair flow", wuye), ("bare PTB echo", echo)):
        print(
            f"| {name} | {row['updates']:.0f} | {row['per_second']:.1f} | "
            f"{row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['cpu_ms']:.2f} "
            f"| {row['load_ms']:.2f} |"
        )
    print(
        f"\nratio vs bare echo: {wuye['per_second'] / echo['per_second']:.2f} by updates/s, "
        f"{echo['cpu_ms'] / wuye['cpu_ms']:.2f} by CPU an Update (what one process can take)"
    )
    if "half_p99_ms" in wuye:
        print(
            f"\nwuye at half its peak ({wuye['per_second'] / 2:.0f} updates/s, "
            f"{wuye['half_updates']:.0f} updates): p50 {wuye['half_p50_ms']:.1f} ms, "
            f"p99 {wuye['half_p99_ms']:.1f} ms"
        )
    print(
        f"\noutbox drain: {drain['sent']:.0f}/{drain['notices']:.0f} notices in "
        f"{drain['seconds']:.1f} s, ideal {drain['ideal']:.1f} s, "
        f"ratio {drain['ratio']:.2f}, 429s {drain['429s']:.0f}"
    )
    if notice is not None:
        print(
            f"\na notice to {notice['residents']:,.0f} bound residents: queued "
            f"{notice['queued']:,.0f} in {notice['seconds']:.2f} s, peak memory "
            f"{notice['peak_mb']:.0f} MB (+{notice['grew_mb']:.0f} MB writing it)"
        )
    if scale is not None:
        print(
            f"\nat {scale['tickets']:,.0f} past tickets (filled in {scale['fill_s']:.0f} s): "
            f"digest {scale['digest_ms']:.1f} ms, due callbacks {scale['due_ms']:.1f} ms"
        )


if __name__ == "__main__":
    main()
