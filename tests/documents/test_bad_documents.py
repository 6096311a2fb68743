"""Bad documents: each gets a clear per-file error or warning, the other files still go in, and the index
is never left half-written."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from checks import assert_verbatim
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter
from samples import CORPUS, SEED_QUESTION, protocol_docx

from assistant import (
    Assistant,
    AssistantError,
    DocumentError,
    HashingEmbedder,
    IngestReport,
    Settings,
)
from assistant.documents.ingest import load_document
from assistant.index.build import build_index
from assistant.index.load import current_version, load_index

GOOD_TEXT = (
    "# Tofacitinib in juvenile dermatomyositis\n\n"
    "Five children with refractory juvenile dermatomyositis received tofacitinib. "
    "All five had improved skin disease after six months.\n"
)


def text_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF whose text layer holds `lines` (Helvetica, one line each)."""
    shown = " ".join("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines)
    stream = f"BT /F1 11 Tf 72 720 Td 14 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


PDF_LINES = ["Baricitinib was given to four adults with dermatomyositis.", "Three of the four improved."]


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(text_pdf(PDF_LINES))))
    writer.encrypt("a secret password")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def write_sparse(path: Path, megabytes: int) -> None:
    """A file of the given size that takes no disk space and no time to make."""
    with open(path, "wb") as handle:
        handle.truncate(megabytes * 1024 * 1024)


# name -> (make the file in a folder, the words its error must contain)
BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (lambda d: _write(d / "empty.md", b""), "the file is empty"),
    "binary-with-text-extension": (lambda d: _write(d / "scan.txt", bytes(range(256)) * 64), "binary data"),
    "over-size-limit": (lambda d: _sparse(d / "huge.md", 100), "over the 50 MB limit"),
    "malformed-pdf": (lambda d: _write(d / "broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> junk\n%%EOF"), "PDF could not be read"),
    "truncated-pdf": (lambda d: _write(d / "cut.pdf", text_pdf(PDF_LINES)[:300]), "PDF could not be read"),
    "encrypted-pdf": (lambda d: _write(d / "locked.pdf", encrypted_pdf()), "the PDF is encrypted"),
    "pdf-without-text-layer": (lambda d: _write(d / "scanned.pdf", blank_pdf()), "no text layer"),
    "malformed-docx": (lambda d: _write(d / "protocol.docx", b"PK\x03\x04 not really a word file"), "the .docx could not be read"),
    "unknown-extension": (lambda d: _write(d / "notes.odt", b"PK\x03\x04 an OpenDocument file"), "unsupported file type '.odt'"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _sparse(path: Path, megabytes: int) -> Path:
    write_sparse(path, megabytes)
    return path


def _folder_with_good_document(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "good.md").write_text(GOOD_TEXT, encoding="utf-8")
    return folder


def _ingest(folder: Path, tmp_path: Path, embedder: HashingEmbedder) -> tuple[IngestReport, Settings]:
    settings = Settings(corpus_dir=folder, index_dir=tmp_path / "index")
    return build_index([folder], settings, embedder), settings


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_reported_and_the_good_one_still_goes_in(kind: str, tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    make, problem = BAD_FILES[kind]
    bad = make(folder)

    report, settings = _ingest(folder, tmp_path, fake_embedder)

    assert report.added == ["good"]
    assert len(report.errors) == 1, report.errors
    assert str(bad) in report.errors[0] and problem in report.errors[0]
    index = load_index(settings.index_dir, fake_embedder, settings)
    assert set(index.documents) == {"good"}
    assert report.version == index.folder.name


def test_a_missing_path_is_reported_and_the_other_files_still_go_in(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    gone = tmp_path / "deleted-before-ingest.md"
    settings = Settings(corpus_dir=folder, index_dir=tmp_path / "index")
    report = build_index([gone, folder / "good.md"], settings, fake_embedder, sync=False)
    assert report.added == ["good"]
    assert report.errors == [f"{gone}: no such file or folder. Check the path."]


def test_unknown_extension_error_lists_the_supported_types(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    BAD_FILES["unknown-extension"][0](folder)
    report, _ = _ingest(folder, tmp_path, fake_embedder)
    assert all(ext in report.errors[0] for ext in (".md", ".txt", ".html", ".docx", ".pdf"))


def test_pdf_with_a_text_layer_is_read(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    """The positive control for the PDF failures above: the same PDF, intact and unencrypted, goes in."""
    folder = _folder_with_good_document(tmp_path)
    (folder / "baricitinib.pdf").write_bytes(text_pdf(PDF_LINES))
    report, settings = _ingest(folder, tmp_path, fake_embedder)
    assert report.errors == [] and sorted(report.added) == ["baricitinib", "good"]
    text = load_index(settings.index_dir, fake_embedder, settings).documents["baricitinib"].text
    assert all(line in text for line in PDF_LINES)


def test_non_utf8_text_is_decoded_with_a_warning(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    original = "Café-au-lait macules – naïve patients received 15 mg daily; 5 µg/L was the cut-off."
    legacy = folder / "legacy.txt"
    legacy.write_bytes(original.encode("cp1252"))
    report, settings = _ingest(folder, tmp_path, fake_embedder)
    assert report.errors == [] and "legacy" in report.added
    assert any(str(legacy) in w and "not UTF-8" in w and "Windows-1252" in w for w in report.warnings)
    assert load_index(settings.index_dir, fake_embedder, settings).documents["legacy"].text == original


def test_utf8_with_byte_order_mark_needs_no_warning(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    (folder / "bom.md").write_bytes("\ufeff# Dermatomyositis\n\nNaïve patients improved.\n".encode())
    report, settings = _ingest(folder, tmp_path, fake_embedder)
    assert report.warnings == [] and report.errors == []
    assert load_index(settings.index_dir, fake_embedder, settings).documents["bom"].text.startswith("Dermatomyositis")


def test_same_document_under_two_names_is_indexed_once(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    shutil.copy(folder / "good.md", folder / "good-copy.md")
    report, settings = _ingest(folder, tmp_path, fake_embedder)
    assert report.errors == [] and len(report.added) == 1
    assert len(report.warnings) == 1 and "same content as" in report.warnings[0] and "duplicate" in report.warnings[0]
    assert len(load_index(settings.index_dir, fake_embedder, settings).documents) == 1


def test_only_bad_files_leave_the_previous_index_untouched(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = _folder_with_good_document(tmp_path)
    _, settings = _ingest(folder, tmp_path, fake_embedder)
    live = current_version(settings.index_dir)
    before = {p.relative_to(live): p.read_bytes() for p in live.rglob("*") if p.is_file()}

    bad_folder = tmp_path / "bad"
    bad_folder.mkdir()
    for make, _ in BAD_FILES.values():
        make(bad_folder)
    report = build_index([bad_folder], settings, fake_embedder, sync=False)

    assert report.version == live.name and report.added == [] and len(report.errors) == len(BAD_FILES)
    assert current_version(settings.index_dir) == live
    assert {p.relative_to(live): p.read_bytes() for p in live.rglob("*") if p.is_file()} == before
    assert [p.name for p in (settings.index_dir / "versions").iterdir()] == [live.name]


def test_a_corpus_of_only_bad_files_gives_one_clear_error(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    made = [make(folder) for make, _ in BAD_FILES.values()]
    settings = Settings(corpus_dir=folder, index_dir=tmp_path / "index")
    with pytest.raises(AssistantError) as raised:
        Assistant.load(settings, embedder=fake_embedder)
    assert "Could not build an index" in str(raised.value)
    assert all(str(path) in str(raised.value) for path in made)
    assert not (settings.index_dir / "CURRENT").exists()


def test_bad_files_beside_the_real_corpus_on_the_real_model(tmp_path: Path, index_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Every bad kind at once, ingested next to the seed corpus into a live index; answers stay cited."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    made = [make(folder) for make, _ in BAD_FILES.values()]
    (folder / "legacy.txt").write_bytes("Naïve patients – dermatomyositis.".encode("cp1252"))
    shutil.copy(CORPUS / "dr-oracle-rinvoq-dermatomyositis-ivig.md", folder / "renamed-copy.md")
    assistant = Assistant.load(Settings(corpus_dir=CORPUS, index_dir=index_copy), embedder=embedder, refresh=False)
    seed_docs = set(assistant.index.documents)

    report = assistant.ingest([folder])

    assert report.added == ["legacy"]
    assert len(report.errors) == len(made)
    for path in made:
        assert sum(str(path) in e for e in report.errors) == 1
    assert any("renamed-copy.md" in w and "same content" in w for w in report.warnings)
    assert any("legacy.txt" in w and "not UTF-8" in w for w in report.warnings)
    assert set(assistant.index.documents) == seed_docs | {"legacy"}
    answer = assistant.ask(SEED_QUESTION)
    assert not answer.abstained
    assert {c.doc_id for c in answer.citations} >= seed_docs
    assert_verbatim(assistant, answer)


def test_cli_ingest_names_each_bad_file_on_one_line(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """Exit 1 although the good file went in (issue 17: a failed file shows in the exit status); each problem on its
    own line with the file's exact name."""
    folder = _folder_with_good_document(tmp_path)
    made = [make(folder) for make, _ in BAD_FILES.values()]
    bracketed = _write(folder / "notes [draft].odt", b"PK\x03\x04")

    result = cli("ingest", folder, "--index", tmp_path / "index")

    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    assert "Indexed" in result.output, "the good file went in"
    error_lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
    assert len(error_lines) == len(made) + 1
    for path in [*made, bracketed]:
        assert sum(str(path) in line for line in error_lines) == 1


MANGLE_SEEDS = {
    ".pdf": text_pdf(PDF_LINES),
    ".docx": protocol_docx(),
    ".md": (CORPUS / "beckett-2024-upadacitinib-myositis-case-series.md").read_bytes()[:6000],
    ".html": b"<html><head><title>T</title></head><body><h1>Skin</h1><p>Four of five improved.</p>"
    b"<table><tr><th>Age</th><th>Dose</th></tr><tr><td>31</td><td>15 mg</td></tr></table></body></html>",
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    suffix=st.sampled_from(sorted(MANGLE_SEEDS)),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=20),
    cut=st.integers(1, 10**6),
    tail=st.binary(max_size=64),
)
def test_mangled_files_load_or_fail_with_a_document_error(
    suffix: str, flips: list[tuple[int, int]], cut: int, tail: bytes, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Random damage to a real PDF, .docx, markdown or HTML file: a Document, or a DocumentError; nothing else."""
    data = bytearray(MANGLE_SEEDS[suffix])
    for position, byte in flips:
        data[position % len(data)] = byte
    path = tmp_path_factory.mktemp("mangled") / f"mangled{suffix}"
    path.write_bytes(bytes(data[: cut % len(data) + 1]) + tail)
    try:
        doc = load_document(path).document
    except DocumentError as exc:
        assert str(path) in str(exc)
        return
    assert doc.text.strip()
    assert all(0 <= b.start < b.end <= len(doc.text) for b in doc.blocks)
