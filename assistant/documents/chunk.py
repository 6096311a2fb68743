"""Stage 2, chunk: sections → paragraphs → sentences, each chunk within the model's word-piece window.

Chunks never cross a section. Table rows are chunks of their own. Every chunk and sentence keeps exact
offsets into Document.text, so a quote is always `document.text[start:end]`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from functools import cache

from ..schema import Block, Chunk, Document
from ..settings import ChunkSettings
from .aliases import mine_aliases

CHUNKER_VERSION = "10"  # bump whenever ingest or chunking output changes: indexes are rebuilt
TokenCounter = Callable[[str], int]

# Abbreviations that end a sentence only before a word that starts one ("…and co. They said"); the first group
# never ends one (they precede what they qualify: "Fig. 2", "Dr. Huang", "e.g. IVIG", "p. 55").
_ABBREVIATIONS = {
    "al", "inc", "ltd", "co", "jr", "sr", "ed", "eds", "resp", "min", "max", "ms", "dept", "univ", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}
_PREPOSITIVE = {
    "dr", "mr", "mrs", "prof", "approx", "mt", "st", "vs", "e.g", "i.e", "eg", "ie", "fig", "figs", "no", "nos",
    "ca", "cf", "vol", "pp", "p", "ref", "refs",
}
# Words that start a sentence after an abbreviation or initial ("…in the U.S. The drug…", "vitamin D. It…").
_STARTERS = frozenset(
    "A After All An As At But Did During For He Her His How However I If In It Its Most No Of On Our She That The "
    "Their There These They This Those Thus To We What When Where Which While Who Why".split()
)
# A sentence ends at . ! or ? (closing brackets and quotes included) before a capital, a digit, a bullet, a
# lower-case token with a capital or digit in it ("eGFR", "mRNA", "p53") or a Greek letter ("β-blockers").
_BOUNDARY = re.compile(r"""[.!?][)"'’”\]]*\s+(?=[("'“‘\[]?(?:[A-Z0-9•]|[a-z]+[A-Z0-9]|[\u0391-\u03a9\u03b1-\u03c9]))""")
_TOKEN_BEFORE = re.compile(r"(?<![\w.])([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)$")
_NEXT_WORD = re.compile(r"[(\"'“‘\[]?([\w’']+)")
_QUOTE_REACH = 400  # characters: a quotation that runs longer is no title or phrase quoted within a sentence


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans [s, e) inside text[start:end], absolute offsets, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if _continues(text, match.start(), match.end()) or _quoted(text, cursor, match.start(), end):
            continue
        stop = match.start() + len(match.group(0).rstrip())
        spans.append((cursor, stop))
        cursor = match.end()
    if cursor < end:
        spans.append((cursor, end))
    return [_trim(text, s, e) for s, e in spans if text[s:e].strip()]


def _quoted(text: str, cursor: int, stop: int, end: int) -> bool:
    """Whether the stop at `stop` is inside a quotation in curly quotes that opened after the sentence began and closes
    within `_QUOTE_REACH` characters: a title quoted within a sentence ("… nobody has yet looked at the question
    “Cold knife conization vs. LEEP. Are they the same procedure”.") is part of it, and its full stop ends nothing."""
    opened = text.rfind("“", cursor, stop)
    if opened < 0 or not text[cursor:opened].strip() or "”" in text[opened:stop]:
        return False
    closing = text.find("”", stop, min(end, opened + _QUOTE_REACH))
    return closing >= 0 and "“" not in text[stop:closing]


def _continues(text: str, dot: int, after: int) -> bool:
    """Whether the period at `dot` ends an abbreviation or initial and the sentence goes on at `after`.

    "Fig. 2", "e.g. IVIG" always go on. An initial ("Jonas E. Smith"), a dotted abbreviation ("U.S. FDA") or
    "et al." goes on unless a sentence-starting word follows ("…in the U.S. The…", "vitamin D. It…"). A letter
    after a digit is a label, not an initial: "Fig. 2B. The" ends there.
    """
    if text[dot] != ".":
        return False
    if text.startswith("...]", dot - 2):  # an elision inside a quotation: "stairways [...]" (Smith 55)
        return True
    word = _TOKEN_BEFORE.search(text, max(0, dot - 12), dot)
    if not word:
        return False
    token = word.group(1).lower()
    if token in _PREPOSITIVE:
        return True
    dotted = "." in token and all(len(part) == 1 for part in token.split("."))  # U.S, E.U, a.m
    initial = len(token) == 1 and word.group(1).isupper()
    if not (dotted or initial or token in _ABBREVIATIONS):
        return False
    following = _NEXT_WORD.match(text, after)
    starts = following is not None and following.group(1) in _STARTERS and not text.startswith(".", following.end())
    return not starts  # "J. A. Smith": an "A" with a period is another initial


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_document(document: Document, settings: ChunkSettings, count_tokens: TokenCounter) -> list[Chunk]:
    """Split a document into chunks that fit `settings.max_tokens` word pieces."""
    pieces = list(_pieces(document, settings, cache(count_tokens)))  # a section label is counted for each of its blocks
    glossary = mine_aliases([document.text]).glossary
    return [
        Chunk(
            chunk_id=f"{document.doc_id}#{n}",
            doc_id=document.doc_id,
            start=start,
            end=end,
            section=section,
            kind=kind,
            spans=Chunk.pack(sentences),
            source=document.text,
            gloss=_gloss(document.text[start:end], glossary) if kind == "table_row" else "",
        )
        for n, (start, end, section, kind, sentences) in enumerate(pieces)
    ]


_Piece = tuple[int, int, str, str, list[tuple[int, int]]]


def _pieces(document: Document, settings: ChunkSettings, count_tokens: TokenCounter) -> Iterator[_Piece]:
    text = document.text
    group: list[tuple[int, int]] = []  # sentence spans of the open chunk
    group_tokens = 0
    group_section: tuple[str, ...] | None = None
    group_apparatus = False
    label_budget = settings.max_tokens // 2  # the section label never takes more than half a chunk

    def close() -> Iterator[_Piece]:
        nonlocal group, group_tokens
        if group:
            kind = "apparatus" if group_apparatus else "text"
            yield group[0][0], group[-1][1], _fitted_label(group_section or (), label_budget, count_tokens), kind, group
        group, group_tokens = [], 0

    for block in document.blocks:
        if block.kind == "heading":
            continue
        block = replace(block, section=tuple(s for s in block.section if s != document.title))
        if block.kind == "table_row":
            yield from close()
            label = text[block.start : block.end].split(" — ", 1)[0]
            yield block.start, block.end, _section_label((*block.section, label)), "table_row", [(block.start, block.end)]
            continue
        apparatus = _is_apparatus(text, block)
        if block.section != group_section or apparatus != group_apparatus:
            yield from close()
            group_section, group_apparatus = block.section, apparatus
        budget = settings.max_tokens - count_tokens(_fitted_label(block.section, label_budget, count_tokens)) - 2
        for span, tokens in _sentence_units(text, block, budget, count_tokens):
            if group and group_tokens + tokens > budget:
                yield from close()
            group.append(span)
            group_tokens += tokens
    yield from close()


def _sentence_units(
    text: str, block: Block, budget: int, count_tokens: TokenCounter
) -> Iterator[tuple[tuple[int, int], int]]:
    """Sentences of a block with their token counts; an over-long sentence is cut at word boundaries."""
    for start, end in split_sentences(text, block.start, block.end):
        tokens = count_tokens(text[start:end])
        if tokens <= budget:
            yield (start, end), tokens
            continue
        yield from _hard_split(text, start, end, budget, count_tokens)


def _hard_split(
    text: str, start: int, end: int, budget: int, count_tokens: TokenCounter
) -> Iterator[tuple[tuple[int, int], int]]:
    """Cut an over-long sentence into the longest runs of whole words that fit; a word that alone is over
    the budget (a long URL, a pasted sequence) is cut between characters."""
    word_ends = [start + m.end() for m in re.finditer(r"\S+", text[start:end])]
    first, piece_start = 0, start  # first: index of the first word ending after piece_start
    while first < len(word_ends):
        while text[piece_start].isspace():
            piece_start += 1

        def fits(stop: int, piece_start: int = piece_start) -> bool:
            return count_tokens(text[piece_start:stop]) <= budget

        words = _last_fit(word_ends, first, fits)
        stop = word_ends[words] if words is not None else _char_cut(piece_start, word_ends[first], fits)
        yield (piece_start, stop), count_tokens(text[piece_start:stop])
        piece_start, first = stop, bisect.bisect_right(word_ends, stop)


def _char_cut(piece_start: int, word_end: int, fits: Callable[[int], bool]) -> int:
    """Where to cut a word that alone is over the budget: as late as fits, but at least one character in."""
    stops = range(piece_start + 1, word_end + 1)
    found = _last_fit(stops, 0, fits)
    return stops[found] if found is not None else piece_start + 1


def _last_fit(stops: Sequence[int], lo: int, fits: Callable[[int], bool]) -> int | None:
    """Index of the last of the ascending stops[lo:] that fits (binary search; fits is monotone), or None."""
    first, hi = lo, len(stops)
    while lo < hi:
        mid = (lo + hi) // 2
        if fits(stops[mid]):
            lo = mid + 1
        else:
            hi = mid
    return lo - 1 if lo > first else None


_APPARATUS_SECTIONS = re.compile(r"^(references|bibliography|author affiliations|orcid|abbreviations)\b", re.I)
_GLOSSARY = re.compile(r"(?:^|;\s+)[A-Z][A-Za-z0-9-]{0,11}, [^;]{3,80}")


_NUMBERING = re.compile(r"^\d+[.)]\s+")


class Leads:
    """What each sentence of a document sits under: a list item's parent items and list lead-in, in words.
    Sentence vectors embed it: change these rules and CHUNKER_VERSION must change, or indexes keep stale vectors."""

    def __init__(self, document: Document) -> None:
        self.document = document
        self._starts = [b.start for b in document.blocks]

    def of(self, offset: int) -> str:
        """"IVIG (Intravenous Immunoglobulin)" for the item "Typical dosing: 2 g/kg …" nested under it: each
        parent's list label ("Treatment algorithm", not all that follows it), else the whole of a parent or lead-in
        line that ends in a colon."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return ""
        text = self.document.text
        parents = (_NUMBERING.sub("", text[s:e]) for s, e in self.document.blocks[i].under)
        return "; ".join(p for p in (list_label(t) or (t[:-1] if t.endswith(":") else "") for t in parents) if p)

    def in_context(self, start: int, end: int) -> str:
        """A sentence as its reader understands it: after what it sits under (what a sentence vector embeds)."""
        lead = self.of(start)
        return f"{lead}: {self.document.text[start:end]}" if lead else self.document.text[start:end]


def _is_apparatus(text: str, block: Block) -> bool:
    """Reference lists, affiliations and abbreviation glossaries: searchable, but not evidence."""
    if any(_APPARATUS_SECTIONS.match(s) for s in block.section):
        return True
    return len(_GLOSSARY.findall(text[block.start : block.end])) >= 4


def _section_label(section: tuple[str, ...]) -> str:
    return " > ".join(section)


def _fitted_label(section: tuple[str, ...], limit: int, count_tokens: TokenCounter) -> str:
    """The section path in at most `limit` word pieces: outer headings dropped first, then the innermost cut
    (so a heading that is really a paragraph cannot leave no room for the chunk's own text)."""
    parts = list(section)
    while len(parts) > 1 and count_tokens(_section_label(tuple(parts))) > limit:
        parts.pop(0)
    label = _section_label(tuple(parts))
    if count_tokens(label) <= limit:
        return label
    stops = range(1, len(label) + 1)
    found = _last_fit(stops, 0, lambda stop: count_tokens(label[:stop]) <= limit)
    return label[: stops[found]].rstrip() if found is not None else ""


def _gloss(text: str, glossary: dict[str, str]) -> str:
    """Spell out the document's own abbreviations used in a table row ("M = male; UPA = upadacitinib")."""
    used = dict.fromkeys(re.findall(r"[A-Za-z][A-Za-z0-9-]*", text))
    return "; ".join(f"{short} = {glossary[short]}" for short in used if short in glossary)


_LIST_LABEL = re.compile(r"^(?:\d+[.)]\s+)?([A-Z][\w ()-]{2,60}):(?:\s|$)")


def list_label(sentence: str) -> str:
    """The "Methotrexate" of "Methotrexate: Recommended as …" (the subject of the list items under it)."""
    match = _LIST_LABEL.match(sentence)
    return match.group(1) if match else ""
