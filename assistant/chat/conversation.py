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
from typing import Any

from langchain_core.runnables import Runnable, RunnableLambda

from ..answer.compose import CitationRegistry
from ..answer.question import ANSWER_TYPES, DRUG_STEM
from ..answer.understand import RARE_ZIPF, UNCOMMON_ZIPF, english_zipf
from ..answer.write import StreamUpdate
from ..documents.scope import Sources, Where, scope_of
from ..schema import Answer, Scope
from .answering import Answering

_ANAPHOR = re.compile(
    r"\b(it|its|they|them|their|theirs|those|these|this|that|he|she|his|her|the drug|the treatment|the study|"
    r"the patients?|such patients|the same|there)\b",
    re.I,
)
_THING = re.compile(r"\b(?:it|its|the (?:drug|medication|medicine|treatment|therapy)|this (?:drug|medication|treatment|therapy))\b", re.I)
# "it" as what one does to a drug: stopped, started, took, switched, dosed, prescribed, tolerated it. It is the latest
# drug talked about, not the latest topic: "How many stopped it?" after "What about the lungs?" asks about Rinvoq.
_DRUG_OBJECT = re.compile(
    r"\b(?:stop(?:s|ped|ping)?|start(?:s|ed|ing)?|restart(?:s|ed|ing)?|t(?:ake|akes|ook|aking|aken)|discontinu\w*|"
    r"switch(?:es|ed|ing)?|dos(?:e|es|ed|ing)|prescrib\w*|g(?:ive|ives|ave|iven|iving)|tolerat\w*|inject(?:s|ed|ing)?|"
    r"withdr[ae]w\w*|continu(?:e|es|ed|ing)|receiv(?:e|es|ed|ing))\s+(?:it|the (?:drug|medication|medicine)|this (?:drug|medication))\b",
    re.I,
)
_ELLIPSIS = re.compile(r"^\s*(and|also|what about|how about|but|so|then|plus)\b", re.I)


@dataclass(frozen=True, slots=True)
class Turn:
    question: str
    resolved: str
    entities: tuple[str, ...]
    answer: Answer | None  # None for a turn taken up by `resume` (asked elsewhere)


def entities_of(assistant: Answering, text: str) -> list[str]:
    """Named things in `text`: corpus aliases first (drugs, diseases), then rare known terms."""
    plan = assistant.searcher.planner.plan(text)
    ranked = sorted(plan.concepts, key=lambda c: -c.idf)
    named = [c.label for c in ranked if len(c.alternatives) > 1]
    named_stems = {s for term in named for s in assistant.index.lexicon.stems(term)}
    asked = " ".join(m.group(0) for t in ANSWER_TYPES for m in t.asks.finditer(text)).lower()
    topical = _rare_idf(assistant)
    rare = [
        c.label
        for c in ranked
        if c.known and (c.idf >= topical or english_zipf(c.label) < RARE_ZIPF) and c.label not in named
        and c.label not in named_stems and c.label.lower() not in asked and not c.label.isdigit() and english_zipf(c.label) < UNCOMMON_ZIPF
    ]  # "tofacitinib", "lung" name a topic; "done", "showed", "before" are rare in the corpus but not topics; a word rare
    # in English ("semaglutide") is a topic however often a small corpus repeats it
    return named + rare[: assistant.settings.conversation.rare_per_turn]


def new_terms(assistant: Answering, text: str) -> list[str]:
    """Specific words of `text` that no passage uses ("wibblitis"): a question naming one asks about something new."""
    return [c.label for c in assistant.searcher.planner.plan(text).concepts if not c.known and c.specific and not c.label.isdigit()]


def names_a_drug(assistant: Answering, entity: str) -> bool:
    """The entity, or another name the corpus gives it, has a drug's USAN/INN stem ("Rinvoq": "upadacitinib")."""
    names = [entity, *(o for _, others in assistant.index.aliases.expansions(entity) for o in others)]
    return any(DRUG_STEM.search(name) for name in names)


def _rare_idf(assistant: Answering) -> float:
    """The idf of a term found in `topic_chunk_share` of the chunks (at least one): rarer terms count as topical."""
    lexicon = assistant.index.lexicon
    return lexicon.idf_at(max(1.0, assistant.settings.conversation.topic_chunk_share * max(lexicon.n_docs, 1)))


def condense(assistant: Answering, question: str, history: list[Turn]) -> tuple[str, tuple[str, ...]]:
    """The question to search, and its entities: carry earlier entities only into a follow-up.

    "it" or "the drug" becomes the main entity of the latest turn ("What side effects were seen with Rinvoq?");
    other follow-ups get the earlier entities appended, the most specific first.
    """
    own = entities_of(assistant, question)
    if not history:
        return question, tuple(own)
    leans = bool(_ANAPHOR.search(question) or _ELLIPSIS.search(question)) or not (own or new_terms(assistant, question))
    latest = next((t.entities for t in reversed(history) if any(e not in own for e in t.entities)), ())
    if not leans or not latest:
        return question, tuple(own)
    carried: list[str] = []
    for turn in reversed(history):
        carried.extend(e for e in turn.entities if e not in carried and e not in own)
    subject = next(e for e in latest if e not in own)
    if _DRUG_OBJECT.search(question):
        drugs = (e for turn in reversed(history) for e in turn.entities if e not in own and names_a_drug(assistant, e))
        subject = next(drugs, subject)
    thing = _THING.search(question)
    if thing and any(0 <= question.lower().find(e.lower()) < thing.start() for e in own):
        return question, tuple(own)  # "IVIG: is it safe?" - "it" is the question's own entity, named before it
    if thing:
        name = f"{subject}'s" if thing.group(0).lower() == "its" else subject
        resolved = f"{question[: thing.start()]}{name}{question[thing.end() :]}"
        return resolved, tuple(own + [subject] + [e for e in carried if e != subject][: assistant.settings.conversation.carried - 1])
    carried = sorted(carried, key=english_zipf)[: assistant.settings.conversation.carried]  # "tofacitinib" before "switching"
    return f"{question.rstrip()} (about: {', '.join(carried)})", tuple(own + carried)


class Conversation:
    """Keeps the turns of one conversation; conversations never share state. `scope`: the documents every turn may
    draw on (None: the whole library); a turn given its own sources or filter searches those instead."""

    def __init__(self, assistant: Answering, scope: Scope | None = None) -> None:
        self.assistant = assistant
        self.scope = scope
        self.turns: list[Turn] = []
        self.registry = CitationRegistry()
        self._lock = threading.Lock()

    def ask(self, question: str, *, suggest: bool = True, k: int | None = None, sources: Sources = None, where: Where = None) -> Answer:
        scope = scope_of(sources, where) or self.scope
        with self._lock:
            cleaned, resolved, entities = self._resolve(question)
            answer = self.assistant.ask(question, k=k, registry=self.registry, resolved=resolved, where=scope)
            return self._record(cleaned, resolved, entities, answer, suggest)

    def resume(self, questions: list[str]) -> None:
        """Take up a conversation held elsewhere (an OpenAI-style request carries its earlier user messages): the
        earlier questions are resolved in order, as their turns were, so a follow-up leans on them; none is answered."""
        with self._lock:
            for question in questions:
                if question.strip():
                    cleaned, resolved, entities = self._resolve(question)
                    self.turns.append(Turn(cleaned, resolved, entities, None))

    def stream_answer(self, question: str, *, suggest: bool = True, sources: Sources = None, where: Where = None) -> Iterator[StreamUpdate]:
        """Like ask(), for a UI: the LLM's draft as it grows, then one last update whose .answer is verified.

        The lock is held to resolve the question and to record its turn, never across a `yield`: a caller that stops
        reading half-way (a closed browser tab) leaves the conversation usable, with no turn recorded."""
        scope = scope_of(sources, where) or self.scope
        with self._lock:
            cleaned, resolved, entities = self._resolve(question)
            registry = self.registry
        for update in self.assistant.stream_answer(question, registry=registry, resolved=resolved, where=scope):
            if update.answer is None:
                yield update
                continue
            with self._lock:
                answer = self._record(cleaned, resolved, entities, update.answer, suggest)
            yield StreamUpdate(update.text, answer)

    def _resolve(self, question: str) -> tuple[str, str, tuple[str, ...]]:
        cleaned, _ = self.assistant.clean_question(question)
        resolved, entities = condense(self.assistant, cleaned, self.turns)
        return cleaned, resolved, entities

    def _record(self, cleaned: str, resolved: str, entities: tuple[str, ...], answer: Answer, suggest: bool) -> Answer:
        answer.metadata.resolved_question = resolved
        answer.metadata.follow_up = resolved != cleaned
        answer.metadata.turn = len(self.turns) + 1
        self.turns.append(Turn(cleaned, resolved, entities, answer))
        if suggest:
            self._suggest(self.turns[-1])
        return answer

    def suggest(self) -> list[str]:
        """Fill the latest answer's suggestions: for a caller that showed it first (ask(..., suggest=False))."""
        with self._lock:
            return self._suggest(self.turns[-1]) if self.turns else []

    def _suggest(self, turn: Turn) -> list[str]:
        if turn.answer is None:
            return []
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
