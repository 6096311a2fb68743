"""The original files of indexed documents, served by document id (never by path): a file is served only while its
document is in the live index, it lies inside the corpus folder (symlinks resolved, no hidden folders) and it still
holds the bytes that were indexed. Nothing else under the corpus folder is reachable."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import NotFound
from ..index.load import Index
from ..schema import Document

INLINE_TYPES = {".pdf": "application/pdf"}  # opened in the browser (at a page: #page=N); other formats are downloaded


@dataclass(frozen=True, slots=True)
class OriginalFile:
    """An indexed document's file as read for one response: its bytes were checked against the index."""

    name: str
    data: bytes
    media_type: str
    inline: bool


def in_corpus(document: Document, corpus_dir: Path) -> Path | None:
    """The document's file, resolved, if it lies inside the corpus folder and outside its hidden folders."""
    corpus = corpus_dir.resolve()
    path = Path(document.source_path).resolve()
    if not path.is_relative_to(corpus) or any(part.startswith(".") for part in path.relative_to(corpus).parts):
        return None
    return path


def original_file(index: Index, doc_id: str, corpus_dir: Path) -> OriginalFile:
    """The original file of `doc_id` (see the module docstring); NotFound otherwise, without saying what is on disk."""
    document = index.documents.get(doc_id)
    if document is None:
        raise NotFound(f"No indexed document with id {doc_id!r}. Run `assistant docs list` for the ids.")
    unavailable = NotFound(f"The original file of {doc_id!r} is not available; its indexed text is (POST /v1/search).")
    path = in_corpus(document, corpus_dir)
    if path is None:
        raise unavailable
    try:
        data = path.read_bytes()  # read once: the bytes checked are the bytes served
    except OSError:
        raise unavailable from None
    if hashlib.sha256(data).hexdigest() != document.checksum:
        raise unavailable  # changed or replaced since it was indexed
    suffix = path.suffix.lower()
    media_type = INLINE_TYPES.get(suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return OriginalFile(path.name, data, media_type, suffix in INLINE_TYPES)


def file_url(doc_id: str) -> str:
    """Where the server serves a document's original file (a PDF opens at page N with `#page=N` appended)."""
    return f"/v1/documents/{quote(doc_id, safe='')}/file"


def pdf_url(document: Document, corpus_dir: Path) -> str | None:
    """Where the page links a cited PDF (opened at the cited page); None for other formats and files outside the corpus."""
    path = in_corpus(document, corpus_dir)
    return file_url(document.doc_id) if path is not None and path.suffix.lower() in INLINE_TYPES else None
