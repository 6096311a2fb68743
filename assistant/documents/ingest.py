"""Stage 1, ingest: read .md/.txt/.html/.docx/.pdf files into Documents with plain text and structure.

A Document's `text` is the loader's plain rendering of the file (markup removed, tables rendered one
self-describing record per row); for a PDF, `pages` says which page each character came from. Every citation is
a verbatim slice of that text. The loaders, one per format, live in `formats/`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from ..errors import DocumentError, UnsupportedFileType
from ..schema import Document
from .formats.builder import TextBuilder


@dataclass(frozen=True, slots=True)
class Loaded:
    """A document and the warnings raised while reading it (e.g. an encoding fallback)."""

    document: Document
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------- registry and entry point

Loader = Callable[[bytes, Path], tuple[dict[str, Any], TextBuilder, list[str]]]


def _loader(module: str, name: str) -> Loader:
    """formats.<module>.<name>, imported on first use: loading an index or answering needs none of the parsing
    libraries (importing them all took 0.6 s of every cold start)."""

    def load(raw: bytes, path: Path) -> tuple[dict[str, Any], TextBuilder, list[str]]:
        return getattr(import_module(f".formats.{module}", __package__), name)(raw, path)  # type: ignore[no-any-return]

    return load


LOADERS: dict[str, Loader] = {
    ".md": _loader("markdown", "load_markdown"),
    ".markdown": _loader("markdown", "load_markdown"),
    ".txt": _loader("markdown", "load_plain_text"),
    ".html": _loader("html", "load_html"),
    ".htm": _loader("html", "load_html"),
    ".docx": _loader("docx", "load_docx"),
    ".pdf": _loader("pdf", "load_pdf"),
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
        pages=tuple(builder.pages),
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
