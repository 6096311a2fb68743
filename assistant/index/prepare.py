"""Stage 2b, prepare: what ingest does to each new document before it is stored, as per-batch functions that both
engines call — chunk a document and list the texts that get vectors; embed distinct texts in batches.

The local engine runs them in this process; the Ray engine (assistant/index/ray_engine.py) runs the same functions on
Ray Data workers. There is no second chunker and no second embedder.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..documents.chunk import Leads, chunk_document
from ..schema import Chunk, Document
from ..settings import ChunkSettings
from .embed import Embedder

Progress = Callable[[str, int, int], None]
EMBED_STEP = 256  # texts per embedding call in the local engine (progress is reported after each)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One document chunked: its chunks, each chunk's embedded text, and each embedded sentence in context."""

    chunks: list[Chunk]
    chunk_texts: list[str]
    sentence_texts: list[str]


def embedded_sentences(chunk: Chunk) -> tuple[tuple[int, int], ...]:
    """The sentences of `chunk` that get a vector: all of them, except in apparatus (references, glossaries)."""
    return () if chunk.kind == "apparatus" else chunk.sentences


def prepare_document(document: Document, settings: ChunkSettings, count_tokens: Callable[[str], int]) -> Prepared:
    """Chunk one document and list what gets a vector (sentences embedded after what they sit under: chunk.Leads)."""
    chunks = chunk_document(document, settings, count_tokens)
    leads = Leads(document)
    return Prepared(chunks, [c.embed_text for c in chunks], [leads.in_context(s, e) for c in chunks for s, e in embedded_sentences(c)])


def distinct_texts(prepared: dict[str, Prepared]) -> list[str]:
    """Every text to embed once (boilerplate repeats), longest first (batches of similar length pad less)."""
    texts = (t for p in prepared.values() for group in (p.chunk_texts, p.sentence_texts) for t in group)
    return sorted(dict.fromkeys(texts), key=len, reverse=True)


class Engine(Protocol):
    """How ingest chunks and embeds new documents."""

    def prepare(self, documents: list[Document]) -> dict[str, Prepared]: ...

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def done(self) -> None:
        """Called once the index version is written."""
        ...


class LocalEngine:
    """Chunk and embed in this process."""

    def __init__(self, settings: ChunkSettings, embedder: Embedder, progress: Progress | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.progress = progress

    def prepare(self, documents: list[Document]) -> dict[str, Prepared]:
        return {d.doc_id: prepare_document(d, self.settings, self.embedder.count_tokens) for d in documents}

    def embed(self, texts: list[str]) -> np.ndarray:
        parts = []
        for begin in range(0, len(texts), EMBED_STEP):
            parts.append(self.embedder.embed(texts[begin : begin + EMBED_STEP]))
            if self.progress:
                self.progress("embedding", min(begin + EMBED_STEP, len(texts)), len(texts))
        return np.vstack(parts) if parts else np.zeros((0, self.embedder.dimension), np.float32)

    def done(self) -> None:
        """Nothing kept between runs."""
