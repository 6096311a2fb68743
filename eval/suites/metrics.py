"""Pure scoring functions: fact recall, citation precision, absence detection, disagreement detection,
retrieval ranks, thresholds.

Nothing here loads a model or an index; every function takes Answers, Documents or ranks and returns numbers,
so the unit tests can hand it constructed answers.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistant.errors import ConfigError
from assistant.schema import Answer, Citation, Document

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_QUOTED = re.compile(r"“[^”]*”|\"[^\"\n]*\"")
# The assistant's own words (outside quotes) saying the sources do not cover something.
ABSENCE = re.compile(
    r"not covered by the (?:indexed |chosen )?sources|\bdo(?:es)? not (?:state|say|mention|report|cover)\b|"
    r"\bnever (?:mention|state|say)s?\b|\bno (?:indexed|chosen) passage\b|\bno source names\b|\binsufficient information\b|\bnot (?:stated|mentioned) in\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
_STOPWORDS = frozenset(
    "about after also among and been before being between both could does during each either from have here "
    "into more most other over same should such than that their them then there these they this those through "
    "under were what when where which while with within would your".split()
)


def normalise(text: str) -> str:
    """NFKC (m² → m2), one space between words: the form patterns are matched against."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def _search(pattern: str, text: str) -> bool:
    return re.search(pattern, normalise(text), re.IGNORECASE) is not None


def cited_numbers(text: str) -> set[int]:
    """Citation numbers used as [n] or [n, m] markers in an answer's text."""
    return {int(n) for group in _MARKER.findall(text) for n in group.split(",")}


# ---------------------------------------------------------------- facts

@dataclass(frozen=True, slots=True)
class FactCheck:
    """Whether one gold fact is in an answer, and if not, why."""

    found: bool
    missing: tuple[str, ...]  # patterns absent from the answer text
    cited_elsewhere: tuple[str, ...]  # other documents whose citations carry the fact

    def reason(self, doc_id: str) -> str:
        if self.found:
            return ""
        if self.missing:
            return "missing pattern(s): " + ", ".join(f"/{p}/" for p in self.missing)
        where = f" (cited to {', '.join(self.cited_elsewhere)} instead)" if self.cited_elsewhere else ""
        return f"not cited to {doc_id}{where}"


def matches_all(patterns: Sequence[str], text: str) -> bool:
    """Every pattern (case-insensitive) occurs in the normalised text."""
    return all(_search(p, text) for p in patterns)


def check_fact(answer: Answer, patterns: Sequence[str], doc_id: str) -> FactCheck:
    """Every pattern appears in the answer text AND one cited passage of `doc_id` matches every pattern."""
    missing = tuple(p for p in patterns if not _search(p, answer.text))
    used = cited_numbers(answer.text)
    carriers = [c for c in answer.citations if c.number in used and matches_all(patterns, c.quote)]
    found = not missing and any(c.doc_id == doc_id for c in carriers)
    elsewhere = tuple(sorted({c.doc_id for c in carriers if c.doc_id != doc_id}))
    return FactCheck(found, missing, elsewhere)


def is_absent(answer: Answer) -> bool:
    """The answer abstains, or says in its own words (not in a quote) that the sources do not cover it."""
    return answer.abstained or ABSENCE.search(_QUOTED.sub(" ", answer.text)) is not None


def abstention_correct(answer: Answer, forbidden: Sequence[str] = ()) -> bool:
    """Right behaviour on an unanswerable question: say it is not covered, and state nothing forbidden."""
    return is_absent(answer) and not any(_search(p, answer.text) for p in forbidden)


# ---------------------------------------------------------------- citations

CitationCheck = Callable[[Citation, Answer, Mapping[str, Document]], bool]


def verbatim(citation: Citation, answer: Answer, documents: Mapping[str, Document]) -> bool:
    """Extractive mode: the quote is exactly its document's text[start:end], and not empty."""
    doc = documents.get(citation.doc_id)
    return (
        doc is not None
        and 0 <= citation.start < citation.end <= len(doc.text)
        and bool(citation.quote.strip())
        and doc.text[citation.start : citation.end] == citation.quote
    )


def grounded(citation: Citation, answer: Answer, documents: Mapping[str, Document]) -> bool:
    """Generative mode: verbatim, and every claim citing it has its numbers and most key terms in the quote."""
    if not verbatim(citation, answer, documents):
        return False
    quote = normalise(citation.quote).lower()
    quote_numbers = set(_NUMBER.findall(quote))
    quote_stems = {w[:5] for w in _WORD.findall(quote)}
    for claim in claims_citing(answer.text, citation.number):
        claim = normalise(claim).lower()
        if not set(_NUMBER.findall(claim)) <= quote_numbers:
            return False
        terms = {w[:5] for w in _WORD.findall(claim) if w not in _STOPWORDS}
        if terms and len(terms & quote_stems) < 0.5 * len(terms):
            return False
    return True


CITATION_CHECKS: dict[str, CitationCheck] = {"extractive": verbatim, "grounded": grounded}


def citation_check(name: str) -> CitationCheck:
    """The registered check called `name`; an unknown name lists the valid ones."""
    try:
        return CITATION_CHECKS[name]
    except KeyError:
        raise ConfigError(f"Unknown citation check {name!r}. Valid: {', '.join(sorted(CITATION_CHECKS))}.") from None


def claims_citing(text: str, number: int) -> list[str]:
    """The text between the previous marker (or line start) and each [n] marker that cites `number`."""
    claims = []
    for line in text.splitlines():
        cursor = 0
        for match in _MARKER.finditer(line):
            if number in {int(n) for n in match.group(1).split(",")}:
                claims.append(_MARKER.sub(" ", line[cursor : match.start()]))
            cursor = match.end()
    return claims


@dataclass(frozen=True, slots=True)
class CitationScore:
    correct: int
    total: int
    bad: tuple[str, ...]  # one line per failed citation or dangling marker


def score_citations(answer: Answer, documents: Mapping[str, Document], check: CitationCheck = verbatim) -> CitationScore:
    """Citations that pass `check`, counting a [n] marker with no citation behind it as a failure."""
    numbers = {c.number for c in answer.citations}
    dangling = sorted(cited_numbers(answer.text) - numbers)
    bad = [f"[{c.number}] {c.doc_id}:{c.start}-{c.end} {c.quote[:60]!r}" for c in answer.citations if not check(c, answer, documents)]
    bad += [f"[{n}] marker with no citation" for n in dangling]
    total = len(answer.citations) + len(dangling)
    return CitationScore(total - len(bad), total, tuple(bad))


# ---------------------------------------------------------------- detection

@dataclass(frozen=True, slots=True)
class Detection:
    """A yes/no detector (e.g. "the sources disagree") against labelled cases: the four counts."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    true_negatives: int = 0

    @property
    def precision(self) -> float:
        """Share of flagged cases that were labelled positive (0.0 when nothing was flagged)."""
        return ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        """Share of positive cases that were flagged (0.0 when there are none)."""
        return ratio(self.true_positives, self.true_positives + self.false_negatives)

    def counts(self) -> dict[str, int]:
        return {"TP": self.true_positives, "FP": self.false_positives, "FN": self.false_negatives, "TN": self.true_negatives}


def detection(outcomes: Iterable[tuple[bool, bool]]) -> Detection:
    """Count (expected, flagged) outcomes, one per labelled case."""
    pairs = list(outcomes)
    return Detection(
        true_positives=sum(e and f for e, f in pairs),
        false_positives=sum(f and not e for e, f in pairs),
        false_negatives=sum(e and not f for e, f in pairs),
        true_negatives=sum(not e and not f for e, f in pairs),
    )


# ---------------------------------------------------------------- retrieval

def first_relevant_rank(ranked: Sequence[str], relevant: Iterable[str]) -> int | None:
    """1-based position of the first relevant id in a ranking, or None."""
    wanted = set(relevant)
    return next((i for i, item in enumerate(ranked, start=1) if item in wanted), None)


def recall_at(ranks: Sequence[int | None], k: int) -> float:
    """Share of queries with a relevant item in the top k."""
    return sum(r is not None and r <= k for r in ranks) / len(ranks) if ranks else 0.0


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/rank, 0 for a miss (Voorhees, TREC-8 QA track, 1999)."""
    return sum(1.0 / r for r in ranks if r) / len(ranks) if ranks else 0.0


def retrieval_metrics(ranks: Sequence[int | None], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    return {**{f"recall@{k}": recall_at(ranks, k) for k in ks}, "mrr": mean_reciprocal_rank(ranks)}


def ratio(part: int, whole: int) -> float:
    """part/whole, and 0.0 for an empty set (so an empty suite cannot pass a minimum)."""
    return part / whole if whole else 0.0


# ---------------------------------------------------------------- thresholds

class Bound(BaseModel):
    """A metric's bar: at least `min`, at most `max`, or both (the target); `floor` is the regression gate."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    min: float | None = Field(default=None)
    max: float | None = Field(default=None)
    floor: float | None = Field(
        default=None,
        description="CI regression gate while the target is not met: the level last measured. The `floor` gate fails "
        "below it (above it for a `max` bar); the target stays the project's goal and is always reported.",
    )

    @model_validator(mode="after")
    def _some_bound(self) -> Bound:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs `min` or `max`")
        if self.floor is not None and (
            (self.min is not None and self.floor > self.min) or (self.max is not None and self.floor < self.max)
        ):
            raise ValueError("a `floor` is a regression gate below the target, never stricter than it")
        return self

    def violated_by(self, value: float, gate: str = "target") -> str | None:
        low, high = self.min, self.max
        if gate == "floor" and self.floor is not None:
            low, high = (self.floor, high) if self.min is not None else (low, self.floor)
        if low is not None and value < low:
            return f"{value:.4g} < {'floor' if low != self.min else 'min'} {low:g}"
        if high is not None and value > high:
            return f"{value:.4g} > {'floor' if high != self.max else 'max'} {high:g}"
        return None


@dataclass(frozen=True, slots=True)
class Violation:
    suite: str
    metric: str
    value: float | None
    problem: str

    def __str__(self) -> str:
        return f"{self.suite}.{self.metric}: {self.problem}"


GATES = ("target", "floor")


def check_thresholds(
    measured: Mapping[str, Mapping[str, float]], thresholds: Mapping[str, Mapping[str, Bound]], gate: str = "target"
) -> list[Violation]:
    """Every bar of every suite that was run; a bar on a metric the suite did not report is a violation too."""
    out = []
    for suite, values in measured.items():
        for metric, bound in thresholds.get(suite, {}).items():
            if metric not in values:
                out.append(Violation(suite, metric, None, f"not measured (reported: {', '.join(sorted(values))})"))
            elif problem := bound.violated_by(values[metric], gate):
                out.append(Violation(suite, metric, values[metric], problem))
    return out
