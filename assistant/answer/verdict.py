"""Stage 5b, verdict: a learned yes / no / maybe reading of one source on a yes/no question.

A source's sentences (in document order) and their MiniLM vectors, as the index stores them, become one row of
features: the question's form (is it asking about a difference, an association, sameness, a negated claim), and for
three poolings of the sentences (late sentences, where abstracts report results; the sentences closest to the question
by meaning; all of them) how often each result cue fires: significance and its negation ("no significant difference",
"did not differ", "not associated"), p-values above and below 0.05, confidence intervals that hold or exclude no effect,
sameness ("similar", "comparable"), doubt, and the stance.py rules. A multinomial logistic regression, trained by
`python -m eval.training.train_stance --data ../shared/data` on PubMedQA's train split (final_decision, each question's
own abstract without its conclusion), gives the three probabilities. Weights ship in assistant/answer/models/verdict/
(arrays in .npz, read without pickle) with a card beside them; inference is numpy and regular expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..settings import VerdictSettings
from .cards import damaged, read_card
from .stance import AGAINST, FOR, HEDGE

MODEL_DIR = Path(__file__).resolve().parent / "models" / "verdict"
RETRAIN = "python -m eval.training.train_stance --data ../shared/data"
LABELS: tuple[str, ...] = ("yes", "no", "maybe")

# Every cue is matched on the lower-cased text, without IGNORECASE (three times faster in Python's re).
# A result word, negated when a negation stands up to three words before it ("no significant difference", "did not
# differ", "not statistically significant", "non-significant"): the words are found first, the negation looked for only
# in the 40 characters before each (an optional negation prefix tried at every position costs five times more).
_SIGNIFICANCE = re.compile(r"\bsignifican")
_EFFECT = re.compile(
    r"\b(?:associat|correlat|differ|predict|related|relationship|effect|impact|influenc|improv|reduc|increas|decreas"
    r"|benefit|chang|risk factor)"
)
_NEGATED = re.compile(r"\b(?:not|no|nor|neither|without|non|lack of|absence of|fail(?:ed|s)? to)\W+(?:\w+\W+){0,3}$")
_INSIGNIFICANT = re.compile(r"\binsignifican|\bn\.s\.|\(ns\)")
_SAME = re.compile(r"\b(?:similar\w*|comparable|equivalent|equal|unchanged|unaffected|independent of|no different)\b")
_DOUBT = re.compile(
    r"\b(?:unclear|controvers\w*|inconclusive|conflicting|uncertain\w*|further (?:studies|research|investigation)"
    r"|larger (?:studies|trials|samples?)|tend(?:ed|ency)|trend\w*|warrant\w*|remains? to be)\b"
)
_P_VALUE = re.compile(r"\bp\s*(<=|>=|<|>|=|≤|≥)\s*(0?\.\d+|[01](?:\.\d+)?)(?!\d)")
_INTERVAL = re.compile(r"\b95\s*%\s*(?:ci|confidence interval)\W{0,4}(-?\d+(?:\.\d+)?)\s*(?:-|–|to|,)\s*(-?\d+(?:\.\d+)?)")
_RATIO = re.compile(r"\b(?:OR|RR|HR|aOR|aHR|IRR)\b|ratio|relative risk|odds|hazard")  # before an interval, in the original case ("or" is a word)


def _lowercase_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern` without IGNORECASE, for lower-cased text; itself where a literal capital would then never match."""
    return pattern if re.search(r"(?<!\\)[A-Z]", pattern.pattern) else re.compile(pattern.pattern)


_STANCE_CUES = {"for": _lowercase_twin(FOR), "against": _lowercase_twin(AGAINST), "hedge": _lowercase_twin(HEDGE)}
# Text any match of these must hold: a text without it is not scanned (a substring test costs a hundredth of a scan).
_NEEDS: dict[re.Pattern[str], tuple[str, ...]] = {
    _SIGNIFICANCE: ("significan",), _INSIGNIFICANT: ("insignifican", "n.s.", "(ns)"), _INTERVAL: ("95",),
}


def _matches(pattern: re.Pattern[str], text: str) -> list[re.Match[str]]:
    needs = _NEEDS.get(pattern)
    return list(pattern.finditer(text)) if needs is None or any(n in text for n in needs) else []

CUES: tuple[str, ...] = (
    "for", "against", "hedge", "significant", "not_significant", "effect", "no_effect", "same", "doubt",
    "p_low", "p_high", "ci_excludes", "ci_includes",
)
_POSITIVE = ("for", "significant", "effect", "p_low", "ci_excludes")
_NEGATIVE = ("against", "not_significant", "no_effect", "p_high", "ci_includes")

# The question's form: what a "no difference" result means depends on it ("Is X similar to Y?" against "Does X
# improve Y?").
_Q_FORMS: dict[str, re.Pattern[str]] = {
    "q_negated": re.compile(r"\b(?:not|no|n't|without|never|fail\w*|lack\w*)\b", re.I),
    "q_same": re.compile(r"\b(?:similar|same|equal|equivalent|comparable|safe|sufficient|adequate|accurate|reliable|valid|feasible)\b", re.I),
    "q_change": re.compile(r"\b(?:differ\w*|better|worse|superior|inferior|more|less|higher|lower|increase\w*|decrease\w*"
                           r"|improve\w*|reduce\w*|affect\w*|influence\w*|impact\w*)\b", re.I),
    "q_association": re.compile(r"\b(?:associat\w*|correlat\w*|relat\w*|predict\w*|risk|link\w*|factor)\b", re.I),
    "q_should": re.compile(r"^\s*(?:should|must|is it (?:worth|necessary|time|possible))\b|\b(?:worth|necessary|needed|justified"
                           r"|recommended|useful|role)\b", re.I),
}
POOLS: tuple[str, ...] = ("late", "similar", "all")
SIMILAR_TEMPERATURE = 0.05  # softmax temperature of the 'similar' pooling over cosines (MiniLM cosines span ~0.1-0.8)

# Feature blocks; a design is a tuple of them (the shipped one is named in meta.json).
BLOCK_NAMES: dict[str, tuple[str, ...]] = {
    "question": (*_Q_FORMS, "q_words"),
    **{pool: (*(f"{pool}_{cue}" for cue in CUES), f"{pool}_polarity", f"{pool}_sentence_verdict") for pool in POOLS},
    "shape": ("similarity_max", "similarity_mean", "log_sentences"),
    "cross": tuple(f"{form}_x_late_{cue}" for form in _Q_FORMS for cue in ("polarity", "not_significant", "no_effect", "same")),
    "embedding": (*(f"qv_times_v{i}" for i in range(384)), *(f"qv_minus_v{i}" for i in range(384))),
}


def cue_counts(sentences: Sequence[str]) -> np.ndarray:
    """How often each of CUES fires in each sentence (n × len(CUES), float32). The sentences are read as one text
    (one regular-expression pass per cue, not one per sentence); a match counts for the sentence it starts in."""
    counts = np.zeros((len(sentences), len(CUES)), np.float32)
    if not sentences:
        return counts
    original = "\n".join(sentences)
    text = original.lower()
    starts = np.cumsum([0, *(len(s) + 1 for s in sentences[:-1])])
    col = {cue: i for i, cue in enumerate(CUES)}

    def add(cue: str, positions: list[int]) -> None:
        if positions:
            counts[:, col[cue]] += np.bincount(np.searchsorted(starts, positions, side="right") - 1, minlength=len(sentences))

    for cue, pattern in (*_STANCE_CUES.items(), ("same", _SAME), ("doubt", _DOUBT), ("not_significant", _INSIGNIFICANT)):
        add(cue, [m.start() for m in _matches(pattern, text)])
    for positive, negative, pattern in (("significant", "not_significant", _SIGNIFICANCE), ("effect", "no_effect", _EFFECT)):
        found = [(m.start(), bool(_NEGATED.search(text, max(0, m.start() - 40), m.start()))) for m in _matches(pattern, text)]
        add(positive, [at for at, negated in found if not negated])
        add(negative, [at for at, negated in found if negated])
    p_values = [(m.start(), _p_side(m.group(1), float(m.group(2)))) for m in _matches(_P_VALUE, text)]
    add("p_low", [at for at, side in p_values if side == "low"])
    add("p_high", [at for at, side in p_values if side == "high"])
    intervals = [(m.start(), _holds_no_effect(m, original)) for m in _matches(_INTERVAL, text)]
    add("ci_includes", [at for at, holds in intervals if holds])
    add("ci_excludes", [at for at, holds in intervals if not holds])
    return counts


def _p_side(op: str, value: float) -> str | None:
    """'low' for a p-value under 0.05 ("p < 0.01", "p = 0.003"), 'high' for one at or over it ("p = 0.34",
    "p > 0.05"), None for a bound that says neither ("p < 0.5")."""
    if op in ("<", "<=", "≤"):
        return "low" if value <= 0.05 else None
    if op in (">", ">=", "≥"):
        return "high" if value >= 0.05 else None
    return "low" if value < 0.05 else "high"


def _holds_no_effect(match: re.Match[str], original: str) -> bool:
    """Whether a 95% interval holds no effect: 1 for a ratio (named in the 40 characters before it), else 0."""
    lo, hi = sorted((float(match.group(1)), float(match.group(2))))
    ratio = lo > 0 and bool(_RATIO.search(original, max(0, match.start() - 40), match.start()))
    return lo <= (1.0 if ratio else 0.0) <= hi


def question_form(question: str) -> np.ndarray:
    """The 'question' block: which forms the question takes, and its length in words over 20."""
    return np.array([*(bool(p.search(question)) for p in _Q_FORMS.values()), len(question.split()) / 20], np.float32)


def pooling_weights(similarity: np.ndarray, weights: np.ndarray) -> dict[str, np.ndarray]:
    """Each pool's weights over the sentences (summing to 1), times the caller's per-sentence weights: 'late' grows
    with the square of the place in the source, 'similar' is a softmax of the cosine to the question, 'all' is flat."""
    n = len(similarity)
    place = (np.arange(1, n + 1, dtype=np.float32) / n) ** 2
    softmax = np.exp((similarity - similarity.max()) / SIMILAR_TEMPERATURE)
    out = {}
    for pool, shape in (("late", place), ("similar", softmax), ("all", np.ones(n, np.float32))):
        w = shape * weights
        out[pool] = w / w.sum()
    return out


def features(
    question: str, question_vector: np.ndarray, sentences: Sequence[str], sentence_vectors: np.ndarray,
    weights: np.ndarray | None = None, blocks: Sequence[str] = tuple(BLOCK_NAMES),
) -> np.ndarray:
    """One row of the named blocks' features for one source with at least one sentence of positive weight
    (float32; see BLOCK_NAMES for the columns)."""
    vectors = np.asarray(sentence_vectors, np.float32).reshape(len(sentences), -1)
    q = np.asarray(question_vector, np.float32).ravel()
    w = np.ones(len(sentences), np.float32) if weights is None else np.clip(np.asarray(weights, np.float32).ravel(), 0, None)
    similarity = vectors @ q
    counts = cue_counts(sentences)
    col = {cue: i for i, cue in enumerate(CUES)}
    positive, negative = counts[:, [col[c] for c in _POSITIVE]].sum(1), counts[:, [col[c] for c in _NEGATIVE]].sum(1)
    polarity = positive - negative
    verdicts = np.where(negative > 0, -1.0, np.where(positive > 0, 1.0, 0.0))  # a negated result outweighs the rest
    pools = pooling_weights(similarity, w)
    made: dict[str, Callable[[], np.ndarray]] = {
        "question": lambda: question_form(question),
        **{pool: (lambda pool=pool: _pooled(pools[pool], counts, polarity, verdicts)) for pool in POOLS},  # type: ignore[misc]
        "shape": lambda: np.array([similarity.max(), pools["all"] @ similarity, np.log1p(len(sentences))], np.float32),
        "cross": lambda: np.outer(
            question_form(question)[: len(_Q_FORMS)],
            [pools["late"] @ polarity, *(np.log1p(pools["late"] @ counts[:, col[c]]) for c in ("not_significant", "no_effect", "same"))],
        ).ravel(),
        "embedding": lambda: _interaction(q, pools["similar"] @ vectors),
    }
    return np.concatenate([np.asarray(made[block](), np.float32) for block in blocks])


def _pooled(w: np.ndarray, counts: np.ndarray, polarity: np.ndarray, verdicts: np.ndarray) -> np.ndarray:
    return np.array([*np.log1p(w @ counts), w @ polarity, w @ verdicts], np.float32)


def _interaction(q: np.ndarray, pooled: np.ndarray) -> np.ndarray:
    v = pooled / max(float(np.linalg.norm(pooled)), 1e-9)
    return np.concatenate([q * v, np.abs(q - v)])


def feature_names(blocks: Sequence[str]) -> tuple[str, ...]:
    return tuple(name for block in blocks for name in BLOCK_NAMES[block])


def decide(probabilities: np.ndarray, settings: VerdictSettings) -> str | None:
    """The label whose probability reaches `settings.min_probability`, else None (undecided)."""
    best = int(np.argmax(probabilities))
    return LABELS[best] if probabilities[best] >= settings.min_probability else None


@cache
def shipped_verdict() -> VerdictModel:
    """The model in assistant/answer/models/verdict/, read once per process and shared (its arrays are read-only)."""
    return VerdictModel()


class VerdictModel:
    """The trained verdict: standardised features, then a multinomial logistic regression (model.npz), with its
    card's metadata (meta.json: version, design, feature names, metrics)."""

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        self.folder = folder

    @cached_property
    def meta(self) -> dict[str, object]:
        """The card's machine-readable part, checked against this code's feature blocks."""
        meta = read_card("verdict model", self.folder, "verdict", RETRAIN)
        try:
            blocks = tuple(meta["blocks"])  # type: ignore[call-overload]
            known = set(blocks) <= set(BLOCK_NAMES) and tuple(meta["features"]) == feature_names(blocks)  # type: ignore[call-overload]
        except (ValueError, KeyError, TypeError) as exc:
            raise damaged("verdict model", self.folder, "verdict", RETRAIN, exc) from exc
        if not known or tuple(meta.get("labels", ())) != LABELS:
            raise ModelError(f"The verdict model in {self.folder} was trained on other features than this code computes. Train it again: {RETRAIN}")
        return meta

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @cached_property
    def _arrays(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        blocks = tuple(self.meta["blocks"])  # type: ignore[call-overload]  # refuse other features before reading arrays
        path = self.folder / "model.npz"
        try:
            with np.load(path, allow_pickle=False) as f:
                mean, scale, coef, intercept = (np.asarray(f[k], np.float64) for k in ("mean", "scale", "coef", "intercept"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(f"The verdict model's weights in {path} cannot be read ({exc}). Train it again: {RETRAIN}") from exc
        width = len(feature_names(blocks))
        if mean.shape != (width,) or scale.shape != (width,) or coef.shape != (len(LABELS), width) or intercept.shape != (len(LABELS),):
            raise ModelError(f"The verdict model's weights in {path} do not fit its {width} features. Train it again: {RETRAIN}")
        return blocks, mean, scale, coef, intercept

    def predict(
        self, question: str, question_vector: np.ndarray, sentences: Sequence[str], sentence_vectors: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> np.ndarray:
        """The probabilities of LABELS (yes, no, maybe) that one source answers the question so. A source with no
        sentence, or whose weights are all zero, says nothing: a third each, which `decide` leaves undecided."""
        blocks, mean, scale, coef, intercept = self._arrays
        if not len(sentences) or (weights is not None and not np.any(np.asarray(weights) > 0)):
            return np.full(len(LABELS), 1.0 / len(LABELS))
        row = features(question, question_vector, sentences, sentence_vectors, weights, blocks)
        logits = coef @ ((row - mean) / scale) + intercept
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()
