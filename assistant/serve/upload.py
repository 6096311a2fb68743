"""Documents added from outside (the browser): checked, given a safe name, saved into the corpus, then indexed."""

from __future__ import annotations

import filecmp
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..documents.ingest import LOADERS, load_document, slugify
from ..errors import DocumentError, UnsupportedFileType
from ..index.prepare import Progress
from ..schema import Document
from ..settings import Settings

if TYPE_CHECKING:
    from ..api import Assistant


def safe_filename(name: str) -> str:
    """A plain file name for the corpus: no folders, no leading dots, only letters, digits, '.', '_' and '-'."""
    base = Path(name.replace("\\", "/")).name
    suffix = re.sub(r"[^a-z0-9.]", "", Path(base).suffix.lower())
    stem = slugify(base[: len(base) - len(suffix)] if suffix else base)
    return f"{stem}{suffix}"


def save_upload(source: Path, name: str, settings: Settings, indexed: Mapping[str, Document]) -> tuple[Path, bool]:
    """Check one uploaded file and copy it into settings.corpus_dir; returns (its path there, whether to index it).

    A file whose bytes are already indexed is not copied again. Raises DocumentError (naming the file as
    uploaded) for a wrong type, an oversize or unreadable file, or a name or id another document already uses.
    """
    filename = safe_filename(name)
    corpus = settings.corpus_dir.resolve()
    target = (corpus / filename).resolve()
    if target.parent != corpus:
        raise DocumentError(name, "the file name is not usable", "Rename the file with letters and digits only.")
    if Path(filename).suffix not in LOADERS:
        raise UnsupportedFileType(
            name, f"unsupported file type '{Path(filename).suffix or '(none)'}'", f"Upload one of: {', '.join(sorted(LOADERS))}."
        )
    document = _check_readable(source, filename, name, settings)
    twin = next((d for d in indexed.values() if d.checksum == document.checksum), None)
    if twin is not None:
        return Path(twin.source_path), False
    if target.exists():
        if filecmp.cmp(source, target, shallow=False):
            return target, True
        raise DocumentError(
            name, f"a different document named {filename} is already in the library",
            f"Rename your file to add it alongside, or replace {target} and run `assistant ingest`.",
        )
    owner = indexed.get(document.doc_id)
    if owner is not None:
        raise DocumentError(
            name, f"its document id '{document.doc_id}' is already used by {Path(owner.source_path).name}",
            "Rename the file, or give it another `id:` in its front matter.",
        )
    corpus.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target, True


def _check_readable(source: Path, filename: str, name: str, settings: Settings) -> Document:
    """Load the file under its safe name, as the indexer will; DocumentError messages name the upload."""
    with tempfile.TemporaryDirectory() as staging:
        staged = Path(staging) / filename
        staged.symlink_to(Path(source).resolve())  # read in place: an oversize file is refused before any copy
        try:
            return load_document(staged, settings.max_file_mb).document
        except DocumentError as exc:
            raise type(exc)(name, exc.problem, exc.fix) from exc


@dataclass(frozen=True, slots=True)
class Added:
    """What adding uploads did: one line per outcome, and the ids of the documents the uploads are now (added, updated,
    or already in the library), so that a conversation can be limited to them."""

    lines: list[str]
    doc_ids: list[str]


def add_to_library(assistant: Assistant, uploads: list[Path], progress: Progress | None = None) -> Added:
    """Save each upload (named by its file name) into the corpus and index the new ones."""
    saved: list[Path] = []
    other: list[str] = []
    present: list[str] = []
    for upload in uploads:
        try:
            path, fresh = save_upload(upload, upload.name, assistant.settings, assistant.index.documents)
        except DocumentError as exc:
            other.append(f"✗ {exc}")
            continue
        if fresh:
            saved.append(path)
        else:
            other.append(f"• {upload.name} is already in the library ({path.name}).")
            present += [d.doc_id for d in assistant.index.documents.values() if Path(d.source_path) == path]
    if not saved:
        return Added(other, present)
    report = assistant.ingest(saved, progress=progress)
    added = [f"✓ Added {assistant.index.documents[doc_id].title}" for doc_id in report.added + report.updated]
    lines = added + [f"✗ {e}" for e in report.errors] + [f"⚠ {w}" for w in report.warnings] + other
    return Added(lines, report.added + report.updated + present)
