"""Stage 1, ingest: read .md/.txt/.html/.pdf files into Documents with plain text and structure.

A Document's `text` is the loader's plain rendering of the file (markup removed, tables rendered one
self-describing record per row). Every citation is a verbatim slice of that text.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from .errors import DocumentError, UnsupportedFileType
from .schema import Block, BlockKind, Document


@dataclass(frozen=True, slots=True)
class Loaded:
    """A document and the warnings raised while reading it (e.g. an encoding fallback)."""

    document: Document
    warnings: tuple[str, ...] = ()


class _TextBuilder:
    """Accumulates blocks into one text, recording each block's exact offsets."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []
        self.section: list[tuple[int, str]] = []  # (heading level, title)
        self._open: list[tuple[int, tuple[int, int]]] = []  # (list depth, span) of what the next list item may sit under

    def add(self, kind: BlockKind, text: str, depth: int = 0) -> None:
        """Append a block; a list item at `depth` (its indentation or nesting) records what it sits under."""
        text = _squash(text)
        if not text:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        self.blocks.append(Block(kind, start, self._length, tuple(t for _, t in self.section), self._under(kind, depth, start, text)))

    def _under(self, kind: BlockKind, depth: int, start: int, text: str) -> tuple[tuple[int, int], ...]:
        if kind != "list_item":  # a paragraph ending in ":" leads in the list after it (its last sentence does)
            lead = start + text.rfind(". ") + 2 if ". " in text else start
            leads_in = kind == "paragraph" and text.endswith(":") and len(text[lead - start :].split()) >= 3  # not "However:"
            self._open = [(-1, (lead, self._length))] if leads_in else []
            return ()
        while self._open and self._open[-1][0] >= depth:
            self._open.pop()
        under = tuple(span for _, span in self._open)
        self._open.append((depth, (start, self._length)))
        return under

    def heading(self, level: int, text: str) -> None:
        self.section = [(lvl, t) for lvl, t in self.section if lvl < level]
        self.section.append((level, _squash(text)))
        self.add("heading", text)

    def table(self, caption: str | None, header: list[str], rows: list[list[str]]) -> None:
        label = _table_label(caption)
        for row in rows:
            cells = [f"{h}: {c}" if h else c for h, c in zip(header, row, strict=False) if c.strip()]
            if cells:
                self.add("table_row", f"{label} — " + "; ".join(cells))

    def last_block_text(self) -> str | None:
        if not self.blocks:
            return None
        block = self.blocks[-1]
        return self.text()[block.start : block.end]

    def text(self) -> str:
        return "".join(self._parts)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _table_label(caption: str | None) -> str:
    match = re.match(r"\s*(Table\s+[\w.]+?)[.:]?(\s|$)", caption or "", re.IGNORECASE)
    return match.group(1) if match else "Table"


# ---------------------------------------------------------------- markdown and plain text

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"^\s*[-*+•]\s+(.*)$")
_NUMBERED = re.compile(r"^\s*(\d+[.)])\s+(.*)$")
_LABEL = re.compile(r"^\*\*(.+?)\*\*\s*")


def _inline(text: str) -> str:
    """Strip inline markdown/HTML, keeping the words a reader sees."""
    label = _LABEL.match(text)
    if label:
        name = label.group(1).strip()
        rest = text[label.end() :]
        sep = " " if re.search(r"[:.?!]$", name) or not rest else ": "
        text = name + sep + rest
    # bounded, bracket-free spans keep these linear on hostile input (a line of 100k "[" took minutes)
    text = re.sub(r"!\[[^\[\]]{0,500}\]\([^()]{0,2000}\)", "", text)
    text = re.sub(r"\[([^\[\]]{1,500})\]\((?:#[^()]{0,2000})\)", r"\1", text)
    text = re.sub(r"\[([^\[\]]{1,500})\]\(((?:[^()]|\([^()]{0,200}\)){1,2000})\)", r"\1 (\2)", text)
    text = re.sub(r"<(https?://[^<>\s]{1,2000})>", r"\1", text)
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"</?[A-Za-z][^<>\n]{0,200}>|<!--.{0,200}?-->", " ", text)  # tags only: "p < 0.05 and age > 65" stays
    return html.unescape(text)


def plain_text(text: str) -> str:
    """One line of markdown/HTML as the plain words a reader sees (used for questions, too)."""
    return _squash(_inline(text))


def _split_row(line: str) -> list[str]:
    line = line.strip().strip("|")
    return [cell.strip() for cell in line.split("|")]


def _parse_markdown(body: str, builder: _TextBuilder) -> None:
    lines = body.splitlines()
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            builder.add("paragraph", _inline(" ".join(paragraph)))
            paragraph.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            flush()
        elif heading := _HEADING.match(stripped):
            flush()
            builder.heading(len(heading.group(1)), _inline(heading.group(2)))
        elif stripped.startswith("|"):
            flush()
            table_lines = []
            while i < len(lines) and lines[i].strip().startswith("|"):
                table_lines.append(lines[i])
                i += 1
            _add_pipe_table(table_lines, builder)
            continue
        elif "\t" in stripped and _is_tab_table(lines, i):
            flush()
            table_lines = []
            while i < len(lines) and "\t" in lines[i]:
                table_lines.append(lines[i])
                i += 1
            _add_tab_table(table_lines, builder)
            continue
        elif bullet := _BULLET.match(line):
            flush()
            builder.add("list_item", _inline(bullet.group(1)), _indent(line))
        elif numbered := _NUMBERED.match(line):
            flush()
            builder.add("list_item", _inline(f"{numbered.group(1)} {numbered.group(2)}"), _indent(line))
        else:
            paragraph.append(stripped)
        i += 1
    flush()


def _indent(line: str) -> int:
    return len(line.expandtabs(4)) - len(line.expandtabs(4).lstrip())


def _caption_for_table(builder: _TextBuilder) -> str | None:
    last = builder.last_block_text()
    if last and re.match(r"Table\s+\w+", last, re.IGNORECASE) and builder.blocks[-1].kind == "paragraph":
        block = builder.blocks[-1]
        builder.blocks[-1] = replace(block, kind="caption")
        return last
    return None


def _add_pipe_table(table_lines: list[str], builder: _TextBuilder) -> None:
    rows = [_split_row(line) for line in table_lines]
    rows = [r for r in rows if not all(re.fullmatch(r":?-{2,}:?", c) or not c for c in r)]
    if not rows:
        return
    header, body = rows[0], rows[1:]
    builder.table(_caption_for_table(builder), [_inline(h) for h in header], [[_inline(c) for c in r] for r in body])


def _is_tab_table(lines: list[str], i: int) -> bool:
    return i + 1 < len(lines) and "\t" in lines[i + 1]


def _add_tab_table(table_lines: list[str], builder: _TextBuilder) -> None:
    rows = [[c.strip() for c in line.split("\t")] for line in table_lines]
    width = max(len(r) for r in rows)
    header = rows[0] + [""] * (width - len(rows[0]))
    builder.table(_caption_for_table(builder), [_inline(h) for h in header], [[_inline(c) for c in r] for r in rows[1:]])


def _front_matter(raw: str, path: Path) -> tuple[dict[str, Any], str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    try:
        meta = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(str(path), f"front matter is not valid YAML ({exc})", "Fix the YAML between the --- lines.") from exc
    if not isinstance(meta, dict):
        raise DocumentError(str(path), "front matter is not a mapping", "Write it as key: value lines.")
    return meta, raw[match.end() :]


def _load_markdown(raw: bytes, path: Path) -> tuple[dict[str, Any], _TextBuilder, list[str]]:
    text, warnings = decode_text(raw, path)
    meta, body = _front_matter(text, path)
    builder = _TextBuilder()
    _parse_markdown(body, builder)
    return meta, builder, warnings


def decode_text(raw: bytes, path: Path) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), else Windows-1252 with a warning; binary data is refused."""
    if b"\x00" in raw[:8192]:
        raise DocumentError(str(path), "looks like binary data (NUL bytes), not text", "Check the file type and extension.")
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), [f"{path}: not UTF-8; decoded as Windows-1252 (check special characters)"]


# ---------------------------------------------------------------- HTML

class _HtmlToBlocks(HTMLParser):
    _SKIP = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg", "form", "button", "select"}
    _BLOCK = {"p", "div", "section", "article", "blockquote", "pre", "dd", "dt", "figcaption", "caption", "br"}

    def __init__(self, builder: _TextBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self.builder = builder
        self.title = ""
        self._buffer: list[str] = []
        self._skip = 0
        self._heading: int | None = None
        self._in_title = False
        self._table: list[list[str]] | None = None
        self._header: list[str] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._row_is_header = False
        self._items = 0  # depth of <li> nesting

    def _flush(self) -> None:
        """The text so far as a block: a list item (at its nesting depth) inside <li>, else a paragraph."""
        text = "".join(self._buffer)
        self._buffer.clear()
        if text.strip():
            self.builder.add("list_item" if self._items else "paragraph", text, self._items - 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self._flush()
            self._heading = int(tag[1])
        elif tag == "li":
            self._flush()
            self._items += 1
        elif tag == "table":
            self._flush()
            self._table, self._header = [], None
        elif tag == "tr" and self._table is not None:
            self._row, self._row_is_header = [], False
        elif tag in {"td", "th"} and self._row is not None:
            self._cell = []
            self._row_is_header = self._row_is_header or tag == "th"
        elif tag in self._BLOCK and self._table is None:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP:
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            text = "".join(self._buffer)
            self._buffer.clear()
            if text.strip():
                self.builder.heading(self._heading, text)
            self._heading = None
        elif tag == "li":
            self._flush()
            self._items = max(0, self._items - 1)
        elif tag in {"td", "th"} and self._cell is not None and self._row is not None:
            self._row.append(_squash("".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            if self._header is None and self._row_is_header:
                self._header = self._row
            else:
                self._table.append(self._row)
            self._row = None
        elif tag == "table" and self._table is not None:
            caption = "".join(self._buffer) or None
            self._buffer.clear()
            header = self._header or [""] * max((len(r) for r in self._table), default=0)
            self.builder.table(caption, header, self._table)
            self._table = None
        elif tag in self._BLOCK and self._table is None:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
        elif self._cell is not None:
            self._cell.append(data)
        else:
            self._buffer.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def _load_html(raw: bytes, path: Path) -> tuple[dict[str, Any], _TextBuilder, list[str]]:
    text, warnings = decode_text(raw, path)
    builder = _TextBuilder()
    parser = _HtmlToBlocks(builder)
    parser.feed(text)
    parser.close()
    meta = {"title": _squash(parser.title)} if parser.title.strip() else {}
    return meta, builder, warnings


# ---------------------------------------------------------------- PDF

def _load_pdf(raw: bytes, path: Path) -> tuple[dict[str, Any], _TextBuilder, list[str]]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(str(path), "the PDF is encrypted", "Save an unencrypted copy and ingest that.")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(str(path), f"the PDF could not be read ({exc})", "Re-export the PDF or ingest a text version.") from exc
    except Exception as exc:  # pypdf raises many types on broken files  # noqa: BLE001
        raise DocumentError(str(path), f"the PDF is malformed ({type(exc).__name__}: {exc})", "Re-export the PDF or ingest a text version.") from exc
    if not any(p.strip() for p in pages):
        raise DocumentError(str(path), "the PDF has no text layer (a scanned image?)", "Run OCR on it first (e.g. ocrmypdf) and ingest the result.")
    builder = _TextBuilder()
    for paragraph in _pdf_paragraphs(pages):
        builder.add("paragraph", paragraph)
    title = str(info.get("/Title") or "").strip()
    return ({"title": title} if title else {}), builder, []


def _pdf_paragraphs(pages: list[str]) -> Iterator[str]:
    """Join wrapped lines into paragraphs; a short line ending a sentence closes a paragraph."""
    lines = [line.rstrip() for page in pages for line in page.splitlines()]
    width = max((len(line) for line in lines), default=0)
    current: list[str] = []
    for line in lines:
        if not line.strip():
            if current:
                yield " ".join(current)
                current = []
            continue
        if current and current[-1].endswith("-") and line[:1].islower():
            current[-1] = current[-1][:-1] + line.strip()
        else:
            current.append(line.strip())
        if re.search(r"[.:?!]$", line) and len(line) < 0.75 * width:
            yield " ".join(current)
            current = []
    if current:
        yield " ".join(current)


# ---------------------------------------------------------------- registry and entry point

Loader = Callable[[bytes, Path], tuple[dict[str, Any], _TextBuilder, list[str]]]
LOADERS: dict[str, Loader] = {
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".txt": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
}


def slugify(name: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.")
    return slug[:120] or "document"


def check_file(path: Path, max_mb: float) -> Loader:
    """The loader for a file, after checking its type and size without reading it."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise UnsupportedFileType(
            str(path),
            f"unsupported file type '{path.suffix or '(none)'}'",
            f"Convert it to one of: {', '.join(sorted(LOADERS))}.",
        )
    size = path.stat().st_size
    if size == 0:
        raise DocumentError(str(path), "the file is empty", "Add content or remove the file.")
    if size > max_mb * 1024 * 1024:
        raise DocumentError(
            str(path),
            f"the file is {size / 1024**2:.0f} MB, over the {max_mb:g} MB limit",
            "Split it, or raise max_file_mb in Settings.",
        )
    return loader


def load_document(path: Path, max_mb: float = 50.0) -> Loaded:
    """Read one file into a Document, or raise DocumentError saying what to do."""
    loader = check_file(path, max_mb)
    raw = path.read_bytes()
    meta, builder, warnings = loader(raw, path)
    text = builder.text()
    if not text.strip():
        raise DocumentError(str(path), "no readable text was found", "Check that the file has text content.")
    first_heading = next((text[b.start : b.end] for b in builder.blocks if b.kind == "heading"), None)
    title = str(meta.get("title") or first_heading or path.stem)
    document = Document(
        doc_id=slugify(str(meta.get("id") or path.stem)),
        title=title,
        text=text,
        blocks=tuple(builder.blocks),
        meta=_jsonable(meta),
        source_path=str(path),
        checksum=hashlib.sha256(raw).hexdigest(),
    )
    return Loaded(document, tuple(warnings))


def _jsonable(meta: dict[str, Any]) -> dict[str, Any]:
    """Front matter values as JSON-safe types (YAML dates become ISO strings)."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if isinstance(value, list):
            out[str(key)] = [v if isinstance(v, (str, int, float, bool)) or v is None else str(v) for v in value]
        elif isinstance(value, (str, int, float, bool)) or value is None:
            out[str(key)] = value
        else:
            out[str(key)] = str(value)
    return out


def discover(paths: list[Path]) -> tuple[list[Path], list[DocumentError]]:
    """Every file under the given files/folders, sorted (hidden files skipped), and an error per missing path."""
    found: list[Path] = []
    missing: list[DocumentError] = []
    for path in paths:
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*")) if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts))
        elif path.exists():
            found.append(path)
        else:
            missing.append(DocumentError(str(path), "no such file or folder", "Check the path."))
    return found, missing
