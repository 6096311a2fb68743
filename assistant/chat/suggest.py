"""Suggested follow-up questions, from what this answer's own sources hold and it did not quote: a specific term or
outcome they report that the question did not name, what they leave open, another source's findings. Each is
checked answerable (its probe cites a passage this answer did not)."""

from __future__ import annotations

import re

from ..answer.cues import LIMITATION
from ..answer.question import ADVERSE, DISEASE_OR_DRUG, NOT_NAMES
from ..answer.understand import RARE_ZIPF, english_zipf
from ..schema import Answer, Scope
from .answering import Answering

_MAX_PROBES = 5  # proposals probed per answer (each one extractive answer, ~30 ms): a latency bound of the UI, not a tuned number
_MEDICAL = re.compile(f"{DISEASE_OR_DRUG.pattern}|{ADVERSE.specific.pattern if ADVERSE.specific else ''}", re.I)
_TERMS_PER_SENTENCE = 1  # the sentence's most specific new term; more would crowd out other sentences' terms


def suggest_follow_ups(assistant: Answering, answer: Answer, entities: tuple[str, ...], limit: int = 3) -> list[str]:
    """Up to `limit` questions whose answers (within this answer's scope) cite passages this answer did not; after a
    "not covered", the question asked again with the word the sources use nearest to each missing one (`_reworded`)."""
    scope = answer.search_report.scope.scope if answer.search_report.scope else None
    if answer.abstained:
        return _answerable(assistant, _reworded(answer), set(), limit, scope)
    if not entities:
        return []
    main = entities[0]
    cited = {(c.doc_id, c.start, c.end) for c in answer.citations}
    asked = _named(assistant, f"{answer.searched_for} {' '.join(entities)}")
    sources = {s.doc_id for s in answer.sources}
    proposals: list[str] = []
    for hit in assistant.searcher.search(answer.searched_for, 12).hits:
        if hit.doc_id not in sources:
            continue  # what this answer's sources hold, not what the corpus happens to say elsewhere
        for start, end in hit.chunk.sentences:
            if (hit.doc_id, start, end) in cited:
                continue
            sentence = hit.chunk.source[start:end]
            if LIMITATION.search(sentence):
                proposals.append(f"What do the sources leave open about {main}?")
            proposals += [f"What was reported about {term} with {main}?" for term in _new_terms(assistant, sentence, asked)]
    if answer.synthesis and len(answer.synthesis.sources) > 1:
        kinds = [v.grade.kind for v in answer.synthesis.sources[1:]]
        proposals += [f"What did the {kind} find about {main}?" for kind in kinds]
    return _answerable(assistant, list(dict.fromkeys(proposals)), cited, limit, scope)


def _reworded(answer: Answer) -> list[str]:
    """The question with each word no passage uses in the word of the passages nearest to it in meaning
    (SearchReport.nearest): "Does Rinvoq cause pimples …?" → "Does Rinvoq cause acne …?"."""
    question = answer.question
    for word, nearest in answer.search_report.nearest.items():
        question = re.sub(rf"\b{re.escape(word)}\b", nearest, question, flags=re.I)
    return [question] if question != answer.question else []


def _named(assistant: Answering, text: str) -> set[str]:
    """Every way the concepts of `text` are named (labels and their corpus aliases), lower-cased."""
    plan = assistant.searcher.planner.plan(text)
    names = {c.label.lower() for c in plan.concepts}
    return names | {o.lower() for _, others in plan.expansions for o in others}


def _new_terms(assistant: Answering, sentence: str, asked: set[str]) -> list[str]:
    """The sentence's most specific terms the question did not name: a named thing with other names in the corpus
    ("interstitial lung disease"), a drug or disease by its ending, a named harm ("acne"), or a noun rare in English
    ("remission"; not an inflected verb or adverb such as "summarised" or "respectively")."""
    plan = assistant.searcher.planner.plan(sentence)
    others = {term: {o.lower() for o in names} for term, names in plan.expansions}
    fresh = [
        c for c in plan.concepts
        if c.known and c.label.lower() not in asked and not (others.get(c.label, set()) & asked)
        and (c.label in others or _MEDICAL.fullmatch(c.label) and c.label.lower() not in NOT_NAMES or _rare_noun(c.label))
    ]
    return [c.label for c in sorted(fresh, key=lambda c: -c.idf)[:_TERMS_PER_SENTENCE]]


_INFLECTED = re.compile(r"(?:ly|ed|ing|i[sz]e|i[sz]ed|i[sz]es)$", re.I)


def _rare_noun(word: str) -> bool:
    return word.isalpha() and len(word) > 4 and english_zipf(word) < RARE_ZIPF and not _INFLECTED.search(word)


def _answerable(assistant: Answering, proposals: list[str], cited: set[tuple[str, int, int]], limit: int, scope: Scope | None) -> list[str]:
    verified: list[str] = []
    for question in proposals[:_MAX_PROBES]:
        probe = assistant.probe(question, where=scope)
        if not probe.abstained and any((c.doc_id, c.start, c.end) not in cited for c in probe.citations):
            verified.append(question)
        if len(verified) == limit:
            break
    return verified
