"""Real HTTP servers on 127.0.0.1 for tests: an ASGI app under uvicorn in a thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server failed to start")
        threading.Event().wait(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


WUYE = Path(sys.executable).parent / "wuye"


def wuye_serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[str], str]:
    """`wuye serve` on a free port, its log kept in ``cwd/serve.log`` for a failure's story."""
    port = free_port()
    process = subprocess.Popen(
        [str(WUYE), "serve", "--port", str(port)],
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    started = threading.Event()

    def keep_log() -> None:
        assert process.stdout is not None
        with (cwd / "serve.log").open("a") as log:
            for line in process.stdout:
                log.write(line)
                log.flush()
                if "Application startup complete" in line:
                    started.set()
        started.set()

    threading.Thread(target=keep_log, daemon=True).start()
    started.wait(120)
    assert process.poll() is None, (cwd / "serve.log").read_text()
    # On a loaded machine the log line may come late (or its reader lag): wait for the port.
    deadline = time.monotonic() + 120
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None, (cwd / "serve.log").read_text()
            assert time.monotonic() < deadline, (cwd / "serve.log").read_text()
            time.sleep(0.05)  # a real process starting: not the clock a test moves
    return process, f"http://127.0.0.1:{port}"
