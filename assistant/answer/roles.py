"""Stage 5c, roles: what each candidate sentence is — a finding (a result or a conclusion), background, method, or
apparatus (apparatus.py: captions, headings, bylines, a question restated, …).

Prose is told apart by a learned model (`RoleModel`): a multinomial logistic regression over the sentence's MiniLM
vector, which the index already holds, a few lexical cues and where the sentence sits in its abstract (`CUES`),
trained by `python -m eval.training.train_roles` on PubMedQA's train-split abstracts, whose sections are labelled (the
card beside the weights has its test figures).
Where a document labels its own sentences — a "Results" heading, a "Conclusion:" run-in label — the label's role is
kept, mapped by the same words (`section_role`) that labelled the training data. The composer calls `sentence_roles`
once per answer, so that the bottom line quotes findings and never apparatus.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from ..errors import ModelError
from ..schema import Document
from .apparatus import Joined, Place, apparatus_reasons
from .cards import ShippedModel, read_weights

Role = Literal["finding", "background", "method", "apparatus"]
CLASSES: tuple[Role, ...] = ("background", "method", "finding")  # the model's columns, in order
MODEL_DIR = Path(__file__).resolve().parent / "models" / "roles"
RETRAIN = "python -m eval.training.train_roles --data ../shared/data"

# A section label's role is the role its words name: PubMedQA's 140 label strings ("PATIENTS AND METHODS", "DESIGN,
# SETTING, AND PARTICIPANTS", "BACKGROUND AND PURPOSE") and papers' headings are written from these words. A label that
# names two roles ("METHODS AND RESULTS") or none ("Discussion", "LIMITATIONS", "Case report") names no role; "OUTCOME"
# alone names none ("MAIN OUTCOME MEASURES" is a method through "MEASURES"). The model learns the roles these labels
# give PubMedQA's sentences; a sentence whose own document labels it keeps the label's role (sentence_roles).
LABEL_WORDS: dict[Role, re.Pattern[str]] = {
    "finding": re.compile(r"^(?:RESULTS?|FINDINGS|SYNTHESIS|OBSERVATIONS?|CONCLUSIONS?|INTERPRETATION)$"),
    "method": re.compile(
        r"^(?:METHODS?|METHODOLOGY|MATERIALS?|DESIGN|SETTINGS?|PATIENTS?|PARTICIPANTS?|SUBJECTS|POPULATION|SAMPLE|"
        r"INTERVENTIONS?|MEASURES?|MEASUREMENTS?|MEASURED|SOURCES?|EXTRACTION|SELECTION|LOCATION|COLLECTION|PROBANDS|"
        r"VARIABLES|DEFINITION|POINT)$"
    ),
    "background": re.compile(r"^(?:BACKGROUND|INTRODUCTION|OBJECTIVES?|OBJECT|PURPOSES?|AIMS?|CONTEXT|RATIONALE|HYPOTHES[IE]S|GOAL)$"),
}


_LINKS = frozenset("AND OR OF THE FOR IN ON TO WITH A AN".split())


@cache
def section_role(label: str) -> Role | None:
    """The role a section label or heading names (see LABEL_WORDS), or None when it names none or several, or says
    more than a label does: beside its role words and links, at most two other words ("SUMMARY OF BACKGROUND DATA",
    "Study population"; not "Management Recommendations for Patients on IVIG for Dermatomyositis")."""
    words = re.findall(r"[A-Za-z]+", label.upper())
    named = {role for word in words for role, pattern in LABEL_WORDS.items() if pattern.match(word)}
    others = [w for w in words if w not in _LINKS and not any(p.match(w) for p in LABEL_WORDS.values())]
    return named.pop() if len(named) == 1 and len(others) <= 2 else None


def labelled_role(place: Place) -> tuple[Role | None, str]:
    """The role the document's own labels give a sentence, and the label: its paragraph's run-in label if that names
    a role, else the innermost heading above it that names one ("Methods > Statistical analysis" is a method)."""
    for label in (place.label, *reversed(place.section)):
        role = section_role(label) if label else None
        if role:
            return role, label
    return None, ""


TEXT_CUES: tuple[str, ...] = (
    "digit", "percent", "p_value", "interval", "ratio", "significant", "suggest", "hedge", "aim", "we", "method_verb",
    "past", "present", "change", "compared", "concluding", "question", "log_words",
)
# Where the sentence sits in its abstract: an abstract opens with its background, then its methods, then its results
# and conclusion (dev accuracy 0.78 without these columns, 0.91 with them). An abstract is a document without headings
# (but its title) or the run of blocks under a heading "Abstract" or "Summary" (ABSTRACT_HEADING); other sections (a
# guideline's "Recommendations", a paper's "Discussion") are not written in an abstract's order. "placed" is 1 for a
# sentence of an abstract of PLACED_CHARS, the lengths of the abstracts the model learned from, whose position is its
# start over the abstract's length. A shorter text (a note of a few lines) has no beginning, middle and end; a longer
# one (a whole paper without headings) is no abstract. Any other sentence is unplaced: its place columns are 0, and the
# model reads it as it reads a sentence alone (it is trained on every sentence both ways; dev accuracy unplaced 0.78).
PLACE: tuple[str, ...] = ("placed", "position", "position_sq", "position_cube")
CUES: tuple[str, ...] = (*TEXT_CUES, *PLACE)
# From below the shortest PubMedQA abstract but 1 % (562 characters; a note of a few lines is shorter) to 1.5 times the
# longest (2,729).
PLACED_CHARS = (400, 4000)
ABSTRACT_HEADING = re.compile(r"^(?:(?:structured )?abstract|summary)$", re.I)
# Each cue: a pattern over the sentences' words (apparatus.Joined.words: lower case, punctuation as spaces, " " before
# every word) and, for abbreviations whose case matters ("OR", "CI"), one over the sentences as written.
_W = " "  # a word starts here
_CUE_PATTERNS: dict[str, tuple[str, str]] = {
    "digit": (r"\d", ""),
    "percent": (r"\d\s*%|per ?cent\b", ""),
    "p_value": (rf"{_W}p\s*(?:[<=>≤≥]|value)|not significant|{_W}n\.?s\.", ""),
    "interval": (r"95\s*%|confidence interval|interquartile|±|range\b", r"(?<![A-Za-z])(?:CI|IQR|SD)\b"),
    "ratio": (r"(?:odds|hazard|risk|rate) ratio", r"(?<![A-Za-z])(?:OR|HR|RR|AUC|aOR|aHR)\b"),
    "significant": (r"significan", ""),
    "suggest": (r"suggest|indicat|conclu|support|confirm|demonstrat|show|reveal|provid", ""),
    "hedge": (rf"{_W}(?:may|might|could|appears?|seems?|likely|potential(?:ly)?|should)\b", ""),
    "aim": (rf"{_W}(?:aim|objective|purpose|goal|hypothes)|{_W}to (?:investigate|evaluate|assess|determine|examine|compare|explore|describe|identify|test)\b", ""),
    "we": (rf"{_W}(?:we|our|us)\b", ""),
    "method_verb": (
        r"(?:were|was) (?:[a-z]+ly )?(?:included|enrolled|randomi[sz]ed|recruited|assigned|selected|reviewed|collected|"
        r"measured|assessed|evaluated|analy[sz]ed|performed|obtained|used|divided|allocated|studied|followed|identified|"
        rf"examined|compared|recorded|calculated|defined|administered|treated|surveyed|interviewed|asked)\b|{_W}(?:using|underwent)\b",
        "",
    ),
    "past": (rf"{_W}(?:was|were|had|did)\b", ""),
    "present": (rf"{_W}(?:is|are|has|have|remains?|represents?)\b", ""),
    "change": (r"increas|decreas|higher|lower|reduc|improv|wors|greater|fewer|associat|correlat|differ|predict", ""),
    "compared": (rf"compared\b|versus\b|{_W}(?:vs|than)\b", ""),
    "concluding": (r"\0 (?:in conclusion|in summary|overall|thus|therefore|taken together|these (?:results|findings|data)|our (?:results|findings|data))\b", ""),
    "question": (r"\?[\s\"'”’)\]]*$", ""),
}
_CUE_RE = [
    (re.compile(words, re.M), re.compile(cased) if cased else None) for words, cased in (_CUE_PATTERNS[name] for name in TEXT_CUES[:-1])
]


def position_in(start: int, length: int) -> float | None:
    """Where a sentence starting `start` characters into a section of `length` characters sits (0 its start, 1 its
    end), or None for a section shorter or longer than PLACED_CHARS allows."""
    return min(max(start / length, 0.0), 1.0) if PLACED_CHARS[0] <= length <= PLACED_CHARS[1] else None


def section_positions(document: Document, offsets: Sequence[int]) -> list[float | None]:
    """position_in for the sentences at `offsets` of `document`, each within its abstract: the whole text of a document
    without headings (but its title), or the run of consecutive blocks under an ABSTRACT_HEADING; None elsewhere. One
    pass over the blocks, then a bisection per offset."""
    blocks = document.blocks
    headed = [tuple(s for s in block.section if s != document.title) for block in blocks]
    if not any(headed):
        return [position_in(offset, len(document.text)) for offset in offsets]
    first, last = list(range(len(blocks))), list(range(len(blocks)))
    for i in range(1, len(blocks)):
        if headed[i] == headed[i - 1]:
            first[i] = first[i - 1]
    for i in range(len(blocks) - 2, -1, -1):
        if headed[i] == headed[i + 1]:
            last[i] = last[i + 1]
    starts = [block.start for block in blocks]
    out: list[float | None] = []
    for offset in offsets:
        found = bisect.bisect_right(starts, offset) - 1
        if found < 0 or offset >= blocks[found].end or not (headed[found] and ABSTRACT_HEADING.match(headed[found][-1])):
            out.append(None)
        else:
            begin = blocks[first[found]].start
            out.append(position_in(offset - begin, blocks[last[found]].end - begin))
    return out


def cues(texts: Sequence[str], joined: Joined | None = None, positions: Sequence[float | None] | None = None) -> np.ndarray:
    """One row of CUES per sentence, float32: 0/1 for each pattern (one scan over all sentences: Joined, or `joined`
    when the texts are joined already), the log of the word count, and the PLACE columns from each sentence's
    `positions` (position_in; None or no positions: unplaced, zeros)."""
    joined = joined or Joined(texts)
    rows = np.zeros((len(texts), len(CUES)), np.float32)
    for column, (words, cased) in enumerate(_CUE_RE):
        rows[:, column] = joined.hits(words, "words") | (joined.hits(cased) if cased else False)
    rows[:, len(TEXT_CUES) - 1] = [math.log1p(len(text.split())) for text in joined.texts]
    for i, position in enumerate(positions or ()):
        if position is not None:
            rows[i, len(TEXT_CUES) :] = (1.0, position, position**2, position**3)
    return rows


@cache
def shipped_roles() -> RoleModel:
    """The role model in assistant/answer/models/roles/, read once per process (read-only, shared)."""
    return RoleModel()


class RoleModel(ShippedModel):
    """The trained role model: weights over [sentence vector, CUES] (weights.npz, no pickle), with its card's metadata."""

    NAME, SHIPPED, RETRAIN = "sentence-role model", "roles", RETRAIN

    def __init__(self, folder: Path = MODEL_DIR) -> None:
        super().__init__(folder)

    def checked(self, meta: dict[str, object]) -> dict[str, object]:
        """The card (version, classes, cues, vector size) must name this code's cues and classes."""
        if tuple(meta.get("cues", ())) != CUES or tuple(meta.get("classes", ())) != CLASSES:  # type: ignore[call-overload]
            raise ModelError(f"The sentence-role model in {self.folder} was trained on other cues or classes than this code has. Train it again: {RETRAIN}")
        return meta

    @cached_property
    def _weights(self) -> tuple[np.ndarray, np.ndarray, int]:
        """The weights (vector columns first, then CUES), the bias, and the vector size (0: a model without vectors);
        np.load refuses pickled arrays."""
        dim = int(self.meta.get("vector_dim", -1))  # type: ignore[call-overload]
        weights, bias = read_weights(self.folder, self.version, self._damaged)
        if dim < 0 or weights.shape != (dim + len(CUES), len(CLASSES)) or bias.shape != (len(CLASSES),):
            raise self._damaged(f"weights of shape {weights.shape} for {dim}-d vectors and {len(CUES)} cues")
        return weights, bias, dim

    def reads(self, dimension: int) -> bool:
        """Whether the model reads sentence vectors of this size (an index built with another embedding model: not)."""
        return self._weights[2] == dimension

    def predict(self, texts: Sequence[str], vectors: np.ndarray, positions: Sequence[float | None] | None = None) -> np.ndarray:
        """Probabilities of CLASSES (background, method, finding), one row per sentence; `vectors` are the sentences'
        MiniLM vectors (the index's), one row per text; `positions` where each sits in its abstract (section_positions;
        None outside one)."""
        if not len(texts):
            return np.zeros((0, len(CLASSES)), np.float32)
        return self.probabilities(np.asarray(vectors, np.float32).reshape(len(texts), -1), cues(texts, positions=positions))

    def probabilities(self, vectors: np.ndarray, cue_rows: np.ndarray) -> np.ndarray:
        """`predict` from the sentences' vectors and their CUES rows."""
        weights, bias, dim = self._weights
        if vectors.shape[1] != dim:
            raise ModelError(
                f"The sentence-role model reads {dim}-d sentence vectors (all-MiniLM-L6-v2), not {vectors.shape[1]}-d: "
                f"index with that model, or train the role model for yours: {RETRAIN}"
            )
        logits = vectors @ weights[:dim] + cue_rows @ weights[dim:] + bias
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)


@dataclass(frozen=True, slots=True)
class Roles:
    """Each sentence's role; why it is apparatus (None for prose); the label of its own document that gave its role
    ("" where the model did); and the model's probabilities (rows of CLASSES; zero for apparatus)."""

    roles: tuple[Role, ...]
    reasons: tuple[str | None, ...]
    labels: tuple[str, ...]
    probabilities: np.ndarray

    @property
    def finding(self) -> np.ndarray:
        """How sure it is that each sentence reports a finding: 1 or 0 where the document's label decided, the
        model's probability elsewhere, 0 for apparatus."""
        found = self.probabilities[:, CLASSES.index("finding")].copy()
        for i, (label, role) in enumerate(zip(self.labels, self.roles, strict=True)):
            if label or role == "apparatus":
                found[i] = float(role == "finding")
        return found


def sentence_roles(
    texts: Sequence[str], vectors: np.ndarray, places: Sequence[Place], titles: Sequence[str], model: RoleModel | None = None,
    *, learned: bool = True, positions: Sequence[float | None] | None = None,
) -> Roles:
    """The role of each sentence: apparatus by the rules; else the role its document's own label names (a "Results"
    heading, a "Conclusion:" run-in label); else the model's most probable class (`learned` off, as for an index of
    another embedding model than the one the model reads: "finding"). `vectors`: the sentences' vectors from the index
    (Index.sentence_vectors); `places`: where they sit (apparatus.place_of); `titles`: their documents' titles;
    `positions`: where in their abstracts they start (section_positions; none: unplaced); `model`: the shipped one unless
    given."""
    joined = Joined(texts)
    reasons = apparatus_reasons(texts, places, titles, joined)
    probabilities = np.zeros((len(texts), len(CLASSES)), np.float32)
    probabilities[:, CLASSES.index("finding")] = 1.0  # where the model does not read: every prose sentence may answer
    prose = [i for i, reason in enumerate(reasons) if reason is None]
    if prose and learned:
        rows = np.asarray(vectors, np.float32).reshape(len(texts), -1)[prose]
        probabilities[prose] = (model or shipped_roles()).probabilities(rows, cues(texts, joined, positions)[prose])
    labelled = [labelled_role(place) if reason is None else (None, "") for place, reason in zip(places, reasons, strict=True)]
    roles: tuple[Role, ...] = tuple(
        "apparatus" if reason else (by_label or CLASSES[int(row.argmax())])
        for reason, (by_label, _), row in zip(reasons, labelled, probabilities, strict=True)
    )
    return Roles(roles, tuple(reasons), tuple(label for _, label in labelled), probabilities)
