"""HTML through selectolax (the Lexbor HTML5 parser), with the page's boilerplate left out.

Boilerplate removal in the manner of trafilatura: the article (or <main>) is kept when the page marks one, so an
article's own <header> and its <h1> stay; page navigation, asides, forms, hidden elements and anything whose
class or id says advert, cookie banner, share bar, newsletter or related links are dropped. Tables become one
self-describing row per block, their column names taken from <thead> (or a leading row of <th> cells).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from .builder import TextBuilder, decode_text, squash

_DROP = "script, style, noscript, template, svg, math, form, button, select, nav, aside, iframe, object, dialog, [hidden]"
_DROP_ON_PAGE = "header, footer"  # page chrome: dropped unless inside the article
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:cookies?|consent|gdpr|adverts?|advertisement|ads?|adsense|sponsored|promo|newsletter|subscribe|"
    r"share|sharing|social|related|breadcrumbs?|sidebar|popup|modal|comments?|skip-link|sr-only|visually-hidden)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK = {
    "p", "div", "section", "article", "main", "header", "footer", "blockquote", "pre", "dd", "dt", "dl", "figcaption",
    "figure", "ul", "ol", "address", "details", "summary", "hr", "fieldset", "center", "body",
}
_HEADING = {f"h{n}": n for n in range(1, 7)}


def load_html(raw: bytes, path: Path) -> tuple[dict[str, Any], TextBuilder, list[str]]:
    text, warnings = decode_text(raw, path)
    builder = TextBuilder()
    title = html_into(builder, text, page=True)
    return ({"title": title} if title else {}), builder, warnings


def html_into(builder: TextBuilder, text: str, *, page: bool) -> str:
    """Add the blocks of an HTML page (or, with page=False, a fragment such as a markdown HTML block) to `builder`;
    returns the page's <title>."""
    tree = LexborHTMLParser(text)
    title_node = tree.css_first("title")
    title = squash(title_node.text()) if title_node else ""
    root = _content_root(tree) if page else tree.body
    if root is None:
        return title
    _remove(root.css(_DROP))
    if page and root.tag == "body":
        _remove(root.css(_DROP_ON_PAGE))
    _remove([node for node in root.css("[class], [id], [aria-hidden]") if _is_boilerplate(node)])
    _Blocks(builder).walk(root)
    return title


def _content_root(tree: LexborHTMLParser) -> LexborNode | None:
    """The page's one <article> (unless it is a small part of the page: a teaser), else its <main>, else the body."""
    main = tree.css_first("main, [role=main]") or tree.body
    articles = tree.css("article")
    if len(articles) == 1 and main is not None and 2 * len(articles[0].text()) >= len(main.text()):
        return articles[0]
    return main


def _remove(nodes: list[LexborNode]) -> None:
    """Remove nodes (in document order) with their content: the last first, so that a node inside another one is
    gone before its ancestor is (no node is touched after it was freed, and the work stays linear)."""
    for node in reversed(nodes):
        node.decompose()


def _is_boilerplate(node: LexborNode) -> bool:
    attrs = node.attributes
    if attrs.get("aria-hidden") == "true":
        return True
    return any(_BOILERPLATE.search(attrs.get(name) or "") for name in ("class", "id"))


class _Blocks:
    """Walks an element tree into builder blocks: headings, paragraphs, list items at their nesting depth, tables."""

    def __init__(self, builder: TextBuilder) -> None:
        self.builder = builder
        self.buffer: list[str] = []
        self.items = 0  # depth of <li> nesting

    def walk(self, root: LexborNode) -> None:
        for node, entering in _events(root):
            tag = node.tag
            if tag == "-text":
                self.buffer.append(node.text_content or "")
            elif tag == "br":
                self.buffer.append(" ")
            elif tag in _HEADING and entering:
                self.flush()
            elif tag in _HEADING:  # the heading's text is what was gathered since it opened
                text, self.buffer = "".join(self.buffer), []
                self.builder.heading(_HEADING[tag], text)
            elif tag == "li":
                self.flush()
                self.items += 1 if entering else -1
            elif tag == "table" and entering:
                self.flush()
                self.table(node)
            elif tag in _BLOCK:
                self.flush()
        self.flush()

    def flush(self) -> None:
        """The text so far as a block: a list item (at its nesting depth) inside <li>, else a paragraph."""
        text, self.buffer = "".join(self.buffer), []
        self.builder.add("list_item" if self.items else "paragraph", text, self.items - 1)

    def table(self, table: LexborNode) -> None:
        rows = [tr for tr in table.css("tr") if _owner_table(tr) == table.mem_id]
        header_rows = [tr for tr in rows if tr.parent is not None and tr.parent.tag == "thead"]
        if not header_rows:  # no <thead>: leading rows of <th> cells only
            for tr in rows:
                if not _cells(tr) or any(cell.tag != "th" for cell in _cells(tr)):
                    break
                header_rows.append(tr)
        body = [_row_text(tr) for tr in rows if tr not in header_rows]
        heads = [_row_text(tr) for tr in header_rows]
        width = max((len(r) for r in body + heads), default=0)
        header = [" ".join(dict.fromkeys(h[i] for h in heads if i < len(h) and h[i])) for i in range(width)]
        caption_node = table.css_first("caption")
        if caption_node is not None:
            caption = _text_of(caption_node)
            self.builder.add("caption", caption)
        else:
            caption = self.builder.take_caption()
        self.builder.table(caption, header, body)


def _events(root: LexborNode) -> Iterator[tuple[LexborNode, bool]]:
    """(node, True) on entering each node under root and (node, False) on leaving it; tables are entered only
    (their rows are read as a whole). Iterative, so deeply nested markup cannot exhaust the stack."""
    stack: list[tuple[LexborNode, bool]] = [(child, True) for child in reversed(list(root.iter(include_text=True)))]
    while stack:
        node, entering = stack.pop()
        yield node, entering
        if entering and node.tag not in ("-text", "table") and node.is_element_node:
            stack.append((node, False))
            stack.extend((child, True) for child in reversed(list(node.iter(include_text=True))))


def _owner_table(node: LexborNode) -> int | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent.mem_id if parent is not None else None


def _cells(tr: LexborNode) -> list[LexborNode]:
    return [cell for cell in tr.iter() if cell.tag in ("td", "th")]


def _row_text(tr: LexborNode) -> list[str]:
    """A row's cell texts, a cell spanning n columns repeated n times so the columns line up with the header."""
    out: list[str] = []
    for cell in _cells(tr):
        span = cell.attributes.get("colspan") or "1"
        out.extend([_text_of(cell)] * (min(int(span), 50) if span.isdigit() and int(span) > 0 else 1))
    return out


def _text_of(node: LexborNode) -> str:
    """The words of an element, with a space where its block elements or line breaks separate them."""
    parts: list[str] = []
    for child, _ in _events(node):
        if child.tag == "-text":
            parts.append(child.text_content or "")
        elif child.tag == "br" or child.tag in _BLOCK or child.tag == "li":
            parts.append(" ")
    return squash("".join(parts))
