"""Shared fixtures: the real embedding model (loaded once) and real indexes built into temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant import Assistant, HashingEmbedder, Settings
from assistant.cli import app
from assistant.embed import default_embedder
from assistant.settings import PROJECT_ROOT, EmbedSettings, StoreSettings

CORPUS = PROJECT_ROOT / "corpus"
SEED_QUESTION = "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?"


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """all-MiniLM-L6-v2, loaded once per test session."""
    model = default_embedder(EmbedSettings())
    model.embed(["warm up"])
    return model


def copy_corpus(target: Path, extra: dict[str, str] | None = None) -> Path:
    """The seed corpus copied into `target`, plus extra files {name: text}."""
    target.mkdir(parents=True, exist_ok=True)
    for path in CORPUS.glob("*.md"):
        shutil.copy(path, target / path.name)
    for name, text in (extra or {}).items():
        (target / name).write_text(text, encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="session")
def seed_index(corpus_copy: Path, embedder, tmp_path_factory: pytest.TempPathFactory) -> Path:  # type: ignore[no-untyped-def]
    """A real index of the corpus (a copy) built once with the real model; tests that change an index use index_copy."""
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    Assistant.build(corpus_copy, index_dir, embedder=embedder)
    return index_dir


@pytest.fixture(scope="session")
def assistant(corpus_copy: Path, seed_index: Path, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """One shared, read-only Assistant over the seed index: do not ingest into it."""
    return Assistant.load(Settings(corpus_dir=corpus_copy, index_dir=seed_index), embedder=embedder, refresh=False)


@pytest.fixture(scope="session")
def qdrant_settings(corpus_copy: Path, seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seed index served from an embedded Qdrant (qdrant-client's local mode) in a temporary folder."""
    store = StoreSettings(kind="qdrant", qdrant_path=tmp_path_factory.mktemp("qdrant"))
    return Settings(corpus_dir=corpus_copy, index_dir=seed_index, store=store)


@pytest.fixture(scope="session")
def qdrant_assistant(qdrant_settings: Settings, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """The seed index searched on Qdrant: loading publishes its collection (nothing re-embedded)."""
    return Assistant.load(qdrant_settings, embedder=embedder)


@pytest.fixture(scope="session")
def seed_assistant(assistant: Assistant) -> Assistant:
    """The two seed documents in a temporary index (the same read-only index as `assistant`)."""
    return assistant


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """The deterministic hashing fake, for tests of ingest errors that never ask a question."""
    return HashingEmbedder()


@pytest.fixture
def index_copy(tmp_path: Path, seed_index: Path) -> Path:
    """A private copy of the seed index that a test may damage or extend."""
    target = tmp_path / "index"
    shutil.copytree(seed_index, target)
    return target


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, embedder) -> Callable[..., Result]:  # type: ignore[no-untyped-def]
    """Run the CLI in-process on the session's real model (no 7 s model load per command)."""
    monkeypatch.setattr("assistant.api.default_embedder", lambda settings: embedder)
    monkeypatch.setattr("assistant.embed.default_embedder", lambda settings: embedder)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def isolated_settings(tmp_path: Path) -> Settings:
    """Settings whose corpus and index live in this test's temp folder."""
    (tmp_path / "corpus").mkdir()
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


# A document whose text (after loading) holds live-looking HTML and a javascript: link; the title too.
XSS_HTML = """<html><head><title>Quixotinib safety notes &lt;img src=x onerror="window.__xss=1"&gt;</title></head><body>
<h1>Quixotinib safety notes</h1>
<p>The side effects of quixotinib were mild headache in 4 of 12 patients [2] &lt;script&gt;window.__xss=1&lt;/script&gt; during the first month of treatment.</p>
<p>Side effects of quixotinib also included nausea &lt;img src=x onerror="window.__xss=1"&gt; in 1 patient, who stopped it after two weeks.</p>
<p>The side effects of quixotinib are listed in [the product label](javascript:window.__xss=1), which gives its dose as 5 mg daily.</p>
</body></html>
"""
XSS_QUESTION = "What were the side effects of quixotinib?"


@pytest.fixture(scope="session")
def xss_assistant(tmp_path_factory, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """An index of the hostile document alone."""
    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "quixotinib-safety.html").write_text(XSS_HTML, encoding="utf-8")
    return Assistant.build(corpus, root / "idx", Settings(corpus_dir=corpus, index_dir=root / "idx"), embedder=embedder)
