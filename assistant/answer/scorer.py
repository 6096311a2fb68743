"""Stage 5a, evidence: a learned scorer of how well each candidate sentence answers the question.

The composer hands over every sentence of the retrieved chunks with the signals it already computes (similarity of
the sentence vector made at ingest, question concepts matched, the chunk's and the document's standing). `features`
turns them into one row per sentence; the model, trained by `python -m eval.training.train_scorer` on the train splits of
open data only (COVID-QA spans, PubMedQA conclusions, MedQuAD answers; eval/splits.json), gives the probability that
the sentence answers the question. The composer decides with it which documents earn a place in the answer and
which sentences make the bottom line. The weights ship in assistant/answer/models/evidence/ with a card beside them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ModelError
from ..schema import Hit
from ..settings import ComposeSettings
from .cards import read_card
from .question import YES_NO, answer_types
from .understand import QueryPlan

MODEL_DIR = Path(__file__).resolve().parent / "models" / "evidence"
RETRAIN = "python -m eval.training.train_scorer --data ../shared/data"

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
        bool(YES_NO.match(plan.question)), bool(_ASKS_NUMBER.search(plan.question)), bool(_ASKS_TIME.search(plan.question)),
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


def rule_scores(rows: np.ndarray, settings: ComposeSettings) -> np.ndarray:
    """The v1 rule over FEATURES rows: w × (similarity + a bonus when an answer-type cue matches) + (1 - w) × coverage
    (w: `rule_similarity_weight`, the bonus: `rule_cue_bonus`)."""
    col = {name: i for i, name in enumerate(FEATURES)}
    w = settings.rule_similarity_weight
    return w * (rows[:, col["dense"]] + settings.rule_cue_bonus * rows[:, col["typed"]]) + (1 - w) * rows[:, col["coverage"]]


def fused_order(evidence: np.ndarray, rule: np.ndarray, k: int) -> np.ndarray:
    """Candidate positions, best first, by reciprocal rank fusion (1/(k + rank)) of the scorer's and the rule's
    rankings; k = 0 orders by the scorer alone. Ties keep the scorer's order."""
    by_evidence = _ranks(evidence)
    if k <= 0:
        return np.argsort(by_evidence, kind="stable")
    fused = 1.0 / (k + by_evidence) + 1.0 / (k + _ranks(rule))
    return np.lexsort((by_evidence, -fused))


class Trees:
    """LightGBM's text model of binary-objective numerical trees, evaluated with numpy. Importing lightgbm to predict
    costs 1.5 s of cold start (it imports scikit-learn), more than the whole index load; this predicts the same
    probabilities (tests compare them with lightgbm's own) without it. Every split of every tree is decided for all
    rows at once; a tree's exit leaf is then the leftmost leaf that no right turn rules out (QuickScorer, Lucchese
    et al. 2015): each node knows the bitmask of the leaves in its left subtree. Categorical splits, linear trees,
    zero-as-missing and trees over 63 leaves are refused."""

    def __init__(self, text: str) -> None:
        header, _, body = text.partition("\nTree=")
        objective = _field(header, "objective") or ""
        if not objective.startswith("binary"):
            raise ValueError(f"objective {objective!r}, not binary")
        self.sigmoid = float(objective.partition("sigmoid:")[2] or 1.0)
        trees = [_tree(block) for block in ("Tree=" + body).split("\nTree=") if "num_leaves=" in block]
        if not trees or max(len(t["leaf_value"]) for t in trees) > 32:
            raise ValueError("no trees, or a tree over 32 leaves")
        feature, threshold, nan_left, nan_type, left_leaves, starts = [], [], [], [], [], []
        self.leaf = np.zeros((len(trees), 32))  # leaf values in left-to-right order
        for i, t in enumerate(trees):
            kinds = [int(k) for k in t["decision_type"]]
            if any(k & 1 or (k >> 2) & 3 == 1 for k in kinds):
                raise ValueError("categorical or zero-as-missing splits")
            order = _in_order(t)
            self.leaf[i, : len(order)] = [t["leaf_value"][leaf] for leaf in order]
            starts.append(len(feature))
            if not kinds:  # a single leaf: one split that never turns right
                feature.append(0), threshold.append(np.inf), nan_left.append(True), nan_type.append(True), left_leaves.append(1)
                continue
            rank = {leaf: r for r, leaf in enumerate(order)}
            for node, kind in enumerate(kinds):
                first, last = _leaf_span(t, int(t["left_child"][node]), rank)
                feature.append(int(t["split_feature"][node]))
                threshold.append(t["threshold"][node])
                nan_left.append(bool(kind & 2))  # where a missing value goes (NaN-type splits; None-type read NaN as 0)
                nan_type.append((kind >> 2) & 3 == 2)
                left_leaves.append(((1 << (last + 1)) - 1) ^ ((1 << first) - 1))
        self.feature, self.threshold = np.array(feature, np.int64), np.array(threshold)
        self.nan_left, self.nan_type = np.array(nan_left), np.array(nan_type)
        self.keep_if_right = ~np.array(left_leaves, np.uint32)
        self.starts = np.array(starts, np.int64)

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row (sigmoid of the summed exit-leaf values); float32 rows are compared with
        the double thresholds exactly."""
        values = rows[:, self.feature]
        left = values <= self.threshold
        if np.isnan(rows).any():  # never for the composer's features; kept exact for any input
            missing = np.isnan(values)
            left = np.where(missing & self.nan_type, self.nan_left, np.where(missing, self.threshold >= 0, left))
        masks = self.keep_if_right | -left.view(np.uint8).astype(np.uint32)  # a left turn rules nothing out
        alive = np.bitwise_and.reduceat(masks, self.starts, axis=1)  # rows × trees
        lowest = alive & (~alive + np.uint32(1))
        exit_leaf = np.log2(lowest.astype(np.float64)).astype(np.int64)
        raw = self.leaf[np.arange(len(self.leaf)), exit_leaf].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-self.sigmoid * raw))


def _in_order(tree: dict[str, list[float]]) -> list[int]:
    """The tree's leaf indices, left to right."""
    order: list[int] = []
    stack = [0 if tree["split_feature"] else -1]
    while stack:
        child = stack.pop()
        if child < 0:
            order.append(~child)
        else:
            stack += [int(tree["right_child"][child]), int(tree["left_child"][child])]
    return order


def _leaf_span(tree: dict[str, list[float]], child: int, rank: dict[int, int]) -> tuple[int, int]:
    """The first and last left-to-right rank of the leaves under `child`."""
    if child < 0:
        return rank[~child], rank[~child]
    first, _ = _leaf_span(tree, int(tree["left_child"][child]), rank)
    _, last = _leaf_span(tree, int(tree["right_child"][child]), rank)
    return first, last


def _field(block: str, name: str) -> str | None:
    match = re.search(rf"^{name}=(.*)$", block, re.M)
    return match.group(1).strip() if match else None


def _tree(block: str) -> dict[str, list[float]]:
    if (_field(block, "is_linear") or "0") != "0" or (_field(block, "num_cat") or "0") != "0":
        raise ValueError("linear or categorical trees")
    keys = ("split_feature", "threshold", "decision_type", "left_child", "right_child", "leaf_value")
    return {k: [float(v) for v in (_field(block, k) or "").split()] for k in keys}


@cache
def shipped_scorer() -> EvidenceModel:
    """The scorer in assistant/answer/models/evidence/, read once per process and shared by every Assistant (its trees
    are read-only)."""
    return EvidenceModel()


class EvidenceModel:
    """The trained scorer: LightGBM trees (text format, never pickled) over FEATURES, with its card's metadata."""

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        self.folder = folder

    @cached_property
    def meta(self) -> dict[str, object]:
        """The card's machine-readable part (version, features, data, metrics), checked against this code."""
        meta = read_card("evidence scorer", self.folder, "evidence", RETRAIN)
        if tuple(meta.get("features", ())) != FEATURES:  # type: ignore[call-overload]
            raise ModelError(f"The evidence scorer in {self.folder} was trained on other features than this code computes. Train it again: {RETRAIN}")
        return meta

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @cached_property
    def _trees(self) -> Trees:
        self.meta  # noqa: B018 - refuse a model trained on other features before reading its trees
        path = self.folder / "model.txt"
        try:
            return Trees(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelError(f"The evidence scorer's trees in {path} cannot be read ({exc}). Train it again: {RETRAIN}") from exc

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """The probability that each sentence answers the question."""
        if not len(rows):
            return np.zeros(0)
        return self._trees.predict(np.asarray(rows, dtype=np.float32))  # float32 to double is exact
