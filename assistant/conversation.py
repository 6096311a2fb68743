"""Stage 6, conversation: follow-up questions resolved offline, stable citation numbers, suggestions.

A follow-up ("What side effects were seen with it?", "And the dose?") leans on earlier turns: it has an
anaphor, starts elliptically, or names no entity of its own. Then the entities of the earlier turns are
carried into the search; a question that names its own new entity starts a fresh topic.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.runnables import Runnable, RunnableLambda

from .compose import CitationRegistry
from .question import ANSWER_TYPES
from .schema import Answer
from .write import StreamUpdate

if TYPE_CHECKING:
    from .api import Assistant

_ANAPHOR = re.compile(
    r"\b(it|its|they|them|their|theirs|those|these|this|that|he|she|his|her|the drug|the treatment|the study|"
    r"the patients?|such patients|the same|there)\b",
    re.I,
)
_ELLIPSIS = re.compile(r"^\s*(and|also|what about|how about|but|so|then|plus)\b", re.I)
_MAX_CARRIED = 4


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    searched_for: str
    entities: tuple[str, ...]
    answer: Answer


def entities_of(assistant: Assistant, text: str) -> list[str]:
    """Named things in `text`: corpus aliases first (drugs, diseases), then rare known terms."""
    plan = assistant.searcher.plan(text)
    ranked = sorted(plan.concepts, key=lambda c: -c.idf)
    named = [c.label for c in ranked if len(c.alternatives) > 1]
    named_stems = {s for term in named for s in assistant.index.lexicon.stems(term)}
    asked = " ".join(m.group(0) for t in ANSWER_TYPES for m in t.asks.finditer(text)).lower()
    rare = [
        c.label
        for c in ranked
        if c.known and c.idf >= _rare_idf(assistant) and c.label not in named and c.label not in named_stems
        and c.label.lower() not in asked and not c.label.isdigit()
    ]
    return named + rare[:2]


def _rare_idf(assistant: Assistant) -> float:
    """Terms found in under ~5% of chunks count as topical."""
    import math

    n = max(assistant.index.lexicon.n_docs, 1)
    df = max(1.0, 0.05 * n)
    return math.log1p((n - df + 0.5) / (df + 0.5))


def _named_first(assistant: Assistant, terms: list[str]) -> list[str]:
    """Terms the corpus has other names for (drugs, diseases, scores) before other rare words, order otherwise kept:
    in a small corpus "before" or "change" can be rare, and must not crowd a drug named two turns back out of
    a follow-up."""
    return sorted(terms, key=lambda term: not assistant.index.aliases.expansions(term))


def condense(assistant: Assistant, question: str, history: list[Turn]) -> tuple[str, tuple[str, ...]]:
    """The question to search, and its entities: carry earlier entities only into a follow-up."""
    own = entities_of(assistant, question)
    if not history:
        return question, tuple(own)
    leans = bool(_ANAPHOR.search(question) or _ELLIPSIS.search(question)) or not own
    if not leans:
        return question, tuple(own)
    carried: list[str] = []
    for turn in reversed(history):
        carried.extend(e for e in turn.entities if e not in carried and e not in own)
        if len(carried) >= _MAX_CARRIED:
            break
    carried = _named_first(assistant, carried)[:_MAX_CARRIED]
    if not carried:
        return question, tuple(own)
    resolved = f"{question.rstrip()} (about: {', '.join(carried)})"
    return resolved, tuple(own + carried)


class Conversation:
    """Keeps the turns of one conversation; conversations never share state."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.turns: list[Turn] = []
        self.registry = CitationRegistry()
        self._lock = threading.Lock()

    def ask(self, question: str, *, suggest: bool = True) -> Answer:
        with self._lock:
            cleaned, searched_for, entities = self._resolve(question)
            answer = self.assistant.ask(question, registry=self.registry, searched_for=searched_for)
            return self._record(cleaned, searched_for, entities, answer, suggest)

    def stream_answer(self, question: str, *, suggest: bool = True) -> Iterator[StreamUpdate]:
        """Like ask(), for a UI: the LLM's draft as it grows, then one last update whose .answer is verified."""
        with self._lock:
            cleaned, searched_for, entities = self._resolve(question)
            for update in self.assistant.stream_answer(question, registry=self.registry, searched_for=searched_for):
                if update.answer is None:
                    yield update
                else:
                    yield StreamUpdate(update.text, self._record(cleaned, searched_for, entities, update.answer, suggest))

    def _resolve(self, question: str) -> tuple[str, str, tuple[str, ...]]:
        cleaned, _ = self.assistant.clean_question(question)
        searched_for, entities = condense(self.assistant, cleaned, self.turns)
        return cleaned, searched_for, entities

    def _record(self, cleaned: str, searched_for: str, entities: tuple[str, ...], answer: Answer, suggest: bool) -> Answer:
        answer.metadata["searched_for"] = searched_for
        answer.metadata["follow_up"] = searched_for != cleaned
        answer.metadata["turn"] = len(self.turns) + 1
        self.turns.append(Turn(cleaned, searched_for, entities, answer))
        if suggest:
            self._suggest(self.turns[-1])
        return answer

    def suggest(self) -> list[str]:
        """Fill the latest answer's suggestions: for a caller that showed it first (ask(..., suggest=False))."""
        with self._lock:
            return self._suggest(self.turns[-1]) if self.turns else []

    def _suggest(self, turn: Turn) -> list[str]:
        if not turn.answer.abstained:
            from .suggest import suggest_follow_ups

            turn.answer.suggestions = suggest_follow_ups(self.assistant, turn.answer, turn.entities)
        return turn.answer.suggestions

    def reset(self) -> None:
        with self._lock:
            self.turns.clear()
            self.registry = CitationRegistry()

    def condenser(self) -> Runnable[dict[str, Any], str]:
        """A LangChain Runnable {"input": question} → the question to search, given this conversation's turns.

        Pipe it into a retriever for a history-aware retrieval chain: `conv.condenser() | assistant.retriever()`.
        """
        return RunnableLambda(lambda inputs: condense(self.assistant, inputs["input"], self.turns)[0], name="offline_condenser")
