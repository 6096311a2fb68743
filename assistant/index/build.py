"""Index, writing: bring an index folder up to date with a set of files (only changed documents re-embedded), as
a new version written completely and fsynced before CURRENT switches to it; remove documents; status and listing.
The folder's layout is load.py's docstring."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import faiss
import numpy as np

from ..documents.aliases import mine_aliases
from ..documents.ingest import check_file, discover, load_document
from ..errors import (
    ConfigError,
    DocumentError,
    IndexError_,
    IndexMissing,
)
from ..schema import Chunk, Document, document_to_json
from ..settings import Settings
from .embed import Embedder
from .lexicon import Lexicon
from .load import CHUNK_COLUMNS, Index, current_version, identity, load_index
from .prepare import (
    Engine,
    LocalEngine,
    Prepared,
    Progress,
    distinct_texts,
)
from .store import publish, published, switch_alias


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
    made_by = identity(embedder, settings)
    manifest = {
        **made_by,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "n_chunks": len(chunks),
        "documents": {d.doc_id: {"checksum": d.checksum, "source_path": d.source_path, "title": d.title} for d in documents},
    }
    _write_json(staging / "manifest.json", manifest)
    _fsync_tree(staging)
    if settings.store.kind == "qdrant":  # the collection is complete before anything points at it
        try:
            publish(settings.store, name, made_by, matrix, lexicon, [c.doc_id for c in chunks], progress)
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
    publish(settings.store, index.folder.name, identity(embedder, settings), index.all_vectors(), index.lexicon, doc_ids, progress)
    switch_alias(settings.store, index.folder.name, set())


def _save_chunks(folder: Path, chunks: list[Chunk], documents: list[Document]) -> None:
    rows = {d.doc_id: row for row, d in enumerate(documents)}
    sections, kinds = sorted({c.section for c in chunks}), sorted({c.kind for c in chunks})
    section_code, kind_code = {x: i for i, x in enumerate(sections)}, {x: i for i, x in enumerate(kinds)}
    table = [(rows[c.doc_id], c.start, c.end, section_code[c.section], kind_code[c.kind], len(c.sentences)) for c in chunks]
    np.save(folder / "chunks.npy", np.array(table, np.int32).reshape(-1, CHUNK_COLUMNS), allow_pickle=False)
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
