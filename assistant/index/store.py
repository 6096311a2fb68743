"""Stage 3b, store: where chunk vectors and BM25 postings are searched. One interface, two implementations.

- `LocalStore`: FAISS's flat storage and bm25s in this process; every chunk is scored (exhaustive).
- `QdrantStore`: a Qdrant collection per index version (a server, or qdrant-client's embedded mode). Named vectors:
  "dense" (cosine; int8 scalar quantisation kept in RAM, originals on disk, HNSW) and "bm25" (sparse: each chunk's
  BM25 term weights from our own tokeniser, stemmer and corpus-wide idf). A search asks Qdrant for the `depth` nearest
  chunks of every query vector and the `depth` best keyword matches in one batch, then fetches those chunks' stored
  vectors and scores them exactly as the local store does, so the searcher's own fusion sees the same numbers.

Why not Qdrant's server-side RRF and its IDF modifier: the searcher fuses more rankings than two (whole-chunk vectors,
best sentence, concept BM25 with synonyms scored by their best alternative, aspect sub-queries) with weights, and a
Qdrant fusion of two prefetches cannot reproduce that ranking; the IDF modifier computes idf per shard, while weights
written with corpus-wide idf make every shard score alike. Each version is a new collection, so idf never goes stale.

The index folder stays the document store: documents, chunk offsets and sentence vectors (a memory-mapped side
store), and a copy of the chunk vectors (vectors.faiss) that re-indexing reuses instead of re-embedding.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypeVar

import faiss
import numpy as np

from ..errors import IndexMismatch, StoreError
from ..settings import StoreSettings
from .lexicon import Lexicon

LexicalQuery = tuple[tuple[tuple[int, ...], ...], ...]  # concepts, each a tuple of alternatives, each of term ids
DENSE, SPARSE = "dense", "bm25"
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Scores:
    """Per-chunk scores: `dense[row, j]` the cosine of chunk `row` and query vector j (-inf where the store did not
    score the chunk), `lexical[row]` its concept BM25 (0 where not scored; empty when no keyword query was asked)."""

    dense: np.ndarray
    lexical: np.ndarray


@dataclass(frozen=True, slots=True)
class Within:
    """The chunks a scoped search may score (index/scope.py makes one): their rows, in order, as indices and as a
    mask (the local store scores only them), and their documents' ids (Qdrant filters its points' payload by them)."""

    rows: np.ndarray
    mask: np.ndarray
    doc_ids: tuple[str, ...]


class ChunkStore(Protocol):
    """What the searcher asks of a store."""

    exhaustive: bool  # every chunk is scored, whatever the depth

    def score(self, queries: np.ndarray, lexical: LexicalQuery | None, depth: int | None, within: Within | None = None) -> Scores:
        """Chunks against each query vector and the keyword query: at least the `depth` best of each (None: as many
        as the store allows for an exhaustive check); with `within`, only those chunks, and the depth best of them
        (a chunk outside scores -inf and 0, as one not returned)."""
        ...

    def all_vectors(self) -> np.ndarray: ...


def concept_scores(query: LexicalQuery, term_scores: Callable[[tuple[int, ...]], np.ndarray], n: int) -> np.ndarray:
    """BM25 with synonyms: each concept scores its best alternative, a phrase by its mean term score (so a long alias
    weighs no more than a short one); concepts add up. `term_scores(ids)`: the summed BM25 of those terms per row."""
    total = np.zeros(n, dtype=np.float32)
    for alternatives in query:
        per_alt = [term_scores(ids) / len(ids) for ids in alternatives if ids]
        if per_alt:
            total += np.max(per_alt, axis=0)
    return total


class LocalStore:
    """FAISS flat inner-product storage and bm25s: exact, in this process."""

    exhaustive = True

    def __init__(self, vectors: faiss.Index, lexicon: Lexicon, gather_share: float = 0.4) -> None:
        self.vectors = vectors
        self.lexicon = lexicon
        self.gather_share = gather_share  # StoreSettings.scope_gather_share

    def score(self, queries: np.ndarray, lexical: LexicalQuery | None, depth: int | None, within: Within | None = None) -> Scores:
        dense = self._dense(queries, within)
        if lexical is None:
            return Scores(dense, np.zeros(0, np.float32))
        keyword = concept_scores(lexical, lambda ids: self.lexicon.scores(list(ids)), self.lexicon.n_docs)
        if within is not None:
            keyword[~within.mask] = 0.0
        return Scores(dense, keyword)

    def _dense(self, queries: np.ndarray, within: Within | None) -> np.ndarray:
        """Every chunk's cosine with each query vector; with `within`, -inf outside it (a small scope's vectors are
        gathered and only they multiplied: StoreSettings.scope_gather_share)."""
        vectors = self.all_vectors()
        if within is None:
            return vectors @ queries.T
        if len(within.rows) > self.gather_share * len(vectors):
            dense = vectors @ queries.T
            dense[~within.mask] = -np.inf
            return dense
        dense = np.full((len(vectors), len(queries)), -np.inf, dtype=np.float32)
        dense[within.rows] = vectors[within.rows] @ queries.T
        return dense

    def all_vectors(self) -> np.ndarray:
        return flat_vectors(self.vectors)


def flat_vectors(index: faiss.Index) -> np.ndarray:
    """Every vector of a flat FAISS index: a read-only view of its own storage (no copy)."""
    n, d = index.ntotal, index.d
    if not n:
        return np.zeros((0, d), np.float32)
    view = faiss.rev_swig_ptr(faiss.downcast_index(index).get_xb(), n * d).reshape(n, d)
    view.flags.writeable = False
    return view


# ---------------------------------------------------------------- Qdrant

_CLIENTS: dict[tuple[str, str], object] = {}
_CLIENTS_LOCK = threading.Lock()


@atexit.register
def _close_clients() -> None:
    """Close clients before interpreter shutdown (an embedded client closed by its finaliser then fails noisily)."""
    for client in _CLIENTS.values():
        try:
            client.close()  # type: ignore[attr-defined]
        except Exception:  # noqa: BLE001, S110 - closing at exit: nothing left to report to
            pass


def qdrant_client(settings: StoreSettings):  # type: ignore[no-untyped-def]
    """One client per server or folder per process (embedded mode locks its folder against a second client)."""
    try:
        from qdrant_client import QdrantClient
    except ImportError as exc:
        raise StoreError("store.kind='qdrant' needs qdrant-client: pip install 'medevidence-assistant[scale]'.") from exc

    key = ("url", settings.qdrant_url) if settings.qdrant_url else ("path", str(Path(settings.qdrant_path).resolve()))  # type: ignore[arg-type]
    with _CLIENTS_LOCK:
        if key not in _CLIENTS:
            try:
                if settings.qdrant_url:
                    client = QdrantClient(
                        url=settings.qdrant_url, api_key=os.environ.get("QDRANT_API_KEY"), timeout=settings.timeout,
                        check_compatibility=False,  # its background thread fails noisily on a dead URL; our first request says why
                    )
                else:
                    Path(key[1]).mkdir(parents=True, exist_ok=True)
                    client = QdrantClient(path=key[1])
            except Exception as exc:  # noqa: BLE001 - a client that cannot start becomes one clear error
                raise StoreError(f"Could not open Qdrant at {key[1]}: {exc}. {_fix(settings)}") from exc
            _CLIENTS[key] = client
        return _CLIENTS[key]


def _fix(settings: StoreSettings) -> str:
    if settings.qdrant_url:
        return (
            f"Check that a Qdrant server answers at {settings.qdrant_url} (e.g. `docker run -p 6333:6333 qdrant/qdrant`) "
            "and that $QDRANT_API_KEY is its key, or correct --qdrant-url."
        )
    return "Another process may hold this embedded Qdrant folder (one process at a time): stop it, or use a Qdrant server."


def _call(settings: StoreSettings, what: str, fn: Callable[..., _T], *args: object, **kwargs: object) -> _T:
    """A Qdrant request; any failure becomes a StoreError naming the fix."""
    try:
        return fn(*args, **kwargs)
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - network, server and client errors all mean the same to the user
        raise StoreError(f"Qdrant failed while {what} ({type(exc).__name__}: {exc}). {_fix(settings)}") from exc


def collection_name(settings: StoreSettings, version: str) -> str:
    return f"{settings.collection}-{version}"


def published(settings: StoreSettings, version: str) -> bool:
    """Whether Qdrant holds this index version's collection."""
    client = qdrant_client(settings)
    return bool(_call(settings, "listing collections", client.collection_exists, collection_name(settings, version)))


class QdrantStore:
    """A published index version in Qdrant (see the module docstring)."""

    exhaustive = False

    def __init__(self, settings: StoreSettings, version: str, identity: dict[str, object], n_chunks: int, checkpoint: Path) -> None:
        self.settings = settings
        self.client = qdrant_client(settings)
        self.collection = collection_name(settings, version)
        self.n_chunks = n_chunks
        self._checkpoint = checkpoint
        self._vectors: np.ndarray | None = None
        self._identity = identity
        self._check(identity)
        from qdrant_client import models

        self._params = (
            models.SearchParams(
                hnsw_ef=settings.hnsw_ef,
                quantization=models.QuantizationSearchParams(rescore=True, oversampling=settings.oversampling),
            )
            if settings.qdrant_url
            else None  # embedded mode searches exactly and warns about search parameters
        )

    def _check(self, identity: dict[str, object]) -> None:
        exists = _call(self.settings, "listing collections", self.client.collection_exists, self.collection)
        if not exists:
            raise StoreError(
                f"Qdrant has no collection {self.collection} for this index version. Run `assistant ingest --store qdrant` "
                "(with the same --qdrant-url/--qdrant-path) to publish it."
            )
        info = _call(self.settings, "reading the collection", self.client.get_collection, self.collection)
        built = dict(info.config.metadata or {})
        for key, want in identity.items():
            if built.get(key) != want:
                raise IndexMismatch(
                    f"The Qdrant collection {self.collection} was built with {key} = {built.get(key)!r}, but this assistant "
                    f"uses {want!r}. Run `assistant ingest --rebuild --store qdrant` to publish it again."
                )
        count = _call(self.settings, "counting points", self.client.count, self.collection, exact=True).count
        if count != self.n_chunks:
            raise IndexMismatch(
                f"The Qdrant collection {self.collection} holds {count} chunks, the index {self.n_chunks}. "
                "Run `assistant ingest --rebuild --store qdrant` to publish it again."
            )

    def score(self, queries: np.ndarray, lexical: LexicalQuery | None, depth: int | None, within: Within | None = None) -> Scores:
        from qdrant_client import models

        depth = self.settings.audit_depth if depth is None else max(depth, self.settings.depth)
        only = _payload_filter(within)
        requests = [models.QueryRequest(query=q.tolist(), using=DENSE, limit=depth, params=self._params, filter=only) for q in queries]
        weights = _term_weights(lexical or ())
        if weights:
            sparse = models.SparseVector(indices=list(weights), values=list(weights.values()))
            requests.append(models.QueryRequest(query=sparse, using=SPARSE, limit=depth, filter=only))
        found = _call(self.settings, "searching", self.client.query_batch_points, self.collection, requests) if requests else []
        rows = np.array(sorted({int(p.id) for response in found for p in response.points}), dtype=np.int64)
        dense = np.full((self.n_chunks, len(queries)), -np.inf, dtype=np.float32)
        lex = np.zeros(self.n_chunks if lexical is not None else 0, dtype=np.float32)
        if not len(rows):
            return Scores(dense, lex)
        names = [DENSE] * bool(len(queries)) + [SPARSE] * (lexical is not None)
        fetched = _call(self.settings, "fetching vectors", self.client.retrieve, self.collection, rows.tolist(), with_vectors=names)
        records = {int(r.id): r.vector for r in fetched}
        if len(queries):
            dense[rows] = np.array([records[row][DENSE] for row in rows.tolist()], dtype=np.float32) @ queries.T
        if lexical is not None:
            lex[rows] = _rescore(lexical, [records[row].get(SPARSE) for row in rows.tolist()])
        return Scores(dense, lex)

    def all_vectors(self) -> np.ndarray:
        """The chunk vectors, from the version's checkpoint (re-indexing reuses them; searching never needs them)."""
        if self._vectors is None:
            self._vectors = flat_vectors(faiss.read_index(str(self._checkpoint)))
        return self._vectors


def _payload_filter(within: Within | None):  # type: ignore[no-untyped-def]
    """Qdrant's filter for a scope: points whose payload doc_id is one of the scope's documents (None: every point)."""
    if within is None:
        return None
    from qdrant_client import models

    return models.Filter(must=[models.FieldCondition(key="doc_id", match=models.MatchAny(any=list(within.doc_ids)))])


def _term_weights(query: LexicalQuery) -> dict[int, float]:
    """One sparse query for a concept query: each term weighted as in its shortest alternative (a candidate
    generator; the exact concept scores are computed on what it finds)."""
    weights: dict[int, float] = {}
    for alternatives in query:
        for ids in alternatives:
            for term in ids:
                weights[term] = max(weights.get(term, 0.0), 1.0 / len(ids))
    return weights


def _rescore(query: LexicalQuery, sparse: list[object]) -> np.ndarray:
    """Concept BM25 of the fetched chunks from their stored term weights, added in the order bm25s adds them (float32,
    term by term), so the local and the Qdrant store give the same numbers."""
    terms = sorted({t for alternatives in query for ids in alternatives for t in ids})
    column = {t: i for i, t in enumerate(terms)}
    table = np.zeros((len(sparse), len(terms)), dtype=np.float32)
    for row, vector in enumerate(sparse):
        if vector is None:
            continue
        for term, weight in zip(vector.indices, vector.values, strict=True):  # type: ignore[attr-defined]
            if term in column:
                table[row, column[term]] = weight

    def term_scores(ids: tuple[int, ...]) -> np.ndarray:
        total = np.zeros(len(sparse), dtype=np.float32)
        for term in ids:
            total += table[:, column[term]]
        return total

    return concept_scores(query, term_scores, len(sparse))


def publish(
    settings: StoreSettings,
    version: str,
    identity: dict[str, object],
    vectors: np.ndarray,
    lexicon: Lexicon,
    doc_ids: list[str],
    progress: Callable[[str, int, int], None] | None = None,
) -> None:
    """Write one index version as a new collection (rows as point ids) and check it holds every chunk; `switch_alias`
    then points the alias at it. A failure deletes the half-written collection and leaves the live one untouched."""
    from qdrant_client import models

    client = qdrant_client(settings)
    name = collection_name(settings, version)
    _call(settings, "removing an abandoned collection", client.delete_collection, name)
    _call(
        settings, "creating a collection", client.create_collection, name,
        vectors_config={DENSE: models.VectorParams(size=vectors.shape[1], distance=models.Distance.COSINE, on_disk=True)},
        sparse_vectors_config={SPARSE: models.SparseVectorParams(index=models.SparseIndexParams(on_disk=False))},
        quantization_config=models.ScalarQuantization(
            scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, quantile=0.99, always_ram=True)
        ),
        metadata={**identity, "version": version, "n_chunks": len(vectors)},
    )
    try:
        bounds, terms, weights = lexicon.chunk_weights()
        for begin, points in _batches(vectors, bounds, terms, weights, doc_ids, settings.upsert_batch):
            _call(settings, "writing points", client.upsert, name, points=points, wait=True)
            if progress:
                progress("publishing to Qdrant", min(begin + settings.upsert_batch, len(vectors)), len(vectors))
        count = _call(settings, "counting points", client.count, name, exact=True).count
        if count != len(vectors):
            raise StoreError(f"Qdrant holds {count} of the {len(vectors)} chunks written to {name}. Run the ingest again.")
        if settings.qdrant_url:  # filtering by document (removal, per-document search); embedded mode has no payload indexes
            _call(settings, "creating the doc_id index", client.create_payload_index, name, "doc_id", models.PayloadSchemaType.KEYWORD)
    except BaseException:
        _call(settings, "removing a half-written collection", client.delete_collection, name)
        raise


def _batches(
    vectors: np.ndarray, bounds: np.ndarray, terms: np.ndarray, weights: np.ndarray, doc_ids: list[str], size: int
) -> Iterator[tuple[int, list[object]]]:
    from qdrant_client import models

    for begin in range(0, len(vectors), size):
        points = []
        for row in range(begin, min(begin + size, len(vectors))):
            lo, hi = bounds[row], bounds[row + 1]
            sparse = models.SparseVector(indices=terms[lo:hi].tolist(), values=weights[lo:hi].tolist())
            points.append(models.PointStruct(id=row, vector={DENSE: vectors[row].tolist(), SPARSE: sparse}, payload={"doc_id": doc_ids[row]}))
        yield begin, points


def switch_alias(settings: StoreSettings, version: str, dropped: set[str]) -> None:
    """Point the alias `<prefix>` at this version's collection (for other readers), then delete the collections of
    the versions the index folder dropped (only those: other index folders may share the server and the prefix)."""
    from qdrant_client import models

    client = qdrant_client(settings)
    name = collection_name(settings, version)
    operations: list[object] = [
        models.CreateAliasOperation(create_alias=models.CreateAlias(collection_name=name, alias_name=settings.collection))
    ]
    if _has_alias(settings, client):  # delete and create in one request: Qdrant applies the pair atomically
        operations.insert(0, models.DeleteAliasOperation(delete_alias=models.DeleteAlias(alias_name=settings.collection)))
    _call(settings, "switching the alias", client.update_collection_aliases, operations)
    for old in sorted(dropped):
        _call(settings, "removing an old collection", client.delete_collection, collection_name(settings, old))


def _has_alias(settings: StoreSettings, client: object) -> bool:
    aliases = _call(settings, "listing aliases", client.get_aliases).aliases  # type: ignore[attr-defined]
    return any(a.alias_name == settings.collection for a in aliases)
