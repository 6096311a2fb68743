"""The audit log: who asked what, what was answered, which passages were cited, from which index version, by which
writer. SQLite (stdlib sqlite3) in WAL mode, one row per answer and one per citation.

Answering never waits on the log and never fails because of it: `record` puts the row on a queue that one writer
thread drains; a write that fails (a full disk, a read-only folder) warns once and the answers go on.
"""

from __future__ import annotations

import atexit
import contextlib
import getpass
import hashlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..schema import Answer

_LOG = logging.getLogger(__name__)
_CALLER: ContextVar[tuple[str, str]] = ContextVar("audit_caller", default=("python", ""))

SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,              -- UTC, ISO 8601
    channel TEXT NOT NULL,           -- ui, api, cli, python
    user TEXT NOT NULL,
    question TEXT NOT NULL,
    resolved_question TEXT NOT NULL, -- what was searched (a follow-up resolved against earlier turns)
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    index_version TEXT NOT NULL,
    writer TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS citations (
    answer_id INTEGER NOT NULL REFERENCES answers(id),
    number INTEGER NOT NULL,
    doc_id TEXT NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    quote_sha256 TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_time ON answers(time);
"""


@contextlib.contextmanager
def caller(channel: str, user: str | None = None) -> Iterator[None]:
    """Answers given inside this block are logged as from `channel` and `user`."""
    token = _CALLER.set((channel, user or ""))
    try:
        yield
    finally:
        _CALLER.reset(token)


@dataclass(frozen=True, slots=True)
class _Row:
    time: str
    channel: str
    user: str
    answer: Answer
    index_version: str
    writer: str


class AuditLog:
    """An append-only log in one SQLite file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._queue: queue.Queue[_Row | None] = queue.Queue()
        self._warned = False
        self._thread = threading.Thread(target=self._drain, name="audit-log", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def record(self, answer: Answer, index_version: str, writer: str) -> None:
        """Queue one answer for the log (never blocks, never raises)."""
        channel, user = _CALLER.get()
        now = time.time_ns()  # one reading: seconds and microseconds of the same instant
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 1_000_000_000)) + f".{now % 1_000_000_000 // 1000:06d}Z"
        self._queue.put(_Row(stamp, channel, user or _login(), answer, index_version, writer))

    def flush(self) -> None:
        """Wait until every queued answer is written (or has failed to be)."""
        self._queue.join()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=10)

    def _drain(self) -> None:
        connection: sqlite3.Connection | None = None
        while True:
            row = self._queue.get()
            try:
                if row is None:
                    return
                connection = connection or self._connect()
                self._write(connection, row)
            except (sqlite3.Error, OSError) as exc:
                connection = None
                self._warn(exc)
            finally:
                self._queue.task_done()

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.executescript(SCHEMA)
        return connection

    def _write(self, connection: sqlite3.Connection, row: _Row) -> None:
        answer = row.answer
        resolved = str(answer.metadata.resolved_question or answer.question)
        with connection:
            cursor = connection.execute(
                "INSERT INTO answers (time, channel, user, question, resolved_question, answer, abstained, index_version, writer)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row.time, row.channel, row.user, answer.question, resolved, answer.text, int(answer.abstained), row.index_version, row.writer),
            )
            connection.executemany(
                'INSERT INTO citations (answer_id, number, doc_id, start, "end", quote_sha256) VALUES (?, ?, ?, ?, ?, ?)',
                [(cursor.lastrowid, c.number, c.doc_id, c.start, c.end, hashlib.sha256(c.quote.encode()).hexdigest()) for c in answer.citations],
            )

    def _warn(self, exc: BaseException) -> None:
        if not self._warned:
            self._warned = True
            _LOG.warning("The audit log %s could not be written (%s); answers continue without it.", self.path, exc)


def _login() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def read_log(path: Path, since: str | None = None) -> list[dict[str, Any]]:
    """The logged answers (oldest first) with their citations; `since`: an ISO date or time (UTC)."""
    if not path.is_file():
        return []
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        connection.row_factory = sqlite3.Row
        answers = connection.execute("SELECT * FROM answers WHERE time >= ? ORDER BY id", (since or "",)).fetchall()
        cited: dict[int, list[dict[str, Any]]] = {}
        for c in connection.execute('SELECT * FROM citations ORDER BY answer_id, number'):
            cited.setdefault(c["answer_id"], []).append({k: c[k] for k in ("number", "doc_id", "start", "end", "quote_sha256")})
    return [{**dict(a), "abstained": bool(a["abstained"]), "citations": cited.get(a["id"], [])} for a in answers]


def format_rows(rows: list[dict[str, Any]], as_json: bool) -> str:
    if as_json:
        return json.dumps(rows, indent=2, ensure_ascii=False)
    lines = []
    for row in rows:
        sources = ", ".join(sorted({c["doc_id"] for c in row["citations"]})) or "none"
        lines.append(f"{row['time']}  {row['channel']}:{row['user']}  v{row['index_version']}  {row['question']!r} -> "
                     f"{'not covered' if row['abstained'] else str(len(row['citations'])) + ' citations'} ({sources})")
    return "\n".join(lines)
