"""Markdown (and plain text) through markdown-it-py: CommonMark blocks, GFM tables, front matter, footnotes.

The parser finds the structure (setext headings, list items with continuation lines, block quotes, reference
links); the text of each block is what a reader sees when the markdown is rendered, and goes to the TextBuilder.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from ...errors import DocumentError
from .builder import TextBuilder, decode_text, squash
from .html import html_into

FOOTNOTES = "Footnotes"  # the section footnote texts are filed under (rendered markdown shows them after a rule)


@cache
def _parser(plain: bool = False) -> MarkdownIt:
    """The markdown parser; `plain` (for .txt) leaves asterisks, underscores and tildes as they are: in plain text
    "HLA-DRB1*0401 … DQB1*0302" is two allele names, not emphasis."""
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser = parser.use(front_matter_plugin).use(footnote_plugin)
    parser.validateLink = lambda url: True  # we extract text, never render links: any scheme is a link (see _inline_parts)
    return parser.disable(["emphasis", "strikethrough"]) if plain else parser


def load_markdown(raw: bytes, path: Path) -> tuple[dict[str, Any], TextBuilder, list[str]]:
    text, warnings = decode_text(raw, path)
    builder = TextBuilder()
    meta = _Walker(builder, text.splitlines()).walk(_parser().parse(text), path)
    return meta, builder, warnings


def load_plain_text(raw: bytes, path: Path) -> tuple[dict[str, Any], TextBuilder, list[str]]:
    """A .txt file read as markdown whose indentation means nothing to the parser (in plain text an indented line
    is not code, and "    - item" is still a list item); list items still sit under what they are indented under."""
    text, warnings = decode_text(raw, path)
    lines = text.splitlines()
    builder = TextBuilder()
    meta = _Walker(builder, lines).walk(_parser(plain=True).parse("\n".join(line.lstrip() for line in lines)), path)
    return meta, builder, warnings


def plain_text(text: str) -> str:
    """One line of markdown/HTML as the plain words a reader sees (used for questions, too)."""
    return squash("".join(_inline_parts(_parser().parseInline(text)[0].children or [])))


class _Walker:
    """Turns the token stream into builder blocks."""

    def __init__(self, builder: TextBuilder, lines: list[str]) -> None:
        self.builder = builder
        self.lines = lines
        self.items: list[tuple[int, str]] = []  # open list items: (source indent, the number to show or "")
        self.first_paragraph = False  # the next paragraph is its list item's first (it shows the number)
        self.table: list[list[str]] | None = None
        self.header: list[str] | None = None
        self.footnote: int | None = None  # the number of the footnote being read

    def walk(self, tokens: list[Token], path: Path) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        for i, token in enumerate(tokens):
            kind = token.type
            if kind == "front_matter":
                meta = _front_matter(token.content, path)
            elif kind == "heading_open":
                self.builder.heading(int(token.tag[1]), self._text(tokens[i + 1]))
            elif kind == "paragraph_open":
                self._paragraph(token, tokens[i + 1])
            elif kind == "list_item_open":
                number = f"{token.info}{token.markup} " if token.info else ""
                self.items.append((self._indent(token), number))
                self.first_paragraph = True
            elif kind == "list_item_close":
                self.items.pop()
            elif kind in ("code_block", "fence"):
                self._add("paragraph", token.content)
            elif kind == "html_block":
                html_into(self.builder, token.content, page=False)
            elif kind == "table_open":
                self.table, self.header = [], None
            elif kind == "tr_open" and self.table is not None:
                self.table.append([])
            elif kind == "inline" and self.table is not None and tokens[i - 1].type in ("th_open", "td_open"):
                self.table[-1].append(self._text(token))
            elif kind == "thead_close" and self.table:
                self.header = self.table.pop()
            elif kind == "table_close" and self.table is not None:
                width = max((len(r) for r in self.table), default=0)
                self.builder.table(self.builder.take_caption(), self.header or [""] * width, self.table)
                self.table = None
            elif kind == "footnote_open":
                self.footnote = int(token.meta["id"]) + 1
                self.builder.section = [(1, FOOTNOTES)]
        return meta

    def _paragraph(self, token: Token, inline: Token) -> None:
        if self.table is not None:
            return
        lines = [line.strip() for line in self.lines[token.map[0] : token.map[1]]] if token.map else []
        if len(lines) > 1 and all("\t" in line for line in lines):
            self._tab_table(lines)
            return
        if self.footnote is not None:
            self._add("list_item", f"{self.footnote}. " + self._text(inline))
            self.footnote = None
        elif self.items:
            indent, number = self.items[-1]
            self._add("list_item", (number if self.first_paragraph else "") + self._text(inline), indent)
            self.first_paragraph = False
        else:
            self._add("paragraph", self._text(inline))

    def _add(self, kind: str, text: str, depth: int = 0) -> None:
        self.builder.add(kind, text, depth)  # type: ignore[arg-type]

    def _tab_table(self, lines: list[str]) -> None:
        """Lines of tab-separated cells (pasted from a spreadsheet): a table whose first line is the header."""
        rows = [[plain_text(c) for c in line.split("\t")] for line in lines]
        width = max(len(r) for r in rows)
        self.builder.table(self.builder.take_caption(), rows[0] + [""] * (width - len(rows[0])), rows[1:])

    def _indent(self, token: Token) -> int:
        """The column of a list item's marker in the source: what it sits under follows the author's indentation,
        also where CommonMark would not nest it ("1. Optimize:" then "  - Ensure dosing")."""
        if not token.map:
            return 0
        line = self.lines[token.map[0]].expandtabs(4)
        return len(line) - len(line.lstrip(" >"))

    def _text(self, inline: Token) -> str:
        """A block's words; a leading bold label reads as one ("**Objectives** To evaluate" → "Objectives: To evaluate")."""
        children = [c for c in inline.children or [] if c.type != "text" or c.content]
        close = next((n for n, c in enumerate(children) if c.type == "strong_close"), None)
        if children and children[0].type == "strong_open" and close is not None and close < len(children) - 1:
            return _labelled(squash("".join(_inline_parts(children[1:close]))), "".join(_inline_parts(children[close + 1 :])))
        return "".join(_inline_parts(children))


def _labelled(name: str, rest: str) -> str:
    """A bold label and what follows it: a colon added unless punctuation already separates them."""
    rest = rest.lstrip()
    if rest.startswith((":", ".", ",", ";", ")")):
        return name + rest
    if name.endswith((":", ".", "?", "!")):
        return f"{name} {rest}"
    return f"{name}: {rest}"


_SHOWN_LINK = re.compile(r"(?:https?|ftp)://|mailto:", re.IGNORECASE)  # other targets (anchors, javascript:) add nothing


def _inline_parts(children: list[Token]) -> list[str]:
    """The words of inline tokens: emphasis and code marks dropped, web links as 'text (url)' (other links, and
    autolinks, as their text), images and footnote markers dropped, raw HTML tags dropped."""
    parts: list[str] = []
    links: list[tuple[str, int]] = []  # (href to show after the link text, where the link text starts)
    for child in children:
        kind = child.type
        if kind in ("text", "code_inline"):
            parts.append(child.content)
        elif kind in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            shown = href if child.markup != "autolink" and _SHOWN_LINK.match(href) else ""
            links.append((shown, len(parts)))
        elif kind == "link_close" and links:
            href, first = links.pop()
            if href and "".join(parts[first:]).strip() != href:
                parts.append(f" ({href})")
        elif kind == "html_inline" and child.content.lower().startswith("<br"):
            parts.append(" ")
    return parts


def _front_matter(content: str, path: Path) -> dict[str, Any]:
    try:
        meta = yaml.safe_load(content) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(str(path), f"front matter is not valid YAML ({exc})", "Fix the YAML between the --- lines.") from exc
    if not isinstance(meta, dict):
        raise DocumentError(str(path), "front matter is not a mapping", "Write it as key: value lines.")
    return meta
