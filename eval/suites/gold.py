"""The gold set's schema: facts, conversations, unanswerable questions and the seed case (eval/gold.yaml),
and the disagreement pairs (eval/disagreements.yaml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, TypeVar, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from assistant.errors import ConfigError

GOLD_PATH = Path(__file__).resolve().parents[1] / "gold.yaml"
DISAGREEMENTS_PATH = Path(__file__).resolve().parents[1] / "disagreements.yaml"
MIN_FACTS_PER_DOC = 15
MIN_CONVERSATIONS = 6
MIN_UNANSWERABLE = 8
MIN_PAIRS = 20
MIN_PAIRS_PER_LABEL = 5


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


_Model = TypeVar("_Model", bound=Strict)


def compiles(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
    return patterns


class Fact(Strict):
    """One statement of one document, the questions that should surface it, and how to recognise it."""

    id: str
    doc: str = Field(description="doc_id the fact must be cited to.")
    questions: list[str] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1, description="Regexes (case-insensitive) that must all appear.")

    _check_patterns = field_validator("patterns")(compiles)


class Turn(Strict):
    """One turn of a conversation: the facts it must surface, or an expected abstention."""

    question: str
    expect: list[str] = Field(default_factory=list)
    abstain: bool = False

    @model_validator(mode="after")
    def _one_expectation(self) -> Turn:
        if bool(self.expect) == self.abstain:
            raise ValueError(f"turn {self.question!r} needs either `expect: [fact ids]` or `abstain: true`, not both")
        return self


class Conversation(Strict):
    id: str
    turns: list[Turn] = Field(min_length=2, max_length=4)


class Unanswerable(Strict):
    """A question the corpus cannot answer; `forbidden` patterns would be invented answers."""

    id: str
    kind: Literal["off_topic", "absent"]
    question: str
    forbidden: list[str] = Field(default_factory=list)

    _check_patterns = field_validator("forbidden")(compiles)


class Seed(Strict):
    """The founding question: facts from every document in one answer, and a disagreement between them."""

    question: str
    facts: list[str] = Field(min_length=1)
    disagreement_docs: list[str] = Field(min_length=2)


class GoldSet(Strict):
    documents: dict[str, str]
    facts: list[Fact]
    conversations: list[Conversation]
    unanswerable: list[Unanswerable]
    seed: Seed

    @model_validator(mode="after")
    def _consistent(self) -> GoldSet:
        ids = [f.id for f in self.facts]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate fact ids: {duplicates}")
        known_docs = set(self.documents.values())
        for fact in self.facts:
            if fact.doc not in known_docs:
                raise ValueError(f"fact {fact.id} cites {fact.doc!r}, not one of {sorted(known_docs)}")
        referenced = [e for c in self.conversations for t in c.turns for e in t.expect] + self.seed.facts
        if unknown := sorted(set(referenced) - set(ids)):
            raise ValueError(f"unknown fact ids referenced: {unknown}; valid ids: {ids}")
        if stray := sorted(set(self.seed.disagreement_docs) - known_docs):
            raise ValueError(f"seed.disagreement_docs names unknown documents: {stray}")
        for doc in sorted(known_docs):
            count = sum(f.doc == doc for f in self.facts)
            if count < MIN_FACTS_PER_DOC:
                raise ValueError(f"{doc} has {count} facts; the gold set needs at least {MIN_FACTS_PER_DOC}")
        if len(self.conversations) < MIN_CONVERSATIONS:
            raise ValueError(f"{len(self.conversations)} conversations; at least {MIN_CONVERSATIONS} are needed")
        if len(self.unanswerable) < MIN_UNANSWERABLE:
            raise ValueError(f"{len(self.unanswerable)} unanswerable questions; at least {MIN_UNANSWERABLE} are needed")
        return self

    def fact(self, fact_id: str) -> Fact:
        return next(f for f in self.facts if f.id == fact_id)


PairLabel = Literal["disagree", "agree", "talk_past"]


class DisagreementPair(Strict):
    """Two documents and a question; `disagree` when they take opposite positions on its core claim."""

    id: str
    label: PairLabel
    question: str
    documents: dict[str, str] = Field(
        min_length=2, max_length=2, description="file stem → markdown text (front matter optional), one file each"
    )

    @property
    def disagree(self) -> bool:
        return self.label == "disagree"


class DisagreementSet(Strict):
    pairs: list[DisagreementPair]

    @model_validator(mode="after")
    def _consistent(self) -> DisagreementSet:
        ids = [p.id for p in self.pairs]
        if duplicates := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"duplicate pair ids: {duplicates}")
        if len(self.pairs) < MIN_PAIRS:
            raise ValueError(f"{len(self.pairs)} pairs; at least {MIN_PAIRS} are needed")
        for label in get_args(PairLabel):
            if (count := sum(p.label == label for p in self.pairs)) < MIN_PAIRS_PER_LABEL:
                raise ValueError(f"{count} {label} pairs; at least {MIN_PAIRS_PER_LABEL} of each label are needed")
        return self


def load_yaml(model: type[_Model], path: Path, what: str) -> _Model:
    """Read and validate a YAML file; a broken one raises ConfigError naming the problem."""
    try:
        return model.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"Cannot read the {what} {path}: {exc}. Check the path.") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"The {what} {path} is invalid: {exc}. Fix the file and run again.") from exc


def load_gold(path: Path = GOLD_PATH) -> GoldSet:
    """Read and validate a gold file; a broken one raises ConfigError naming the problem."""
    return load_yaml(GoldSet, path, "gold set")


def load_disagreements(path: Path = DISAGREEMENTS_PATH) -> DisagreementSet:
    """Read and validate a disagreement pairs file; a broken one raises ConfigError naming the problem."""
    return load_yaml(DisagreementSet, path, "disagreement pairs")
