"""Stage 5c, claims of missing evidence: which candidate sentences say that evidence on their topic is missing ("There
is no published evidence on …", "I couldn't find any trustworthy studies on …", "peer-reviewed journals are strikingly
silent on …"). Such a claim is about the literature, so the index can refute it (compose._audit), it never stands for a
finding, and a source whose most relevant sentence makes one "says evidence is lacking" (stance.source_stance).

Two readings, either suffices: the cue rule (stance.ABSENCE_CLAIM, the wordings clinicians and pages write most), and a
learned one (`AbsenceModel`): a logistic regression over the sentence's MiniLM vector, which the index already holds,
trained by `python -m eval.training.train_absence` on claim wordings filled with PubMedQA questions against PubMedQA's
method and result sentences. The cue rule alone caught 1 of 12 wordings written apart from it (eval/training/
absence_heldout.txt); the card beside the weights has the learned reading's figures on them.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from .cards import ShippedModel, read_weights
from .stance import ABSENCE_CLAIM

MODEL_DIR = Path(__file__).resolve().parent / "models" / "absence"
RETRAIN = "python -m eval.training.train_absence --data ../shared/data"


@cache
def shipped_absence() -> AbsenceModel:
    """The absence-claim model in assistant/answer/models/absence/, read once per process (read-only, shared)."""
    return AbsenceModel()


class AbsenceModel(ShippedModel):
    """The trained absence-claim reading: weights over the sentence vector (weights.npz, no pickle) and the probability
    from which a sentence claims evidence is missing (meta.json's threshold, chosen on dev sentences)."""

    NAME, SHIPPED, RETRAIN = "absence-claim model", "absence", RETRAIN

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        super().__init__(folder)

    @cached_property
    def _weights(self) -> tuple[np.ndarray, float, float]:
        """The weights over the vector, the bias and the threshold, checked against the card."""
        try:
            dim, threshold = int(self.meta["vector_dim"]), float(self.meta["threshold"])  # type: ignore[call-overload, arg-type]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._damaged(exc) from exc
        weights, bias = read_weights(self.folder, self.version, self._damaged)
        if weights.shape != (dim,) or bias.shape != (1,) or not 0 < threshold < 1:
            raise self._damaged(f"weights of shape {weights.shape} for {dim}-d vectors, threshold {threshold}")
        return weights, float(bias[0]), threshold

    def reads(self, dimension: int) -> bool:
        """Whether the model reads sentence vectors of this size (an index built with another embedding model: not)."""
        return self._weights[0].shape[0] == dimension

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        """The probability that each sentence (one vector a row) claims evidence is missing."""
        weights, bias, _ = self._weights
        return 1.0 / (1.0 + np.exp(-(np.asarray(vectors, np.float32) @ weights + bias)))

    def claims(self, vectors: np.ndarray) -> np.ndarray:
        """Which sentences the model reads as claims of missing evidence (probability at least the card's threshold)."""
        return self.probabilities(vectors) >= self._weights[2]


def claims_absence(texts: Sequence[str], vectors: np.ndarray | None, pages: Sequence[bool], *, learned: bool) -> tuple[bool, ...]:
    """Which sentences claim that evidence is missing: the cue rule, or (`learned`, with the index's vectors, one row a
    text) the model in an unreviewed page (`pages`: an AI answer, a blog, a forum), which reports no findings of its own
    for the model to misread. In other documents the model would hear claims in a study's conclusion that something
    "does not appear warranted" (1.1 % of PubMedQA's test method and result sentences) and in "Zebrafinch syndrome is a
    fictional disorder."; there the cue rule alone reads them."""
    rule = [bool(ABSENCE_CLAIM.search(t)) for t in texts]
    if not learned or vectors is None or not any(pages):
        return tuple(rule)
    return tuple(r or (bool(m) and page) for r, m, page in zip(rule, shipped_absence().claims(vectors), pages, strict=True))
