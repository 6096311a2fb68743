"""Shared fixtures: the real embedding model (loaded once) and real indexes built into temporary folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from samples import XSS_HTML, copy_corpus
from typer.testing import CliRunner, Result

from assistant import Assistant, HashingEmbedder, Settings
from assistant.cli import app
from assistant.index.embed import default_embedder
from assistant.settings import EmbedSettings, StoreSettings


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    """all-MiniLM-L6-v2, loaded once per test session."""
    model = default_embedder(EmbedSettings())
    model.embed(["warm up"])
    return model


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
    monkeypatch.setattr("assistant.index.embed.default_embedder", lambda settings: embedder)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


@pytest.fixture()
def isolated_settings(tmp_path: Path) -> Settings:
    """Settings whose corpus and index live in this test's temp folder."""
    (tmp_path / "corpus").mkdir()
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def xss_assistant(tmp_path_factory, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """An index of the hostile document alone."""
    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "quixotinib-safety.html").write_text(XSS_HTML, encoding="utf-8")
    return Assistant.build(corpus, root / "idx", Settings(corpus_dir=corpus, index_dir=root / "idx"), embedder=embedder)
