"""TextBuilder: blocks accumulated into one plain text, each with its exact [start, end) offsets; text decoding."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ...errors import DocumentError
from ...schema import Block, BlockKind


class TextBuilder:
    """Accumulates blocks into one text, recording each block's exact offsets (and pages, for paged formats)."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0
        self.blocks: list[Block] = []
        self.pages: list[tuple[int, int]] = []  # (offset, page number): text from offset on comes from that page
        self.section: list[tuple[int, str]] = []  # (heading level, title)
        self._open: list[tuple[int, tuple[int, int]]] = []  # (list depth, span) of what the next list item may sit under

    def add(self, kind: BlockKind, text: str, depth: int = 0, pages: Sequence[tuple[int, int]] = ()) -> None:
        """Append a block; a list item at `depth` (its indentation or nesting) records what it sits under.

        `pages` marks where each page's text starts, as (offset into `text`, page number); `text` must then be
        squashed already (single spaces, no outer space) so that the offsets stay exact.
        """
        squashed = squash(text)
        if pages and squashed != text:
            raise ValueError("text with page marks must be squashed by the loader, or the marks would shift")
        if not squashed:
            return
        if self._parts:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(squashed)
        self._length += len(squashed)
        for offset, page in pages:
            if not self.pages or self.pages[-1][1] != page:
                self.pages.append((start + offset, page))
        self.blocks.append(Block(kind, start, self._length, tuple(t for _, t in self.section), self._under(kind, depth, start, squashed)))

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

    def heading(self, level: int, text: str, pages: Sequence[tuple[int, int]] = ()) -> None:
        self.section = [(lvl, t) for lvl, t in self.section if lvl < level]
        self.section.append((level, squash(text)))
        self.add("heading", text, pages=pages)

    def table(self, caption: str | None, header: list[str], rows: list[list[str]]) -> None:
        """One self-describing block per row: "Table 2 — Dose: 15 mg; Weeks: 12"."""
        label = _table_label(caption)
        for row in rows:
            cells = [f"{h}: {c}" if h else c for h, c in zip(header, row, strict=False) if c.strip()]
            if cells:
                self.add("table_row", f"{label} — " + "; ".join(cells))

    def take_caption(self) -> str | None:
        """The paragraph just added, when it names a table ("Table 2. Doses"): it becomes the table's caption."""
        if not self.blocks or self.blocks[-1].kind != "paragraph":
            return None
        block = self.blocks[-1]
        text = self.text()[block.start : block.end]
        if not re.match(r"Table\s+\w+", text, re.IGNORECASE):
            return None
        self.blocks[-1] = replace(block, kind="caption")
        return text

    def text(self) -> str:
        return "".join(self._parts)


def squash(text: str) -> str:
    """Runs of whitespace as one space, none at the ends."""
    return re.sub(r"\s+", " ", text).strip()


def decode_text(raw: bytes, path: Path) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM), else Windows-1252 with a warning; binary data is refused."""
    if b"\x00" in raw[:8192]:
        raise DocumentError(str(path), "looks like binary data (NUL bytes), not text", "Check the file type and extension.")
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), [f"{path}: not UTF-8; decoded as Windows-1252 (check special characters)"]


def _table_label(caption: str | None) -> str:
    match = re.match(r"\s*(Table\s+[\w.]+?)[.:]?(\s|$)", caption or "", re.IGNORECASE)
    return match.group(1) if match else "Table"
