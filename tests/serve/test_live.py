"""Issue 30: what a team sees of a running server. `assistant serve` started as a person starts it prints its URL and
refuses a public address without sign-in before loading anything; a version ingested by another process goes live
within seconds, with no answer mixing two versions; `make serve PORT=… HOST=…` installs the runtime only."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from samples import SEED_QUESTION, copy_corpus

from assistant import Assistant, Settings
from assistant.serve.ui import server_app
from assistant.settings import PROJECT_ROOT
from eval.benchmarks.concurrency import QUESTIONS

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(PROJECT_ROOT)}
NOTE = (
    "# Upadacitinib adverse events in a registry\n\n"
    "In a registry of 40 patients with dermatomyositis, upadacitinib caused herpes zoster in three patients "
    "and acne in five patients. No patient stopped upadacitinib because of adverse events.\n"
)


REFUSAL = """
import sys
from typer.testing import CliRunner
from assistant.cli import app
result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
heavy = sorted(m for m in ("gradio", "torch", "onnxruntime", "faiss", "assistant.api") if m in sys.modules)
print(result.exit_code, heavy, result.output.replace("\\n", " "))
"""


def test_the_cli_refuses_a_public_address_before_loading_anything() -> None:
    """The refusal comes before the UI is imported or the model loaded (it took 0.5 s here, against ~10 s before):
    checked by what the process imported, not by a clock."""
    done = subprocess.run([sys.executable, "-c", REFUSAL], env=ENV, capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("2 [] "), done.stdout + done.stderr
    assert "Refusing to serve on 0.0.0.0 without sign-in" in done.stdout


@contextmanager
def cli_server(corpus: Path, index: Path, *flags: str) -> Iterator[tuple[str, str]]:
    """`assistant serve` in a subprocess, as a person starts it: its base URL and the line it printed on starting."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--corpus", str(corpus), "--index", str(index), *flags]
    server = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = ""
        deadline = time.monotonic() + 300
        while "Serving" not in line and time.monotonic() < deadline:
            line = server.stdout.readline()  # type: ignore[union-attr]
            assert line or server.poll() is None, "the server exited"
        url = f"http://127.0.0.1:{port}/"
        for _ in range(100):
            try:
                if httpx.get(url + "v1/status", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield url, line
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_prints_the_url_it_answers_on(seed_index: Path, corpus_copy: Path) -> None:
    with cli_server(corpus_copy, seed_index) as (url, line):
        assert url in line and f"{url}docs" in line, line
        assert httpx.get(url, timeout=30).status_code == 200
        assert httpx.post(url + "v1/answer", json={"question": SEED_QUESTION}, timeout=60).json()["citations"]


def test_worker_processes_answer_as_the_server_does(seed_index: Path, corpus_copy: Path, assistant: Assistant) -> None:
    """`--workers 2`: requests at once are shared between the two processes, every answer is ask()'s, and a
    conversation continues on the process that holds it."""
    with cli_server(corpus_copy, seed_index, "--workers", "2") as (url, line):
        assert "2 answering process(es)" in line
        questions = QUESTIONS[:8]
        with ThreadPoolExecutor(max_workers=8) as pool:
            replies = list(pool.map(lambda q: httpx.post(url + "v1/answer", json={"question": q}, timeout=120).json(), questions))
        for question, reply in zip(questions, replies, strict=True):
            assert reply["text"] == assistant.ask(question).text
        held = {reply["conversation_id"][:3] == "w1-" for reply in replies}
        assert held == {True, False}, "both processes answered"
        worker_held = next(r["conversation_id"] for r in replies if r["conversation_id"].startswith("w1-"))
        follow = httpx.post(url + "v1/answer", json={"question": "What side effects were seen with it?", "conversation_id": worker_held}, timeout=120)
        assert follow.status_code == 200 and follow.json()["metadata"]["turn"] == 2, "the follow-up found its conversation"
        assert httpx.get(url + f"v1/conversations/{worker_held}/suggestions", timeout=120).json()["turn"] == 2
        body = {"messages": [{"role": "user", "content": SEED_QUESTION}], "stream": True}
        with ThreadPoolExecutor(max_workers=4) as pool:  # at once: some are relayed from a worker
            streams = list(pool.map(lambda _: httpx.post(url + "v1/chat/completions", json=body, timeout=120).text, range(4)))
        assert all(s.rstrip().endswith("data: [DONE]") for s in streams) and len({s.count("data:") for s in streams}) == 1


def test_a_version_ingested_by_another_process_goes_live_unmixed(
    tmp_path: Path, embedder, serve_app: Callable[[object], str], other_process  # type: ignore[no-untyped-def]
) -> None:
    """Four clients keep asking while a CLI ingest in another process adds a document: every answer is wholly the
    version it names (its text equals that version's answer), and once the server has switched, answers come from
    the new version."""
    corpus = copy_corpus(tmp_path / "corpus")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assistant = Assistant.build(corpus, settings.index_dir, settings, embedder=embedder)
    assistant.follow(0.5)
    url = serve_app(server_app(assistant, settings))
    question = QUESTIONS[1]
    old = assistant.index.folder.name
    expected = {old: assistant.ask(question).text}
    seen: list[tuple[str, str]] = []
    stop = threading.Event()

    def keep_asking() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while not stop.is_set():
                data = http.post("/v1/answer", json={"question": question}).json()
                seen.append((data["metadata"]["index_version"], data["text"]))

    askers = [threading.Thread(target=keep_asking) for _ in range(4)]
    for asker in askers:
        asker.start()
    try:
        note = corpus / "registry.md"
        note.write_text(NOTE, encoding="utf-8")
        other_process(corpus, settings.index_dir, note)
        deadline = time.monotonic() + 20
        while httpx.get(url + "/v1/status", timeout=30).json()["index_version"] == old:
            assert time.monotonic() < deadline, "the server did not notice the new version within 20 s"
            time.sleep(0.2)
        new = httpx.get(url + "/v1/status", timeout=30).json()
        assert new["documents"] == len(assistant.index.documents) and "registry" in assistant.index.documents
        time.sleep(2)
    finally:
        stop.set()
        for asker in askers:
            asker.join()
    expected[new["index_version"]] = assistant.ask(question).text
    assert expected[new["index_version"]] != expected[old], "the new document changes this answer"
    assert {version for version, _ in seen} == {old, new["index_version"]}, "answers from both versions were seen"
    for version, text in seen:
        assert text == expected[version], f"an answer naming {version} is not that version's answer"
    after = httpx.post(url + "/v1/answer", json={"question": question}, timeout=60).json()
    assert after["metadata"]["index_version"] == new["index_version"] and "registry" in {c["doc_id"] for c in after["citations"]}


def test_make_serve_takes_port_and_host_and_installs_the_runtime_only() -> None:
    done = subprocess.run(["make", "-n", "-B", "serve", "PORT=8123", "HOST=127.0.0.2"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    plan = done.stdout
    assert "serve --host 127.0.0.2 --port 8123" in plan
    installs = [line for line in plan.splitlines() if "pip install" in line and "-e " in line]
    assert installs and all("[" not in line.split("-e ", 1)[1] for line in installs), f"runtime only: {installs}"
    assert "playwright" not in plan and "ray" not in plan.lower() and "chromium" not in plan
    tests = subprocess.run(["make", "-n", "-B", "test"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout
    assert "test" in tests and "-e '.[test" in tests, "make test still installs the test tools"
