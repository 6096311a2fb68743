"""Stage 5a, evidence: a learned scorer of how well each candidate sentence answers the question.

The composer hands over every sentence of the retrieved chunks with the signals it already computes (similarity of
the sentence vector made at ingest, question concepts matched, the chunk's and the document's standing). `features`
turns them into one row per sentence; the model, trained by `python -m eval.train_scorer` on the train splits of
open data only (COVID-QA spans, PubMedQA conclusions, MedQuAD answers; eval/splits.json), gives the probability that
the sentence answers the question. The composer decides with it which documents earn a place in the answer and
which sentences make the bottom line. The weights ship in assistant/models/evidence/ with a card beside them.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelError
from .question import answer_types
from .retrieve import QueryPlan
from .schema import Hit

MODEL_DIR = Path(__file__).resolve().parent / "models" / "evidence"
RETRAIN = "python -m eval.train_scorer --data ../shared/data"

_YES_NO = re.compile(r"^\s*(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|may|might)\b", re.I)
_ASKS_NUMBER = re.compile(r"\bhow (?:many|much|often|large|high|long)\b|\bwhat (?:percentage|proportion|number|rate|ratio)\b", re.I)
_ASKS_TIME = re.compile(r"\bwhen\b|\bwhat (?:year|date|time)\b|\bhow long\b", re.I)
_ASKS_DEFINITION = re.compile(r"^\s*what (?:is|are) (?:an? |the )?\w+(?: \w+)?\s*\??\s*$|\bdefin", re.I)
_ASKS_REASON = re.compile(r"^\s*why\b|\bwhat (?:causes|caused)\b|\breason\b", re.I)
_ASKS_WHO_WHERE = re.compile(r"^\s*(?:who|where|which)\b", re.I)
_DIGIT = re.compile(r"\d")
_PERCENT = re.compile(r"\d\s*%|\bper ?cent\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DEFINES = re.compile(r"\b(?:is|are|was|were) (?:a|an|the)\b|\brefers? to\b|\bdefined as\b|\b(?:also )?(?:known|called) as\b", re.I)
_WORDS = re.compile(r"[a-z0-9]+")

FEATURES: tuple[str, ...] = (
    # the question
    "q_yes_no", "q_number", "q_time", "q_definition", "q_reason", "q_who_where", "q_concepts", "q_unknown_share",
    # the sentence against the question
    "dense", "dense_rank_in_doc", "coverage", "matched_share", "matched_idf", "words_share", "bigram_share", "aspect",
    "typed", "context_dense", "context_coverage",
    # the sentence itself
    "has_digit", "has_percent", "has_year", "defines", "log_words", "starts_upper", "is_question", "has_lead",
    "position", "place_in_chunk",
    # its chunk and its document, against the question
    "chunk_similarity", "doc_coverage", "title_coverage", "doc_dense", "doc_lexical",
)
# Every feature is absolute (about this sentence, chunk or document and the question), none relative to the other
# candidates: trained on datasets where one document answers each question, features such as "gap to the best
# document" taught the scorer to silence every other document, the very failure this assistant exists to avoid
# (on the seed question, the case series' best sentence fell to 0.005; with absolute features it scores 0.15-0.18).


class Signals(Protocol):
    """What the composer knows about one candidate sentence (compose.Candidate)."""

    @property
    def hit(self) -> Hit: ...
    @property
    def start(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def dense(self) -> float: ...
    @property
    def coverage(self) -> float: ...
    @property
    def matched(self) -> frozenset[str]: ...
    @property
    def aspect(self) -> tuple[float, ...]: ...
    @property
    def lead(self) -> str: ...
    @property
    def stems(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class Context:
    """What the features read besides the candidates: the question's plan and stems; each document's title stems,
    text length, and best chunk over the whole document by meaning (cosine) and by keyword (concept BM25 over the
    question's total idf)."""

    plan: QueryPlan
    question_stems: tuple[str, ...]
    title_stems: Mapping[str, frozenset[str]]
    doc_lengths: Mapping[str, int]
    doc_dense: Mapping[str, float]
    doc_lexical: Mapping[str, float]


def _ranks(values: np.ndarray) -> np.ndarray:
    """0 for the largest value, 1 for the next, … (ties by order)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


def features(candidates: Sequence[Signals], context: Context) -> np.ndarray:
    """One row of FEATURES per candidate, float32 (see FEATURES for why every one is absolute)."""
    n = len(candidates)
    if not n:
        return np.zeros((0, len(FEATURES)), np.float32)
    plan = context.plan
    concepts = plan.concepts
    total_idf = sum(c.idf for c in concepts) or 1.0
    idf_of = {c.label: c.idf for c in concepts}
    q_words = set(_WORDS.findall(plan.question.lower()))
    q_bigrams = set(zip(context.question_stems, context.question_stems[1:]))
    typed = answer_types(plan.question)
    question = [
        bool(_YES_NO.match(plan.question)), bool(_ASKS_NUMBER.search(plan.question)), bool(_ASKS_TIME.search(plan.question)),
        bool(_ASKS_DEFINITION.search(plan.question)), bool(_ASKS_REASON.search(plan.question)),
        bool(_ASKS_WHO_WHERE.match(plan.question)), len(concepts),
        sum(c.idf for c in concepts if not c.known) / total_idf,
    ]
    dense = np.array([c.dense for c in candidates], np.float64)
    in_doc_rank = np.empty(n, np.int64)
    doc_matched: dict[str, set[str]] = {}
    for doc in dict.fromkeys(c.hit.doc_id for c in candidates):
        members = np.array([i for i, c in enumerate(candidates) if c.hit.doc_id == doc])
        in_doc_rank[members] = _ranks(dense[members])
        doc_matched[doc] = set().union(*(candidates[i].matched for i in members))
    by_place = {(c.hit.chunk_id, c.start): (c.dense, c.coverage) for c in candidates}
    starts = {c.hit.chunk_id: [s for s, _ in c.hit.chunk.sentences] for c in candidates}

    rows = np.empty((n, len(FEATURES)), np.float32)
    for i, c in enumerate(candidates):
        doc = c.hit.doc_id
        words = _WORDS.findall(c.text.lower())
        bigrams = set(zip(c.stems, c.stems[1:]))
        chunk_starts = starts[c.hit.chunk_id]
        place = chunk_starts.index(c.start) if c.start in chunk_starts else 0
        around = [by_place.get((c.hit.chunk_id, s)) for s in chunk_starts[max(0, place - 1) : place + 2] if s != c.start]
        neighbours = [v for v in around if v is not None]
        title = context.title_stems.get(doc, frozenset())
        rows[i] = [
            *question,
            c.dense, 1.0 / (1 + in_doc_rank[i]), c.coverage, len(c.matched) / max(len(concepts), 1),
            sum(idf_of.get(m, 0.0) for m in c.matched),
            len(q_words & set(words)) / max(len(q_words), 1),
            len(q_bigrams & bigrams) / max(len(q_bigrams), 1),
            max(c.aspect, default=0.0),
            any(t.evidence.search(c.text) for t in typed),
            max((d for d, _ in neighbours), default=c.dense), max((v for _, v in neighbours), default=c.coverage),
            bool(_DIGIT.search(c.text)), bool(_PERCENT.search(c.text)), bool(_YEAR.search(c.text)), bool(_DEFINES.search(c.text)),
            math.log1p(len(words)), c.text[:1].isupper(), c.text.rstrip().endswith("?"),
            bool(c.lead), c.start / max(context.doc_lengths.get(doc, 1), 1), place,
            c.hit.similarity,
            sum(idf_of.get(m, 0.0) for m in doc_matched[doc]) / total_idf,
            sum(c_.idf for c_ in concepts if c_.matches(set(title))) / total_idf,
            context.doc_dense.get(doc, c.hit.similarity), context.doc_lexical.get(doc, 0.0) / total_idf,
        ]
    return rows


def rule_scores(rows: np.ndarray) -> np.ndarray:
    """The v1 rule over FEATURES rows: 0.6 × (similarity + 0.08 when an answer-type cue matches) + 0.4 × coverage."""
    col = {name: i for i, name in enumerate(FEATURES)}
    return 0.6 * (rows[:, col["dense"]] + 0.08 * rows[:, col["typed"]]) + 0.4 * rows[:, col["coverage"]]


def fused_order(evidence: np.ndarray, rule: np.ndarray, k: int) -> np.ndarray:
    """Candidate positions, best first, by reciprocal rank fusion (1/(k + rank)) of the scorer's and the rule's
    rankings; k = 0 orders by the scorer alone. Ties keep the scorer's order."""
    by_evidence = _ranks(evidence)
    if k <= 0:
        return np.argsort(by_evidence, kind="stable")
    fused = 1.0 / (k + by_evidence) + 1.0 / (k + _ranks(rule))
    return np.lexsort((by_evidence, -fused))


class EvidenceModel:
    """The trained scorer: LightGBM trees (text format, never pickled) over FEATURES, with its card's metadata."""

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        self.folder = folder

    @cached_property
    def meta(self) -> dict[str, object]:
        """The card's machine-readable part (version, features, data, metrics), checked against this code."""
        try:
            meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(
                f"The evidence scorer in {self.folder} is missing or damaged ({exc}). Restore assistant/models/evidence/ "
                f"from git, or train it again: {RETRAIN}"
            ) from exc
        if tuple(meta.get("features", ())) != FEATURES:
            raise ModelError(f"The evidence scorer in {self.folder} was trained on other features than this code computes. Train it again: {RETRAIN}")
        return dict(meta)

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @cached_property
    def _booster(self):  # type: ignore[no-untyped-def]
        import lightgbm

        self.meta  # noqa: B018 - refuse a model trained on other features before reading its trees
        try:
            return lightgbm.Booster(model_file=str(self.folder / "model.txt"))
        except lightgbm.basic.LightGBMError as exc:
            raise ModelError(f"The evidence scorer's trees in {self.folder / 'model.txt'} cannot be read ({exc}). Train it again: {RETRAIN}") from exc

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The probability that each sentence answers the question."""
        if not len(rows):
            return np.zeros(0)
        return np.asarray(self._booster.predict(rows, num_threads=1), dtype=np.float64)
