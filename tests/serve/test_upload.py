"""Saving uploaded documents into the corpus (assistant/serve/upload.py) and indexing them incrementally."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant import Assistant, Settings
from assistant.documents.ingest import load_document
from assistant.errors import DocumentError, UnsupportedFileType
from assistant.serve.upload import add_to_library, safe_filename, save_upload

NOTE = "# Zorblax for hiccups\n\nZorblax stopped chronic hiccups in 7 of 9 patients within two days.\n"


@pytest.fixture()
def settings(tmp_path: Path) -> Settings:
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "idx")


def upload(tmp_path: Path, name: str, content: str | bytes) -> Path:
    """A file as the browser hands it over: in a temporary folder, under its original name."""
    folder = tmp_path / "incoming"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\evil.TXT", "evil.txt"),
        (".hidden.md", "hidden.md"),
        ("My paper (2024).PDF", "My-paper-2024.pdf"),
        ("<script>.html", "script.html"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


@given(st.text(min_size=1, max_size=80))
def test_safe_filename_never_leaves_the_folder(name: str) -> None:
    safe = safe_filename(name)
    assert safe and "/" not in safe and "\\" not in safe and not safe.startswith(".")
    corpus = Path("/corpus")
    assert (corpus / safe).resolve().parent == corpus


def test_saves_a_readable_document_under_its_safe_name(tmp_path: Path, settings: Settings) -> None:
    saved, new = save_upload(upload(tmp_path, "Zorblax note.md", NOTE), "Zorblax note.md", settings, {})
    assert new and saved == (settings.corpus_dir / "Zorblax-note.md").resolve()
    assert saved.read_text() == NOTE


def test_indexed_bytes_are_not_added_again_under_any_name(tmp_path: Path, settings: Settings) -> None:
    first, _ = save_upload(upload(tmp_path, "note.md", NOTE), "note.md", settings, {})
    indexed = load_document(first).document
    again, fresh = save_upload(upload(tmp_path, "same note.md", NOTE), "same note.md", settings, {indexed.doc_id: indexed})
    assert again == first and not fresh
    assert sorted(p.name for p in settings.corpus_dir.iterdir()) == ["note.md"]


def test_refuses_to_overwrite_a_different_document(tmp_path: Path, settings: Settings) -> None:
    save_upload(upload(tmp_path, "note.md", NOTE), "note.md", settings, {})
    with pytest.raises(DocumentError, match="already in the library"):
        save_upload(upload(tmp_path, "note.md", NOTE + "More.\n"), "note.md", settings, {})


def test_refuses_a_document_id_already_indexed(tmp_path: Path, settings: Settings) -> None:
    existing = load_document(upload(tmp_path, "note.md", NOTE)).document
    source = upload(tmp_path, "other.md", f'---\nid: "{existing.doc_id}"\n---\n{NOTE}Another line.\n')
    with pytest.raises(DocumentError, match=f"'{existing.doc_id}' is already used by note.md"):
        save_upload(source, "other.md", settings, {existing.doc_id: existing})
    assert not (settings.corpus_dir / "other.md").exists()


@pytest.mark.parametrize(
    ("name", "content", "error", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", UnsupportedFileType, "unsupported file type '.exe'"),
        ("empty.md", b"", DocumentError, "the file is empty"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", DocumentError, "broken.pdf"),
    ],
)
def test_bad_files_are_refused_with_their_own_name(tmp_path, settings, name, content, error, message) -> None:
    with pytest.raises(error, match=message) as caught:
        save_upload(upload(tmp_path, name, content), name, settings, {})
    assert str(caught.value).startswith(name)
    assert not settings.corpus_dir.exists() or not any(settings.corpus_dir.iterdir())


def test_oversize_file_is_refused(tmp_path: Path) -> None:
    small = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "idx", max_file_mb=0.0001)
    with pytest.raises(DocumentError, match="over the 0.0001 MB limit"):
        save_upload(upload(tmp_path, "big.md", NOTE * 10), "big.md", small, {})


def test_adding_uploads_indexes_them_and_keeps_the_rest(tmp_path: Path, embedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "quixotinib.md").write_text("# Quixotinib\n\nQuixotinib caused mild headache in 4 of 12 patients.\n")
    a = Assistant.build(corpus, tmp_path / "idx", Settings(corpus_dir=corpus, index_dir=tmp_path / "idx"), embedder=embedder)
    good, bad = upload(tmp_path, "zorblax.md", NOTE), upload(tmp_path, "notes.odt", b"PK")
    added = add_to_library(a, [good, bad])
    lines = added.lines
    assert lines[0] == "✓ Added Zorblax for hiccups" and added.doc_ids == ["zorblax"]
    assert lines[1].startswith("✗ notes.odt: unsupported file type '.odt'")
    assert set(a.index.documents) == {"quixotinib", "zorblax"}
    assert a.index.documents["zorblax"].source_path == str(corpus / "zorblax.md")
    assert a.search("zorblax hiccups", k=1)[0].doc_id == "zorblax"
    assert a.search("quixotinib headache", k=1)[0].doc_id == "quixotinib"
    again = add_to_library(a, [good])
    assert again.lines == ["• zorblax.md is already in the library (zorblax.md)."]
    assert again.doc_ids == ["zorblax"], "an upload already in the library is still the document a scope can choose"
