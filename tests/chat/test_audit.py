"""Issue 17, the audit log: a row per answer from the API, the CLI and Python (the UI: tests/test_ui_browser.py), with
its citations' offsets and quote hashes and the index version; 50 concurrent writers lose nothing; a log that cannot
be written never fails an answer."""

from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from samples import SEED_QUESTION

from assistant import Assistant, Settings
from assistant.chat.audit import caller, read_log
from assistant.serve.service import create_api
from assistant.settings import AuditSettings, ServiceSettings

QUESTIONS = [
    SEED_QUESTION,
    "What side effects were reported with upadacitinib?",
    "What is the capital of France?",
    "What dose of methotrexate is used?",
    "How many patients were in the case series?",
]


@pytest.fixture
def logged(corpus_copy: Path, seed_index: Path, embedder, tmp_path: Path) -> Assistant:  # type: ignore[no-untyped-def]
    """The seed index, logging to a private file."""
    settings = Settings(corpus_dir=corpus_copy, index_dir=seed_index, audit=AuditSettings(path=tmp_path / "audit.sqlite3"))
    return Assistant.load(settings, embedder=embedder, refresh=False)


def test_a_row_holds_the_question_the_answer_and_each_citation(logged: Assistant) -> None:
    with caller("python", "ana"):
        answer = logged.ask(SEED_QUESTION)
    logged.audit.flush()  # type: ignore[union-attr]
    [row] = read_log(logged.settings.audit_path())
    assert (row["channel"], row["user"], row["question"], row["answer"]) == ("python", "ana", SEED_QUESTION, answer.text)
    assert row["index_version"] == logged.index.folder.name and row["writer"] == "extractive" and not row["abstained"]
    assert [(c["number"], c["doc_id"], c["start"], c["end"]) for c in row["citations"]] == [
        (c.number, c.doc_id, c.start, c.end) for c in answer.citations
    ]
    assert [c["quote_sha256"] for c in row["citations"]] == [hashlib.sha256(c.quote.encode()).hexdigest() for c in answer.citations]


def test_fifty_threads_answering_at_once_lose_no_row(logged: Assistant) -> None:
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(50)]

    def ask(n: int) -> str:
        with caller("python", f"user-{n}"):
            return logged.ask(questions[n]).text

    with ThreadPoolExecutor(max_workers=50) as pool:
        texts = list(pool.map(ask, range(50)))
    logged.audit.flush()  # type: ignore[union-attr]
    rows = read_log(logged.settings.audit_path())
    assert sorted((r["user"], r["question"], r["answer"]) for r in rows) == sorted(
        (f"user-{n}", questions[n], texts[n]) for n in range(50)
    )


def test_closing_the_assistant_writes_every_queued_row_and_frees_its_folder(corpus_copy: Path, seed_index: Path, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The eval suites index cases in temporary folders that hold the log: closing must leave nothing being written
    there (CI once failed deleting one: 'Directory not empty')."""
    folder = tmp_path / "logs"
    settings = Settings(corpus_dir=corpus_copy, index_dir=seed_index, audit=AuditSettings(path=folder / "audit.sqlite3"))
    with Assistant.load(settings, embedder=embedder, refresh=False) as assistant:
        texts = [assistant.ask(q).text for q in QUESTIONS]
    assert [row["answer"] for row in read_log(folder / "audit.sqlite3")] == texts
    assert not assistant.audit._thread.is_alive()  # type: ignore[union-attr]


def test_api_answers_are_logged_with_the_caller(logged: Assistant) -> None:
    with TestClient(create_api(logged, ServiceSettings())) as client:
        client.post("/v1/answer", json={"question": SEED_QUESTION})
        client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": QUESTIONS[1]}]})
    logged.audit.flush()  # type: ignore[union-attr]
    rows = read_log(logged.settings.audit_path())
    assert [(r["channel"], r["user"], r["question"]) for r in rows] == [("api", "testclient", SEED_QUESTION), ("api", "testclient", QUESTIONS[1])]


def test_cli_answers_are_logged_and_read_back(cli, corpus_copy: Path, seed_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "cli-audit.sqlite3"
    monkeypatch.setenv("ASSISTANT_AUDIT__PATH", str(log))
    assert cli("ask", "--corpus", corpus_copy, "--index", seed_index, SEED_QUESTION).exit_code == 0
    shown = json.loads(cli("logs", "--index", seed_index, "--json").output)
    assert [(r["channel"], r["question"]) for r in shown] == [("cli", SEED_QUESTION)] and shown[0]["citations"]
    assert json.loads(cli("logs", "--index", seed_index, "--json", "--since", "2999-01-01").output) == []
    assert SEED_QUESTION[:30] in cli("logs", "--index", seed_index).output


def test_a_log_that_cannot_be_written_warns_and_answers_go_on(
    corpus_copy: Path, seed_index: Path, embedder, tmp_path: Path, caplog: pytest.LogCaptureFixture  # type: ignore[no-untyped-def]
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the log's folder should be")
    settings = Settings(corpus_dir=corpus_copy, index_dir=seed_index, audit=AuditSettings(path=blocked / "audit.sqlite3"))
    assistant = Assistant.load(settings, embedder=embedder, refresh=False)
    with caplog.at_level(logging.WARNING, logger="assistant.chat.audit"):
        first, second = assistant.ask(SEED_QUESTION), assistant.ask(QUESTIONS[1])
        assistant.audit.flush()  # type: ignore[union-attr]
    assert first.citations and second.citations
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1, "warned once"
    assert "could not be written" in caplog.records[0].message


def test_the_log_can_be_turned_off(corpus_copy: Path, seed_index: Path, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(corpus_dir=corpus_copy, index_dir=seed_index, audit=AuditSettings(enabled=False, path=tmp_path / "off.sqlite3"))
    assistant = Assistant.load(settings, embedder=embedder, refresh=False)
    assistant.ask(SEED_QUESTION)
    assert assistant.audit is None and not (tmp_path / "off.sqlite3").exists()
