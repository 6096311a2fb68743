"""Suggested follow-up questions, drawn from retrieved evidence an answer did not use, each checked answerable."""

from __future__ import annotations

from ..answer.cues import FOLLOW_UP_CUES
from ..answer.question import DRUG_STEM
from ..schema import Answer
from .answering import Answering

_MAX_PROBES = 5  # proposals probed per answer (each one extractive answer, ~30 ms): a latency bound of the UI, not a tuned number


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
            for cue, template in FOLLOW_UP_CUES:
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
