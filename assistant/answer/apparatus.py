"""Stage 5b, apparatus: the sentences of a document that carry no evidence — figure and table captions and call-outs,
headings and the title restated, bylines, affiliations, citation and licence lines, dates of receipt, keywords,
identifiers and links, questions (a question restates what is asked; it never answers it).

Small rules, each a pure function of one sentence (`is_caption`, `is_byline`, …). Measured on PubMedQA's result and
conclusion sentences, which they must leave alone (2 of 2,968 test sentences flagged, both a citation or a link), and on
apparatus collected by hand from the corpus, the test samples and COVID-QA papers (tests/answer/test_roles.py).
`apparatus_reasons` applies them to many sentences at once: each rule's patterns scan all the sentences joined into
one text, and only the few sentences they could flag are checked one by one.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from typing import Literal

import numpy as np

from ..schema import BlockKind, Document

# A figure or table label: "Figure 2", "Fig. 3B", "Table S1", "Supplementary Table 2", "Figure l" (an OCR'd 1).
_LABEL = r"(?:supplementa(?:l|ry)\s+|online\s+)?(?:fig(?:ure)?s?\.?|tables?|box|chart|panel|appendix|scheme)\s*[S]?[\dIVXl]+[A-Za-z]?"
# "Figure 2.", "Table 1 — Patient baseline …", "Table 5 Summary of …", "(B) ORF3a protein …"; a table row ("Table 1 —
# Outcome: MACE; Hazard ratio: 0.77") is data, not its caption.
_CAPTION = re.compile(rf"^(?:\(?{_LABEL}\)?\s*(?:$|[.:|—–-]|(?-i:\s+[A-Z(]))|\([A-H]\)\s+\S)", re.I)
_TABLE_ROW = re.compile(r"^tables?\s*\S+\s+—\s+[^;\n]+:[^;\n]+;", re.I)
_CALL_OUT = re.compile(  # "Table 2 summarised …", "Figure 4-B shows the results of …"; never "Table 2 shows that …"
    rf"^{_LABEL}\s*(?:and\s+{_LABEL}\s*)?(?:-?[A-Z]\s+)?(?:shows?|summari[sz]e[sd]?|demonstrates?|illustrates?|presents?|"
    r"depicts?|lists?|displays?|gives?|provides?|describes?|outlines?|contains?|details?|compares?|are|is)\b(?!\s+that\b)",
    re.I,
)
_SHOWN_IN = re.compile(  # "The results are shown in Fig. 4.", "… is illustrated in (Fig. 1)", "… were listed in Table 6"
    rf"\b(?:(?:is|are)\s+(?:shown|detailed|summari[sz]ed|presented|given|listed|illustrated|depicted|displayed|provided|plotted)|"
    rf"(?:was|were)\s+(?:listed|plotted|summari[sz]ed|detailed|tabulated))\s+in\s+\(?\s*(?:the\s+)?{_LABEL}",
    re.I,
)
_LABELS = re.compile(_LABEL, re.I)
_NUMBER = re.compile(r"(?<![\w-])\d")  # a number of its own ("n=5", "0.879"), not part of a name ("MMT-8")
_PANELS = re.compile(r"\(([A-H])\)")
_DATE = r"(?:\d{1,4}[-/ ]\w+[-/ ,]*\d{2,4}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\w*\.?\s+\d)"
_DATED = re.compile(
    rf"^(?:received|accepted|revised|published(?: online)?|first published|available online|epub|(?:last )?updated|"
    rf"accessed|original publication date)\b[\s:]*(?:on\s+)?{_DATE}",
    re.I,
)
_ONLY_DATE = re.compile(rf"^(?:{_DATE}|\d{{4}}-\d\d-\d\d)\W*$", re.I)
_PREFIXED = re.compile(
    r"^(?:to cite|cite this article|how to cite|suggested citation|correspondence to|corresponding author|published by|"
    r"retrieved from|available (?:from|at)|"
    r"(?:authors?|e-?mail|keywords?|key words|index terms|mesh terms|abbreviations|affiliations?|correspondence|notes?)\s*:|"
    r"(?:acknowledge?ments?|funding|competing interests?|conflicts? of interest|declarations?|author(?:s'?)? contributions?|"
    r"contributors|ethics approval(?: and consent to participate)?|patient consent(?: for publication)?|"
    r"provenance and peer review|data availability(?: statement)?|supplementa(?:l|ry) (?:materials?|data)|disclosures?)"
    r"\s*(?::|(?-i:\s+[A-Z]))|"
    r"[*†‡§¶])",
    re.I,
)
_NOTICE = re.compile(  # "To view, please visit the journal online (…)", "See rights and permissions."
    r"^(?:to view|please|see|visit|click|for (?:more|further) information)\b.*(?:https?://|www\.|\bonline\b|\bpermissions?\b|"
    r"\bwebsite\b)|\bsupplementa(?:l|ry) (?:material|data|information|files?)\s+(?:is|are)\s+(?:published|available)\b",
    re.I,
)
_LICENCE = re.compile(
    r"^©|^\(c\)\s|^copyright\b|\ball rights reserved\b|\bcreative commons\b|\bopen access article\b|\bre-?use permitted\b|"
    r"\bcommercial re-?use\b|^licen[cs]e\s*:|\bCC[ -]BY\b|\b(?:declare|report|have)\s+no\s+(?:conflicts?|competing)\b",
    re.I,
)
_URL = re.compile(r"(?:https?://|www\.)\S+|\bdoi:\s*\S+|\b10\.\d{4,9}/\S+|\S+@\S+\.\w+", re.I)
_IDENTIFIER = re.compile(r"\b(?:doi|pmid|pmcid|sha|issn|isbn|url)\b\s*:?\s*\S+|\b(?=\w*\d)(?=\w*[a-z])\w{10,}\b", re.I)
_CITATION = re.compile(r"\b(?:19|20)\d\d\s*;\s*\d+(?:\(\d+\))?\s*:\s*[A-Za-z]?\d+")  # "Lancet 2018;17:816–28"
_REFERENCE = re.compile(r"^(?:[A-Z][\w'’-]+\s+[A-Z]{1,3},\s+){1,}(?:et al\b|[A-Z][\w'’-]+\s+[A-Z]{1,3}\.)")  # "Paik JJ, Shin JY, et al."
_PAGE = re.compile(r"^page \d+ of \d+$", re.I)
_NAME = r"(?:[A-Z][a-zà-ÿ'’-]+|[A-Z]\.?|[A-Z][a-z]?[A-Z]+)"  # a capitalised name, an initial, or initials ("KH", "DJB")
_PERSON = re.compile(rf"^(?:(?:Dr|Prof|Mr|Mrs|Ms)\.?\s+)?{_NAME}(?:[\s-]+(?:{_NAME}|van|von|de|der|den|da|di|du|la|le|dos|bin)){{0,4}}$")
_AFFILIATION = re.compile(r"\b(?:universit|hospital|institut|department|dept\b|faculty|school of|college|cent(?:re|er)\b|laborator|clinic\b)", re.I)
_MINOR = frozenset("of and for the de du la y und di at in on".split())
_HEADING_WORDS = re.compile(r"^(?:\d+(?:\.\d+)*\.?\s+)?[A-Za-z][\w-]*(?:\s+[\w-]+){0,3}\.?$")
_VERB = re.compile(
    r"\b(?:is|are|was|were|be|been|has|have|had|do|does|did|can|could|may|might|will|would|should|must|shall|fell|rose|"
    r"grew|went|came|became|began|took|gave|made|saw|found|showed|led|kept|left|lost|met|ran|won|held|got|"
    r"remains?|occurs?|exists?|persists?|varies|vary|differs?|declines?|increases?|decreases?)\b|\w(?:ed|ing)\b",
    re.I,
)
# Headings of sections that hold no evidence: declarations, disclaimers, references and affiliations.
_DECLARATIONS = re.compile(
    r"^(?:article information|acknowledg|funding|competing interests?|conflicts? of interest|declarations?|"
    r"author(?:s'?)? contributions?|contributors|ethics|patient consent|provenance|data availability|supplementa|"
    r"disclaimer|professional medical disclaimer|disclosures?|references|bibliography|footnotes|author affiliations)",
    re.I,
)


def _words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z][A-Za-z'’-]*", text)


def _normal(text: str) -> str:
    return " ".join(w.lower() for w in re.findall(r"\w+", text))


def is_caption(sentence: str) -> bool:
    """A figure or table caption or a call-out: "Figure 2.", "Table 1 — Patient baseline characteristics",
    "Table 2 summarised …", "The results are shown in Fig. 4.", or a caption's panels ("… pre tofacitinib (A), post
    tofacitinib (B) …"). A finding that cites a table ("… (p = 0.014) (table 2).", "Table 2 shows that …", "… are
    shown in Fig. 6, an AUC of 0.879 …") is not one, nor is a table row ("Table 1 — Outcome: MACE; …")."""
    text = sentence.strip()
    if _TABLE_ROW.match(text):
        return False
    if _CAPTION.match(text) or _CALL_OUT.match(text):
        return True
    if _SHOWN_IN.search(text) and not _NUMBER.search(_LABELS.sub(" ", text)):
        return True
    panels = sorted(set(_PANELS.findall(text)))  # a legend's panels run on: (A) … (B) …; capsid (C) … envelope (E) do not
    return len(panels) >= 2 and all(ord(b) - ord(a) == 1 for a, b in zip(panels, panels[1:], strict=False))


def is_byline(sentence: str) -> bool:
    """An author list or byline: "By A. Author", "Madelaine Beckett (1), Jan Dutz (2, 3, 4), Kun Huang (3, 4, 5, 6)",
    "Wei, Xiaolin; Zhang, Xiulei", "Patterson KD, Pyle GF." — every part a name, at least two of them or after "By"."""
    text = re.sub(r"\((?:[\d,\s*†‡§]+)\)|[\d*†‡§]+(?=[,;\s]|$)|\bet al\.?|\s+", " ", sentence).strip().rstrip(".")
    by = re.match(r"^by\s+", text, re.I)
    text = text[by.end() :] if by else text
    if ";" in text:
        parts = [" ".join(reversed(p.split(",", 1))).strip() for p in text.split(";")]
    else:
        parts = [p.strip() for p in re.split(r",|\band\b|&", text)]
    parts = [p for p in parts if p]
    if not parts or (len(parts) < 2 and not by):
        return False
    return all(_PERSON.match(p) and len(p.split()) >= (1 if by else 2) for p in parts)


def is_affiliation(sentence: str) -> bool:
    """An address: places and institutions in title case, separated by commas ("Internal Medicine, The University of
    British Columbia Faculty of Medicine, Vancouver, British Columbia, Canada")."""
    text = re.sub(r"^\(?\d+\)?\.?\s*", "", sentence.strip()).rstrip(".")
    if text.count(",") < (2 if _AFFILIATION.search(text) else 3) or re.search(r"\d", text):
        return False
    return all(w[0].isupper() or w in _MINOR for w in _words(text))


def is_metadata(sentence: str) -> bool:
    """Publishing apparatus: citation, correspondence and declaration lines, dates of receipt, licences, keywords,
    notes under tables, notices to the reader, reference-list entries, identifiers or links with hardly a word
    besides (or only a name: "Madelaine Beckett http://orcid.org/…")."""
    text = sentence.strip()
    if any(p.search(text) for p in (_PREFIXED, _DATED, _ONLY_DATE, _NOTICE, _LICENCE, _PAGE, _CITATION, _REFERENCE)):
        return True
    if not (_URL.search(text) or _IDENTIFIER.search(text)):
        return False
    rest = " ".join(_words(_IDENTIFIER.sub(" ", _URL.sub(" ", text))))
    return len(rest.split()) <= 1 or bool(_PERSON.match(rest))


def is_heading(sentence: str, title: str = "") -> bool:
    """The document's title restated, or a run-in heading: at most four words without a verb, ending in a full stop,
    numbered or in capitals ("Validation measures.", "3 Discussion", "SUGGESTED CITATION")."""
    text = sentence.strip()
    if title and _normal(text) == _normal(title):
        return True
    if not _HEADING_WORDS.match(text) or _VERB.search(text) or len(_words(text)) > 4:
        return False
    return text.endswith(".") or text[0].isdigit() or text.isupper()


_QUESTION = re.compile(r"\?[\s\"'”’)\]]*$", re.M)
_NAME_PARTICLES = _MINOR | {"van", "von", "der", "den", "da", "dos", "bin", "et", "al"}
_LOWER_WORD = re.compile(rf"\b(?!(?:{'|'.join(sorted(_NAME_PARTICLES))})\b)[a-z][a-z'’-]*")  # bylines and addresses have none
# Supersets of what the rules flag, in lower case, for one scan over many sentences (tests check they hold everything
# the rules flag): what metadata starts with or holds anywhere, and what captions hold.
_METADATA_HINT = re.compile(
    r"^(?:to cite|cite this|how to cite|suggested citation|correspond|published|retrieved|available|authors?\s*:|e-?mail|"
    r"key ?words|index terms|mesh terms|abbreviations|affiliation|notes?\s*:|acknowledg|funding|competing|conflicts? of|"
    r"declaration|authors?'? contribution|contributors|ethics|patient consent|provenance|data availability|supplementa|"
    r"disclosure|received|accepted|revised|first published|epub|last updated|updated|accessed|original publication|page|"
    r"to view|please|see|visit|click|for (?:more|further)|copyright|licen|[*†‡§¶©\d]|\(c\)|jan|feb|mar|apr|may|jun|jul|"
    r"aug|sep|oct|nov|dec)|"
    r"©|://|www\.|doi|@|all rights|creative commons|open access article|re-?use|cc[ -]by|no (?:conflicts?|competing)|sha|"
    r"pmid|pmc|issn|isbn|url|[a-z]\d[a-z\d]{6}|\d[a-z][a-z\d]{6}|\d\s*;\s*\d|supplementa(?:l|ry) (?:material|data|information|file)",
    re.M,
)
_REFERENCE_START = re.compile(_REFERENCE.pattern, re.M)
_CAPTION_HINT = re.compile(r"fig|table|box|chart|panel|appendix|scheme|\([a-h]\)")


def is_question(sentence: str) -> bool:
    """A sentence that ends in a question mark (quotes and brackets after it aside)."""
    return bool(_QUESTION.search(sentence.strip()))


class Joined:
    """Sentences joined into one text, so that a pattern is one scan over all of them (a scan per sentence cost
    about 100 µs a sentence). Three views with the same offsets: `text` as written; `lower`, for patterns written in
    lower case and compiled without re.I (several times faster); `words`, lower case with punctuation as spaces and
    a space before each sentence, so that " may\\b" finds a word where a look-behind would slow the scan. The
    separator keeps every pattern inside its sentence: `^` and `$` (re.M) match at sentence edges in `text` and
    `lower`, "\\0 " starts a sentence in `words`, and whitespace runs stop at the NUL between sentences."""

    SEPARATOR = "\n\0\n"

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = [t.replace("\n", " ").replace("\0", " ").strip() for t in texts]
        lengths = np.array([len(self.SEPARATOR) + len(t) for t in self.texts], np.int64)
        self.starts = np.cumsum(lengths) - lengths  # where each sentence's separator starts
        self.text = "".join(self.SEPARATOR + t for t in self.texts)
        self._hits: dict[tuple[re.Pattern[str], str], np.ndarray] = {}

    @cached_property
    def lower(self) -> str:
        lower = self.text.lower()
        if len(lower) != len(self.text):  # a character whose lower case is longer ("İ") would shift every offset
            lower = "".join(c if len(c.lower()) != 1 else c.lower() for c in self.text)
        return lower

    @cached_property
    def words(self) -> str:
        return _PUNCTUATION.sub(" ", self.lower).replace(self.SEPARATOR, "\n\0 ")

    def hits(self, pattern: re.Pattern[str], view: Literal["text", "lower", "words"] = "text") -> np.ndarray:
        """Whether `pattern` matches somewhere in each sentence of `view` (read-only; computed once per pattern)."""
        key = (pattern, view)
        if key not in self._hits:
            found = np.zeros(len(self.texts), bool)
            positions = [m.start() for m in _to_end(pattern).finditer(getattr(self, view))]
            found[np.searchsorted(self.starts, positions, side="right") - 1] = True
            found.flags.writeable = False
            self._hits[key] = found
        return self._hits[key]


_PUNCTUATION = re.compile(r"[()\[\]{}/,;:'\"“”‘’\-–—_*+&#!|]")


@cache
def _to_end(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """`pattern`, then the rest of its sentence: one match per sentence at most (a match object for every digit of
    every sentence cost more than the scan)."""
    return re.compile(f"(?:{pattern.pattern})[^\\n]*", pattern.flags)


_Check = Callable[[str], bool]
# (reason, the sentences a rule could flag (one scan), the rule itself), in the order they are tried.
_RULES: tuple[tuple[str, Callable[[Joined], np.ndarray], _Check], ...] = (
    ("question", lambda j: j.hits(_QUESTION), is_question),
    ("caption", lambda j: j.hits(_CAPTION_HINT, "lower"), is_caption),
    ("byline", lambda j: ~j.hits(_LOWER_WORD), is_byline),
    ("affiliation", lambda j: ~j.hits(_LOWER_WORD), is_affiliation),
    (
        "metadata",
        lambda j: j.hits(_METADATA_HINT, "lower") | j.hits(_REFERENCE_START),
        is_metadata,
    ),
)


@dataclass(frozen=True, slots=True)
class Place:
    """Where a sentence sits in its document: its block's kind, the headings above it, and the run-in label its
    paragraph gives it ("Results" for each sentence after "Results:" in "… Results: 10 patients were …")."""

    kind: BlockKind | None = None
    section: tuple[str, ...] = ()
    label: str = ""


# A run-in label: a few words in capitals or title case and a colon, opening a paragraph or a sentence ("RESULTS:",
# "Main outcome measures:"). Structured abstracts run several through one paragraph.
_RUN_IN = re.compile(r"(?:^|(?<=[.!?:] ))([A-Z][A-Za-z]+(?:[ ,/&-]+[A-Za-z]+){0,5}):\s", re.M)


def place_of(document: Document, offset: int) -> Place:
    """The block holding the character at `offset`, and the last run-in label before it in the block. A paragraph
    that opens with a figure or table label ("Figure 1.") or sits under a heading that is one counts as a caption:
    the caption's later sentences carry no label."""
    found = bisect.bisect_right(document.blocks, offset, key=lambda block: block.start) - 1
    if found < 0 or offset >= document.blocks[found].end:
        return Place()
    block = document.blocks[found]
    section = tuple(s for s in block.section if s != document.title)  # the title heads every section (as in chunk.py)
    labelled = _LABEL_STOP.match(document.text, block.start, min(block.end, block.start + 40))
    if block.kind == "paragraph" and (labelled or (section and _CAPTION.match(section[-1]))):
        return Place("caption", section)
    stop = min(block.end, offset + 80)  # a label ends within a few words of where its sentence starts
    labels = [] if document.text.find(":", block.start, stop) < 0 else [  # most paragraphs hold no label: skip the scan
        m.group(1) for m in _RUN_IN.finditer(document.text, block.start, stop) if m.start() <= offset
    ]
    return Place(block.kind, section, labels[-1] if labels else "")


_LABEL_STOP = re.compile(rf"{_LABEL}\s*[.:|—–-]", re.I)


def _by_place(place: Place, sentence: str, title: str) -> str | None:
    """What a sentence's place alone says: a heading or caption block, a declarations section, the title restated
    or a run-in heading (never in a list: "Regular assessment of muscle strength" is an item, not a heading)."""
    if place.kind in ("heading", "caption"):
        return place.kind
    if any(_DECLARATIONS.match(s) for s in place.section):
        return "declarations"
    short = len(sentence) < 60 or (bool(title) and abs(len(sentence) - len(title)) < 10)  # is_heading needs no more
    if short and place.kind != "list_item" and is_heading(sentence, title):
        return "heading"
    return None


def apparatus_reasons(texts: Sequence[str], places: Sequence[Place], titles: Sequence[str], joined: Joined | None = None) -> list[str | None]:
    """Why each sentence is apparatus ("heading", "caption", "declarations", "question", "byline", "affiliation",
    "metadata"), or None for prose and table rows; `places` from `place_of`, `titles` their documents' titles,
    `joined` the texts already joined (roles.sentence_roles shares one with the model's cues)."""
    joined = joined or Joined(texts)
    reasons: list[str | None] = [
        None if place.kind == "table_row" else _by_place(place, text, title)
        for text, place, title in zip(joined.texts, places, titles, strict=True)
    ]
    open_ = np.array([r is None and p.kind != "table_row" for r, p in zip(reasons, places, strict=True)], bool)
    for reason, could, rule in _RULES:
        for i in np.flatnonzero(open_ & could(joined)):
            if rule(joined.texts[i]):
                reasons[i], open_[i] = reason, False
    return reasons


def apparatus_reason(sentence: str, *, block_kind: BlockKind | None = None, title: str = "", section: Sequence[str] = ()) -> str | None:
    """Why one sentence is apparatus, or None (see apparatus_reasons); `block_kind` and `section` are its place."""
    return apparatus_reasons([sentence], [Place(block_kind, tuple(section))], [title])[0]
