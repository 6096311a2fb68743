"""The index survives crashes and refuses damage clearly: atomic versions, a SIGKILL mid-write, corrupted or
truncated files, another embedding model, and ingests that must never lose documents."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from checks import assert_clean_failure, assert_verbatim
from samples import CORPUS, SEED_QUESTION

from assistant import Assistant, HashingEmbedder, IndexError_, IndexMismatch, Settings
from assistant.documents.chunk import chunk_document
from assistant.index.build import build_index
from assistant.index.load import current_version, load_index
from assistant.settings import PROJECT_ROOT

FIX = "assistant ingest --rebuild"


def _settings(index_dir: Path, corpus: Path = CORPUS) -> Settings:
    return Settings(corpus_dir=corpus, index_dir=index_dir)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _answer_key(answer) -> tuple:  # type: ignore[no-untyped-def]
    return answer.text, [(c.number, c.doc_id, c.start, c.end, c.quote) for c in answer.citations]


# ---------------------------------------------------------------- a crash mid-write


def _synthetic_corpus(folder: Path, documents: int = 50, paragraphs: int = 30) -> None:
    """Enough text that writing the index takes a moment (the window the kill must land in)."""
    words = (CORPUS / "beckett-2024-upadacitinib-myositis-case-series.md").read_text().split()
    rnd = random.Random(8)
    folder.mkdir()
    for n in range(documents):
        body = "\n\n".join(" ".join(rnd.choices(words, k=60)) + "." for _ in range(paragraphs))
        (folder / f"report-{n:03d}.md").write_text(f"# Synthetic report {n}\n\n{body}\n")


KILLED_REBUILD = """
import sys
from pathlib import Path
from assistant import HashingEmbedder, Settings
from assistant.index import build_index
folder, index_dir = Path(sys.argv[1]), Path(sys.argv[2])
build_index([folder], Settings(corpus_dir=folder, index_dir=index_dir), HashingEmbedder(), rebuild=True)
print("finished")
"""


def _kill_once_writing(process: subprocess.Popen[bytes], versions: Path, timeout: float = 300) -> Path:
    """SIGKILL the process as soon as its partial version folder has files in it; return that folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        partial = [p for p in versions.glob(".*.partial") if any(p.iterdir())]
        if partial:
            process.send_signal(signal.SIGKILL)
            process.wait()
            return partial[0]
        time.sleep(0.002)
    process.kill()
    pytest.fail(f"the ingest ended (rc={process.poll()}) before it was caught writing: {process.stderr.read()!r}")  # type: ignore[union-attr]


def test_sigkill_during_a_rebuild_leaves_the_previous_version_live(
    tmp_path: Path, index_copy: Path, seed_assistant: Assistant, embedder  # type: ignore[no-untyped-def]
) -> None:
    """A rebuild (fake embedder: it reaches the write phase in seconds) is killed while writing its version."""
    live = current_version(index_copy)
    files_before = _files(live)
    expected = _answer_key(seed_assistant.ask(SEED_QUESTION))
    big = tmp_path / "big"
    _synthetic_corpus(big)

    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_REBUILD, str(big), str(index_copy)],
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    partial = _kill_once_writing(process, index_copy / "versions")

    assert process.returncode == -signal.SIGKILL
    assert partial.exists()  # the crash really left a half-written version behind
    assert current_version(index_copy) == live and _files(live) == files_before
    survivor = Assistant.load(_settings(index_copy), embedder=embedder, refresh=False)
    answer = survivor.ask(SEED_QUESTION)
    assert _answer_key(answer) == expected
    assert_verbatim(survivor, answer)

    report = survivor.ingest([CORPUS], sync=True)  # the next write cleans up after the crash
    assert report.errors == [] and report.version == live.name
    extra = tmp_path / "extra.md"
    extra.write_text("# A note\n\nTofacitinib helped two patients with amyopathic dermatomyositis.\n")
    assert survivor.ingest([extra]).added == ["extra"]
    assert not list((index_copy / "versions").glob(".*.partial"))


def test_the_title_lookup_finds_what_reading_every_title_finds(assistant: Assistant) -> None:
    """Index.documents_titled (an inverted map of title stems, read by every answer) against the definition: the
    documents whose title holds every stem of one of the alternatives."""
    index = assistant.index
    vocabulary = sorted(index.title_vocabulary)
    rng = random.Random(3)
    for _ in range(40):
        alternatives = tuple(frozenset(rng.sample(vocabulary, rng.randint(1, 2))) for _ in range(rng.randint(1, 2)))
        expected = {d for d, stems in index.title_stems.items() if any(alt <= stems for alt in alternatives)}
        assert index.documents_titled(alternatives) == expected
    series = next(d for d in index.documents if "case-series" in d)
    assert series in index.documents_titled((frozenset(index.lexicon.stems("refractory myositis")),))
    assert index.documents_titled((frozenset({"zebrafinch"}),)) == set()


def test_stored_chunks_are_the_chunks_made(assistant: Assistant, embedder) -> None:  # type: ignore[no-untyped-def]
    """chunks.npy + chunk_spans.npy + chunks.json give back every chunk field, ids included."""
    assert any(c.gloss for c in assistant.index.chunks) and len({c.kind for c in assistant.index.chunks}) > 1
    for doc in assistant.index.documents.values():
        made = chunk_document(doc, assistant.settings.chunk, embedder.count_tokens)
        loaded = [c for c in assistant.index.chunks if c.doc_id == doc.doc_id]
        assert loaded == made and [c.sentences for c in loaded] == [c.sentences for c in made]


# ---------------------------------------------------------------- damaged files

def _edit_chunks(version: Path, edit: Callable[[np.ndarray], None]) -> None:
    table = np.load(version / "chunks.npy")
    edit(table)
    np.save(version / "chunks.npy", table)


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated vectors.faiss": lambda v: (v / "vectors.faiss").write_bytes((v / "vectors.faiss").read_bytes()[:1000]),
    "empty vectors.faiss": lambda v: (v / "vectors.faiss").write_bytes(b""),
    "garbage in chunks.json": lambda v: (v / "chunks.json").write_text("{this is not json"),
    "chunks.json of the wrong shape": lambda v: (v / "chunks.json").write_text('{"chunks": 1}'),
    "chunk offsets past the text": lambda v: _edit_chunks(v, lambda table: table.__setitem__((0, 2), 9_999_999)),
    "a chunk naming a missing document": lambda v: _edit_chunks(v, lambda table: table.__setitem__((0, 0), len(table))),
    "a sentence outside its chunk": lambda v: np.save(v / "chunk_spans.npy", np.load(v / "chunk_spans.npy") - 5),
    "chunks.npy of floats": lambda v: np.save(v / "chunks.npy", np.load(v / "chunks.npy").astype(np.float32)),
    "chunk_spans.npy truncated": lambda v: np.save(v / "chunk_spans.npy", np.load(v / "chunk_spans.npy")[:-2]),
    "truncated documents.json": lambda v: (v / "documents.json").write_bytes((v / "documents.json").read_bytes()[:500]),
    "bm25 folder deleted": lambda v: shutil.rmtree(v / "bm25"),
    "bm25 arrays deleted": lambda v: [p.unlink() for p in (v / "bm25").glob("*.npy")],
    "truncated bm25 array": lambda v: (v / "bm25" / "data.csc.index.npy").write_bytes(
        (v / "bm25" / "data.csc.index.npy").read_bytes()[:200]
    ),
    "manifest is a list": lambda v: (v / "manifest.json").write_text("[]"),
    "sentences.npy deleted": lambda v: (v / "sentences.npy").unlink(),
    "truncated sentences.npy": lambda v: (v / "sentences.npy").write_bytes((v / "sentences.npy").read_bytes()[:300]),
    "sentences.npy of the wrong shape": lambda v: np.save(v / "sentences.npy", np.zeros((3, 384), np.float16)),
    "sentences.npy holds pickled objects": lambda v: np.save(v / "sentences.npy", np.array([{"a": 1}], dtype=object)),
    "aliases.json is a list": lambda v: (v / "aliases.json").write_text("[1, 2]"),
    "version folder deleted": lambda v: shutil.rmtree(v),
    "CURRENT points outside the index": lambda v: (v.parent.parent / "CURRENT").write_text("../../../etc"),
    "CURRENT is empty": lambda v: (v.parent.parent / "CURRENT").write_text(""),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_index_gives_a_clear_error_naming_the_fix(damage: str, index_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    DAMAGE[damage](current_version(index_copy))
    with pytest.raises(IndexError_) as raised:
        load_index(index_copy, embedder, _settings(index_copy))
    assert FIX in str(raised.value)


def test_index_built_with_another_model_is_refused(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = _settings(tmp_path / "index")
    build_index([CORPUS], settings, HashingEmbedder())
    with pytest.raises(IndexMismatch) as raised:
        Assistant.load(settings, embedder=embedder, refresh=False)
    message = str(raised.value)
    assert "fake:hashing" in message and embedder.model_id in message and FIX in message


def test_full_ingest_rebuilds_a_damaged_index_and_says_so(tmp_path: Path, fake_embedder: HashingEmbedder) -> None:
    settings = _settings(tmp_path / "index")
    indexed = set(Assistant.load(settings, embedder=fake_embedder).index.documents)
    DAMAGE["truncated vectors.faiss"](current_version(settings.index_dir))
    assistant = Assistant.load(settings, embedder=fake_embedder)
    assert assistant.last_report is not None
    assert any(w.startswith("Rebuilding from scratch") and "damaged" in w for w in assistant.last_report.warnings)
    assert set(assistant.index.documents) == indexed
    assert_verbatim(assistant, assistant.ask(SEED_QUESTION))


def test_partial_ingest_onto_a_damaged_index_changes_nothing(tmp_path: Path, index_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    live = current_version(index_copy)
    DAMAGE["garbage in chunks.json"](live)
    before = _files(index_copy)
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nMethotrexate was continued.\n")
    report = build_index([note], _settings(index_copy), embedder, sync=False)
    assert report.version is None and len(report.errors) == 1
    assert "drop every other document" in report.errors[0] and FIX in report.errors[0]
    assert _files(index_copy) == before


# ---------------------------------------------------------------- losing nothing


def test_adding_one_file_keeps_every_other_document(tmp_path: Path, index_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant.load(_settings(index_copy), embedder=embedder, refresh=False)
    before = set(assistant.index.documents)
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nTofacitinib helped two patients with amyopathic dermatomyositis.\n")

    assert assistant.ingest([note]).added == ["note"]
    assert set(assistant.index.documents) == before | {"note"}

    note.write_text("# Note\n\nTofacitinib helped three patients with amyopathic dermatomyositis.\n")
    report = assistant.ingest([note])
    assert report.updated == ["note"] and set(assistant.index.documents) == before | {"note"}
    assert "three patients" in assistant.index.documents["note"].text


def test_another_file_with_an_indexed_id_is_refused_not_swapped_in(tmp_path: Path, index_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant.load(_settings(index_copy), embedder=embedder, refresh=False)
    doc_id = "dr-oracle-rinvoq-dermatomyositis-ivig"
    original = assistant.index.documents[doc_id].text
    impostor = tmp_path / f"{doc_id}.md"
    impostor.write_text("# Something else\n\nAn unrelated text that happens to share the file name.\n")

    report = assistant.ingest([impostor])

    assert len(report.errors) == 1 and f"id '{doc_id}' is already used by" in report.errors[0]
    assert assistant.index.documents[doc_id].text == original


def test_a_copy_of_an_indexed_document_is_skipped(tmp_path: Path, index_copy: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    assistant = Assistant.load(_settings(index_copy), embedder=embedder, refresh=False)
    copy = tmp_path / "uploaded-again.md"
    shutil.copy(CORPUS / "dr-oracle-rinvoq-dermatomyositis-ivig.md", copy)
    report = assistant.ingest([copy])
    assert not report.changed and report.errors == []
    assert len(report.warnings) == 1 and "already indexed" in report.warnings[0]
    original = Assistant.load(_settings(index_copy), embedder=embedder, refresh=False)
    kept = assistant.index.documents["dr-oracle-rinvoq-dermatomyositis-ivig"].source_path
    assert kept == original.index.documents["dr-oracle-rinvoq-dermatomyositis-ivig"].source_path != str(copy)


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize("damage", ["truncated vectors.faiss", "bm25 folder deleted", "manifest is a list"])
def test_cli_reports_a_damaged_index_in_one_line(damage: str, tmp_path: Path, index_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    DAMAGE[damage](current_version(index_copy))
    empty = tmp_path / "empty-corpus"
    empty.mkdir()
    assert_clean_failure(cli("ask", "Does upadacitinib help?", "--index", index_copy, "--corpus", empty), FIX)


def test_cli_reports_another_model_in_one_line(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    index_dir = tmp_path / "index"
    build_index([CORPUS], _settings(index_dir), HashingEmbedder())
    note = tmp_path / "note.md"
    note.write_text("# Note\n\nMethotrexate was continued.\n")
    result = cli("ingest", note, "--index", index_dir)
    assert result.exit_code != 0 and (result.exception is None or isinstance(result.exception, SystemExit))
    assert [line for line in result.output.splitlines() if "fake:hashing" in line and FIX in line]


def test_cli_ask_heals_a_damaged_index_from_the_corpus(index_copy: Path, cli) -> None:  # type: ignore[no-untyped-def]
    DAMAGE["garbage in chunks.json"](current_version(index_copy))
    result = cli("ask", SEED_QUESTION, "--index", index_copy, "--corpus", CORPUS, "--json")
    assert result.exit_code == 0, result.output
    assert '"abstained": false' in result.stdout
