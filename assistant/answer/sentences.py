"""The candidate sentences of an answer: every sentence of the retrieved chunks, with the signals the evidence scorer
reads (its stored vector's similarity to the question, the question's concepts it names, its title's), its role in
its document (roles.py: finding, background, method, apparatus) and the scorer's probability that it answers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from ..index.embed import one_blas_thread
from ..index.load import Index
from ..schema import Hit, Source
from ..settings import ComposeSettings
from .absence import claims_absence, heard, shipped_absence
from .apparatus import place_of
from .cues import ADDRESSED_TO_A_MODEL
from .retrieve import SearchResult
from .roles import section_positions, sentence_roles, shipped_roles
from .scorer import Context, EvidenceModel, features, fused_order, rule_scores
from .understand import Concept


@dataclass(frozen=True, slots=True)
class Candidate:
    """A sentence of a retrieved chunk, with the signals the evidence scorer reads and its verdict."""

    hit: Hit
    start: int
    end: int
    text: str
    dense: float
    coverage: float
    matched: frozenset[str]
    aspect: tuple[float, ...] = ()
    lead: str = ""  # what the sentence sits under in its list (chunk.Leads), "" outside lists
    stems: tuple[str, ...] = ()  # the sentence's content words, stemmed, in order
    evidence: float = 0.0  # the scorer's probability that the sentence answers the question
    rule: float = 0.0  # the v1 rule's relevance (evidence.rule_scores)
    role: str = "finding"  # what the sentence is in its document: finding, background, method or apparatus (roles.py)
    absence: bool = False  # it claims that evidence on its topic is missing (absence.py)
    about: bool = False  # it names one of the question's concepts or is `topic_similarity` close to it in meaning
    vector: np.ndarray | None = field(default=None, compare=False, repr=False)  # its sentence vector from the index

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.hit.doc_id, self.start, self.end)



class SentenceReader:
    """Reads the retrieved chunks of one index version into scored candidate sentences."""

    def __init__(self, index: Index, settings: ComposeSettings, scorer: EvidenceModel, source: Callable[[str], Source]) -> None:
        self.index = index
        self.settings = settings
        self.scorer = scorer
        self._source = source  # a document as a source, with its grade (the composer's, read once per document)
        self._titles: dict[str, frozenset[str]] = {}

    @one_blas_thread
    def candidates(self, result: SearchResult) -> list[Candidate]:
        """Every sentence of the retrieved chunks, with its signals (similarity of the sentence vector made at index
        time, question concepts matched) and the evidence scorer's probability that it answers; best first by the
        fusion of the scorer's ranking with the v1 rule's (`fusion_k`)."""
        found = self.signals(result)
        if not found:
            return []
        rows = features(found, self.evidence_context(result))
        scores = self.scorer.predict(rows)
        rule = rule_scores(rows, self.settings)
        order = fused_order(scores, rule, self.settings.fusion_k)
        return [replace(found[i], evidence=float(scores[i]), rule=float(rule[i])) for i in order]

    def signals(self, result: SearchResult) -> list[Candidate]:
        """Every sentence of the retrieved chunks with the signals the scorer reads (not yet scored), in retrieval order."""
        spans: dict[tuple[str, int, int], tuple[Hit, np.ndarray]] = {}
        for hit in (h for h in result.hits if h.chunk.kind != "apparatus"):
            for (start, end), vector in zip(hit.chunk.sentences, self.index.sentence_vectors(hit.chunk), strict=True):
                sentence = self.index.documents[hit.doc_id].text[start:end]
                if len(sentence.split()) >= 3 and not sentence.endswith(":") and not ADDRESSED_TO_A_MODEL.match(sentence):
                    spans.setdefault((hit.doc_id, start, end), (hit, vector))  # lead-ins and instructions claim nothing
        if not spans:
            return []
        keys = list(spans)
        vectors = np.vstack([vector for _, vector in spans.values()])
        dense = (vectors @ result.query_vectors.T).max(axis=1)
        aspect = vectors @ result.aspect_vectors.T if result.aspect_vectors is not None else np.zeros((len(keys), 0))
        concepts = result.plan.concepts
        total = sum(c.idf for c in concepts) or 1.0
        in_titles = self._title_only(concepts, {key[0] for key in keys})
        texts = [self.index.documents[doc_id].text[start:end] for doc_id, start, end in keys]
        roles = self._roles(keys, texts, vectors)
        hears = [heard(self._source(doc_id).grade.level, text) for (doc_id, _, _), text in zip(keys, texts, strict=True)]
        learned = self.settings.learned_absence and any(hears) and shipped_absence().reads(vectors.shape[1])  # nothing heard: no model read
        absent = claims_absence(texts, vectors, hears, learned=learned, question=result.query_vectors[0])
        out = []
        for key, text, score, aspect_row, role, claim, vector in zip(keys, texts, dense, aspect, roles, absent, vectors, strict=True):
            lead = self.index.leads[key[0]].of(key[1])
            own = tuple(self.index.lexicon.stems(text))
            stems = set(own).union(self.index.lexicon.stems(lead)) if lead else set(own)
            matched = frozenset(c.label for c in concepts if c.matches(stems)) | in_titles.get(key[0], frozenset())
            coverage = sum(c.idf for c in concepts if c.label in matched) / total
            out.append(Candidate(spans[key][0], key[1], key[2], text, float(score), coverage, matched, tuple(map(float, aspect_row)), lead, own, role=role, absence=claim, about=bool(matched) or float(score) >= self.settings.topic_similarity, vector=vector))
        return out

    def _roles(self, keys: list[tuple[str, int, int]], texts: list[str], vectors: np.ndarray) -> tuple[str, ...]:
        """Each sentence's role in its document (roles.py): finding, background, method or apparatus."""
        documents = [self.index.documents[doc_id] for doc_id, _, _ in keys]
        places = [place_of(doc, start) for doc, (_, start, _) in zip(documents, keys, strict=True)]
        learned = shipped_roles().reads(self.index.sentences.shape[1])
        by_doc: dict[str, list[int]] = {}
        for i, (doc_id, _, _) in enumerate(keys):
            by_doc.setdefault(doc_id, []).append(i)
        positions: list[float | None] = [None] * len(keys)
        for doc_id, rows in by_doc.items():
            for i, position in zip(rows, section_positions(self.index.documents[doc_id], [keys[i][1] for i in rows]), strict=True):
                positions[i] = position
        return sentence_roles(texts, vectors, places, [doc.title for doc in documents], learned=learned, positions=positions).roles

    def _title_only(self, concepts: tuple[Concept, ...], doc_ids: set[str]) -> dict[str, frozenset[str]]:
        """Per document, the concepts only its title names: its every sentence is about them ("Colchicine after
        myocardial infarction" over a text that never repeats "myocardial infarction")."""
        titled = [c for c in concepts if c.known and any(c.matches(set(self.index.title_stems[d])) for d in doc_ids)]
        out: dict[str, frozenset[str]] = {}
        for concept in titled:
            in_text = self.index.documents_with(concept.alternatives, titles=False)
            for doc_id in doc_ids - in_text:
                if concept.matches(set(self.index.title_stems[doc_id])):
                    out[doc_id] = out.get(doc_id, frozenset()) | {concept.label}
        return out

    def evidence_context(self, result: SearchResult) -> Context:
        """What the evidence scorer reads besides the candidates (title stems cached per document)."""
        titles = {}
        for doc_id in dict.fromkeys(h.doc_id for h in result.hits):
            if doc_id not in self._titles:
                self._titles[doc_id] = frozenset(self.index.lexicon.stems(self.index.documents[doc_id].title))
            titles[doc_id] = self._titles[doc_id]
        lengths = {doc_id: len(self.index.documents[doc_id].text) for doc_id in titles}
        places = [self.index.doc_rows[d] for d in titles]
        dense: dict[str, float] = {}
        lexical: dict[str, float] = {}
        if len(result.dense):
            dense = dict(zip(titles, self.index.per_document_max(result.dense)[places].tolist(), strict=True))
        if len(result.lexical):
            lexical = dict(zip(titles, self.index.per_document_max(result.lexical)[places].tolist(), strict=True))
        stems = tuple(self.index.lexicon.stems(result.plan.question))
        return Context(result.plan, stems, titles, lengths, dense, lexical)
