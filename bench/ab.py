"""Is a change faster? wuye from another tree (A) against this one (B), loaded in turns.

On a shared or virtual machine the speed of the whole machine drifts by tens of percent
within an hour, more than most changes are worth. So both servers run at once, and each
round loads one, then the other (A B, B A, A B, ...), with the same repair flows as
``run.py``. The measure is each server's CPU time per Update (from /proc, Linux), and the
verdict the median of B/A over the rounds.

    git worktree add /tmp/before main      # the code to compare against
    .venv/bin/python bench/ab.py /tmp/before [--users 150] [--rounds 8]

Both trees must have the same migrations (the databases are seeded with this tree's code).
SQLite files by default; for PostgreSQL give two throw-away databases:
WUYE_DATABASE_URL_A and WUYE_DATABASE_URL_B.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from run import (
    ROOT,
    WARM_UP,
    bound_owners,
    clock_settled,
    cpu_seconds,
    load,
    repair_flow,
    repairs_reported,
    server_process,
    settings_for,
    wuye_environment,
)

from storage.config import Settings
from tests.bot.fake_telegram import FakeTelegram
from tests.servers import serving

MIGRATIONS = Path("storage/migrations/versions")


@dataclass
class Contender:
    name: str
    url: str
    pid: int
    flows: list[list[dict[str, Any]]]
    settings: Settings  # its database, checked at the end
    cpu_ms: list[float] = field(default_factory=list)
    per_second: list[float] = field(default_factory=list)


def migrations(tree: Path) -> set[str]:
    return {path.name for path in (tree / MIGRATIONS).glob("*.py")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="the other tree (A)")
    parser.add_argument("--users", type=int, default=150, help="owners per round")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--concurrency", type=int, default=12)
    args = parser.parse_args()
    trees = {"A": args.before.resolve(), "B": ROOT}
    if migrations(trees["A"]) != migrations(trees["B"]):
        sys.exit("the two trees have different migrations: compare code changes only")
    folder = Path(tempfile.mkdtemp())
    fake = FakeTelegram()
    ids = iter(range(1, 10**9))
    owners = args.users * args.rounds + WARM_UP
    with serving(fake.app()) as fake_url, ExitStack() as servers:
        fake.url = fake_url
        contenders = []
        for number, (name, tree) in enumerate(trees.items(), 1):
            database_url = os.environ.get(f"WUYE_DATABASE_URL_{name}")
            settings = settings_for(fake_url, folder, name, database_url=database_url)
            first = 1_000_000 * number
            unit_id = bound_owners(settings, first, owners)
            env = {**wuye_environment(settings, fake_url, folder / name), "PYTHONPATH": str(tree)}
            command = [sys.executable, "-c", "from bot.cli import main; main()", "serve"]
            server_url, pid = servers.enter_context(server_process(command, env, cwd=tree))
            flows = [repair_flow(first + n, unit_id, ids) for n in range(owners)]
            asyncio.run(load(server_url, fake, flows[:WARM_UP], args.concurrency))
            clock_settled(server_url)
            contenders.append(Contender(name, server_url, pid, flows[WARM_UP:], settings))
        for round_ in range(args.rounds):
            for contender in contenders if round_ % 2 == 0 else contenders[::-1]:
                flows = contender.flows[round_ * args.users : (round_ + 1) * args.users]
                before = cpu_seconds(contender.pid)
                result = asyncio.run(load(contender.url, fake, flows, args.concurrency))
                spent = cpu_seconds(contender.pid) - before
                contender.cpu_ms.append(1000 * spent / result["updates"])
                contender.per_second.append(result["per_second"])
        for contender in contenders:
            repairs_reported(contender.settings, owners, folder / contender.name)
    for contender in contenders:
        rounds = " ".join(f"{ms:.2f}" for ms in contender.cpu_ms)
        print(
            f"{contender.name}: {statistics.median(contender.cpu_ms):.2f} CPU ms an Update "
            f"[{rounds}], {statistics.median(contender.per_second):.0f} updates/s"
        )
    a, b = contenders
    ratios = [after / before for before, after in zip(a.cpu_ms, b.cpu_ms, strict=True)]
    print(f"B/A, CPU an Update, median of the rounds: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
