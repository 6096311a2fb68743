"""Shared fixtures: the real embedding model and a real index of the seed corpus, each built once per session."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from assistant import Assistant, HashingEmbedder, SentenceTransformerEmbedder, Settings
from assistant.cli import app
from assistant.settings import PROJECT_ROOT, EmbedSettings

CORPUS = PROJECT_ROOT / "corpus"
SEED_QUESTION = "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The packaged all-MiniLM-L6-v2, loaded once (about 7 s)."""
    return SentenceTransformerEmbedder(EmbedSettings())


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """The deterministic hashing fake, for tests of ingest errors that never ask a question."""
    return HashingEmbedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """A real index of corpus/ built with the real model; tests that change an index work on a copy."""
    index_dir = tmp_path_factory.mktemp("seed") / "index"
    Assistant.build(CORPUS, index_dir, embedder=embedder)
    return index_dir


@pytest.fixture(scope="session")
def seed_assistant(seed_index: Path, embedder: SentenceTransformerEmbedder) -> Assistant:
    """One shared, read-only Assistant over the seed index."""
    return Assistant.load(Settings(corpus_dir=CORPUS, index_dir=seed_index), embedder=embedder, refresh=False)


@pytest.fixture
def index_copy(tmp_path: Path, seed_index: Path) -> Path:
    """A private copy of the seed index that a test may damage or extend."""
    target = tmp_path / "index"
    shutil.copytree(seed_index, target)
    return target



@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, embedder: SentenceTransformerEmbedder) -> Callable[..., Result]:
    """Run the CLI in-process on the session's real model (no 7 s model load per command)."""
    monkeypatch.setattr("assistant.api.default_embedder", lambda settings: embedder)
    monkeypatch.setattr("assistant.embed.default_embedder", lambda settings: embedder)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])
