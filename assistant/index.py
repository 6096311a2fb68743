"""Stage 3, index: embeddings in FAISS, BM25 via bm25s, metadata in JSON, a manifest, atomic versions.

Layout of an index folder:
    CURRENT                 name of the live version (replaced atomically)
    versions/<name>/        manifest.json, documents.json, chunks.json + chunks.npy + chunk_spans.npy, vectors.faiss,
                            sentences.npy, aliases.json, bm25/
With store.kind='qdrant' each version is also published as the Qdrant collection '<prefix>-<name>' before CURRENT
points at it (assistant/store.py); searching then asks Qdrant, and vectors.faiss is the checkpoint re-indexing reuses.
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
import hashlib
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import faiss
import numpy as np

from .aliases import AliasTable, mine_aliases
from .chunk import CHUNKER_VERSION, Leads
from .embed import Embedder
from .errors import ConfigError, DocumentError, IndexError_, IndexMismatch, IndexMissing
from .ingest import check_file, discover, load_document
from .lexicon import Lexicon
from .prepare import Engine, LocalEngine, Prepared, Progress, distinct_texts, embedded_sentences
from .schema import Chunk, Document, document_from_json, document_to_json
from .settings import Settings
from .store import ChunkStore, LocalStore, QdrantStore, publish, published, switch_alias

FORMAT_VERSION = 7  # 6: document pages (faithful loaders); 7: also bm25/surface.json (the corpus spelling of each stem)
_CHUNK_COLUMNS = 6  # chunks.npy: document row, start, end, section, kind, sentence count
REBUILD_HINT = "Run `assistant ingest --rebuild` to build it again from the corpus."


@dataclass(slots=True)
class IngestReport:
    """What an ingest did: documents added, reused and removed, chunks embedded, per-file problems."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    embedded_chunks: int = 0
    total_chunks: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version: str | None = None

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass(slots=True)
class Index:
    """A loaded, read-only index version."""

    folder: Path
    manifest: dict[str, object]
    documents: dict[str, Document]
    chunks: list[Chunk]
    store: ChunkStore  # where the chunk vectors and BM25 postings are searched (assistant/store.py)
    lexicon: Lexicon
    aliases: AliasTable
    sentences: np.ndarray  # float16, one row per sentence of each non-apparatus chunk, in chunk order
    sentence_offsets: np.ndarray = field(init=False)
    rows: dict[str, int] = field(init=False)
    leads: dict[str, Leads] = field(init=False)
    doc_rows: dict[str, int] = field(init=False)  # a document's place among `doc_starts`
    doc_starts: np.ndarray = field(init=False)  # the row of each chunked document's first chunk (chunks are by document)

    def __post_init__(self) -> None:
        self.sentence_offsets = sentence_offsets(self.chunks)
        self.rows = {c.chunk_id: row for row, c in enumerate(self.chunks)}
        self.leads = {doc_id: Leads(doc) for doc_id, doc in self.documents.items()}
        firsts = [row for row, c in enumerate(self.chunks) if row == 0 or self.chunks[row - 1].doc_id != c.doc_id]
        self.doc_starts = np.array(firsts, np.int64)
        self.doc_rows = {self.chunks[row].doc_id: place for place, row in enumerate(firsts)}

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
    identity = {k: v for k, v in manifest.items() if k != "documents"}  # the per-document listing is for readers of the file
    store: ChunkStore = (
        LocalStore(vectors, lexicon) if vectors is not None
        else QdrantStore(settings.store, folder.name, _identity(embedder, settings), len(chunks), folder / "vectors.faiss")
    )
    index = Index(folder, identity, documents, chunks, store, lexicon, aliases, sentences)
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
    expected = _identity(embedder, settings)
    for key, want in expected.items():
        have = manifest.get(key)
        if have != want:
            raise IndexMismatch(
                f"The index was built with {key} = {have!r}, but this assistant uses {want!r}. {REBUILD_HINT}"
            )


def _identity(embedder: Embedder, settings: Settings) -> dict[str, object]:
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
    if array.dtype != np.int32 or array.ndim != ndim or (ndim == 2 and array.shape[1] != _CHUNK_COLUMNS):
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


# ---------------------------------------------------------------- writing

@contextmanager
def _writer_lock(index_dir: Path) -> Iterator[None]:
    """One writer per index folder, across processes (filelock: POSIX and Windows alike)."""
    from filelock import FileLock

    index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(index_dir / ".lock"):
        yield


def build_index(
    paths: list[Path],
    settings: Settings,
    embedder: Embedder,
    *,
    sync: bool = True,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the index up to date with `paths`, re-embedding only documents whose bytes changed.

    Indexed documents not among `paths` stay; with sync, those whose source file no longer exists are dropped.
    A copy of an indexed document is skipped, and another file claiming an indexed id is refused. Per-file
    errors are reported, never raised: the other files still go in. The previous version stays live until the
    new one is complete.
    """
    report = IngestReport()
    with _writer_lock(settings.index_dir):
        try:
            previous = None if rebuild else _previous(settings, embedder, report, partial=not sync)
        except IndexError_ as exc:
            report.errors.append(f"Nothing was changed: adding only these files would drop every other document. {exc}")
            return report
        files, missing = discover(paths)
        report.errors.extend(map(str, missing))
        kept, fresh = _plan(files, previous, settings, report)
        if previous is not None:
            _keep_unlisted(previous, kept, fresh, report, drop_missing=sync)
        if previous is not None and not report.changed and not fresh:
            report.total_chunks = len(previous.chunks)
            report.version = previous.folder.name
            _publish_missing(previous, settings, embedder, progress)
            return report
        if not kept and not fresh:
            report.errors.append("No documents could be indexed; the previous index (if any) was left in place.")
            return report
        report.version = _write_version(previous, kept, fresh, settings, embedder, report, progress)
    return report


def remove_documents(doc_ids: list[str], settings: Settings, embedder: Embedder) -> IngestReport:
    """Drop documents from the index (a new version, switched atomically; nothing re-embedded), then delete their
    files when they lie in the corpus folder, so that the next sync does not add them back."""
    report = IngestReport()
    with _writer_lock(settings.index_dir):
        previous = load_index(settings.index_dir, embedder, settings, local=True)
        unknown = [d for d in doc_ids if d not in previous.documents]
        if unknown:
            raise ConfigError(f"No indexed document with id {', '.join(map(repr, unknown))}. `assistant docs list` shows the ids.")
        kept = [d for d in previous.documents.values() if d.doc_id not in doc_ids]
        if not kept:
            raise ConfigError("Removing every document would leave an empty index: add another document first.")
        report.removed = list(dict.fromkeys(doc_ids))
        report.unchanged = [d.doc_id for d in kept]
        report.version = _write_version(previous, kept, [], settings, embedder, report, None)
    corpus = settings.corpus_dir.resolve()
    for doc_id in report.removed:
        source = Path(previous.documents[doc_id].source_path)
        if source.is_file() and source.resolve().is_relative_to(corpus):
            source.unlink()
            report.warnings.append(f"{source}: deleted from the corpus folder.")
    return report


def index_status(settings: Settings) -> dict[str, object]:
    """What `assistant status` shows, read from the live version's manifest (no index is loaded)."""
    folder = current_version(settings.index_dir)
    manifest = json.loads((folder / "manifest.json").read_text())
    store = settings.store.kind if settings.store.kind == "local" else f"qdrant ({settings.store.qdrant_url or settings.store.qdrant_path})"
    return {
        "index": str(settings.index_dir), "version": folder.name, "last ingest": manifest.get("created"),
        "model": manifest.get("model_id"), "model sha256": str(manifest.get("model_sha256", ""))[:16],
        "chunker": manifest.get("chunker_version"), "documents": len(manifest.get("documents", {})),
        "chunks": manifest.get("n_chunks"), "corpus": str(settings.corpus_dir), "store": store,
    }


def document_listing(settings: Settings) -> list[dict[str, object]]:
    """Every indexed document with its chunk count, from the live version's files (no model is loaded)."""
    folder = current_version(settings.index_dir)
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = manifest.get("documents", {})
    counts = np.bincount(np.load(folder / "chunks.npy", allow_pickle=False)[:, 0], minlength=len(listed)) if listed else []
    return [
        {"doc_id": doc_id, "chunks": int(counts[row]), "title": meta["title"], "source_path": meta["source_path"]}
        for row, (doc_id, meta) in enumerate(sorted(listed.items()))
    ]


def _previous(settings: Settings, embedder: Embedder, report: IngestReport, *, partial: bool) -> Index | None:
    """The live version to update. A damaged or mismatched one is rebuilt by a full ingest, never by a partial one."""
    try:
        return load_index(settings.index_dir, embedder, settings, local=True)
    except IndexMissing:
        return None
    except IndexError_ as exc:
        if partial:
            raise
        report.warnings.append(f"Rebuilding from scratch: {exc}")
        return None


def _plan(
    files: list[Path], previous: Index | None, settings: Settings, report: IngestReport
) -> tuple[list[Document], list[Document]]:
    """Split files into reusable documents (same bytes as indexed) and fresh ones to chunk and embed."""
    by_checksum = {d.checksum: d for d in previous.documents.values()} if previous else {}
    old_ids = set(previous.documents) if previous else set()
    seen_checksums: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    kept: list[Document] = []
    fresh: list[Document] = []
    for path in files:
        read = _read(path, by_checksum, seen_checksums, settings, report)
        if read is None:
            continue
        doc, is_fresh = read
        owner = seen_ids.get(doc.doc_id) or _other_live_source(previous, doc, path)
        if owner:
            report.errors.append(
                f"{path}: its id '{doc.doc_id}' is already used by {owner}. "
                "Give it another `id:` in its front matter, or rename the file."
            )
            continue
        seen_checksums[doc.checksum], seen_ids[doc.doc_id] = str(path), str(path)
        if is_fresh:
            fresh.append(doc)
            (report.updated if doc.doc_id in old_ids else report.added).append(doc.doc_id)
        else:
            kept.append(doc)
            report.unchanged.append(doc.doc_id)
    return kept, fresh


def _other_live_source(previous: Index | None, doc: Document, path: Path) -> str | None:
    """The other, still existing file an indexed document with this id came from (a clash, not an update)."""
    old = previous.documents.get(doc.doc_id) if previous else None
    if old is None or Path(old.source_path).resolve() == path.resolve() or not Path(old.source_path).exists():
        return None
    return old.source_path


def _read(
    path: Path, indexed: dict[str, Document], seen: dict[str, str], settings: Settings, report: IngestReport
) -> tuple[Document, bool] | None:
    """The indexed document if its bytes are unchanged (moved files keep their vectors), else a fresh load.

    Type and size are checked before hashing, so a huge or unsupported file is never read; duplicates are skipped.
    """
    try:
        check_file(path, settings.max_file_mb)
        checksum = _sha256(path)
        if checksum in seen:
            report.warnings.append(f"{path}: same content as {seen[checksum]}; skipped as a duplicate.")
            return None
        if checksum in indexed:
            return _moved_or_duplicate(indexed[checksum], path, report)
        loaded = load_document(path, settings.max_file_mb)
    except DocumentError as exc:
        report.errors.append(str(exc))
        return None
    except OSError as exc:
        report.errors.append(f"{path}: could not be read ({exc}). Check its permissions.")
        return None
    report.warnings.extend(loaded.warnings)
    return loaded.document, True


def _moved_or_duplicate(indexed: Document, path: Path, report: IngestReport) -> tuple[Document, bool] | None:
    """An indexed document found at `path`: the same file or a moved one keeps its vectors; a copy is skipped."""
    old = Path(indexed.source_path)
    if old.resolve() != path.resolve() and old.exists():
        report.warnings.append(f"{path}: same content as {old} (already indexed); skipped as a duplicate.")
        return None
    return replace(indexed, source_path=str(path)), False


def _keep_unlisted(
    previous: Index, kept: list[Document], fresh: list[Document], report: IngestReport, *, drop_missing: bool
) -> None:
    """Documents not among the files ingested stay; with drop_missing (a sync), only if their source still exists."""
    listed = {d.doc_id for d in kept} | {d.doc_id for d in fresh}
    for doc in previous.documents.values():
        if doc.doc_id in listed:
            continue
        if not drop_missing or Path(doc.source_path).exists():
            kept.append(doc)
            report.unchanged.append(doc.doc_id)
        else:
            report.removed.append(doc.doc_id)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_version(
    previous: Index | None,
    kept: list[Document],
    fresh: list[Document],
    settings: Settings,
    embedder: Embedder,
    report: IngestReport,
    progress: Progress | None,
) -> str:
    documents = sorted(kept + fresh, key=lambda d: d.doc_id)
    reused = _reused(previous, kept)
    engine = make_engine(settings, embedder, progress)
    prepared = engine.prepare(fresh) if fresh else {}
    embedded = _embed_fresh(prepared, engine, embedder.dimension) if prepared else {}
    parts = [embedded.get(doc.doc_id) or reused[doc.doc_id] for doc in documents]
    chunks = [c for part in parts for c in part.chunks]
    report.embedded_chunks = sum(len(p.chunks) for p in prepared.values())
    report.total_chunks = len(chunks)
    vectors = _stack([p.vectors for p in parts], embedder.dimension)
    sentences = _stack([p.sentences for p in parts], embedder.dimension)
    name = _persist(documents, chunks, vectors, sentences, settings, embedder, progress)
    engine.done()
    return name


@dataclass(frozen=True, slots=True)
class _Embedded:
    """One document's chunks with their vectors and the vectors of their sentences (see `embedded_sentences`)."""

    chunks: list[Chunk]
    vectors: np.ndarray
    sentences: np.ndarray


def _stack(matrices: list[np.ndarray], dimension: int) -> np.ndarray:
    return np.vstack(matrices).astype(np.float32) if matrices else np.zeros((0, dimension), np.float32)


def make_engine(settings: Settings, embedder: Embedder, progress: Progress | None) -> Engine:
    """The ingest engine settings.ingest names: this process, or Ray Data (imported only then)."""
    if settings.ingest.engine == "ray":
        from .ray_engine import RayEngine

        return RayEngine(settings, embedder, progress)
    return LocalEngine(settings.chunk, embedder, progress)


def _reused(previous: Index | None, kept: list[Document]) -> dict[str, _Embedded]:
    if previous is None or not kept:
        return {}
    wanted = {d.doc_id for d in kept}
    rows: dict[str, list[int]] = {}
    for row, chunk in enumerate(previous.chunks):
        if chunk.doc_id in wanted:
            rows.setdefault(chunk.doc_id, []).append(row)
    all_vectors = previous.all_vectors()
    offsets = previous.sentence_offsets
    return {
        doc_id: _Embedded(
            [previous.chunks[r] for r in rs], all_vectors[rs], np.asarray(previous.sentences[offsets[rs[0]] : offsets[rs[-1] + 1]])
        )
        for doc_id, rs in rows.items()
    }


def _embed_fresh(prepared: dict[str, Prepared], engine: Engine, dimension: int) -> dict[str, _Embedded]:
    """Embed every new chunk and its sentences, each distinct text once."""
    distinct = distinct_texts(prepared)
    vectors = dict(zip(distinct, engine.embed(distinct), strict=True))

    def stack(texts: list[str]) -> np.ndarray:
        return _stack([vectors[t] for t in texts], dimension)

    return {doc_id: _Embedded(p.chunks, stack(p.chunk_texts), stack(p.sentence_texts)) for doc_id, p in prepared.items()}


def _persist(
    documents: list[Document],
    chunks: list[Chunk],
    matrix: np.ndarray,
    sentences: np.ndarray,
    settings: Settings,
    embedder: Embedder,
    progress: Progress | None = None,
) -> str:
    versions = settings.index_dir / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    name = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 100000:05d}"
    staging = versions / f".{name}.partial"
    staging.mkdir()
    faiss_index = faiss.IndexFlatIP(embedder.dimension)
    if len(matrix):
        faiss_index.add(matrix)
    faiss.write_index(faiss_index, str(staging / "vectors.faiss"))
    np.save(staging / "sentences.npy", sentences.astype(np.float16), allow_pickle=False)
    lexicon = Lexicon.build([c.embed_text for c in chunks])
    lexicon.save(staging / "bm25")
    aliases = mine_aliases(d.text for d in documents)
    _write_json(staging / "aliases.json", aliases.to_json())
    _write_json(staging / "documents.json", [document_to_json(d) for d in documents])
    _save_chunks(staging, chunks, documents)
    identity = _identity(embedder, settings)
    manifest = {
        **identity,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_chunks": len(chunks),
        "documents": {d.doc_id: {"checksum": d.checksum, "source_path": d.source_path, "title": d.title} for d in documents},
    }
    _write_json(staging / "manifest.json", manifest)
    _fsync_tree(staging)
    if settings.store.kind == "qdrant":  # the collection is complete before anything points at it
        try:
            publish(settings.store, name, identity, matrix, lexicon, [c.doc_id for c in chunks], progress)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    os.replace(staging, versions / name)
    _switch(settings.index_dir, name)
    dropped = _prune(versions, keep={name})
    if settings.store.kind == "qdrant":
        switch_alias(settings.store, name, dropped)
    return name


def _publish_missing(index: Index, settings: Settings, embedder: Embedder, progress: Progress | None) -> None:
    """An unchanged index asked to serve from a Qdrant that lacks its collection (a new server, a first
    `--store qdrant`): publish the version from its own vectors, nothing re-embedded."""
    if settings.store.kind != "qdrant" or published(settings.store, index.folder.name):
        return
    doc_ids = [c.doc_id for c in index.chunks]
    publish(settings.store, index.folder.name, _identity(embedder, settings), index.all_vectors(), index.lexicon, doc_ids, progress)
    switch_alias(settings.store, index.folder.name, set())


def _save_chunks(folder: Path, chunks: list[Chunk], documents: list[Document]) -> None:
    rows = {d.doc_id: row for row, d in enumerate(documents)}
    sections, kinds = sorted({c.section for c in chunks}), sorted({c.kind for c in chunks})
    section_code, kind_code = {x: i for i, x in enumerate(sections)}, {x: i for i, x in enumerate(kinds)}
    table = [(rows[c.doc_id], c.start, c.end, section_code[c.section], kind_code[c.kind], len(c.sentences)) for c in chunks]
    np.save(folder / "chunks.npy", np.array(table, np.int32).reshape(-1, _CHUNK_COLUMNS), allow_pickle=False)
    np.save(folder / "chunk_spans.npy", np.frombuffer(b"".join(c.spans for c in chunks), np.int32), allow_pickle=False)
    _write_json(folder / "chunks.json", {"sections": sections, "kinds": kinds, "gloss": {str(r): c.gloss for r, c in enumerate(chunks) if c.gloss}})


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False))


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())


def _switch(index_dir: Path, name: str) -> None:
    tmp = index_dir / f"CURRENT.{os.getpid()}.tmp"
    tmp.write_text(name)
    with open(tmp, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, index_dir / "CURRENT")


def _prune(versions: Path, keep: set[str], retain: int = 2) -> set[str]:
    """Delete all but the newest `retain` versions and any abandoned partial folders; the versions deleted."""
    complete = sorted((p for p in versions.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    doomed = [p for p in complete[:-retain] if p.name not in keep]
    doomed += [p for p in versions.iterdir() if p.name.startswith(".") and p.name.endswith(".partial")]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return {p.name for p in complete if p in doomed}
