"""Shared fixtures: the real packaged model, loaded once, and a real index of corpus/ in a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import Assistant, Settings
from assistant.embed import SentenceTransformerEmbedder
from assistant.settings import EmbedSettings

ROOT = Path(__file__).resolve().parent.parent
SEED_QUESTION = "Can Rinvoq (upadacitinib) help a patient with dermatomyositis who is already taking IVIG?"


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(EmbedSettings())


@pytest.fixture(scope="session")
def corpus_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for path in (ROOT / "corpus").glob("*.md"):
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def assistant(corpus_copy: Path, embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The real model over the real corpus (a copy), indexed into a temp folder."""
    index_dir = tmp_path_factory.mktemp("index")
    return Assistant.build(corpus_copy, index_dir, embedder=embedder)


@pytest.fixture()
def isolated_settings(tmp_path: Path) -> Settings:
    """Settings whose corpus and index live in this test's temp folder."""
    (tmp_path / "corpus").mkdir()
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
