"""Documents added from outside (the browser): checked, given a safe name, and saved into the corpus folder."""

from __future__ import annotations

import filecmp
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from .errors import DocumentError, UnsupportedFileType
from .ingest import LOADERS, load_document, slugify
from .schema import Document
from .settings import Settings


def safe_filename(name: str) -> str:
    """A plain file name for the corpus: no folders, no leading dots, only letters, digits, '.', '_' and '-'."""
    base = Path(name.replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    stem = slugify(base[: len(base) - len(suffix)] if suffix else base)
    return f"{stem}{suffix}"


def save_upload(source: Path, name: str, settings: Settings, indexed: Mapping[str, Document]) -> tuple[Path, bool]:
    """Check one uploaded file and copy it into settings.corpus_dir; returns (saved path, whether it is new).

    Raises DocumentError (naming the file as uploaded) for a wrong type, an oversize or unreadable file, or a
    name or document id that another document already uses.
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
    if target.exists():
        if filecmp.cmp(source, target, shallow=False):
            return target, False
        raise DocumentError(
            name, f"a different document named {filename} is already in the library",
            f"Rename your file to add it alongside, or replace {target} and run `assistant ingest`.",
        )
    document = _check_readable(source, filename, name, settings)
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
