"""The gold set's schema: facts, conversations, unanswerable questions and the seed case (eval/gold.yaml)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.errors import ConfigError

GOLD_PATH = Path(__file__).with_name("gold.yaml")
MIN_FACTS_PER_DOC = 15
MIN_CONVERSATIONS = 6
MIN_UNANSWERABLE = 8


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _compiles(patterns: list[str]) -> list[str]:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {pattern!r} does not compile: {exc}") from exc
    return patterns


class Fact(_Strict):
    """One statement of one document, the questions that should surface it, and how to recognise it."""

    id: str
    doc: str = Field(description="doc_id the fact must be cited to.")
    questions: list[str] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1, description="Regexes (case-insensitive) that must all appear.")

    _check_patterns = field_validator("patterns")(_compiles)


class Turn(_Strict):
    """One turn of a conversation: the facts it must surface, or an expected abstention."""

    question: str
    expect: list[str] = Field(default_factory=list)
    abstain: bool = False

    @model_validator(mode="after")
    def _one_expectation(self) -> Turn:
        if bool(self.expect) == self.abstain:
            raise ValueError(f"turn {self.question!r} needs either `expect: [fact ids]` or `abstain: true`, not both")
        return self


class Conversation(_Strict):
    id: str
    turns: list[Turn] = Field(min_length=2, max_length=4)


class Unanswerable(_Strict):
    """A question the corpus cannot answer; `forbidden` patterns would be invented answers."""

    id: str
    kind: Literal["off_topic", "absent"]
    question: str
    forbidden: list[str] = Field(default_factory=list)

    _check_patterns = field_validator("forbidden")(_compiles)


class Seed(_Strict):
    """The founding question: facts from every document in one answer, and a disagreement between them."""

    question: str
    facts: list[str] = Field(min_length=1)
    disagreement_docs: list[str] = Field(min_length=2)


class GoldSet(_Strict):
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


def load_gold(path: Path = GOLD_PATH) -> GoldSet:
    """Read and validate a gold file; a broken one raises ConfigError naming the problem."""
    try:
        return GoldSet.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise ConfigError(f"Cannot read the gold set {path}: {exc}. Check the path.") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"The gold set {path} is invalid: {exc}. Fix the file and run again.") from exc
