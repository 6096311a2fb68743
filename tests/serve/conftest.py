"""A real server for the serve tests: an ASGI app run by uvicorn on a free loopback port, in a thread."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn

from assistant.settings import PROJECT_ROOT

STARTUP_S = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(app: object) -> tuple[str, Callable[[], None]]:
    """Serve `app` on 127.0.0.1; its base URL (no trailing slash) and a function that stops it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://127.0.0.1:{port}", stop


@pytest.fixture(scope="module")
def serve_app() -> Iterator[Callable[[object], str]]:
    """Start apps for this module's tests (each on its own port); all are stopped when the module ends."""
    stops: list[Callable[[], None]] = []

    def run(app: object) -> str:
        url, stop = start(app)
        stops.append(stop)
        return url

    yield run
    for stop in stops:
        stop()


def ingest_elsewhere(corpus: Path, index: Path, *paths: Path) -> None:
    """`assistant ingest PATHS` in another process (its own model), as a person at a terminal runs it."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    command = [sys.executable, "-m", "assistant.cli", "ingest", *map(str, paths), "--corpus", str(corpus), "--index", str(index)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def other_process() -> Callable[..., None]:
    """Ingest files from another process: ingest_elsewhere(corpus, index, *paths)."""
    return ingest_elsewhere
