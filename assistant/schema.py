"""The typed records that pass between stages: Document → Chunk → Hit → Citation/Answer."""

from __future__ import annotations

import bisect
import sys
from array import array
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

BlockKind = Literal["heading", "paragraph", "list_item", "caption", "table_row"]


@dataclass(frozen=True, slots=True)
class Block:
    """A structural unit of a document's text: [start, end) in Document.text."""

    kind: BlockKind
    start: int
    end: int
    section: tuple[str, ...]
    # Spans of the text a list item sits under, outermost first: its parent items and the lead-in line of its
    # list ("If inadequate response to IVIG:"). A nested item means little without them.
    under: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Document:
    """A loaded document: its plain text (the text every citation slices) and its structure."""

    doc_id: str
    title: str
    text: str
    blocks: tuple[Block, ...]
    meta: dict[str, Any]
    source_path: str
    checksum: str
    # Paged formats (PDF): (offset, page number) where each page's text starts, in order; text before the first
    # mark, and any text of a document without pages, has no page.
    pages: tuple[tuple[int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """The page the character at `offset` of `text` came from (None for formats without pages)."""
        found = bisect.bisect_right(self.pages, offset, key=lambda mark: mark[0]) - 1
        return self.pages[found][1] if found >= 0 else None

    def page_range(self, start: int, end: int) -> tuple[int, int] | None:
        """First and last page of the characters text[start:end] (None for formats without pages)."""
        first, last = self.page_at(start), self.page_at(max(start, end - 1))
        return (first, last) if first is not None and last is not None else None


@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable span of one document; chunk_id is the stable citation key."""

    chunk_id: str
    doc_id: str
    start: int
    end: int
    section: str
    kind: Literal["text", "table_row", "apparatus"]
    spans: bytes  # its sentences' [start, end) offsets as int32 pairs: `sentences`, packed (a tuple of pairs costs 4x)
    source: str = field(repr=False, compare=False)  # the whole document text, shared (not copied) by its chunks
    gloss: str = ""

    @staticmethod
    def pack(sentences: Iterable[tuple[int, int]]) -> bytes:
        return array("i", [offset for span in sentences for offset in span]).tobytes()

    @property
    def sentences(self) -> tuple[tuple[int, int], ...]:
        flat = array("i", self.spans)
        return tuple(zip(flat[::2], flat[1::2], strict=True))

    @property
    def text(self) -> str:
        return self.source[self.start : self.end]

    @property
    def embed_text(self) -> str:
        """What the embedding model and BM25 read: section, text, and (table rows) spelled-out abbreviations."""
        body = f"{self.text} ({self.gloss})" if self.gloss else self.text
        return f"{self.section}: {body}" if self.section else body


@dataclass(frozen=True, slots=True)
class Hit:
    """A chunk ranked for a query."""

    chunk: Chunk
    score: float
    similarity: float
    rank: int

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass(frozen=True, slots=True)
class EvidenceGrade:
    """Where a source stands in the evidence hierarchy (documents/grade.py; docs/evidence.md has the order and why):
    `level` 1 (systematic review) to 9 (unreviewed or AI-generated page), design first; sample size and date order
    sources within a level. `reviewed`: not a preprint or a page declared unreviewed (levels 1-7): dates are weighed
    only between sources on the same side. `extracted`: the kind was inferred from the text, not declared."""

    level: int
    kind: str
    reviewed: bool
    sample_size: int | None = None
    year: int | None = None
    extracted: bool = False
    conflicts: tuple[str, ...] = ()  # front matter that contradicts itself, and what was believed

    def rank(self) -> tuple[int, int, int]:
        """Sort key, strongest first: level, then larger samples, then newer."""
        return (self.level, -(self.sample_size or 0), -(self.year or 0))

    def label(self) -> str:
        """A short reader's label: "peer-reviewed case series (10 patients, 2024)"."""
        details = [f"{self.sample_size} patients"] if self.sample_size else []
        details += [str(self.year)] if self.year else []
        return self.kind + (f" ({', '.join(details)})" if details else "")

    def badge(self) -> str:
        """How every view of a source shows its grade (UI badge, passage view, CLI, export): "evidence level 5 of 9:
        peer-reviewed case series (10 patients, 2024)", with ", kind inferred" when the kind was not declared."""
        return f"evidence level {self.level} of {GRADE_LEVELS}: {self.label()}" + (", kind inferred" if self.extracted else "")


GRADE_LEVELS = 9  # the hierarchy's levels (documents/grade.py): 1 strongest, 9 weakest
UNKNOWN_GRADE = EvidenceGrade(level=7, kind="document of unknown type", reviewed=True)


@dataclass(frozen=True, slots=True)
class EvidenceProfile:
    """What kind of evidence a document is; `extracted` lists fields inferred from the text."""

    doc_type: str
    peer_reviewed: bool | None
    date: str | None
    date_kind: str | None
    sample_size: int | None
    study_design: str | None
    subject: str | None
    publisher: str | None
    extracted: tuple[str, ...] = ()

    def label(self) -> str:
        """One line for a reader: type, size, peer review, date."""
        parts = [self.doc_type or "document of unknown type"]
        if self.sample_size:
            parts.append(f"{self.sample_size} patients")
        if self.peer_reviewed is True and "peer-reviewed" not in parts[0]:
            parts.append("peer-reviewed")
        elif self.peer_reviewed is False:
            parts.append("not peer-reviewed")
        if self.date:
            parts.append(f"{self.date_kind or 'dated'} {self.date}")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Source:
    """A document an answer draws on."""

    doc_id: str
    title: str
    profile: EvidenceProfile
    url: str | None = None
    grade: EvidenceGrade = UNKNOWN_GRADE  # from the profile (documents/grade.py)


@dataclass(frozen=True, slots=True)
class Citation:
    """A numbered, verbatim quote: quote == document text[start:end]."""

    number: int
    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    section: str
    chunk_id: str
    page: int | None = None  # the page the quote starts on (PDFs; None for formats without pages)
    chunk_pages: tuple[int, int] | None = None  # first and last page of the chunk it was quoted from


@dataclass(frozen=True, slots=True)
class Disagreement:
    """Two cited passages from different documents that take opposite stances."""

    claim: str
    sides: tuple[tuple[int, str, str], ...]  # (citation number, stance, evidence label)
    note: str


SourceStance = Literal["supports", "refutes", "no effect", "mixed", "lacking", "reports"]


@dataclass(frozen=True, slots=True)
class SourceVerdict:
    """One source of an answer, weighed: its grade, its stance on the question ("reports" when the question asks for
    no verdict, or the source takes none) and the citation numbers of its findings in the bottom line."""

    doc_id: str
    grade: EvidenceGrade
    stance: SourceStance
    findings: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ContradictedClaim:
    """A quoted claim that evidence is missing (`claim`, a citation number) that an indexed source at least as strong
    refutes by reporting findings on the question (`evidence`). `missed`: the claim is dated after that evidence."""

    claim: int
    doc_id: str
    evidence: tuple[int, ...]
    evidence_docs: tuple[str, ...]
    missed: bool
    note: str


@dataclass(frozen=True, slots=True)
class Synthesis:
    """What the bottom line weighs (answer/synthesis.py): its opening line, every source in the order it is quoted
    (grade first among the sources that answer comparably well), and the claims of missing evidence the index refutes."""

    line: str
    sources: tuple[SourceVerdict, ...]
    contradicted: tuple[ContradictedClaim, ...] = ()
    unnamed: tuple[str, ...] = ()  # rare words of a question asking for a verdict that no source uses: none takes a side


@dataclass(frozen=True, slots=True)
class Scope:
    """What a question may draw on: the documents named in `sources` (every document when empty), narrowed to those
    whose evidence passes each filter given: peer review, the kind of evidence (documents/grade.py, by design), the
    grade level (1 strongest to 9), a date range (ISO prefixes, inclusive; an undated document fails a date filter).
    Scope() is the whole library. documents/scope.py reads one from a `where` expression; index/scope.py resolves it
    to the chunks a search may score."""

    sources: tuple[str, ...] = ()
    peer_reviewed: bool | None = None  # True: declared or found peer-reviewed (and graded reviewed); False: the others
    kinds: tuple[str, ...] = ()  # evidence kinds by design, as documents/grade.py names them ("case series")
    levels: tuple[int, ...] = ()  # evidence levels admitted
    since: str | None = None  # "2020", "2020-06" or "2020-06-30"
    until: str | None = None

    @property
    def filtered(self) -> bool:
        """Whether any filter on the evidence is given (beyond the documents named)."""
        return self.peer_reviewed is not None or bool(self.kinds or self.levels) or self.since is not None or self.until is not None


@dataclass(frozen=True, slots=True)
class ScopeReport:
    """The scope an answer was limited to: as asked, the documents it searched (their ids, in index order), and the
    templated line the answer opens with (`titles`: the document titles that line quotes)."""

    scope: Scope
    documents: tuple[str, ...]
    line: str
    titles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AbsenceAudit:
    """The exhaustive search behind a "not covered" (api.Assistant): what it checked and what it found."""

    passages_checked: int
    documents_checked: int
    outcome: str  # "evidence found by the exhaustive search" | "no evidence in any passage"
    first_pass: str | None  # why the first, shallower pass abstained


@dataclass(frozen=True, slots=True)
class SearchReport:
    """How an answer was searched: the question as searched (`query`: misspellings corrected), what it expanded to,
    what was checked and how strong the best evidence was; why it abstained, if it did. Serialised as is by to_dict."""

    query: str = ""
    expanded_query: str = ""
    corrections: dict[str, str] = field(default_factory=dict)  # as written -> the corpus word searched instead
    variants: dict[str, list[str]] = field(default_factory=dict)  # a word the corpus lacks -> its corpus forms also searched
    aliases: dict[str, list[str]] = field(default_factory=dict)  # a question term -> the corpus' other names for it
    terms: list[str] = field(default_factory=list)  # the user's words that were searched
    unknown_terms: list[str] = field(default_factory=list)  # question words no passage uses
    nearest: dict[str, str] = field(default_factory=dict)  # such a word -> the passages' word nearest in meaning (a hint)
    passages_checked: int = 0
    documents_checked: int = 0
    sentences_scored: int = 0
    best_similarity: float | None = None
    best_evidence: float | None = None  # the evidence scorer's best probability that a sentence answers
    scorer: str = ""  # the evidence scorer's version
    abstain_reason: str | None = None
    absence_audit: AbsenceAudit | None = None
    scope: ScopeReport | None = None  # the documents the answer was limited to (None: the whole library)


@dataclass(frozen=True, slots=True)
class VerificationCounts:
    """How an LLM draft fared against the quotes it cites (write.py)."""

    draft_sentences: int
    kept_sentences: int
    kept_fraction: float


@dataclass(slots=True)
class AnswerMetadata:
    """What is known about how an answer was made, beyond its text: the index version it was composed on; in a
    conversation, the question as resolved from earlier turns; with an LLM writer, its draft and what the verifier
    kept, dropped (with reasons) and added. Serialised as is by Answer.to_dict."""

    index_version: str = ""
    resolved_question: str | None = None  # a conversation's question with earlier turns' entities carried in
    follow_up: bool = False  # the resolved question differs from the one asked
    turn: int | None = None
    writer: str | None = None  # the LLM endpoint that wrote (or failed to write) the answer
    llm_draft: str | None = None
    llm_seconds: float | None = None
    verification: VerificationCounts | None = None
    llm_sentences: list[str] = field(default_factory=list)  # the draft's sentences that passed verification
    dropped_sentences: list[dict[str, Any]] = field(default_factory=list)  # each: the sentence, why, its citations
    added_sentences: list[str] = field(default_factory=list)  # extractive sentences added for sources the draft left out


@dataclass(slots=True)
class Answer:
    """A composed answer: markdown text whose every sentence carries [n] markers."""

    question: str
    text: str
    citations: list[Citation]
    sources: list[Source]
    abstained: bool
    searched_for: str
    search_report: SearchReport = field(default_factory=SearchReport)
    bottom_line: list[int] = field(default_factory=list)  # the citation numbers quoted in the bottom line, in order
    disagreements: list[Disagreement] = field(default_factory=list)
    synthesis: Synthesis | None = None  # the sources weighed: grades, stances, contradicted claims (None: abstained)
    suggestions: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    metadata: AnswerMetadata = field(default_factory=AnswerMetadata)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (the CLI's --json output)."""
        return asdict(self)


def document_from_json(data: dict) -> Document:  # type: ignore[type-arg]
    """A document as documents.json stores it (one tuple per distinct heading path, shared by its blocks)."""
    sections: dict[tuple[str, ...], tuple[str, ...]] = {}  # one tuple per distinct heading path, not one per block
    blocks = tuple(
        Block(sys.intern(b[0]), b[1], b[2], sections.setdefault(tuple(b[3]), tuple(b[3])), tuple((int(s), int(e)) for s, e in b[4]))
        for b in data["blocks"]
    )
    pages = tuple((int(offset), int(page)) for offset, page in data["pages"])
    return Document(data["doc_id"], data["title"], data["text"], blocks, data["meta"], data["source_path"], data["checksum"], pages)


def document_to_json(doc: Document) -> dict:  # type: ignore[type-arg]
    """The JSON form `document_from_json` reads (documents.json, and Ray ingest's rows)."""
    data = asdict(doc)
    data["blocks"] = [[b.kind, b.start, b.end, list(b.section), [list(span) for span in b.under]] for b in doc.blocks]
    return data
