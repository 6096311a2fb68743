"""More answering processes behind one server (`assistant serve --workers N`): answering holds Python's GIL most of
the time, so one process answers on about one core. N-1 worker processes, each with its own model and index, serve
the API alone on loopback ports; the server hands each answering request (/v1/answer, /v1/chat/completions,
/v1/search, suggestions) to the least busy process, itself included, and a conversation to the process that holds it
(its id names it: "w2-…"). The UI, uploads and documents stay in the server's own process. Each worker follows
new index versions itself (Assistant.follow). Cost: one more model and index in memory per worker.

    assistant worker PORT NUMBER   (started by the server, hidden from --help; settings in $ASSISTANT_WORKER_SETTINGS)
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
from pydantic import SecretStr
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import Settings

SETTINGS_VARIABLE = "ASSISTANT_WORKER_SETTINGS"
READY_S = 300
_ROUTED = re.compile(r"^/v1/(?:answer|chat/completions|search|conversations/(?P<held>[\w-]+)/suggestions)$")
_OWNER = re.compile(r"^w(\d+)-")


def conversation_prefix(number: int) -> str:
    """The prefix of the conversation ids a process issues ("" for the server's own)."""
    return f"w{number}-" if number else ""


class Workers:
    """The worker processes of one server and how busy each process is (index 0: the server itself)."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.urls: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []
        environment = {**os.environ, SETTINGS_VARIABLE: _settings_json(settings)}
        for number in range(1, count):
            port = _free_port()
            command = [sys.executable, "-m", "assistant.cli", "worker", str(port), str(number)]
            self.processes.append(subprocess.Popen(command, env=environment, preexec_fn=_die_with_parent))  # noqa: PLW1509
            self.urls.append(f"http://127.0.0.1:{port}")
        self.busy = [0] * count
        atexit.register(self.stop)

    def wait_ready(self) -> None:
        """Return once every worker answers (each loads its own model and index)."""
        deadline = time.monotonic() + READY_S
        for url, process in zip(self.urls, self.processes, strict=True):
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"A worker process exited with status {process.returncode} while starting.")
                try:
                    if httpx.get(url + "/openapi.json", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"A worker process did not answer within {READY_S} s.")
                time.sleep(0.3)

    def pick(self, held_by: int | None) -> int:
        """The process for a request: the one holding its conversation, else the least busy (the server first on a tie)."""
        if held_by is not None and 0 <= held_by < len(self.busy):
            return held_by
        return min(range(len(self.busy)), key=lambda n: (self.busy[n], n))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


class Dispatch:
    """ASGI middleware in front of the API: answering requests go to the process `Workers.pick` names, relayed whole
    (status, headers, body, a stream included); the rest stay here. A worker that cannot be reached is skipped."""

    def __init__(self, app: ASGIApp, workers: Workers) -> None:
        self.app, self.workers = app, workers
        self.client = httpx.AsyncClient(timeout=None, limits=httpx.Limits(max_connections=None))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        routed = _ROUTED.match(scope["path"]) if scope["type"] == "http" else None
        if routed is None:
            await self.app(scope, receive, send)
            return
        body = await _read(receive)
        target = self.workers.pick(_held_by(routed.group("held"), body))
        self.workers.busy[target] += 1
        try:
            if target == 0 or not await self._relay(target, scope, body, send):
                await self.app(scope, _once(body, receive), send)
        finally:
            self.workers.busy[target] -= 1

    async def _relay(self, target: int, scope: Scope, body: bytes, send: Send) -> bool:
        """Relay the request to worker `target`; False (nothing sent) if it cannot be reached."""
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"] if k not in (b"host", b"content-length")]
        url = self.workers.urls[target - 1] + scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
        request = self.client.build_request(scope["method"], url, headers=headers, content=body)
        try:
            response = await self.client.send(request, stream=True)
        except httpx.TransportError:
            return False
        try:
            relayed = [(k, v) for k, v in response.headers.raw if k.lower() not in (b"content-length", b"transfer-encoding", b"connection")]
            await send({"type": "http.response.start", "status": response.status_code, "headers": relayed})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()
        return True


def _held_by(in_path: str | None, body: bytes) -> int | None:
    """The process holding the request's conversation, from the path or the JSON body's conversation_id; None if new."""
    conversation = in_path
    if conversation is None and body:
        try:
            data = json.loads(body)
        except ValueError:
            return 0  # the server's own API answers with the error
        conversation = data.get("conversation_id") if isinstance(data, dict) else None
    if not isinstance(conversation, str):
        return None
    owner = _OWNER.match(conversation)
    return int(owner.group(1)) if owner else 0


async def _read(receive: Receive) -> bytes:
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False) and message["type"] == "http.request"
    return body


def _once(body: bytes, then: Receive) -> Receive:
    """The body read already, then the client's own receive (a streamed reply listens on it for a disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def worker_settings() -> Settings:
    """In a worker: the server's settings, as it passed them."""
    return Settings.model_validate(json.loads(os.environ[SETTINGS_VARIABLE]))


def _settings_json(settings: Settings) -> str:
    """The server's settings for its workers, secrets included (they travel in the child's environment only)."""

    def plain(value: Any) -> Any:
        return value.get_secret_value() if isinstance(value, SecretStr) else str(value)

    return json.dumps(settings.model_dump(), default=plain)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """Linux: a worker gets SIGTERM when the server dies, so none outlives it."""
    try:
        ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
