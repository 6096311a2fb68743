"""Stage 5, compose: an extractive answer. Every claim is a quoted source sentence with its [n].

Connective text is templated and claims nothing about medicine, only about what the indexed sources say
or do not say. When no passage clears the relevance bar, the answer abstains and lists what was searched.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from .embed import one_blas_thread
from .index import Index
from .profile import profile_for
from .retrieve import RARE_ZIPF, Concept, QueryPlan, SearchResult
from .schema import Answer, Citation, EvidenceProfile, Hit, Source
from .settings import ComposeSettings
from .question import DOSE, AnswerType, answer_types, dose_target, required_type, states_dose_of
from .stance import find_disagreements


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved chunk, scored against the question."""

    hit: Hit
    start: int
    end: int
    text: str
    dense: float
    coverage: float
    matched: frozenset[str]
    aspect: tuple[float, ...] = ()
    lead: str = ""  # what the sentence sits under in its list (chunk.Leads), "" outside lists

    @property
    def score(self) -> float:
        return 0.6 * self.dense + 0.4 * self.coverage

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.hit.doc_id, self.start, self.end)


_TYPE_BOOST = 0.08
_UNKNOWN_SHARE = 0.4  # abstain when specific words the corpus never uses carry this share of the question
_CLOSE_IN_MEANING = 0.55  # a sentence this close to the question needs no shared word (ILD vs "lung disease")
_ADDRESSED_TO_A_MODEL = re.compile(
    r"\W*(?:ignore|disregard|forget)\b.{0,40}\b(?:instructions|prompt|rules)\b|\W*(?:tell|inform|assure) the (?:user|reader)\b|"
    r"\W*(?:you are|you must|as an ai)\b|\W*(?:system|assistant) ?(?:prompt|:)",
    re.I,
)
_LIMITATION = re.compile(
    r"\bfurther research\b|\bis (?:still )?needed\b|\blimited\b|\bcould not be\b|\bprecluded\b|\binsufficient\b|"
    r"\binvestigational\b|\bsmall sample\b|\black of\b|\bnot (?:currently )?recommended\b|\bno published\b",
    re.I,
)


_MARKDOWN = re.compile(r"([*_\[\]`])")  # escaped in context shown around quotes


def quoted(sentence: str) -> str:
    """A source sentence in quotation marks; its own "[n]" are markdown-escaped so they never read as our citations."""
    return "“" + re.sub(r"\[(\d+)\]", r"\\[\1\\]", sentence) + "”"


class CitationRegistry:
    """Numbers passages: the same passage keeps its number for the life of the registry (a conversation)."""

    def __init__(self) -> None:
        self._numbers: dict[tuple[str, int, int], int] = {}
        self._lock = threading.Lock()

    def number(self, key: tuple[str, int, int]) -> int:
        with self._lock:
            return self._numbers.setdefault(key, len(self._numbers) + 1)


class Composer:
    """Chooses, orders and cites sentences; decides when to abstain."""

    def __init__(self, index: Index, settings: ComposeSettings, min_similarity: float) -> None:
        self.index = index
        self.settings = settings
        self.min_similarity = min_similarity
        self._profiles: dict[str, EvidenceProfile] = {}

    # ------------------------------------------------------------ scoring

    @one_blas_thread
    def candidates(self, result: SearchResult) -> list[Candidate]:
        """Every sentence of the retrieved chunks, scored by meaning (dense, vectors made at index time) and by
        question concepts."""
        spans: dict[tuple[str, int, int], tuple[Hit, np.ndarray]] = {}
        for hit in (h for h in result.hits if h.chunk.kind != "apparatus"):
            for (start, end), vector in zip(hit.chunk.sentences, self.index.sentence_vectors(hit.chunk), strict=True):
                sentence = self.index.documents[hit.doc_id].text[start:end]
                if len(sentence.split()) >= 3 and not sentence.endswith(":") and not _ADDRESSED_TO_A_MODEL.match(sentence):
                    spans.setdefault((hit.doc_id, start, end), (hit, vector))  # lead-ins and instructions claim nothing
        if not spans:
            return []
        keys = list(spans)
        vectors = np.vstack([vector for _, vector in spans.values()])
        dense = (vectors @ result.query_vectors.T).max(axis=1)
        aspect = vectors @ result.aspect_vectors.T if result.aspect_vectors is not None else np.zeros((len(keys), 0))
        concepts = result.plan.concepts
        total = sum(c.idf for c in concepts) or 1.0
        typed = answer_types(result.plan.question)
        out = []
        for key, score, aspect_row in zip(keys, dense, aspect, strict=True):
            hit = spans[key][0]
            text = self.index.documents[key[0]].text[key[1] : key[2]]
            lead = self.index.leads[key[0]].of(key[1])
            stems = set(self.index.lexicon.stems(f"{lead} {text}"))
            matched = frozenset(c.label for c in concepts if c.matches(stems))
            coverage = sum(c.idf for c in concepts if c.label in matched) / total
            boost = _TYPE_BOOST if any(t.evidence.search(text) for t in typed) else 0.0
            aspects = tuple(map(float, aspect_row))
            out.append(Candidate(hit, key[1], key[2], text, float(score) + boost, coverage, matched, aspects, lead))
        return sorted(out, key=lambda c: -c.score)

    # ------------------------------------------------------------ composing

    def compose(self, question: str, result: SearchResult, registry: CitationRegistry) -> Answer:
        candidates = self.candidates(result)
        report = self._search_report(result, candidates)
        reason = self._abstain_reason(question, result, candidates)
        if reason:
            return self._abstention(question, result, reason, report)
        typed = required_type(result.plan.question)
        if typed:
            stating = [c for c in candidates if c.score >= self.settings.min_sentence_score and self._states(typed, c, result.plan)]
            if not stating:
                topic = (dose_target(result.plan.question) if typed is DOSE else None) or ", ".join(_main_topics(result.plan.concepts, typed))
                return self._abstention(
                    question, result, f"The indexed sources do not state {typed.missing} for {topic or 'this question'}.", report
                )
            candidates = stating
        chosen = self._select(candidates, result.aspects, result.plan.concepts)
        return self._answer(question, result, chosen, candidates, registry, report)

    def _states(self, typed: AnswerType, cand: Candidate, plan: QueryPlan) -> bool:
        """Does this sentence (under its list label, if any) state what `typed` asks about the question's topic?"""
        topics = [c for c in plan.concepts if c.known and not typed.asks.search(c.label)]
        if typed is DOSE:
            return states_dose_of(f"{cand.lead} {cand.text}".strip(), self._dose_names(plan))
        return bool(typed.evidence.search(cand.text)) and any(c.label in cand.matched for c in topics)

    def _dose_names(self, plan: QueryPlan) -> list[str]:
        """Every corpus name of the drug whose dose is asked for (else of the question's named things)."""
        target = dose_target(plan.question)
        if target:
            return [target, *[o for term, others in self.index.aliases.expansions(target) for o in others]]
        return [t for c in plan.concepts if len(c.alternatives) > 1 for t in (c.label, *(" ".join(a) for a in c.alternatives))]

    def _abstain_reason(self, question: str, result: SearchResult, candidates: list[Candidate]) -> str | None:
        if not result.hits or not candidates:
            return "No indexed passage relates to this question."
        best = max(h.similarity for h in result.hits)
        if best < self.min_similarity:
            return "No indexed passage is close enough in meaning to this question."
        concepts = result.plan.concepts
        weighed = [c for c in concepts if c.known or c.specific]  # unknown everyday words ("during") count neither way
        unknown = [c for c in weighed if not c.known and not c.rewords]  # "breathing" beside "lung disease" is no gap
        total = sum(c.idf for c in weighed) or 1.0
        if unknown and sum(c.idf for c in unknown) / total >= _UNKNOWN_SHARE:
            return f"The indexed sources never mention: {', '.join(c.label for c in unknown)}."
        if max(c.score for c in candidates) < self.settings.min_sentence_score:
            return "No sentence in the indexed sources answers this question closely enough."
        return None

    def _select(
        self, candidates: list[Candidate], aspects: tuple[AnswerType, ...], concepts: tuple[Concept, ...]
    ) -> list[Candidate]:
        """Per document: the best sentence, the best for each aspect and each named concept, then the rest by score."""
        matched = [c for c in candidates if c.matched or c.dense >= _CLOSE_IN_MEANING]
        eligible = [c for c in matched if c.score >= self.settings.min_sentence_score]
        named = [c for c in concepts if len(c.alternatives) > 1]
        wanted: list[Candidate] = []
        for doc_id in dict.fromkeys(c.hit.doc_id for c in eligible):
            mine = [c for c in eligible if c.hit.doc_id == doc_id]
            ranked = [self._aspect_ranking(matched, doc_id, i, aspect) for i, aspect in enumerate(aspects)]
            wanted.append(mine[0])
            wanted += [r[0] for r in ranked if r]
            wanted += [next(c for c in mine if n.label in c.matched) for n in named if any(n.label in c.matched for c in mine)]
            wanted += [r[1] for r in ranked if len(r) > 1]
        return self._cap([*wanted, *eligible])

    def _aspect_ranking(self, matched: list[Candidate], doc_id: str, i: int, aspect: AnswerType) -> list[Candidate]:
        """A document's sentences that state this aspect, closest to the aspect's sub-query first."""
        fits = [
            c for c in matched
            if c.hit.doc_id == doc_id and aspect.evidence.search(c.text) and c.aspect[i] >= self.settings.min_sentence_score
        ]
        specific = aspect.specific
        return sorted(fits, key=lambda c: (not (specific and specific.search(c.text)), -c.aspect[i]))

    def _cap(self, ordered: list[Candidate]) -> list[Candidate]:
        """Deduplicate, then keep at most `per_source` per document and `max_sentences` in all, best first."""
        per_doc: dict[str, int] = {}
        chosen: list[Candidate] = []
        seen: set[str] = set()
        for cand in ordered:
            if cand.text in seen or per_doc.get(cand.hit.doc_id, 0) >= self.settings.per_source:
                continue
            seen.add(cand.text)
            per_doc[cand.hit.doc_id] = per_doc.get(cand.hit.doc_id, 0) + 1
            chosen.append(cand)
            if len(chosen) >= self.settings.max_sentences:
                break
        return sorted(chosen, key=lambda c: -c.score)

    def _answer(
        self,
        question: str,
        result: SearchResult,
        chosen: list[Candidate],
        candidates: list[Candidate],
        registry: CitationRegistry,
        report: dict[str, object],
    ) -> Answer:
        by_doc: dict[str, list[Candidate]] = {}
        for cand in chosen:  # documents ordered by their best sentence
            by_doc.setdefault(cand.hit.doc_id, []).append(cand)
        bottom = [group[0] for group in by_doc.values()][: self.settings.bottom_line]
        numbers = {c.key: registry.number(c.key) for c in chosen}
        open_items = self._open_questions(result, candidates, chosen)
        for cand in open_items:
            numbers[cand.key] = registry.number(cand.key)
        sources = [self._source(doc_id) for doc_id in by_doc]
        disagreements = find_disagreements(bottom + [c for g in by_doc.values() for c in g], numbers, {s.doc_id: s for s in sources})

        lines = ["**Bottom line.** " + " ".join(self._quote(c, numbers) for c in bottom), ""]
        for note in disagreements:
            lines += [f"**Sources disagree.** {note.note}", ""]
        lines += ["**Evidence by source**", ""]
        for source in sources:
            rest = sorted((c for c in by_doc[source.doc_id] if c not in bottom), key=lambda c: c.start)
            lines.append(f"*{source.title}* — {source.profile.label()}")
            cited = sorted(by_doc[source.doc_id], key=lambda c: c.start) if not rest else rest
            lines += [f"- {self._quote(c, numbers)}" for c in cited]
            lines.append("")
        lines += self._open_lines(result, open_items, numbers)
        cited_keys = {c.key: c for c in [*chosen, *open_items]}
        citations = sorted((self._citation(numbers[k], c) for k, c in cited_keys.items()), key=lambda c: c.number)
        return Answer(
            question=question,
            text="\n".join(lines).strip(),
            citations=citations,
            sources=sources,
            abstained=False,
            searched_for=result.plan.expanded,
            search_report=report,
            bottom_line=[numbers[c.key] for c in bottom],
            disagreements=disagreements,
        )

    def _quote(self, cand: Candidate, numbers: dict[tuple[str, int, int], int]) -> str:
        """A quoted, cited sentence; a list item shows what it sits under (in italics, not quoted), so that
        "Assess compliance …" reads as the source's advice for patients already on IVIG."""
        lead = _MARKDOWN.sub(r"\\\1", cand.lead)
        context = f"*{lead}:* " if lead else ""
        return f"{context}{quoted(cand.text)} [{numbers[cand.key]}]"

    def _open_questions(self, result: SearchResult, candidates: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
        """Limitations the sources themselves state (quoted), from documents already cited."""
        docs = {c.hit.doc_id for c in chosen}
        taken = {c.key for c in chosen}
        found = [
            c for c in candidates
            if c.hit.doc_id in docs and c.key not in taken and _LIMITATION.search(c.text) and c.dense >= self.settings.min_sentence_score
        ]
        return found[:2]

    def _open_lines(self, result: SearchResult, open_items: list[Candidate], numbers: dict[tuple[str, int, int], int]) -> list[str]:
        unknown = [c.label for c in result.plan.concepts if not c.known and c.zipf < RARE_ZIPF]
        if not open_items and not unknown:
            return []
        lines = ["**What the sources leave open**", ""]
        lines += [f"- {self._quote(c, numbers)}" for c in open_items]
        if unknown:
            lines.append(f"- No indexed passage mentions: {', '.join(f'“{t}”' for t in unknown)}.")
        return lines

    def _abstention(self, question: str, result: SearchResult, reason: str, report: dict[str, object]) -> Answer:
        terms = ", ".join(f"“{t}”" for t in result.plan.searched_terms) or "(no searchable terms)"  # the user's words
        text = (
            "**Not covered by the indexed sources.** "
            f"{reason} Checked {report['passages_checked']} passages in {report['documents_checked']} documents "
            f"by meaning and by keyword, with the corpus' own aliases. Searched for: {terms}."
        )
        return Answer(
            question=question,
            text=text,
            citations=[],
            sources=[],
            abstained=True,
            searched_for=result.plan.expanded,
            search_report={**report, "abstain_reason": reason},
        )

    def _search_report(self, result: SearchResult, candidates: list[Candidate]) -> dict[str, object]:
        return {
            "query": result.plan.question,
            "expanded_query": result.plan.expanded,
            "aliases": {term: list(others) for term, others in result.plan.expansions},
            "terms": result.plan.searched_terms,
            "unknown_terms": [c.label for c in result.plan.concepts if not c.known],
            "passages_checked": result.candidates_checked,
            "documents_checked": len(self.index.documents),
            "sentences_scored": len(candidates),
            "best_similarity": max((h.similarity for h in result.hits), default=None),
        }

    def _source(self, doc_id: str) -> Source:
        doc = self.index.documents[doc_id]
        url = doc.meta.get("url") or (f"https://doi.org/{doc.meta['doi']}" if doc.meta.get("doi") else None)
        profile = self._profiles.get(doc_id) or self._profiles.setdefault(doc_id, profile_for(doc))  # rules read the text once
        return Source(doc_id, doc.title, profile, str(url) if url else None)

    def _citation(self, number: int, cand: Candidate) -> Citation:
        doc = self.index.documents[cand.hit.doc_id]
        return Citation(
            number=number,
            doc_id=doc.doc_id,
            title=doc.title,
            quote=doc.text[cand.start : cand.end],
            start=cand.start,
            end=cand.end,
            section=cand.hit.chunk.section,
            chunk_id=cand.hit.chunk_id,
            page=doc.page_at(cand.start),
            chunk_pages=doc.page_range(cand.hit.chunk.start, cand.hit.chunk.end),
        )


def _main_topics(concepts: tuple[Concept, ...], typed: AnswerType) -> list[str]:
    ranked = sorted((c for c in concepts if c.known and not typed.asks.search(c.label)), key=lambda c: -c.idf)
    return [c.label for c in ranked[:2]]
