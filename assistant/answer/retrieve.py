"""Retrieve: the passages a question's QueryPlan (understand.py) finds, by dense (FAISS) and BM25 rankings fused by
reciprocal rank, with room for more than one source.

Reciprocal rank fusion: score(d) = Σ_r 1 / (k + rank_r(d)), Cormack, Clarke & Büttcher, SIGIR 2009.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ..index.embed import Embedder, one_blas_thread
from ..index.load import Index
from ..index.scope import Scoped, Scoper
from ..index.store import LexicalQuery, Within
from ..schema import Hit, Scope
from ..settings import RetrieveSettings
from .question import AnswerType, aspect_queries
from .understand import (
    Planner,
    QueryPlan,
    contrast_questions,
    nearest_words,
    rewording_candidates,
    rewordings,
    specific_words,
    unnamed_candidates,
    worded_by_the_document,
)

Mode = Literal["hybrid", "dense", "bm25"]


@dataclass(frozen=True, slots=True)
class SearchResult:
    hits: list[Hit]
    plan: QueryPlan
    query_vectors: np.ndarray
    candidates_checked: int
    aspects: tuple[AnswerType, ...] = ()
    aspect_vectors: np.ndarray | None = None
    # every chunk's similarity to the question (best of its wordings) and concept BM25 score, for document-level
    # evidence beyond the retrieved chunks; empty when not computed (bm25 or dense mode only)
    dense: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    lexical: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    scope: Scoped | None = None  # the documents searched, when not the whole index


class Searcher:
    """Runs the hybrid search over one loaded index."""

    def __init__(self, index: Index, embedder: Embedder, settings: RetrieveSettings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.planner = Planner(index, settings)
        self.scoper = Scoper(index)
        self._apparatus = frozenset(i for i, c in enumerate(index.chunks) if c.kind == "apparatus")

    def resolve(self, scope: Scope | None) -> Scoped | None:
        """A scope on this index version (None: the whole index); ScopeError for one that names or matches nothing."""
        return None if scope is None else self.scoper.resolve(scope)

    def _narrowed(self, scope: Scoped | None) -> tuple[Planner, Within | None]:
        """The planner and chunk mask a search is narrowed to: the whole index's for a scope that admits every document
        (a filter every document passes finds what the whole index does, without masks; the answer still says what it
        was limited to)."""
        narrowing = None if scope is None or scope.documents == len(self.index.documents) else scope
        return self.planner.within(narrowing), narrowing.within if narrowing else None

    def _embed_with_rewordings(self, plan: QueryPlan, texts: list[str]) -> tuple[QueryPlan, np.ndarray]:
        """Embed `texts` and, in the same pass, the words needed to mark rewordings in the plan."""
        unknown, known = rewording_candidates(plan.concepts)
        labels = [c.label for c in unknown + known] if unknown and known else []
        vectors = self.embedder.embed(texts + labels)
        if not labels:
            return plan, vectors
        marked = rewordings(plan.concepts, unknown, known, vectors[len(texts) :], self.settings.rewording_similarity)
        return replace(plan, concepts=tuple(marked)), vectors[: len(texts)]

    @one_blas_thread
    def search(
        self,
        question: str,
        k: int | None = None,
        *,
        mode: Mode | None = None,
        aliases: bool | None = None,
        with_aspects: bool = True,
        scope: Scoped | None = None,
    ) -> SearchResult:
        """The k best chunks, plus (`with_aspects`, for answering) the best chunks for each aspect of the question
        and the plan's rewordings (which words the corpus lacks only as worded). With `scope`, every ranking sees
        only the scope's chunks, and a word is known when the scope's documents use it."""
        k = k or self.settings.k
        mode = mode or self.settings.mode
        planner, within = self._narrowed(scope)
        plan = planner.plan(question, aliases)
        texts = [question] if plan.rewritten == question else [question, plan.rewritten]
        asks = mode != "bm25" and with_aspects and self.settings.aspect_queries
        aspects = aspect_queries(plan.question, plan.entities[:1]) if asks else []
        queries = texts + [q for _, q in aspects]
        plan, vectors = self._embed_with_rewordings(plan, queries) if with_aspects else (plan, self.embedder.embed(queries))  # one pass
        query_vectors, aspect_vectors = vectors[: len(texts)], vectors[len(texts) :]
        if not self.index.chunks:
            return SearchResult([], plan, query_vectors, 0)
        depth = self.settings.sentence_pool * self.settings.candidates
        keywords = self._lexical_query(plan) if mode != "dense" else None
        scores = self.index.store.score(vectors, keywords, depth, within)  # the question and its aspects in one request
        deep = self._dense(scores.dense, depth) if mode != "bm25" else []
        rankings = self._rankings(scores.lexical if keywords is not None else None, deep[: len(texts)], query_vectors)
        fused = rrf(rankings, self.settings.rrf_k, self._apparatus)
        closeness = scores.dense[:, : len(texts)].max(axis=1)
        hits = [Hit(self.index.chunks[row], score, float(closeness[row]), rank) for rank, (row, score) in enumerate(fused.items())]
        chosen = diversify(hits, k, self.settings.per_document, self.settings.min_similarity)
        plan = planner.spelled_out(plan, chosen)
        if with_aspects and searched_documents(self.index, scope) == 1:
            plan = self._worded_by_the_document(plan, query_vectors[0], chosen)
        if not aspects:
            return SearchResult(chosen, plan, query_vectors, len(hits), dense=closeness, lexical=scores.lexical, scope=scope)
        aspect_dense = [r[: self.settings.candidates] for r in deep[len(texts) :]]
        chosen += self._aspect_hits([q for _, q in aspects], aspect_dense, hits, chosen, within)
        aspect_types = tuple(t for t, _ in aspects)
        return SearchResult(chosen, plan, query_vectors, len(hits), aspect_types, aspect_vectors, closeness, scores.lexical, scope)

    def _worded_by_the_document(self, plan: QueryPlan, question_vector: np.ndarray, hits: list[Hit]) -> QueryPlan:
        """Within one document, the question words it never writes that it says otherwise (understand.worded_by_the_document),
        judged on the sentences of the passages found."""
        asked = contrast_questions(plan.question, plan.concepts)
        vectors = [v for h in hits if h.chunk.kind != "apparatus" and len(v := self.index.sentence_vectors(h.chunk))] if asked else []
        if not vectors:
            return plan
        sentences = np.vstack(vectors)
        contrasts = self.embedder.embed([q for _, questions in asked for q in questions]) @ sentences.T
        best = contrasts.max(axis=1).reshape(len(asked), -1)
        closeness = float((sentences @ question_vector).max())
        marked = worded_by_the_document(plan.concepts, [c for c, _ in asked], closeness, best, self.settings.one_document_rewording)
        return replace(plan, concepts=marked)

    def _nearest_words(self, plan: QueryPlan, hits: list[Hit]) -> QueryPlan:
        """Each question word no passage uses, marked with the word nearest to it in meaning among the sentences of the
        passages found that are nearest to it (`nearest_word_sentences`; understand.nearest_words): "pimples" of a case
        series that reports "severe facial acne". Two small embedding passes, when a word is missing; read by the audit
        behind a "not covered" (the first search does not pay for it)."""
        asked = unnamed_candidates(plan.concepts)
        prose = [h.chunk for h in hits if h.chunk.kind != "apparatus"]
        if not asked or not prose:
            return plan
        texts = [chunk.source[start:end] for chunk in prose for start, end in chunk.sentences]
        sentences = np.vstack([self.index.sentence_vectors(chunk) for chunk in prose])
        asked_vectors = self.embedder.embed([c.label for c in asked])
        closest = np.argsort(-(asked_vectors @ sentences.T), axis=1)[:, : self.settings.nearest_word_sentences]
        stems = self.index.lexicon.stems
        words = specific_words([texts[i] for i in dict.fromkeys(closest.ravel().tolist())],
                               lambda w: any(c.matches(set(stems(w))) for c in plan.concepts))
        if not words:
            return plan
        marked = nearest_words(plan.concepts, asked, asked_vectors, words, self.embedder.embed(words), self.settings.nearest_word_similarity)
        return replace(plan, concepts=marked)

    def _rankings(self, lexical: np.ndarray | None, deep: list[np.ndarray], query_vectors: np.ndarray) -> list[Ranking]:
        """The named rankings the fusion votes over: keywords (BM25 with synonyms; None in dense mode), then, unless
        `deep` is empty (keyword mode), each query vector's nearest chunks and the pooled chunks reranked by their
        best sentence. The dense family votes once, like BM25: `sentence_weight` of it by sentence."""
        out = [Ranking("keywords", self._top(lexical), 1.0)] if lexical is not None else []
        if not deep:
            return out
        pool = np.unique(np.concatenate([*deep, *(r.rows for r in out)]))
        share, n = self.settings.sentence_weight, len(query_vectors)
        out += [Ranking(f"chunk vectors {i}", r[: self.settings.candidates], (1.0 - share) / n) for i, r in enumerate(deep)]
        out += [Ranking(f"best sentence {i}", r, share / n) for i, r in enumerate(self._by_best_sentence(pool, query_vectors))]
        return out

    @one_blas_thread
    def audit(self, question: str, per_document: int = 6, scope: Scoped | None = None) -> SearchResult:
        """The exhaustive check behind any "not covered": every chunk of every document (of the scope, if any),
        scored by meaning (original and alias-rewritten question) and by synonym-aware BM25; the best passages of
        each of the best-scoring documents (`audit_documents`)."""
        planner, within = self._narrowed(scope)
        plan = planner.plan(question, aliases=True)
        texts = [question] if plan.rewritten == question else [question, plan.rewritten]
        plan, query_vectors = self._embed_with_rewordings(plan, texts)
        if not self.index.chunks:
            return SearchResult([], plan, query_vectors, 0)
        scores = self.index.store.score(query_vectors, self._lexical_query(plan), None, within)  # None: all it may search
        similarity, lexical = scores.dense.max(axis=1), scores.lexical
        dense_rank = np.argsort(-similarity, kind="stable")
        dense_rank = dense_rank[np.isfinite(similarity[dense_rank])]  # a remote store scores only what it returned
        bm25_rank = self._top(lexical)
        fused = rrf([Ranking("meaning", dense_rank, 1.0), Ranking("keywords", bm25_rank, 1.0)], self.settings.rrf_k, self._apparatus)
        per_doc: dict[str, int] = {}
        hits: list[Hit] = []
        for row, score in fused.items():
            chunk = self.index.chunks[row]
            if chunk.kind == "apparatus" or per_doc.get(chunk.doc_id, 0) >= per_document:
                continue
            if chunk.doc_id not in per_doc and len(per_doc) >= self.settings.audit_documents:
                continue  # every passage was scored; the best documents' passages go on to be composed
            per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
            hits.append(Hit(chunk, score, float(similarity[row]), len(hits)))
        plan = self._nearest_words(planner.spelled_out(plan, hits), hits)
        checked = scope.chunks if scope else len(self.index.chunks)
        return SearchResult(hits, plan, query_vectors, checked, dense=similarity, lexical=lexical, scope=scope)

    def _aspect_hits(
        self, queries: list[str], dense: list[np.ndarray], hits: list[Hit], chosen: list[Hit], within: Within | None
    ) -> list[Hit]:
        """For each aspect sub-query (outcomes, statistics, harms), the best untaken chunks of each relevant document
        (`dense`: each sub-query's dense ranking; `within`: the scope's chunks)."""
        taken = {h.chunk_id for h in chosen}
        docs = {h.doc_id for h in chosen if h.similarity >= self.settings.min_similarity}
        by_id = {h.chunk_id: h for h in hits}
        extra: list[Hit] = []
        for query, ranking in zip(queries, dense, strict=True):
            fused = rrf([Ranking("meaning", ranking, 1.0), Ranking("keywords", self._bm25(query, within), 1.0)], self.settings.rrf_k, self._apparatus)
            per_doc: dict[str, int] = {}
            for row in fused:
                chunk = self.index.chunks[row]
                if chunk.doc_id not in docs or chunk.kind == "apparatus" or chunk.chunk_id in taken:
                    continue
                if per_doc.get(chunk.doc_id, 0) < self.settings.aspect_per_document:
                    per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
                    taken.add(chunk.chunk_id)
                    hit = by_id.get(chunk.chunk_id) or Hit(chunk, 0.0, 0.0, len(hits))
                    extra.append(replace(hit, rank=len(chosen) + len(extra)))
        return extra

    def _dense(self, similarity: np.ndarray, depth: int) -> list[np.ndarray]:
        """The `depth` nearest chunks of each column of `similarity` (every chunk against each query vector: one
        matrix product over the FAISS storage serves all the vectors at once, where FAISS scans once per vector)."""
        return [best_rows(column, depth) for column in similarity.T]

    def _by_best_sentence(self, rows: np.ndarray, query_vectors: np.ndarray) -> list[np.ndarray]:
        """The candidate chunks `rows` ranked by their best sentence's similarity to each query vector (sentence
        vectors made at ingest): a chunk whose one relevant sentence is diluted by the others still ranks."""
        offsets = self.index.sentence_offsets
        counts = offsets[rows + 1] - offsets[rows]
        rows = rows[counts > 0]
        if not len(rows):
            return [rows for _ in query_vectors]
        counts = counts[counts > 0]
        bounds = np.cumsum(counts) - counts  # where each chunk's sentences start among the picked rows
        picks = np.arange(counts.sum()) + np.repeat(offsets[rows] - bounds, counts)
        sims = np.asarray(self.index.sentences[picks], dtype=np.float32) @ query_vectors.T
        best = np.maximum.reduceat(sims, bounds, axis=0)
        return [rows[np.argsort(-column, kind="stable")][: self.settings.candidates] for column in best.T]

    def _lexical_query(self, plan: QueryPlan) -> LexicalQuery:
        """The plan's concepts as the store's keyword query: BM25 with synonyms, each concept scored by its best
        alternative (see store.concept_scores)."""
        lexicon = self.index.lexicon
        return tuple(tuple(tuple(lexicon.stem_ids(alt)) for alt in c.alternatives) for c in plan.concepts)

    def _bm25(self, text: str, within: Within | None) -> np.ndarray:
        """Plain BM25 of `text`'s terms (each term its own concept), best rows (of `within`, if given) first."""
        query = tuple(((term,),) for term in self.index.lexicon.term_ids(text))
        nothing = np.zeros((0, self.embedder.dimension), np.float32)
        depth = self.settings.sentence_pool * self.settings.candidates
        return self._top(self.index.store.score(nothing, query, depth, within).lexical)

    def _top(self, scores: np.ndarray) -> np.ndarray:
        """Rows with a positive score, best first, at most `candidates`."""
        return best_rows(np.where(scores > 0, scores, -np.inf), self.settings.candidates)


def searched_documents(index: Index, scope: Scoped | None) -> int:
    """How many documents a search reads: the scope's, else the whole index's."""
    return scope.documents if scope else len(index.documents)


def best_rows(scores: np.ndarray, depth: int) -> np.ndarray:
    """Indices of the `depth` highest finite scores, best first, equal scores in index order: identical chunks
    (boilerplate repeated across documents) rank the same way whichever store scored them, and -inf (a chunk a
    remote store did not return) never ranks."""
    rows = np.flatnonzero(np.isfinite(scores))
    depth = min(depth, len(rows))
    values = scores[rows]
    if depth < len(rows):
        kth = np.partition(values, len(values) - depth)[len(values) - depth]
        keep = values > kth
        keep[np.flatnonzero(values == kth)[: depth - int(keep.sum())]] = True
        rows, values = rows[keep], values[keep]
    return rows[np.lexsort((rows, -values))]


@dataclass(frozen=True, slots=True)
class Ranking:
    """One ranked list of chunk rows (best first) and its vote in the fusion."""

    name: str
    rows: np.ndarray
    weight: float


_DEMOTED = 0.5  # apparatus (references, glossaries) stays findable but below text: a fixed rule, never tuned


def rrf(rankings: list[Ranking], constant: int, demoted: frozenset[int] = frozenset()) -> dict[int, float]:
    """Weighted reciprocal rank fusion, weight / (constant + rank), rank from 1: each row's summed score, best first
    (ties keep first-seen order); `demoted` rows count half."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking.rows.tolist()):
            scores[row] = scores.get(row, 0.0) + ranking.weight / (constant + rank + 1)
    for row in demoted & scores.keys():
        scores[row] *= _DEMOTED
    return dict(sorted(scores.items(), key=lambda kv: -kv[1]))


def diversify(hits: list[Hit], k: int, reserve: int, floor: float) -> list[Hit]:
    """The top k of `hits` (best first), then room made for `reserve` chunks of every document with relevant evidence
    (a chunk of similarity `floor` or more, not apparatus), taken from documents holding more than `reserve`; each
    such document's best chunk leads, in rank order, then the rest. Ranks renumbered."""
    chosen = hits[:k]
    evidence: dict[str, list[Hit]] = {}
    for h in hits:
        if h.similarity >= floor and h.chunk.kind != "apparatus":
            evidence.setdefault(h.doc_id, []).append(h)
    counts = Counter(h.doc_id for h in chosen)
    for doc_id, theirs in evidence.items():
        taken = {h.chunk_id for h in chosen}
        extra = [h for h in theirs if h.chunk_id not in taken][: max(0, reserve - counts[doc_id])]
        for hit in extra:
            victims = [h for h in reversed(chosen) if counts[h.doc_id] > reserve]
            if victims:
                chosen.remove(victims[0])
                counts[victims[0].doc_id] -= 1
            elif len(chosen) >= k:
                break
            chosen.append(hit)
            counts[doc_id] += 1
    chosen.sort(key=lambda h: h.rank)
    leaders = list({h.doc_id: h for h in reversed(chosen) if h.similarity >= floor and h.chunk.kind != "apparatus"}.values())
    leaders.sort(key=lambda h: h.rank)
    ordered = leaders + [h for h in chosen if h not in leaders]
    return [replace(h, rank=i) for i, h in enumerate(ordered)]


class HybridRetriever(BaseRetriever):
    """LangChain face of the Searcher: `retriever.invoke(question)` → list of LangChain Documents."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    searcher: Any
    k: int = 8
    scope: Scope | None = None  # the documents it searches (None: all); resolved on the searcher's index version

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[LCDocument]:
        result = self.searcher.search(query, self.k, with_aspects=False, scope=self.searcher.resolve(self.scope))
        return [to_langchain(hit, self.searcher.index) for hit in result.hits]


def to_langchain(hit: Hit, index: Index) -> LCDocument:
    doc = index.documents[hit.doc_id]
    return LCDocument(
        id=hit.chunk_id,
        page_content=hit.text,
        metadata={
            "chunk_id": hit.chunk_id,
            "doc_id": hit.doc_id,
            "title": doc.title,
            "section": hit.chunk.section,
            "start": hit.chunk.start,
            "end": hit.chunk.end,
            "score": hit.score,
            "similarity": hit.similarity,
        },
    )
