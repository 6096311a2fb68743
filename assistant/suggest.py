"""Suggested follow-up questions, drawn from retrieved evidence an answer did not use, each checked answerable."""

from __future__ import annotations

import re

from .answering import Answering
from .question import DRUG_STEM
from .schema import Answer


# (cue in an unused sentence, question template); {main} is the conversation's entity, {other} another one
_TOPICS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bside effects?\b|\badverse\b|\beruption\b|\bacne\b|\btolerat", re.I), "What adverse effects of {main} were reported?"),
    (re.compile(r"\bdiscontinu|\bstopped\b|\bable to stop\b", re.I), "Could patients stop {other} after starting {main}?"),
    (re.compile(r"\bprior\b|\bprevious(?:ly)?\b|\bafter failing\b|\bswitching\b", re.I), "How did patients previously treated with {other} respond to {main}?"),
    (re.compile(r"\d\s*(?:mg|g)(?:/\w+)?\b", re.I), "What doses of {other} are described?"),
    (re.compile(r"\bp\s*(?:value)?\s*[=<]|\bstatistically significant\b", re.I), "What statistical results were reported for {main}?"),
    (re.compile(r"\binterstitial lung disease\b|\bILD\b"), "What happened to interstitial lung disease on {main}?"),
    (re.compile(r"\bfurther research\b|\blimited\b|\bsmall sample\b", re.I), "What are the limitations of the evidence on {main}?"),
)


_MAX_PROBES = 5


def suggest_follow_ups(assistant: Answering, answer: Answer, entities: tuple[str, ...], limit: int = 3) -> list[str]:
    """Up to `limit` questions whose answers cite passages this answer did not."""
    if not entities:
        return []
    main = entities[0]
    main_group = {t.lower() for term, others in assistant.index.aliases.expansions(main) for t in (term, *others)} | {main.lower()}
    cited = {(c.doc_id, c.start, c.end) for c in answer.citations}
    result = assistant.searcher.search(answer.searched_for, 12)
    proposals: list[str] = []
    for hit in result.hits:
        for start, end in hit.chunk.sentences:
            if (hit.doc_id, start, end) in cited:
                continue
            sentence = hit.chunk.text[start - hit.chunk.start : end - hit.chunk.start]
            others = [t for t, _ in assistant.index.aliases.expansions(sentence) if t.lower() not in main_group and DRUG_STEM.search(t)]
            for cue, template in _TOPICS:
                if not cue.search(sentence) or ("{other}" in template and not others):
                    continue
                question = template.format(main=main, other=others[0] if others else "")
                if question not in proposals:
                    proposals.append(question)
    return _answerable(assistant, proposals, cited, limit)


def _answerable(assistant: Answering, proposals: list[str], cited: set[tuple[str, int, int]], limit: int) -> list[str]:
    verified: list[str] = []
    for question in proposals[:_MAX_PROBES]:
        probe = assistant.probe(question)
        if not probe.abstained and any((c.doc_id, c.start, c.end) not in cited for c in probe.citations):
            verified.append(question)
        if len(verified) == limit:
            break
    return verified
