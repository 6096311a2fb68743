"""Index, reading: a loaded version (embeddings in FAISS, BM25 via bm25s, metadata in JSON, a manifest, atomic versions.

Layout of an index folder:
    CURRENT                 name of the live version (replaced atomically)
    versions/<name>/        manifest.json, documents.json, chunks.json + chunks.npy + chunk_spans.npy, vectors.faiss,
                            sentences.npy, aliases.json, bm25/
With store.kind='qdrant' each version is also published as the Qdrant collection '<prefix>-<name>' before CURRENT
points at it (assistant/index/store.py); searching then asks Qdrant, and vectors.faiss is the checkpoint re-indexing reuses.
documents.json holds each document's text and blocks and, for PDFs, its page marks ("pages": [[offset, page], …],
where each page's text starts; added in format 6).
Chunks are stored by column: their numbers in chunks.npy (document row, start, end, section, kind, sentence count)
and chunk_spans.npy (sentence start, end), their strings once each in chunks.json. Loading builds no per-chunk JSON
objects, whose freed remains kept about 770 resident bytes per chunk (measured on 18k chunks).
sentences.npy holds a float16 vector for every sentence of every non-apparatus chunk, in chunk order (each embedded
after what it sits under: chunk.Leads), so that answering never embeds passages at query time.
Nothing is pickled. A version is written completely before CURRENT points at it, so a crash mid-ingest
leaves the previous version live.
"""

from __future__ import annotations

import ctypes
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from ..documents.aliases import AliasTable
from ..documents.chunk import CHUNKER_VERSION, Leads
from ..errors import (
    IndexError_,
    IndexMismatch,
    IndexMissing,
)
from ..schema import Chunk, Document, document_from_json
from ..settings import Settings
from .embed import Embedder
from .lexicon import Lexicon
from .prepare import (
    embedded_sentences,
)
from .store import ChunkStore, LocalStore, QdrantStore

FORMAT_VERSION = 7  # 6: document pages (faithful loaders); 7: also bm25/surface.json (the corpus spelling of each stem)
CHUNK_COLUMNS = 6  # chunks.npy: document row, start, end, section, kind, sentence count
REBUILD_HINT = "Run `assistant ingest --rebuild` to build it again from the corpus."


@dataclass(slots=True)
class Index:
    """A loaded, read-only index version."""

    folder: Path
    manifest: dict[str, object]
    documents: dict[str, Document]
    chunks: list[Chunk]
    store: ChunkStore  # where the chunk vectors and BM25 postings are searched (assistant/index/store.py)
    lexicon: Lexicon
    aliases: AliasTable
    sentences: np.ndarray  # float16, one row per sentence of each non-apparatus chunk, in chunk order
    sentence_offsets: np.ndarray = field(init=False)
    rows: dict[str, int] = field(init=False)
    leads: dict[str, Leads] = field(init=False)
    doc_rows: dict[str, int] = field(init=False)  # a document's place among `doc_starts`
    doc_starts: np.ndarray = field(init=False)  # the row of each chunked document's first chunk (chunks are by document)
    title_stems: dict[str, frozenset[str]] = field(init=False)  # a document's title is part of what it mentions
    title_vocabulary: frozenset[str] = field(init=False)  # every title's stems: words the corpus mentions in no chunk
    titled: dict[str, frozenset[str]] = field(init=False)  # a title stem's documents

    def __post_init__(self) -> None:
        self.sentence_offsets = sentence_offsets(self.chunks)
        self.rows = {c.chunk_id: row for row, c in enumerate(self.chunks)}
        self.leads = {doc_id: Leads(doc) for doc_id, doc in self.documents.items()}
        firsts = [row for row, c in enumerate(self.chunks) if row == 0 or self.chunks[row - 1].doc_id != c.doc_id]
        self.doc_starts = np.array(firsts, np.int64)
        self.doc_rows = {self.chunks[row].doc_id: place for place, row in enumerate(firsts)}
        self.title_stems = {doc_id: frozenset(self.lexicon.stems(doc.title)) for doc_id, doc in self.documents.items()}
        titled: dict[str, set[str]] = {}
        for doc_id, stems in self.title_stems.items():
            for stem in stems:
                titled.setdefault(stem, set()).add(doc_id)
        self.titled = {stem: frozenset(ids) for stem, ids in titled.items()}
        self.title_vocabulary = frozenset(self.titled)

    def documents_titled(self, alternatives: tuple[frozenset[str], ...]) -> set[str]:
        """The documents whose title mentions a concept: one of its `alternatives` (stem sets) has every stem in it."""
        found: set[str] = set()
        for alt in alternatives:
            if alt:
                found.update(frozenset.intersection(*(self.titled.get(stem, frozenset()) for stem in alt)))
        return found

    def documents_with(self, alternatives: tuple[frozenset[str], ...], *, titles: bool = True) -> set[str]:
        """The documents that mention a concept: one of its `alternatives` (stem sets) has every stem in one chunk,
        or (`titles`) in the document's title."""
        found = self.documents_titled(alternatives) if titles else set()
        for alt in alternatives:
            ids = self.lexicon.stem_ids(alt)
            if not alt or len(ids) < len(alt):
                continue
            rows = self.lexicon.rows_with(ids[0])
            for term in ids[1:]:
                rows = np.intersect1d(rows, self.lexicon.rows_with(term), assume_unique=True)
            found.update(self.chunks[row].doc_id for row in rows.tolist())
        return found

    def chunk_rows(self, doc_id: str) -> range:
        """The rows of a document's chunks (chunks are stored by document); empty for a document with none."""
        place = self.doc_rows.get(doc_id)
        if place is None:
            return range(0)
        end = int(self.doc_starts[place + 1]) if place + 1 < len(self.doc_starts) else len(self.chunks)
        return range(int(self.doc_starts[place]), end)

    def per_document_max(self, values: np.ndarray) -> np.ndarray:
        """The largest of a per-chunk array within each document, in `doc_starts` order."""
        return np.maximum.reduceat(values, self.doc_starts) if len(values) and len(self.doc_starts) else np.zeros(0, values.dtype)

    def sentence_vectors(self, chunk: Chunk) -> np.ndarray:
        """The vectors of `chunk.sentences`, in order (none for apparatus chunks)."""
        row = self.rows[chunk.chunk_id]
        return np.asarray(self.sentences[self.sentence_offsets[row] : self.sentence_offsets[row + 1]], dtype=np.float32)

    def all_vectors(self) -> np.ndarray:
        """Every chunk vector (read-only; no copy for the local store)."""
        return self.store.all_vectors()


# ---------------------------------------------------------------- reading

def current_version(index_dir: Path) -> Path:
    """The live version folder named by CURRENT (a plain folder name, never a path elsewhere)."""
    pointer = index_dir / "CURRENT"
    if not pointer.exists():
        raise IndexMissing(f"No index in {index_dir}. Run `assistant ingest` to build one from your corpus.")
    name = pointer.read_text(errors="replace").strip()
    if not re.fullmatch(r"\w[\w.-]*", name):
        raise IndexError_(f"The index in {index_dir} has a damaged CURRENT pointer ({name[:40]!r}). {REBUILD_HINT}")
    folder = index_dir / "versions" / name
    if not folder.is_dir():
        raise IndexError_(f"The index in {index_dir} points at a missing version ({folder.name}). {REBUILD_HINT}")
    return folder


def load_index(index_dir: Path, embedder: Embedder, settings: Settings, *, local: bool = False) -> Index:
    """Load the live version, refusing one built with another model, chunker or format. It searches the store
    settings.store names, or (`local`, as ingest reads the previous version) the folder's own vectors."""
    folder = current_version(index_dir)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        check_compatible(manifest, embedder, settings)
        documents = {d["doc_id"]: document_from_json(d) for d in json.loads((folder / "documents.json").read_text())}
        chunks = _load_chunks(folder, list(documents.values()))
        vectors = faiss.read_index(str(folder / "vectors.faiss")) if local or settings.store.kind == "local" else None
        lexicon = Lexicon.load(folder / "bm25")
        aliases = AliasTable.from_json(json.loads((folder / "aliases.json").read_text()))
        sentences = np.load(folder / "sentences.npy", mmap_mode="r", allow_pickle=False)
    except IndexMismatch:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as exc:
        raise IndexError_(f"The index in {folder} is damaged or incomplete ({type(exc).__name__}: {exc}). {REBUILD_HINT}") from exc
    recorded = {k: v for k, v in manifest.items() if k != "documents"}  # the per-document listing is for readers of the file
    store: ChunkStore = (
        LocalStore(vectors, lexicon, settings.store.scope_gather_share) if vectors is not None
        else QdrantStore(settings.store, folder.name, identity(embedder, settings), len(chunks), folder / "vectors.faiss")
    )
    index = Index(folder, recorded, documents, chunks, store, lexicon, aliases, sentences)
    release_freed_memory()
    n_sentences = int(index.sentence_offsets[-1])
    shape = (vectors.ntotal, vectors.d) if vectors is not None else (len(chunks), embedder.dimension)  # Qdrant: checked on opening
    if shape != (len(chunks), embedder.dimension) or lexicon.n_docs != len(chunks) or sentences.shape != (n_sentences, embedder.dimension):
        raise IndexError_(
            f"The index in {folder} is inconsistent ({shape[0]} vectors of dimension {shape[1]}, "
            f"{len(chunks)} chunks, {sentences.shape} sentence vectors for {n_sentences} sentences). {REBUILD_HINT}"
        )
    return index


def sentence_offsets(chunks: list[Chunk]) -> np.ndarray:
    """Row of each chunk's first sentence vector, plus the total at the end."""
    return np.cumsum([0, *(len(embedded_sentences(c)) for c in chunks)], dtype=np.int64)


def release_freed_memory() -> None:
    """Give the heap pages that parsing the JSON files freed back to the OS: glibc keeps them otherwise, about
    500 resident bytes per chunk measured on 18k chunks (eval/BENCHMARK.md). Nothing to do without glibc."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def check_compatible(manifest: dict[str, object], embedder: Embedder, settings: Settings) -> None:
    expected = identity(embedder, settings)
    for key, want in expected.items():
        have = manifest.get(key)
        if have != want:
            raise IndexMismatch(
                f"The index was built with {key} = {have!r}, but this assistant uses {want!r}. {REBUILD_HINT}"
            )


def identity(embedder: Embedder, settings: Settings) -> dict[str, object]:
    return {
        "format": FORMAT_VERSION,
        "model_id": embedder.model_id,
        "model_sha256": embedder.fingerprint(),
        "dimension": embedder.dimension,
        "chunker_version": CHUNKER_VERSION,
        "chunk_settings": settings.chunk_fingerprint(),
    }


def _load_chunks(folder: Path, documents: list[Document]) -> list[Chunk]:
    """The stored chunks (see the module docstring), refusing offsets outside their document: every quote must be
    a real slice. Ids are "<doc_id>#<n>", numbered within each document as `chunk_document` numbers them."""
    strings = json.loads((folder / "chunks.json").read_text())
    sections = [sys.intern(str(x)) for x in strings["sections"]]
    kinds = [sys.intern(str(x)) for x in strings["kinds"]]
    glosses = dict(strings["gloss"])
    table = _int32(np.load(folder / "chunks.npy", allow_pickle=False), 2, "chunks.npy")
    spans = _int32(np.load(folder / "chunk_spans.npy", allow_pickle=False), 1, "chunk_spans.npy")
    _check_chunks(table, spans, documents, len(sections), len(kinds))
    bounds = np.concatenate([[0], np.cumsum(table[:, 5])]) * 2
    chunks: list[Chunk] = []
    number, previous = 0, -1
    for row, (doc_row, start, end, section, kind, _) in enumerate(table.tolist()):
        number, previous = (number + 1 if doc_row == previous else 0), doc_row
        doc = documents[doc_row]
        spans_bytes = spans[bounds[row] : bounds[row + 1]].tobytes()
        chunks.append(Chunk(f"{doc.doc_id}#{number}", doc.doc_id, start, end, sections[section], kinds[kind], spans_bytes, doc.text, str(glosses.get(str(row), ""))))
    return chunks


def _int32(array: np.ndarray, ndim: int, name: str) -> np.ndarray:
    if array.dtype != np.int32 or array.ndim != ndim or (ndim == 2 and array.shape[1] != CHUNK_COLUMNS):
        raise ValueError(f"{name} holds {array.dtype} of shape {array.shape}")
    return array


def _check_chunks(table: np.ndarray, spans: np.ndarray, documents: list[Document], n_sections: int, n_kinds: int) -> None:
    doc_rows, starts, ends, sections, kinds, counts = table.T
    if len(table) and (doc_rows.min() < 0 or doc_rows.max() >= len(documents) or np.any(np.diff(doc_rows) < 0)):
        raise ValueError("chunks.npy names documents out of order or out of range")
    if np.any((sections < 0) | (sections >= n_sections) | (kinds < 0) | (kinds >= n_kinds) | (counts < 0)):
        raise ValueError("chunks.npy names a section or kind that chunks.json lacks")
    lengths = np.array([len(d.text) for d in documents], np.int64)
    if np.any((starts < 0) | (starts > ends)) or (len(table) and np.any(ends > lengths[doc_rows])):
        raise ValueError("a chunk has offsets outside its document")
    if len(spans) != 2 * counts.sum():
        raise ValueError(f"chunk_spans.npy holds {len(spans)} offsets for {counts.sum()} sentences")
    owner = np.repeat(np.arange(len(table)), counts)
    if np.any((spans[0::2] < starts[owner]) | (spans[0::2] > spans[1::2]) | (spans[1::2] > ends[owner])):
        raise ValueError("a sentence lies outside its chunk")
