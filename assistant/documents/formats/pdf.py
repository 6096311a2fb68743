"""PDF through pypdfium2 (PDFium): the text layer read line by line with each line's page, position and font.

What a reader of the page sees, as blocks:
- running headers, footers and page numbers are left out: lines in the top or bottom margin band whose text (digits
  aside) recurs on two pages or more, and lines there that are only a page number;
- a paragraph that runs on to the next page is one block, and every character keeps the page it came from
  (`TextBuilder.pages`), so a quote's page is exact;
- words hyphenated across a line end are joined ("ran-/domised" → "randomised"), the hyphen kept where the word
  is a compound ("follow-/up" → "follow-up"; word frequencies decide);
- headings are lines set larger than the body text (or bold short lines alone), so chunks get sections;
- pages without a text layer are reported by number (a scanned page needs OCR).
"""

from __future__ import annotations

import ctypes
import re
import statistics
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from wordfreq import zipf_frequency

from ...errors import DocumentError
from .builder import TextBuilder, squash

# Layout thresholds, in fractions of the page height or of the font size. Set by hand from typeset articles (not
# tuned on an evaluation set): a running header or page number sits within about an inch of the top or bottom
# edge, where body text on Letter or A4 starts at about an inch and a quarter.
MARGIN_BAND = 0.12  # the top and bottom 12 % of the page are where running headers and footers are looked for
HEADING_SIZE = 1.15  # a line set at least 15 % larger than the body text is a heading
PARAGRAPH_GAP = 0.5  # a vertical gap this many font sizes wider than the usual line gap starts a paragraph
SHORT_LINE = 0.75  # a line shorter than this share of a full line, ending a sentence, ends its paragraph
COMPOUND_ZIPF = 2.5  # both halves of a line-end hyphenation this common (Zipf scale) may make a compound

_PDFIUM = threading.Lock()  # PDFium is not thread-safe; uploads and ingests may run side by side
_PAGE_NUMBER = re.compile(r"(?:page\s+)?[-–—]?\s*(?:\d{1,4}|[ivxlc]{1,7})\s*[-–—]?(?:\s*(?:of|/)\s*\d{1,4})?", re.I)
_BULLET = re.compile(r"[•◦▪▫●○■□‣⁃]\s*")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SOFT_BREAK = ("\ufffe", "\x02")  # PDFium's mark for a hyphen that breaks a word at a line end
_SENTENCE_END = re.compile(r"[.:?!][)\"'’”\]]*$")
_JUNK_TITLE = re.compile(r"^(untitled|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|indd|tex|dvi))$", re.I)
_FIX_READ = "Re-export the PDF or ingest a text version."


@dataclass(slots=True)
class _Line:
    """One line of a page's text layer, in PDF units (points, y upwards)."""

    text: str
    page: int  # 1-based
    top: float
    bottom: float
    left: float
    size: float
    bold: bool
    hyphen: bool = False  # PDFium marked a word-breaking hyphen at its end (removed from `text`)


@dataclass(slots=True)
class _Block:
    kind: str
    level: int = 0  # headings
    parts: list[tuple[str, int]] = field(default_factory=list)  # (text, page) of each line, joiners included


def load_pdf(raw: bytes, path: Path) -> tuple[dict[str, Any], TextBuilder, list[str]]:
    with _PDFIUM:
        pages, heights, imaged, title = _read(raw, path)
    if not any(pages):
        raise DocumentError(str(path), "the PDF has no text layer (a scanned image?)", "Run OCR on it first (e.g. ocrmypdf) and ingest the result.")
    running = _running_lines(pages, heights)
    scanned = [n for n in imaged if all(id(line) in running for line in pages[n - 1])]  # at most a running header
    warnings = []
    if scanned:
        many = len(scanned) > 1
        warnings.append(
            f"{path}: page{'s' if many else ''} {', '.join(map(str, scanned))} of {len(pages)} left out: no text layer "
            f"(a scanned image?). Run OCR on the PDF (e.g. ocrmypdf) to include {'them' if many else 'it'}"
        )
    lines = [line for page in pages for line in page if id(line) not in running]
    builder = TextBuilder()
    for block in _blocks(lines):
        text, marks = _joined(block.parts)
        if block.kind == "heading":
            builder.heading(block.level, text, pages=marks)
        else:
            builder.add(block.kind, text, pages=marks)  # type: ignore[arg-type]
    return ({"title": title} if title else {}), builder, warnings


# ---------------------------------------------------------------- reading the text layer

def _read(raw: bytes, path: Path) -> tuple[list[list[_Line]], list[float], list[int], str]:
    """Each page's lines and height, the pages with images and (almost) no text, and the metadata title."""
    try:
        document = pdfium.PdfDocument(raw)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise DocumentError(str(path), "the PDF is encrypted", "Save an unencrypted copy and ingest that.") from exc
        raise DocumentError(str(path), f"the PDF could not be read ({exc})", _FIX_READ) from exc
    try:
        pages, heights, imaged = [], [], []
        for number in range(1, len(document) + 1):
            page = document[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    lines = _page_lines(textpage, number)
                finally:
                    textpage.close()
                if len(lines) <= 3 and any(True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)):
                    imaged.append(number)
                pages.append(lines)
                heights.append(page.get_height())
            finally:
                page.close()
        title = str(document.get_metadata_dict(skip_empty=True).get("Title", "")).strip()
    except pdfium.PdfiumError as exc:
        raise DocumentError(str(path), f"the PDF could not be read ({exc})", _FIX_READ) from exc
    finally:
        document.close()
    return pages, heights, imaged, "" if _JUNK_TITLE.match(title) else title


def _page_lines(textpage: pdfium.PdfTextPage, number: int) -> list[_Line]:
    count = textpage.count_chars()
    if count <= 0:
        return []
    text = textpage.get_text_range(0, count)
    if len(text) != count:  # characters outside the BMP come back as two UTF-16 units: read one by one
        text = "".join(chr(pdfium_c.FPDFText_GetUnicode(textpage, i)) for i in range(count))
    lines: list[_Line] = []
    start = 0
    for match in re.finditer(r"\r\n|[\r\n\ufffe\x02]", text + "\n"):
        line = _line(textpage, text, start, match.start(), number, hyphen=match.group() in _SOFT_BREAK)
        if line is not None:
            lines.append(line)
        start = match.end()
    return lines


def _line(textpage: pdfium.PdfTextPage, text: str, start: int, end: int, number: int, hyphen: bool) -> _Line | None:
    raw = text[start:end]
    first = start + len(raw) - len(raw.lstrip())
    last = start + len(raw.rstrip()) - 1
    if last < first:
        return None
    left, bottom, _, top = textpage.get_charbox(first)
    _, bottom_last, _, top_last = textpage.get_charbox(last)
    cleaned = squash(_CONTROL.sub(" ", raw.translate(_LIGATURES)))
    return _Line(
        text=cleaned,
        page=number,
        top=max(top, top_last),
        bottom=min(bottom, bottom_last),
        left=left,
        size=round(pdfium_c.FPDFText_GetFontSize(textpage, first) * 2) / 2,
        bold=_bold(textpage, first) and _bold(textpage, last),
        hyphen=hyphen,
    ) if cleaned else None


def _bold(textpage: pdfium.PdfTextPage, index: int) -> bool:
    if pdfium_c.FPDFText_GetFontWeight(textpage, index) >= 600:
        return True
    name = ctypes.create_string_buffer(128)
    pdfium_c.FPDFText_GetFontInfo(textpage, index, name, len(name), None)
    return bool(re.search(rb"bold|black|heavy|semibold|demi", name.value, re.I))


# ---------------------------------------------------------------- running headers and footers

def _running_lines(pages: list[list[_Line]], heights: list[float]) -> set[int]:
    """ids of the lines in the margin bands that are page furniture: a page number, or text that recurs (digits
    aside, at the same size) in the margin band of another page."""
    candidates: list[tuple[_Line, tuple[str, float]]] = []
    pages_with: Counter[tuple[str, float]] = Counter()
    for lines, height in zip(pages, heights, strict=True):
        keys = set()
        for line in lines:
            if line.top >= height * (1 - MARGIN_BAND) or line.bottom <= height * MARGIN_BAND:
                key = (re.sub(r"\d+", "#", line.text.lower()), line.size)
                candidates.append((line, key))
                keys.add(key)
        pages_with.update(keys)
    return {id(line) for line, key in candidates if pages_with[key] >= 2 or _PAGE_NUMBER.fullmatch(line.text)}


# ---------------------------------------------------------------- lines into blocks

def _blocks(lines: list[_Line]) -> Iterator[_Block]:
    if not lines:
        return
    weights: Counter[float] = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    body = weights.most_common(1)[0][0]
    bold_body = sum(len(line.text) for line in lines if line.bold) > sum(weights.values()) / 2
    sizes = sorted({line.size for line in lines if line.size >= body * HEADING_SIZE}, reverse=True)

    def level(line: _Line) -> int:
        """The heading level of a line, 0 for body text."""
        if line.size >= body * HEADING_SIZE and len(line.text.split()) <= 25:
            return min(sizes.index(line.size) + 1, 6)
        if line.bold and not bold_body and line.size >= body * 0.95 and len(line.text.split()) <= 12 and not _SENTENCE_END.search(line.text):
            return min(len(sizes) + 1, 6)
        return 0

    gaps = [prev.bottom - cur.top for prev, cur in zip(lines, lines[1:]) if prev.page == cur.page and prev.size == cur.size and prev.bottom > cur.top]
    usual_gap = statistics.median(gaps) if gaps else body * 0.5
    full = sorted(len(line.text) for line in lines)[int(len(lines) * 0.9)]
    block: _Block | None = None
    prev: _Line | None = None
    for line in lines:
        heading = level(line)
        bullet = _BULLET.match(line.text)
        text = line.text[bullet.end() :] if bullet else line.text
        if not text:
            continue
        if block is not None and prev is not None and not bullet and heading == block.level and not _breaks(prev, line, usual_gap, full):
            _continue(block, prev, text, line.page)
        else:
            if block is not None:
                yield block
            block = _Block("heading" if heading else "list_item" if bullet else "paragraph", heading, [(text, line.page)])
        prev = line
    if block is not None:
        yield block


def _breaks(prev: _Line, line: _Line, usual_gap: float, full: int) -> bool:
    """Whether `line` starts a new block after `prev` (a heading continues only on its own page)."""
    if _SENTENCE_END.search(prev.text) and len(prev.text) < SHORT_LINE * full:
        return True
    if prev.page != line.page:
        return False
    if prev.bottom - line.top > usual_gap + PARAGRAPH_GAP * line.size:
        return True
    return bool(_SENTENCE_END.search(prev.text)) and line.left - prev.left > 0.8 * line.size  # first-line indent


def _continue(block: _Block, prev: _Line, text: str, page: int) -> None:
    """Add a line to a block: after a space, or joined to a word hyphenated across the line end."""
    last, _ = block.parts[-1]
    if prev.hyphen or (last.endswith("-") and last[-2:-1].isalpha() and text[:1].islower()):
        stem = last[:-1] if last.endswith("-") and not prev.hyphen else last
        keep = _is_compound(stem, text) or not text[:1].islower()
        block.parts[-1] = (stem + ("-" if keep else ""), block.parts[-1][1])
        block.parts.append((text, page))
    else:
        block.parts.append((" " + text, page))


def _is_compound(left: str, right: str) -> bool:
    """'follow' + 'up' is a compound ("follow-up"); 'ran' + 'domised' is one word broken in two."""
    a = re.search(r"[^\W\d_]+$", left)
    b = re.match(r"[^\W\d_]+", right)
    if not a or not b:
        return True
    za, zb = zipf_frequency(a.group(), "en"), zipf_frequency(b.group(), "en")
    return min(za, zb) >= COMPOUND_ZIPF and zipf_frequency(a.group() + b.group(), "en") < min(za, zb) - 1.0


def _joined(parts: list[tuple[str, int]]) -> tuple[str, list[tuple[int, int]]]:
    """A block's text and where each page's part of it starts."""
    marks: list[tuple[int, int]] = []
    offset = 0
    for text, page in parts:
        lead = len(text) - len(text.lstrip(" "))  # a joining space belongs to the page before
        marks.append((offset + lead, page))
        offset += len(text)
    return "".join(text for text, _ in parts), marks
