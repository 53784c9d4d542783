"""One ``wuye serve`` worker: the time from its start to its first owner's repair flow
answered, and its resident memory at rest and after load (Linux: /proc/<pid>/status).

    .venv/bin/python bench/memory.py [--flows 211]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from run import (
    bound_owners,
    clock_settled,
    load,
    repair_flow,
    server_process,
    settings_for,
    wuye_environment,
)

from tests.bot.fake_telegram import FakeTelegram
from tests.servers import serving


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flows", type=int, default=211, help="owners' flows after the first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        folder = Path(directory)
        fake = FakeTelegram()
        with serving(fake.app()) as fake_url:
            fake.url = fake_url
            settings = settings_for(fake_url, folder, "memory")
            unit_id = bound_owners(settings, 500_000, args.flows + 1)
            ids = iter(range(1, 10**9))
            flows = [repair_flow(500_000 + n, unit_id, ids) for n in range(args.flows + 1)]
            command = [str(Path(sys.executable).parent / "wuye"), "serve"]
            started = time.perf_counter()
            with server_process(command, wuye_environment(settings, fake_url, folder)) as (
                url,
                pid,
            ):
                asyncio.run(load(url, fake, flows[:1], 1))
                first = time.perf_counter() - started
                clock_settled(url)
                rest = resident_mb(pid)
                asyncio.run(load(url, fake, flows[1:], 12))
                loaded = resident_mb(pid)
    print(
        f"start to the first flow answered: {first:.2f} s; resident memory at rest "
        f"{rest:.0f} MB, after {args.flows} more flows {loaded:.0f} MB"
    )


if __name__ == "__main__":
    main()
