"""What the chat UI shows, as plain strings: chat messages, the cited-passage panel, the export. No Gradio here.

Everything taken from documents (quotes, titles, labels, glossary entries) is escaped before it reaches a
renderer: markdown punctuation is backslash-escaped and `& < >` become entities, so a document containing
`<script>` or `[x](javascript:…)` shows as literal text and a quote still reads verbatim.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..answer.render import answer_markdown
from ..answer.synthesis import STANCE_WORDS
from ..errors import ConfigError
from ..schema import Answer, Citation, Source, SourceVerdict

if TYPE_CHECKING:
    from ..chat.conversation import Conversation
    from ..index.load import Index

DISCLAIMER = (
    "Information for health professionals, quoted from the indexed sources. Not medical advice: it does not "
    "replace clinical judgement or a consultation. Check every quote against its source."
)
PATIENT_DISCLAIMER = (
    "Information quoted word for word from medical sources, which are written for health professionals. Not medical "
    "advice: talk to your doctor or nurse before changing any treatment. Check every quote against its source."
)
PATIENT_NOTICE = (
    "Plain-language view: the answer quotes medical sources word for word, and they are written for health "
    "professionals. Abbreviations are spelled out below the answer. Talk to your doctor before changing any treatment."
)
CITE_HREF = "#cite-"


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads the answer: patients get the abbreviation glossary and a plain-language notice."""

    label: str
    notice: str | None
    glossary: bool
    disclaimer: str  # the page header's line under the title


AUDIENCES: dict[str, Audience] = {
    "clinician": Audience("Clinician", None, False, DISCLAIMER),
    "patient": Audience("Patient or carer", PATIENT_NOTICE, True, PATIENT_DISCLAIMER),
}


def header_html(title: str, audience_name: str) -> str:
    """The page header: the title and the disclaimer for this audience."""
    return f'<div id="app-header"><h1>{html.escape(title)}</h1><p class="disclaimer">{html.escape(audience(audience_name).disclaimer)}</p></div>'


def version_markdown(index: Index) -> str:
    """Which index version answers, and how many documents it holds (it changes live when another process ingests)."""
    return f"Answering from index version `{index.folder.name}` · {len(index.documents)} documents"


def audience(name: str) -> Audience:
    """The registered audience called `name`."""
    try:
        return AUDIENCES[name]
    except KeyError:
        raise ConfigError(f"Unknown audience {name!r}. Choose one of: {', '.join(AUDIENCES)}.") from None


# ---------------------------------------------------------------- escaping

_MD_PUNCTUATION = re.compile("([" + re.escape("".join(c for c in string.punctuation if c not in "&<>")) + "])")
_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape_html_text(text: str) -> str:
    """`& < >` as entities: raw HTML can never form."""
    return re.sub(r"[&<>]", lambda m: _HTML_SPECIAL[m.group(0)], text)


def escape_markdown(text: str) -> str:
    """Literal text for a markdown renderer: punctuation backslash-escaped, `& < >` as entities."""
    return escape_html_text(_MD_PUNCTUATION.sub(r"\\\1", text))


def cite_link(number: int) -> str:
    """A clickable [n] marker; the page script opens passage n when it is clicked."""
    return f"[\\[{number}\\]]({CITE_HREF}{number})"


_MARKER = re.compile(r"\[(\d+)\]")


def _link_markers(text: str, numbers: set[int]) -> str:
    return _MARKER.sub(lambda m: cite_link(int(m.group(1))) if int(m.group(1)) in numbers else m.group(0), text)


def safe_answer_markdown(answer: Answer) -> str:
    """The answer's markdown with every document-derived string escaped and its [n] markers made clickable.

    Quotes, titles and evidence labels are located in the text and escaped as literals (so a "[2]" inside a
    quote stays text); the composer's own markup around them keeps working, minus any raw HTML.
    """
    literals = {c.quote for c in answer.citations} | {c.title for c in answer.citations}
    literals |= {s.title for s in answer.sources} | {s.profile.label() for s in answer.sources}
    literals |= set(answer.search_report.scope.titles) if answer.search_report.scope else set()  # the scope line's
    numbers = {c.number for c in answer.citations}
    literals.discard("")
    if not literals:
        return _link_markers(escape_html_text(answer.text), numbers)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(literals, key=len, reverse=True)))
    out: list[str] = []
    position = 0
    for match in pattern.finditer(answer.text):
        out.append(_link_markers(escape_html_text(answer.text[position : match.start()]), numbers))
        out.append(escape_markdown(match.group(0)))
        position = match.end()
    out.append(_link_markers(escape_html_text(answer.text[position:]), numbers))
    return "".join(out)


# ---------------------------------------------------------------- glossary

def abbreviations_in(texts: Iterable[str], glossary: dict[str, str]) -> list[tuple[str, str]]:
    """Glossary abbreviations (two letters or more, exact case) found in `texts`, in order of first use."""
    joined = "\n".join(texts)
    found: list[tuple[int, str]] = []
    for short in glossary:
        if len(short) < 2:
            continue
        match = re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", joined)
        if match:
            found.append((match.start(), short))
    return [(short, glossary[short]) for _, short in sorted(found)]


def glossary_markdown(pairs: list[tuple[str, str]]) -> str:
    """One line: **Abbreviations:** DM (dermatomyositis) · IVIG (intravenous immunoglobulin)."""
    if not pairs:
        return ""
    return "**Abbreviations:** " + " · ".join(f"{escape_markdown(s)} ({escape_markdown(long)})" for s, long in pairs)


# ---------------------------------------------------------------- chat message

def sources_markdown(answer: Answer) -> str:
    """The sources an answer cites: title, evidence type and date, grade badge, and the numbers quoting each."""
    lines = ["**Sources**"]
    pages = {c.number: c.page for c in answer.citations}
    for source in answer.sources:
        numbers = [c.number for c in answer.citations if c.doc_id == source.doc_id]
        if not numbers:
            continue
        link = f" · [link]({source.url})" if source.url and re.fullmatch(r"https?://[^\s<>()\[\]]+", source.url) else ""
        markers = " ".join(cite_link(n) + (f" (p. {pages[n]})" if pages[n] is not None else "") for n in numbers)
        lines.append(
            f"- *{escape_markdown(source.title)}* — {escape_markdown(source.profile.label())} · {grade_badge(source)}{link} · {markers}"
        )
    return "\n".join(lines) if len(lines) > 1 else ""


def grade_badge(source: Source) -> str:
    """The source's grade as a badge, shaded by its level (the page's CSS): "evidence level 5 of 9: …"."""
    return f'<span class="grade-badge grade-{source.grade.level}">{escape_html_text(source.grade.badge())}</span>'


# ---------------------------------------------------------------- evidence bar

BAR_HINT = (
    "One segment per source, in the order the bottom line weighs them: colour for its stance, depth for its evidence "
    "level (1 strongest, 9 weakest). Click a segment to read the passage it is quoted for."
)


def evidence_bar_html(answer: Answer) -> str:
    """The bar above an answer: one segment per weighed source (Answer.synthesis, in its order), coloured by stance,
    shaded by grade, a link to the source's first finding; "" when nothing was weighed (an abstention). Only our own
    words and numbers: no document text, so nothing in it can form markup."""
    if answer.synthesis is None or not answer.synthesis.sources:
        return ""
    refuted = {c.doc_id: c.evidence for c in answer.synthesis.contradicted}
    segments = "".join(_segment(v, refuted.get(v.doc_id, ()), _first_citation(answer, v)) for v in answer.synthesis.sources)
    return f'<div class="evidence-bar"><span class="evidence-bar-label" title="{html.escape(BAR_HINT)}">Evidence</span>{segments}</div>'


def segment_label(verdict: SourceVerdict, refuted_by: tuple[int, ...], number: int | None) -> tuple[str, str]:
    """A segment's two lines: its stance ("[3] says evidence is lacking") and its grade, after "contradicted by [1],
    [2]" for a claim of missing evidence that the index refutes ("evidence level 9 of 9: unreviewed AI-generated …")."""
    stance = ("" if number is None else f"[{number}] ") + STANCE_WORDS[verdict.stance][0]
    refuted = "contradicted by " + ", ".join(f"[{n}]" for n in refuted_by) + " · " if refuted_by else ""
    return stance, refuted + verdict.grade.badge()


def _segment(verdict: SourceVerdict, refuted_by: tuple[int, ...], number: int | None) -> str:
    classes = f"evidence-seg stance-{verdict.stance.replace(' ', '-')} grade-{verdict.grade.level}"
    classes += " contradicted" if refuted_by else ""
    stance, grade = (html.escape(line) for line in segment_label(verdict, refuted_by, number))
    body = f'<span class="seg-stance">{stance}</span> <span class="seg-grade">{grade}</span>'
    if number is None:
        return f'<span class="{classes}" title="{stance} · {grade}">{body}</span>'
    return f'<a class="{classes}" href="{CITE_HREF}{number}" title="{stance} · {grade}">{body}</a>'


def _first_citation(answer: Answer, verdict: SourceVerdict) -> int | None:
    """The source's first finding in the bottom line, else its first citation anywhere in the answer."""
    if verdict.findings:
        return verdict.findings[0]
    return next((c.number for c in answer.citations if c.doc_id == verdict.doc_id), None)


def message_markdown(answer: Answer, audience_name: str, glossary: dict[str, str]) -> str:
    """The chat bubble for one answer: notice (patients), evidence bar, answer, sources, glossary (patients), notes."""
    reader = audience(audience_name)
    parts: list[str] = []
    if reader.notice:
        parts.append(f"> {escape_markdown(reader.notice)}")
    if answer.metadata.follow_up:
        parts.append(f"*Searched for: {escape_markdown(answer.metadata.resolved_question)}*")
    parts.append(evidence_bar_html(answer))
    parts.append(safe_answer_markdown(answer))
    parts.append(sources_markdown(answer))
    if reader.glossary:
        parts.append(glossary_markdown(abbreviations_in([answer.text], glossary)))
    parts.extend(f"*Note: {escape_markdown(n)}*" for n in answer.notices)
    return "\n\n".join(p for p in parts if p)


# ---------------------------------------------------------------- passage panel

PASSAGE_PLACEHOLDER = (
    '<div class="passage passage-empty">Click a citation number such as <b>[1]</b> in an answer to read the '
    "quoted passage in its context here.</div>"
)


def _page_label(citation: Citation) -> str:
    """"p. 3" for a quote from a PDF page ("p. 3 (passage pp. 3–4)" when its chunk runs on); "" without pages."""
    if citation.page is None:
        return ""
    first, last = citation.chunk_pages or (citation.page, citation.page)
    return f"p. {citation.page}" + (f" (passage pp. {first}–{last})" if first != last else "")


def passage_html(
    index: Index, citation: Citation, source: Source | None, audience_name: str, file_url: str | None = None
) -> str:
    """The cited passage for the side panel: the quote highlighted inside its chunk, with title, section, page (linked
    to that page of the PDF when `file_url` serves it), type and date."""
    reader = audience(audience_name)
    context = passage_context(index, citation)
    before, quote, after = context or ("", citation.quote, "")
    label = source.profile.label() if source else "evidence type unknown"
    parts = [
        '<div class="passage">',
        f'<div class="passage-head"><span class="passage-num">[{citation.number}]</span> '
        f'<span class="passage-title">{html.escape(citation.title)}</span></div>',
        f'<div class="passage-meta">{html.escape(label)}</div>',
        _grade_html(source),
        f'<div class="passage-section">Section: {html.escape(citation.section or "(top of document)")}</div>',
        _page_html(citation, file_url),
        f'<blockquote class="passage-text">{html.escape(before)}<mark>{html.escape(quote)}</mark>{html.escape(after)}</blockquote>',
    ]
    if context is None:
        parts.append('<div class="passage-note">This document is no longer in the library; only the quote is shown.</div>')
    if reader.glossary:
        pairs = abbreviations_in([before, quote, after], index.aliases.glossary)
        if pairs:
            entries = " · ".join(f"{html.escape(s)} ({html.escape(long)})" for s, long in pairs)
            parts.append(f'<div class="passage-glossary"><b>Abbreviations:</b> {entries}</div>')
    parts.append(f'<div class="passage-offsets">Characters {citation.start}–{citation.end} of the document.</div></div>')
    return "".join(parts)


def _grade_html(source: Source | None) -> str:
    """The source's grade badge, and what its front matter contradicted and how it was read (grade.conflicts)."""
    if source is None:
        return ""
    notes = "".join(f'<div class="passage-note">{html.escape(c)}</div>' for c in source.grade.conflicts)
    return f'<div class="passage-grade">{grade_badge(source)}</div>{notes}'


def _page_html(citation: Citation, file_url: str | None) -> str:
    label = _page_label(citation)
    if not label:
        return ""
    if file_url:
        href = html.escape(f"{file_url}#page={citation.page}", quote=True)
        label = f'<a href="{href}" target="_blank" rel="noopener">{html.escape(label)}</a>'
    return f'<div class="passage-page">{label}</div>'


def passage_context(index: Index, citation: Citation) -> tuple[str, str, str] | None:
    """(text before, quote, text after) within the cited chunk, sliced from the document's own text; None if it left."""
    document = index.documents.get(citation.doc_id)
    if document is None:
        return None
    chunk = next((c for c in index.chunks if c.chunk_id == citation.chunk_id), None)
    start, end = (chunk.start, chunk.end) if chunk else (citation.start, citation.end)
    start, end = min(start, citation.start), max(end, citation.end)
    text = document.text
    return text[start : citation.start], text[citation.start : citation.end], text[citation.end : end]


# ---------------------------------------------------------------- session and export

@dataclass(slots=True)
class ChatSession:
    """One browser session's conversation: its answers and every citation number it has shown."""

    conversation: Conversation
    export_path: Path  # this session's export file, in a folder of its own
    answers: list[Answer] = field(default_factory=list)
    shown: int | None = None  # the citation number open in the passage panel

    def ask(self, question: str, sources: list[str] | None = None) -> Answer:
        """The answer alone (from the documents ticked, `sources`, if any); its suggested follow-ups (the slow part)
        come from suggest()."""
        answer = self.conversation.ask(question, suggest=False, sources=sources)
        self.answers.append(answer)
        return answer

    def suggest(self) -> list[str]:
        return self.conversation.suggest()

    def citation(self, number: int) -> tuple[Citation, Source | None] | None:
        """The latest citation shown with this number (numbers are stable within a conversation)."""
        for answer in reversed(self.answers):
            for c in answer.citations:
                if c.number == number:
                    return c, next((s for s in answer.sources if s.doc_id == c.doc_id), None)
        return None

    def discard(self) -> None:
        """Delete this session's export file and its folder (called when the browser session ends)."""
        self.export_path.unlink(missing_ok=True)
        with suppress(OSError):
            self.export_path.parent.rmdir()


def transcript_markdown(answers: list[Answer], now: datetime | None = None) -> str:
    """The whole conversation as one markdown document, each answer with its numbered, verbatim quotes."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d %H:%M")
    parts = [f"# Conversation with the medical evidence assistant\n\n_Exported {stamp}._ {DISCLAIMER}"]
    for turn, answer in enumerate(answers, 1):
        parts.append(f"## {turn}. {answer.question}\n\n{answer_markdown(answer)}")
    return "\n\n".join(parts) + "\n"
