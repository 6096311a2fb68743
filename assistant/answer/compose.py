"""Compose: an extractive answer. Every claim is a quoted source sentence with its [n].

Which sentences answer is learned (scorer.py): every sentence of the retrieved chunks gets the scorer's probability
that it answers the question. A document earns a place only when it mentions the question's topic and one of its
sentences scores close enough to the best. The bottom line weighs the sources (synthesis.py): strongest evidence
first among those that answer comparably well, findings rather than apparatus, and a claim that evidence is missing
named as contradicted when an indexed source reports findings. Connective text is templated and claims nothing
about medicine, only about what the indexed sources say or do not say. When no sentence clears the bar, the answer
abstains and lists what was searched.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import cast

import numpy as np

from ..documents.grade import RESEARCH_LEVELS, UNKNOWN_LEVEL, UNREVIEWED_LEVEL
from ..index.load import Index
from ..index.scope import Scoped
from ..schema import Answer, Citation, Disagreement, EvidenceGrade, Hit, SearchReport, Source, SourceStance, Synthesis
from ..settings import ComposeSettings, VerdictSettings
from .cues import LIMITATION
from .question import (
    ANSWER_TYPES,
    DOSE,
    DRUG_STEM,
    DRUG_ZIPF,
    EFFECT_VERBS,
    NAME,
    STRONG_CLAIM,
    AnswerType,
    about_the_document,
    answer_types,
    benefit_answers,
    asked_outcome,
    asked_populations,
    asks_for_a_verdict,
    asks_yes_or_no,
    dose_target,
    is_framing,
    names_a_condition_or_drug,
    required_type,
    states_dose_of,
)
from .retrieve import SearchResult, searched_documents
from .scorer import EvidenceModel
from .sentences import Candidate, SentenceReader
from .stance import find_disagreements, source_stance
from .synthesis import Pick, Weighed, as_strong, bottom_line, refutations, source_order, synthesis
from .understand import RARE_ZIPF, UNCOMMON_ZIPF, Concept, QueryPlan, english_zipf, missing_share
from .verdict import decide, shipped_verdict

_MARKDOWN = re.compile(r"([*_\[\]`])")  # escaped in context shown around quotes
_WORD = re.compile(r"[^\W\d_]{4,}")  # a word that may name a condition or drug
_TOKEN = re.compile(r"\w+")
_REPORTED = re.compile(r"\d|\b(?:was|were)\b", re.IGNORECASE)  # a number, or a past report: a study's own methods and results


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

    def __init__(
        self, index: Index, settings: ComposeSettings, min_similarity: float, scorer: EvidenceModel, verdict: VerdictSettings,
        sources: Callable[[str], Source],
    ) -> None:
        self.index = index
        self.settings = settings
        self.verdict = verdict
        self.min_similarity = min_similarity
        self.scorer = scorer
        self._source = sources  # a document as a source, with its grade: the searcher's scoper reads each once per version
        self.sentences = SentenceReader(index, settings, scorer, sources)

    # ------------------------------------------------------------ composing

    def compose(self, question: str, result: SearchResult, registry: CitationRegistry) -> Answer:
        return self.answer(question, result, self.sentences.candidates(result), registry)

    def answer(self, question: str, result: SearchResult, candidates: list[Candidate], registry: CitationRegistry) -> Answer:
        """The answer from already scored candidates (`candidates`, best first)."""
        report = self._search_report(result, candidates)
        reason = self._abstain_reason(result, candidates)
        if reason:
            return self._abstention(question, result, reason, report)
        prose = [c for c in candidates if c.role != "apparatus"]  # captions, bylines, headings: never quoted
        admitted = [c for c in self._admitted(candidates, result.aspects, result.plan) if c.role != "apparatus"]
        if not admitted:
            reason = "The passages closest to this question are captions, headings or bylines; none states an answer."
            return self._abstention(question, result, reason, report)
        chosen = self._select(prose, admitted, result.aspects, result.plan.concepts)
        missing = self._unstated(result.plan, admitted, _sources(result)) if self.settings.state_unstated else None
        return self._answer(question, result, chosen, prose, registry, report, missing)

    def _admitted(self, candidates: list[Candidate], aspects: tuple[AnswerType, ...], plan: QueryPlan) -> list[Candidate]:
        """The candidates of documents that earn their place: their best sentence has `document_evidence`, or at least
        `document_share` of the best sentence's evidence, or (for the `rule_documents` best by the v1 rule) the rule's
        `rule_relevance`, or one of their sentences states what the question asks for (`aspect_documents`); and that
        mention the question's topic (`topic_gate`); and of those, the sentences that clear `min_evidence` or
        `rule_relevance`."""
        best = _best(candidates)
        floor = min(self.settings.min_evidence, best)  # the best sentence is always quoted once the question is answered
        claiming = _claiming(candidates)  # a page that echoes the question to say evidence is missing sets no bar
        setting = _best([c for c in candidates if c.hit.doc_id not in claiming] or candidates)
        bar = max(floor, min(self.settings.document_evidence, self.settings.document_share * setting))
        relevant = self.settings.rule_relevance
        docs = {c.hit.doc_id for c in candidates if c.evidence >= bar}
        by_rule = sorted((c for c in candidates if c.rule >= relevant), key=lambda c: -c.rule)
        docs.update(list(dict.fromkeys(c.hit.doc_id for c in by_rule))[: self.settings.rule_documents])
        stating: set[tuple[str, int, int]] = set()
        if self.settings.aspect_documents:
            stating = {r[0].key for i, aspect in enumerate(aspects) if (r := self._aspect_ranking(candidates, i, aspect))}
            docs.update(doc_id for doc_id, _, _ in stating)
        if self.settings.topic_gate:
            gated = docs & self._on_topic(plan)
            docs = gated if gated - claiming else docs  # when none mentions a topic but to say it was never studied, it decides nothing
        return [c for c in candidates if c.hit.doc_id in docs and (c.evidence >= floor or c.rule >= relevant or c.key in stating)]

    def _topics(self, plan: QueryPlan) -> list[Concept]:
        """The question's specific topics: named things with other names in the corpus, or words the corpus knows that
        are uncommon in English; not the words that say what kind of answer is wanted."""
        return [
            c for c in plan.concepts
            if c.known and (len(c.alternatives) > 1 or english_zipf(c.label) < UNCOMMON_ZIPF)
            and not any(t.asks.search(c.label) for t in ANSWER_TYPES)
        ]

    def _on_topic(self, plan: QueryPlan) -> set[str]:
        """The documents that mention one of the question's specific topics (every document when it names none)."""
        topics = self._topics(plan)
        if not topics:
            return set(self.index.documents)
        return set().union(*(self.index.documents_with(c.alternatives) for c in topics))

    def _unstated(self, plan: QueryPlan, admitted: list[Candidate], sources: str) -> str | None:
        """What a question that asks for a dose of a drug or a cost lacks when no admitted sentence states it about the
        question's topic: a line the answer opens with. It never withholds the evidence."""
        typed = required_type(plan.question)
        if typed is None:
            return None
        if typed is DOSE and not self._names_a_drug(dose_target(plan.question)):
            return None  # "how much similarity …", "the apical dose" ask for no dose of a drug
        if any(self._states(typed, c, plan) for c in admitted):
            return None
        topic = (dose_target(plan.question) if typed is DOSE else None) or ", ".join(_main_topics(plan.concepts, typed))
        return f"The {sources} sources do not state {typed.missing} for {topic or 'this question'}."

    def _subject(self, plan: QueryPlan) -> tuple[Concept, ...]:
        """What a sentence must name to take a stance on the question (and count toward a disagreement): for one asking
        for a verdict, the first drug it names (a name or alias with a drug's USAN/INN stem: "Can Rinvoq help … on
        IVIG?" asks about Rinvoq, so "Consider rituximab" under "If inadequate response to IVIG" takes none); else, or
        when it names no drug, any of its concepts."""
        if not verdict_asked(plan):
            return plan.concepts
        return tuple(_drugs(plan)[:1]) or plan.concepts

    def _names_a_drug(self, term: str | None) -> bool:
        """A rare word (in English) with a drug's USAN/INN stem, or with other names in this corpus ("Rinvoq")."""
        if not term or english_zipf(term) >= DRUG_ZIPF:
            return False
        return bool(DRUG_STEM.search(term)) or any(others for _, others in self.index.aliases.expansions(term))

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

    def _abstain_reason(self, result: SearchResult, candidates: list[Candidate]) -> str | None:
        """Why the question is not answered, or None. Within one document (the index or the scope holds one), a question
        whose every word the document uses, but for words that only frame it ("What is theorized regarding
        transmission?"), is about it ("What is summarized?"), and so is one about "this review": no
        similarity or evidence floor turns it away; nor does the similarity floor turn away one whose every word rare in
        English the document uses, one at least ("What clade does it belong to?": "clade" is its word; "belong", Zipf
        4.4, is uncommon enough to count as specific but not rare), while a question of everyday words it never uses
        still is ("What is the capital of France?"), and so is one whose only specific word is as common as
        "encounters"; one close in meaning to it is not refused over words the document never uses (`_reworded`)."""
        sources = _sources(result)
        if not result.hits or not candidates:
            return f"No {sources} passage relates to this question."
        best = max(h.similarity for h in result.hits)
        one_document = self._one_document(result)
        one_found = len({h.doc_id for h in result.hits}) == 1  # every passage found is one document's
        concepts = result.plan.concepts
        within = one_document and all(c.known or is_framing(c.label) for c in concepts)  # "What is summarized?" of one paper
        unknown, share = missing_share(concepts, one_document=one_document)
        everyday = all(c.zipf >= RARE_ZIPF for c in unknown)  # "belong" (Zipf 4.4) is uncommon, not rare
        on_topic = one_document and everyday and any(c.known and english_zipf(c.label) < RARE_ZIPF for c in concepts)  # "What clade …?"
        if best < self.min_similarity and not within and not on_topic and not ((one_document or one_found) and about_the_document(result.plan.question)):
            return f"No {sources} passage is close enough in meaning to this question."
        never = (unknown if share >= self.settings.unknown_share else []) or verdict_on_nothing_named(result.plan, self._subject(result.plan))
        if self.settings.unknown_words and never and not self._reworded(result):
            return f"The {sources} sources never mention: {', '.join(c.label + _nearest_note(c.label, result.plan) for c in never)}."
        if _best(candidates) < self.settings.min_answer_evidence and not within:
            return f"No sentence in the {sources} sources answers this question closely enough."
        return None

    def _reworded(self, result: SearchResult) -> bool:
        """Within one document (the index or the scope holds one), a question whose best passage is this close in meaning
        (`one_document_similarity`) is about it in other words: the paper writes "mean age 81.9 years" where the question
        says "octogenarians", so words it never uses decide nothing."""
        return self._one_document(result) and max((h.similarity for h in result.hits), default=-1.0) >= self.settings.one_document_similarity

    def _one_document(self, result: SearchResult) -> bool:
        """The question was asked of one document: the index holds one, or the scope chose one."""
        return searched_documents(self.index, result.scope) == 1

    def _select(
        self, candidates: list[Candidate], admitted: list[Candidate], aspects: tuple[AnswerType, ...], concepts: tuple[Concept, ...]
    ) -> list[Candidate]:
        """Per admitted document, best document first: its best sentence and those strong enough for the bottom line,
        the sentence that best states each aspect of the question and the first naming each named concept (among all
        its retrieved sentences), then its other admitted sentences by evidence."""
        named = [c for c in concepts if len(c.alternatives) > 1]
        strong = self.settings.bottom_share * _best(candidates)
        wanted: list[Candidate] = []
        for doc_id in dict.fromkeys(c.hit.doc_id for c in admitted):
            mine = [c for c in candidates if c.hit.doc_id == doc_id]
            ranked = [self._aspect_ranking(mine, i, aspect) for i, aspect in enumerate(aspects)]
            wanted.append(mine[0])
            wanted += [c for c in mine if c.evidence >= strong][: self.settings.bottom_per_document]  # bottom-line material
            wanted += [r[0] for r in ranked if r]
            wanted += [next(c for c in mine if n.label in c.matched) for n in named if any(n.label in c.matched for c in mine)]
            wanted += [r[1] for r in ranked if len(r) > 1]
        return self._cap([*wanted, *admitted], {c.key: i for i, c in enumerate(candidates)})

    def _aspect_ranking(self, mine: list[Candidate], i: int, aspect: AnswerType) -> list[Candidate]:
        """A document's sentences that state this aspect, closest to the aspect's sub-query first."""
        fits = [
            c for c in mine
            if aspect.evidence.search(c.text) and c.aspect[i] >= self.settings.min_aspect_similarity
            and c.about  # about the question's topic, not any p value
        ]
        specific = aspect.specific
        return sorted(fits, key=lambda c: (not (specific and specific.search(c.text)), -c.aspect[i]))

    def _cap(self, ordered: list[Candidate], rank: dict[tuple[str, int, int], int]) -> list[Candidate]:
        """Deduplicate, then keep at most `per_source` per document and `max_sentences` in all; best (lowest
        `rank`) first."""
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
        return sorted(chosen, key=lambda c: rank[c.key])

    def _names_both(self, cand: Candidate, plan: QueryPlan) -> bool:
        """The sentence gives a name of the question and another name of the same thing ("Rinvoq (upadacitinib)")."""
        text = cand.text.lower()
        return any(term.lower() in text and any(o.lower() in text for o in others) for term, others in plan.expansions)

    def _answer(
        self,
        question: str,
        result: SearchResult,
        chosen: list[Candidate],
        candidates: list[Candidate],
        registry: CitationRegistry,
        report: SearchReport,
        missing: str | None,
    ) -> Answer:
        subject = self._subject(result.plan)
        rare = _unnamed(result.plan)
        unnamed = self._unnamed_topics(result.plan, chosen, rare, subject, result.scope)
        unmentioned = self._unmentioned(rare, result, _best(candidates), named=unnamed)
        chosen, weighed, refuted = self._weigh(chosen, result, candidates, subject, [*unnamed, *unmentioned])
        naming = NAME in answer_types(result.plan.question)
        first = next((c.hit.doc_id for c in chosen if naming and self._names_both(c, result.plan)), None)
        outranked = refutations(weighed, bearing=False)  # an unrefuted claim does not lead a source with findings either
        order = source_order(
            weighed, self.settings.lead_share, outranked, extracted=self.settings.order_by_extracted_grades, first=first,
            findings=self.settings.order_by_findings,
        )
        s = self.settings
        topics = frozenset(c.label for c in self._topics(result.plan))
        picks = bottom_line(order, refuted, s.bottom_line, s.bottom_per_document, s.bottom_share, topics, s.lead_share)
        bottom = [p.sentence for p in picks]
        numbers = {c.key: registry.number(c.key) for c in bottom}
        numbers.update({c.key: registry.number(c.key) for w in order for c in w.sentences if c.key not in numbers})
        open_items = self._open_questions(candidates, chosen)
        for cand in open_items:
            numbers[cand.key] = registry.number(cand.key)
        summary = synthesis(order, picks, numbers, refuted, unnamed)
        sources = [w.source for w in order]
        disagreements = self._disagreements(bottom, order, numbers, summary, subject)
        lines = _searched_lines(result.plan)
        if missing:
            lines += [f"**Not stated.** {missing} The passages closest to the question follow.", ""]
        lines += ["**Bottom line.** " + " ".join([summary.line, *(self._pick(p, numbers, summary) for p in picks)]), ""]
        lines += [line for note in disagreements for line in (f"**Sources disagree.** {note.note}", "")]
        lines += ["**Evidence by source**", ""]
        for w in order:
            cited = sorted(w.sentences, key=lambda c: c.start)
            rest = [c for c in cited if c not in bottom] or cited
            lines += [f"*{w.source.title}* — {w.source.profile.label()} ({w.source.grade.badge()})"]
            lines += [*(f"- {self._quote(c, numbers)}" for c in rest), ""]
        lines += self._open_lines(result, open_items, numbers, unmentioned)
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
            synthesis=summary,
        )

    def _weigh(
        self, chosen: list[Candidate], result: SearchResult, candidates: list[Candidate], subject: tuple[Concept, ...], unnamed: list[str]
    ) -> tuple[list[Candidate], list[Weighed], dict[str, tuple[str, ...]]]:
        """The chosen sentences weighed by source, with what the index check of a claim of missing evidence no quoted
        source refutes adds (`_audit`): the sentences, their sources, and which claims are refuted by which sources."""
        vector = result.query_vectors[0]
        titled = self._titled_claims(chosen, result)
        keys = frozenset(c.key for c in titled)
        taken = {c.key for c in chosen}
        chosen = [*chosen, *(c for c in titled if c.key not in taken)]
        weighed = self._bearing(self._weighed(chosen, result.plan, vector, subject, unnamed, keys), result)
        refuted = refutations(weighed)
        audit = self._audit(weighed, refuted, result, candidates)
        if not audit:
            return chosen, weighed, refuted
        chosen = [*chosen, *audit]
        weighed = self._bearing(self._weighed(chosen, result.plan, vector, subject, unnamed, keys), result)
        return chosen, weighed, refutations(weighed)

    def _bearing(self, weighed: list[Weighed], result: SearchResult) -> list[Weighed]:
        """Each source marked with whether its findings bear on the question (Weighed.bears), where a source says
        evidence on it is lacking: its best passage is `refuting_similarity` close to the question in meaning, it
        names `refuting_topic_share` of the question's specific topics (by idf; in its text or title), or the scorer
        gives a sentence of it `refuting_evidence`. A study of CPAP noise in preterm infants, quoted on "Hearing loss:
        an unknown complication of pre-eclampsia?" for its hearing loss, is none of these, and refutes no page that
        says nobody has studied that."""
        if not any(w.stance == "lacking" for w in weighed):
            return weighed
        s = self.settings
        close = self.index.per_document_max(result.dense) if len(result.dense) else np.zeros(0, np.float32)
        topics = [(c.idf, self.index.documents_with(c.alternatives)) for c in self._topics(result.plan)]
        total = sum(idf for idf, _ in topics)

        def bears(w: Weighed) -> bool:
            place = self.index.doc_rows.get(w.source.doc_id, len(close))
            if w.relevance >= s.refuting_evidence or (place < len(close) and float(close[place]) >= s.refuting_similarity):
                return True
            return total > 0 and sum(idf for idf, docs in topics if w.source.doc_id in docs) >= s.refuting_topic_share * total

        return [replace(w, bears=bears(w)) for w in weighed]

    def _titled_claims(self, chosen: list[Candidate], result: SearchResult) -> list[Candidate]:
        """Claims of missing evidence that name the question only in their page's title: under "Q: Does oxybutynin
        cause arrhythmia in children?" a chatbot's "There are no studies on this." names no topic itself, and if it is
        in no chunk a search finds (titles are in no chunk's text), it is not even read, yet it claims the evidence on
        this question is missing. The claims of each unreviewed page whose title names every word of the question the
        corpus knows (but those that only frame it; `titled_claims` pages at most): those quoted; of a page nothing
        else quotes, its best one."""
        wanted = [c for c in result.plan.concepts if c.known and not is_framing(c.label)]
        if not self.settings.titled_claims or not wanted:
            return []
        titled = set.intersection(*(self.index.documents_titled(c.alternatives) for c in wanted))
        if result.scope is not None:
            titled &= set(result.scope.report.documents)
        pages = sorted(d for d in titled if self._source(d).grade.level >= UNREVIEWED_LEVEL)[: self.settings.titled_claims]
        quoted = {c.hit.doc_id for c in chosen}
        best = (next((c for c in self._whole(d, result) if c.absence and c.role != "apparatus"), None) for d in pages if d not in quoted)
        return [*(c for c in chosen if c.hit.doc_id in pages and c.absence), *(c for c in best if c is not None)]

    def _weighed(
        self, chosen: list[Candidate], plan: QueryPlan, question_vector: np.ndarray, subject: tuple[Concept, ...], unnamed: list[str],
        titled: frozenset[tuple[str, int, int]] = frozenset(),
    ) -> list[Weighed]:
        """The chosen sentences by source (best first; for a question asking another name of something, those giving
        both names first; for one asking for harms, those naming one first), each source with its grade and stance
        (no verdict asked, or one on words no source uses (`unnamed`): only whether it says evidence is lacking). A
        `titled` claim (`_titled_claims`) speaks to the question through its page's title."""
        by_doc: dict[str, list[Candidate]] = {}
        for cand in chosen:
            by_doc.setdefault(cand.hit.doc_id, []).append(cand)
        naming = NAME in answer_types(plan.question)
        verdict = verdict_asked(plan) and not unnamed
        benefit_speaks = benefit_answers(plan.question)
        named = [t.specific for t in ANSWER_TYPES if t.specific and t.asks.search(plan.question)]  # "acne" for side effects
        topics = frozenset(c.label for c in self._topics(plan))
        out = []
        position = {c.key: i for i, c in enumerate(chosen)}  # the scorer's fused order
        for doc_id, mine in by_doc.items():
            ranked = sorted(
                mine, key=lambda c: (naming and not self._names_both(c, plan), not any(p.search(c.text) for p in named), position[c.key])
            )
            speaking = [c for c in mine if c.role != "apparatus" and (_names_any(c, subject) or c.key in titled)]
            read = sorted(_motivation_aside(speaking, self._source(doc_id).grade, topics, self.settings.topic_similarity), key=lambda c: -c.evidence)
            stance = source_stance([c.text for c in read], [c.absence for c in read])
            benefit = not benefit_speaks and stance in ("supports", "mixed")  # says nothing on a harm or an approval
            if benefit:
                stance = "reports"
            if verdict and stance != "lacking" and speaking and self.settings.verdict_model and not benefit:
                stance = self._learned_stance(speaking, plan, question_vector, stance)
            weighs = verdict or (stance == "lacking" and not naming)  # a question for a drug's other name takes no stance
            out.append(Weighed(self._source(doc_id), tuple(ranked), stance if weighs else "reports", verdict, min(position[c.key] for c in mine)))
        return out

    def _audit(self, weighed: list[Weighed], refuted: dict[str, tuple[str, ...]], result: SearchResult, candidates: list[Candidate]) -> list[Candidate]:
        """A claim that evidence is missing, checked against the index (`audit_absence_claims`): when no quoted source
        refutes it, the first retrieved document (fused order) that is at least as strong as the claimant, names every
        specific topic of the question (text or title) and reports a finding anywhere in its text: its first
        `bottom_per_document` sentences (all its sentences scored) and its first finding. None when no such document
        was retrieved."""
        claimants = [w for w in weighed if w.stance == "lacking" and w.claims and w.source.doc_id not in refuted]
        topics = self._topics(result.plan)
        if not self.settings.audit_absence_claims or not claimants or not topics:
            return []
        quoted = {w.source.doc_id for w in weighed}
        naming = set.intersection(*(self.index.documents_with(c.alternatives) for c in topics))
        for doc_id in dict.fromkeys(c.hit.doc_id for c in candidates if c.hit.doc_id in naming and c.hit.doc_id not in quoted):
            if not any(as_strong(self._source(doc_id).grade, w.source.grade) for w in claimants):
                continue
            mine = [c for c in self._whole(doc_id, result) if c.role != "apparatus" and not c.absence]
            finding = next((c for c in mine if c.role == "finding"), None)
            if finding is not None:
                first = mine[: self.settings.bottom_per_document]
                return first if finding in first else [*first, finding]
        return []

    def _whole(self, doc_id: str, result: SearchResult) -> list[Candidate]:
        """Every sentence of one document scored for the question (not only those of its retrieved chunks), best first."""
        rows = self.index.chunk_rows(doc_id)
        dense = result.dense
        hits = [Hit(self.index.chunks[row], 0.0, float(dense[row]) if len(dense) else 0.0, len(result.hits) + i) for i, row in enumerate(rows)]
        return self.sentences.candidates(replace(result, hits=hits))

    def _learned_stance(self, mine: list[Candidate], plan: QueryPlan, question_vector: np.ndarray, rules: SourceStance) -> SourceStance:
        """The verdict model's reading of a source (verdict.py: its quoted sentences in document order) where it is sure
        enough (`VerdictSettings.min_probability`); the cue rules' stance where it is not."""
        ordered = sorted((c for c in mine if c.role != "apparatus" and c.vector is not None), key=lambda c: c.start)
        if not ordered:
            return rules
        vectors = np.vstack([c.vector for c in ordered])
        decided = decide(shipped_verdict().predict(plan.question, question_vector, [c.text for c in ordered], vectors), self.verdict)
        if decided is None:
            return rules
        return {"yes": "supports", "no": "no effect" if rules == "no effect" else "refutes", "maybe": "mixed"}[decided]

    def _disagreements(
        self, bottom: list[Candidate], order: list[Weighed], numbers: dict[tuple[str, int, int], int], summary: Synthesis, subject: tuple[Concept, ...]
    ) -> list[Disagreement]:
        """Pairs of sources with opposite stances in sentences that name the question's terms themselves (a trial of
        strength training on cartilage, titled with knee osteoarthritis, takes no side on exercise for knee pain);
        where one side is a claim of missing evidence that the other side's findings refute, the note says so
        (synthesis.ContradictedClaim) instead of weighing dates."""
        quoted = [c for c in bottom + [c for w in order for c in w.sentences] if _names_any(c, subject)]
        found = find_disagreements(quoted, numbers, {w.source.doc_id: w.source for w in order})
        notes = {c.doc_id: c.note for c in summary.contradicted}
        by_number = {n: key[0] for key, n in numbers.items()}
        return [replace(d, note=notes.get(by_number[d.sides[0][0]], d.note)) for d in found]

    def _pick(self, pick: Pick, numbers: dict[tuple[str, int, int], int], summary: Synthesis) -> str:
        """A bottom-line quote; a refuted claim of missing evidence says by which evidence."""
        cand = cast(Candidate, pick.sentence)
        claim = next((c for c in summary.contradicted if c.claim == numbers[cand.key]), None)
        if claim is None:
            return self._quote(cand, numbers)
        return f"*Contradicted by {', '.join(f'[{n}]' for n in claim.evidence)}:* {self._quote(cand, numbers)}"

    def _quote(self, cand: Candidate, numbers: dict[tuple[str, int, int], int]) -> str:
        """A quoted, cited sentence; a list item shows what it sits under (in italics, not quoted), so that
        "Assess compliance …" reads as the source's advice for patients already on IVIG."""
        lead = _MARKDOWN.sub(r"\\\1", cand.lead)
        context = f"*{lead}:* " if lead else ""
        return f"{context}{quoted(cand.text)} [{numbers[cand.key]}]"

    def _open_questions(self, candidates: list[Candidate], chosen: list[Candidate]) -> list[Candidate]:
        """Limitations the sources themselves state (quoted), from documents already cited."""
        if not self.settings.limitations:
            return []
        docs = {c.hit.doc_id for c in chosen}
        taken = {c.key for c in chosen}
        found = [
            c for c in candidates
            if c.hit.doc_id in docs and c.key not in taken and LIMITATION.search(c.text) and c.dense >= self.settings.min_limitation_similarity
        ]
        return found[: self.settings.limitations_quoted]

    def _unmentioned(self, rare: list[str], result: SearchResult, best: float, *, named: list[str]) -> list[str]:
        """The `rare` words no passage uses that the answer lists as unmentioned (those the opening line has not `named`),
        unless the scorer is confident the question is answered (its `best` evidence, `confident_evidence`) or the one
        document asked is close to it in meaning (`_reworded`): then a word the corpus lacks was only worded otherwise
        ("ototoxic" for "hearing loss"); within one document the scorer says answers it (one_document_confident_evidence),
        only words that name a condition or drug are listed (the paper writes "patients aged ≥80 years" for
        "octogenarians"). No source takes a side on a question over them: "Can upadacitinib be given sublingually?" is
        no question the case series supports."""
        if best >= self.settings.confident_evidence or self._reworded(result) or not self.settings.unknown_words:
            return []
        within = self._one_document(result) and best >= self.settings.one_document_confident_evidence
        return [w for w in rare if w not in named and (not within or names_a_condition_or_drug(w))]

    def _open_lines(
        self, result: SearchResult, open_items: list[Candidate], numbers: dict[tuple[str, int, int], int], unknown: list[str]
    ) -> list[str]:
        """Limitations the sources state, and the `unknown` words (`_unmentioned`)."""
        if not open_items and not unknown:
            return []
        lines = ["**What the sources leave open**", ""]
        lines += [f"- {self._quote(c, numbers)}" for c in open_items]
        if unknown:
            lines.append(f"- No {_sources(result)} passage mentions: {', '.join(f'“{t}”' + _nearest_note(t, result.plan) for t in unknown)}.")
        return lines

    def _abstention(self, question: str, result: SearchResult, reason: str, report: SearchReport) -> Answer:
        terms = ", ".join(f"“{t}”" for t in result.plan.searched_terms) or "(no searchable terms)"  # the user's words
        text = (
            f"**Not covered by the {_sources(result)} sources.** "
            f"{reason} Checked {report.passages_checked} passages in {report.documents_checked} "
            f"document{'s' * (report.documents_checked != 1)} "
            f"by meaning and by keyword, with the corpus' own aliases. Searched for: {terms}."
        )
        spelling = _searched_lines(result.plan)
        return Answer(
            question=question,
            text="\n".join([*spelling, text]),
            citations=[],
            sources=[],
            abstained=True,
            searched_for=result.plan.expanded,
            search_report=replace(report, abstain_reason=reason),
        )

    def _search_report(self, result: SearchResult, candidates: list[Candidate]) -> SearchReport:
        return SearchReport(
            query=result.plan.question,
            expanded_query=result.plan.expanded,
            corrections=dict(result.plan.corrections),
            variants={word: list(forms) for word, forms in result.plan.variants},
            aliases={term: list(others) for term, others in result.plan.expansions},
            terms=result.plan.searched_terms,
            unknown_terms=[c.label for c in result.plan.concepts if not c.known],
            nearest={c.label: c.nearest for c in result.plan.concepts if c.nearest},
            passages_checked=result.candidates_checked,
            documents_checked=searched_documents(self.index, result.scope),
            sentences_scored=len(candidates),
            best_similarity=max((h.similarity for h in result.hits), default=None),
            best_evidence=_best(candidates) if candidates else None,
            scorer=self.scorer.version,
        )

    def _unnamed_topics(
        self, plan: QueryPlan, chosen: list[Candidate], rare: list[str], subject: tuple[Concept, ...], scope: Scoped | None
    ) -> list[str]:
        """The conditions and drugs among the `rare` words of a question asking for a verdict, which no passage (of the
        scope) uses, when a quoted source's title names another: "Did upadacitinib help psoriasis?", asked of the case
        series titled with inflammatory myositis. No source takes a side on them, however close in meaning the sources are (the drug
        alone makes them close) or sure the scorer is that the question is answered. Titles that name no other
        condition leave open that the sources word the question's otherwise ("low bone density" for "osteoporosis";
        PubMedQA's abstracts come without titles), and rare words that name none ("octogenarians": "aged 80 or older")
        are not named here (`_unmentioned` lists them, and then no source takes a side either). Then the outcome asked
        of a drug the sources name that they never name (`unnamed_outcome`: "hair loss"), the population
        (`_unnamed_populations`: "pregnant") and a claim stronger than benefit (question.STRONG_CLAIM: "cure")."""
        unnamed = [word for word in rare if names_a_condition_or_drug(word)] if verdict_asked(plan) else []
        if unnamed and not self._titled_otherwise(plan, chosen):
            unnamed = []
        if not _on_a_named_drug(plan, subject):
            return unnamed
        claims = [c.label for c in plan.concepts if STRONG_CLAIM.match(c.label) and not c.known]
        more = [*unnamed_outcome(plan, subject), *self._unnamed_populations(plan, scope), *claims]
        return [*unnamed, *(o for o in more if o not in unnamed)]

    def _unnamed_populations(self, plan: QueryPlan, scope: Scoped | None) -> list[str]:
        """The populations the question asks about (question.asked_populations) that no document (of the scope) names
        by any of its words: "Can I take Rinvoq while pregnant?" → "pregnant"."""
        searched = set(scope.report.documents) if scope else None

        def named(word: str) -> bool:
            found = self.index.documents_with((frozenset(self.index.lexicon.stems(word)),))
            return bool(found if searched is None else found & searched)

        return [word for word, family in asked_populations(plan.question) if not any(named(w) for w in family)]

    def _titled_otherwise(self, plan: QueryPlan, chosen: list[Candidate]) -> bool:
        """A quoted source's title names a condition or drug the question does not."""
        asked = {word.lower() for word in _WORD.findall(plan.question)}
        titles = {self._source(c.hit.doc_id).title for c in chosen}
        return any(names_a_condition_or_drug(w) and w.lower() not in asked for title in titles for w in _WORD.findall(title))

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


def _names_any(cand: Candidate, concepts: tuple[Concept, ...]) -> bool:
    """Whether the sentence itself (or the list item it sits under) names one of these concepts of the question: only
    such a sentence takes a stance on it. A term its document's title supplies does not count here."""
    stems = set(cand.stems)
    return any(concept.matches(stems) for concept in concepts)


def _sources(result: SearchResult) -> str:
    """What the answer speaks for: the "indexed" sources, or the "chosen" ones of a scoped search."""
    return "chosen" if result.scope else "indexed"


def _motivation_aside(speaking: list[Candidate], grade: EvidenceGrade, topics: frozenset[str], close: float) -> list[Candidate]:
    """A study's sentences that speak to its stance: a study (a research design, declared or read from its text, or a
    document of unknown type: an animal experiment names no design) that reports its own methods or findings on the
    question (naming one of its specific `topics`, or `close` to it in meaning) and notes in its background that the
    question "has not been investigated" is motivating its work, not claiming the evidence is missing, so that
    background sentence does not decide its stance. Its own work is reported as studies report it, with a number or
    in the past ("Ten dogs were exposed …"): a clinic page's "Our nurses follow the hospital protocol …" under a
    question on follow-up imaging, or "any recommendation has to rely on clinical experience", is no study of its own."""
    own = [
        c for c in speaking
        if c.role in ("finding", "method") and not c.absence and (c.matched & topics or c.dense >= close) and _REPORTED.search(c.text)
    ]
    if grade.level not in (*RESEARCH_LEVELS, UNKNOWN_LEVEL) or not own:
        return speaking
    return [c for c in speaking if not (c.role == "background" and c.absence)]


def _claiming(candidates: list[Candidate]) -> set[str]:
    """The documents whose best sentence claims that evidence is missing (Candidate.absence): restating the question
    to say nobody has studied it makes a sentence look like an answer to the scorer, so such a document does not set
    the bar the others' evidence is held to."""
    best: dict[str, Candidate] = {}
    for cand in candidates:
        if cand.hit.doc_id not in best or cand.evidence > best[cand.hit.doc_id].evidence:
            best[cand.hit.doc_id] = cand
    return {doc_id for doc_id, cand in best.items() if cand.absence}


def _nearest_note(word: str, plan: QueryPlan) -> str:
    """What follows a missing word when the passages use a word near it in meaning (understand.Concept.nearest):
    " (nearest word they use: “acne”)" after "pimples"; else nothing."""
    nearest = next((c.nearest for c in plan.concepts if c.label == word and c.nearest), "")
    return f" (nearest word they use: “{nearest}”)" if nearest else ""


def _best(candidates: list[Candidate]) -> float:
    """The highest evidence among the candidates (the first is the best by fused rank, not always by evidence)."""
    return max(c.evidence for c in candidates)


# A question word that says what a drug does to what is asked about, in any of its forms ("reduces", "caused"), never
# what that is (question.EFFECT_VERBS).
EFFECT_VERB = re.compile(r"^(?:" + "|".join(verb.removesuffix("e") for verb in EFFECT_VERBS) + r")\w*$", re.I)


# A question asking what, which, why, where, when or who asks for content, not for a verdict, though it has a word of
# effect: "What is the role of dendritic cells in the immune response?", "What factors determine an effective mucosal
# immune response?" (COVID-QA); the results came after the paper's background there, and the span with them.
CONTENT_QUESTION = re.compile(r"^\W*(?:what|which|why|where|when|who|whom|whose)\b", re.I)


def verdict_asked(plan: QueryPlan) -> bool:
    """A yes/no question, or one about a treatment's effect (`asks_for_a_verdict`) that is no question for content
    (CONTENT_QUESTION) or names a drug: "What is the efficacy of Rinvoq in dermatomyositis?" asks for one."""
    question = plan.question
    if asks_yes_or_no(question):
        return True
    return asks_for_a_verdict(question) and (not CONTENT_QUESTION.match(question) or bool(_drugs(plan)))


def _drugs(plan: QueryPlan) -> list[Concept]:
    """The concepts of the question that name a drug (a name or alias with a drug's USAN/INN stem), as it names them;
    those not found as written last."""
    text = plan.question.lower()
    drugs = [c for c in plan.concepts if any(DRUG_STEM.search(w) for alt in (frozenset({c.label}), *c.alternatives) for w in alt)]
    return sorted(drugs, key=lambda c: text.find(c.label.lower()) % (len(text) + 1))


def _on_a_named_drug(plan: QueryPlan, subject: tuple[Concept, ...]) -> bool:
    """The question asks for a verdict on a drug the sources name (`subject`: Composer._subject)."""
    return verdict_asked(plan) and subject != plan.concepts and all(c.known for c in subject)


def verdict_on_nothing_named(plan: QueryPlan, subject: tuple[Concept, ...]) -> list[Concept]:
    """The words of a question asking for a verdict on a drug the sources name when they use none of its other words,
    however common ("Does Rinvoq help weight loss?": neither "weight" nor "loss"; "help" only frames it, "reduce" only
    says what the drug does: `EFFECT_VERB`): the verdict is asked on something the sources never mention. Empty
    otherwise."""
    if not _on_a_named_drug(plan, subject):
        return []
    others = [c for c in plan.concepts if c not in subject and not is_framing(c.label) and not EFFECT_VERB.match(c.label)]
    return others if others and not any(c.known or c.rewords for c in others) else []


def unnamed_outcome(plan: QueryPlan, subject: tuple[Concept, ...]) -> list[str]:
    """The outcome a question asks a drug the sources name to help or cause (`asked_outcome`), when the sources never
    use a word of it, however common, though they name the rest: "Does Rinvoq cause hair loss in dermatomyositis?" of
    the case series on myositis, which names neither "hair" nor "loss". No source takes a side on it: their findings
    on dermatomyositis say nothing about hair loss. Empty otherwise."""
    outcome = asked_outcome(plan.question) if _on_a_named_drug(plan, subject) else ""
    words = {w.lower() for w in _TOKEN.findall(outcome)}
    missing = [
        c for c in plan.concepts
        if _never_named(c) and not is_framing(c.label) and not EFFECT_VERB.match(c.label) and {w.lower() for w in _TOKEN.findall(c.label)} <= words
    ]
    return [outcome] if missing else []


def _never_named(concept: Concept) -> bool:
    """No passage (of the scope) uses the word, nor one it only rewords; a condition or drug never rewords another
    ("psoriasis" is close in meaning to "dermatomyositis", and another disease)."""
    if concept.known:
        return False
    return not concept.rewords or (names_a_condition_or_drug(concept.label) and names_a_condition_or_drug(concept.rewords))


def _unnamed(plan: QueryPlan) -> list[str]:
    """The words of the question no passage (of the scope) uses that are rare in English, or name a condition or drug
    ("asthma", "pneumonia": uncommon, not rare; every missing word `missing_share` weighs is uncommon at least), with
    a condition or drug read as rewording another (`_never_named`)."""
    missing = missing_share(plan.concepts)[0]
    renamed = [c for c in plan.concepts if c not in missing and c.specific and not is_framing(c.label) and _never_named(c)]
    return [c.label for c in [*missing, *renamed] if c.zipf < RARE_ZIPF or names_a_condition_or_drug(c.label)]


def _searched_lines(plan: QueryPlan) -> list[str]:
    """'Searched for “Rinvoq” (you wrote “Rinvok”).' when misspelt words were matched to the corpus' spelling, and
    'Searched for “compliant” also as the sources write it: “compliance”.' for words the corpus writes otherwise."""
    lines = []
    if plan.corrections:
        pairs = " and ".join(f"“{corrected}” (you wrote “{written}”)" for written, corrected in plan.corrections)
        lines.append(f"*Searched for {pairs}.*")
    for word, forms in plan.variants:
        lines.append(f"*Searched for “{word}” also as the sources write it: {', '.join(f'“{f}”' for f in forms)}.*")
    return [*lines, ""] if lines else []


_TOPICS_NAMED = 2  # "do not state a dose for upadacitinib, dermatomyositis": wording of one line, not a tuned number


def _main_topics(concepts: tuple[Concept, ...], typed: AnswerType) -> list[str]:
    ranked = sorted((c for c in concepts if c.known and not typed.asks.search(c.label)), key=lambda c: -c.idf)
    return [c.label for c in ranked[:_TOPICS_NAMED]]
