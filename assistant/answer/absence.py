"""Stage 5c, claims of missing evidence: which candidate sentences say that evidence on their topic is missing ("There
is no published evidence on …", "I couldn't find any trustworthy studies on …", "peer-reviewed journals are strikingly
silent on …"). Such a claim is about the literature, so the index can refute it (compose._audit), it never stands for a
finding, and a source whose most relevant sentence makes one "says evidence is lacking" (stance.source_stance).

Two readings, either suffices: the cue rule (stance.ABSENCE_CLAIM, the wordings clinicians and pages write most), and a
learned one (`AbsenceModel`): a logistic regression over the sentence's MiniLM vector, which the index already holds,
with the question's own direction taken out of it (`model_rows`), one cue word (`SAYS_MISSING`) and the sentence's
similarity to the question, trained by `python -m eval.training.train_absence` on claim wordings filled with
PubMedQA questions against PubMedQA's method and result sentences, written page sentences and "research exists"
wordings. The cue rule alone caught 1 of 12 wordings written apart from it (eval/training/absence_heldout.txt); the
card beside the weights has the learned reading's figures on them. Where the learned reading is heard: `heard`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from ..documents.grade import OPINION_LEVEL, UNKNOWN_LEVEL, UNREVIEWED_LEVEL
from .cards import ShippedModel, read_weights
from .stance import ABSENCE_CLAIM

MODEL_DIR = Path(__file__).resolve().parent / "models" / "absence"
RETRAIN = "python -m eval.training.train_absence --data ../shared/data"


@cache
def shipped_absence() -> AbsenceModel:
    """The absence-claim model in assistant/answer/models/absence/, read once per process (read-only, shared)."""
    return AbsenceModel()


class AbsenceModel(ShippedModel):
    """The trained absence-claim reading: weights over the sentence vector and its lexical cues (`CUES`; weights.npz, no
    pickle) and the probability from which a sentence claims evidence is missing (meta.json's threshold, chosen on dev
    sentences)."""

    NAME, SHIPPED, RETRAIN = "absence-claim model", "absence", RETRAIN

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        super().__init__(folder)

    def checked(self, meta: dict[str, object]) -> dict[str, object]:
        """The card must name this code's cues."""
        if meta.get("cues") != list(CUES):
            raise self._damaged(f"cues {meta.get('cues')}, where this code reads {list(CUES)}")
        return meta

    @cached_property
    def _weights(self) -> tuple[np.ndarray, float, float]:
        """The weights over the vector and cues, the bias and the threshold, checked against the card."""
        try:
            dim, threshold = int(self.meta["vector_dim"]), float(self.meta["threshold"])  # type: ignore[call-overload, arg-type]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._damaged(exc) from exc
        weights, bias = read_weights(self.folder, self.version, self._damaged)
        if weights.shape != (dim + EXTRA_COLUMNS,) or bias.shape != (1,) or not 0 < threshold < 1:
            raise self._damaged(f"weights of shape {weights.shape} for {dim}-d vectors and {EXTRA_COLUMNS} more columns, threshold {threshold}")
        return weights, float(bias[0]), threshold

    def reads(self, dimension: int) -> bool:
        """Whether the model reads sentence vectors of this size (an index built with another embedding model: not)."""
        return self._weights[0].shape[0] == dimension + EXTRA_COLUMNS

    def probabilities(self, vectors: np.ndarray, texts: Sequence[str], question: np.ndarray) -> np.ndarray:
        """The probability that each sentence (its vector a row, its text) claims evidence on `question` (its vector)
        is missing."""
        weights, bias, _ = self._weights
        rows = model_rows(np.asarray(vectors, np.float32), texts, np.asarray(question, np.float32).reshape(1, -1))
        return 1.0 / (1.0 + np.exp(-(rows @ weights + bias)))

    def claims(self, vectors: np.ndarray, texts: Sequence[str], question: np.ndarray) -> np.ndarray:
        """Which sentences the model reads as claims of missing evidence (probability at least the card's threshold)."""
        return self.probabilities(vectors, texts, question) >= self._weights[2]


# The model's one lexical cue beside the vector: a word that says something is missing, scarce or never done (negation,
# and the words for it in the training wordings, eval/training/absence_claims.txt; none taken from the held-out ones).
# The sentence vector barely tells "no studies have examined …" from "several studies have examined …": the vector alone
# read 45 % of such "research exists" wordings as claims (the card); every claim wording names what is missing with such
# a word, and the fit weighs it.
SAYS_MISSING = re.compile(
    r"\b(?:no|not|never|nothing|none|nobody|neither|nor|without|cannot|unable|fail\w*|lack\w*|absen\w*|missing|scarce|scant|"
    r"sparse|paucity|dearth|little|few|limited|insufficient|inadequate|thin|silent|gap|empty|blank|void|nil|zero|nonexistent|"
    r"unavailable|unknown|unclear|unanswered|un\w+ed|ignored|overlooked|neglected|yet|only)\b|n't\b|\bcouldnt\b",
    re.IGNORECASE,
)
CUES = ("says_missing",)
EXTRA_COLUMNS = len(CUES) + 1  # the cues and the similarity to the question, after the vector's numbers


def cue_columns(texts: Sequence[str]) -> np.ndarray:
    """The cue values of each text, one row a text (1.0 where `SAYS_MISSING` finds a word)."""
    return np.array([[1.0 if SAYS_MISSING.search(t) else 0.0] for t in texts], np.float32).reshape(len(texts), len(CUES))


def model_rows(vectors: np.ndarray, texts: Sequence[str], questions: np.ndarray) -> np.ndarray:
    """What the model reads of each sentence: its vector with the question's direction taken out, its cues, and its
    similarity to the question (`questions`: one row, the question every sentence is read against, or one row a
    sentence). A claim restates its question ("There is no published evidence on whether …"), and a long question
    outweighs the few words that say the evidence is missing: on the vector as it is, the fit caught 0.855 of dev's
    unseen claim wordings, on the vector less the question 0.980 (the card)."""
    unit = questions / np.maximum(np.linalg.norm(questions, axis=1, keepdims=True), 1e-12)
    similarity = (vectors * unit).sum(axis=1, keepdims=True)
    return np.hstack([vectors - similarity * unit, cue_columns(texts), similarity]).astype(vectors.dtype)


# Words that name research or its record, not the people who do it ("Researchers suspect that the anemia is
# underdiagnosed" claims nothing missing): a claim that evidence is missing names what is missing.
NAMES_LITERATURE = re.compile(
    r"\b(?:evidence|stud(?:y|ies|ied)|trials?|research(?:ed)?|data|literature|reports?|published|publications?|journals?|"
    r"investigat(?:ed|ions?)|tested|experiments?|findings|science|scientific|PubMed|papers?|articles?|reviews?|"
    r"meta-analys[ie]s|guidelines?|anecdot\w*)\b",
    re.IGNORECASE,
)


def heard(level: int, text: str) -> bool:
    """Whether the model's reading counts for a sentence of a document at this grade level: every sentence of an
    unreviewed page (an AI answer, a blog, a forum), which reports no findings of its own for the model to misread; in
    a document that reports no study of its own either and may not say what it is (an opinion, patient information, a
    document of unknown type: an unmarked page reads as one, as do most abstracts), a sentence that names the
    literature (`NAMES_LITERATURE`). Elsewhere the cue rule alone reads: in studies the model hears claims in
    conclusions that something "does not appear warranted" (0.8 % of PubMedQA's test method and result sentences)."""
    if level >= UNREVIEWED_LEVEL:
        return True
    return level in (OPINION_LEVEL, UNKNOWN_LEVEL) and NAMES_LITERATURE.search(text) is not None


def claims_absence(
    texts: Sequence[str], vectors: np.ndarray | None, hears: Sequence[bool], *, learned: bool, question: np.ndarray | None = None
) -> tuple[bool, ...]:
    """Which sentences claim that evidence is missing: the cue rule, or (`learned`, with the index's vectors, one row a
    text, and the question's vector) the model where it is heard (`hears`, one flag a text: `heard`)."""
    rule = [bool(ABSENCE_CLAIM.search(t)) for t in texts]
    rows = [i for i, h in enumerate(hears) if h]
    if not learned or vectors is None or question is None or not rows:
        return tuple(rule)
    for i, claim in zip(rows, shipped_absence().claims(np.asarray(vectors)[rows], [texts[i] for i in rows], question), strict=True):
        rule[i] = rule[i] or bool(claim)
    return tuple(rule)
