"""Property-based tests (hypothesis) of ingest and chunking on generated markdown, with the real tokenizer, and of
citations over generated questions on the real corpus."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from checks import assert_verbatim, markers, own_voice
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from samples import CORPUS

from assistant import (
    Assistant,
    Chunk,
    Document,
    QuestionError,
    SentenceTransformerEmbedder,
)
from assistant.documents.chunk import chunk_document
from assistant.documents.ingest import load_document
from assistant.settings import ChunkSettings

# words that markdown leaves alone, including the symbols clinical text is full of
WORDS = [
    "patients", "upadacitinib", "dermatomyositis", "improved", "the", "of", "in", "and", "with", "IVIG", "CDASI",
    "MMT8", "15", "mg", "daily", "0.05", "p", "<", ">", "≥", "±", "p<0.05", "age>65", "(n", "=", "10)", "e.g.", "Dr.",
    "al.", "vs.", "Fig.", "U.S.", "i.e.", "µg/L", "naïve", "café-au-lait", "anti-MDA5", "42%", "2024;", "q.d.",
    "(median", "IQR", "3–7)", "\u201cquoted\u201d", "it's", "Type", "I", "interferon", "JAK1/JAK2", "COVID-19",
    "pneumocystis", "hydroxychloroquine", "methylprednisolone", "immunoglobulin", "superlongwordwithoutanyspaces" * 3,
    "https://doi.org/10.1136/" + "rmdopen-2023-003529/" * 12,  # one 'word' longer than any budget
]
END = [".", ".", ".", "?", "!", ";", ""]
CELL_WORDS = ["yes", "no", "15", "mg", "F", "M", "improved", "stable", "ADM", "DM", "2.5", "n/a", "IVIG", "skin"]

word = st.sampled_from(WORDS)
sentence = st.builds(lambda ws, end: " ".join(ws) + end, st.lists(word, min_size=1, max_size=30), st.sampled_from(END))
# Markdown does act on some of these at the start of a line: "> …" opens a block quote (the "quote" parts below test
# that), a lone "15." or "10)" is an empty ordered-list item, and "10) > …" is a list item holding a block quote;
# a paragraph that merely starts "15. …" keeps it; "10) 10) …" is a list item holding a list item. A line starting
# "<?" or "<!" (the word "<" ending in "?" or "!") opens a CommonMark HTML block, which is markup, not prose.
_MARKUP_START = re.compile(r">|\d+[.)]$|\d+[.)]\s+(?:>|\d+[.)](?:\s|$))|<[?!/A-Za-z]")
paragraph = st.builds(" ".join, st.lists(sentence, min_size=1, max_size=8)).filter(lambda p: not _MARKUP_START.match(p))
heading_words = st.lists(st.sampled_from(["Results", "Methods", "Skin", "Muscle", "Table", "Outcomes", "IVIG"]), min_size=1, max_size=4)
cell = st.builds(" ".join, st.lists(st.sampled_from(CELL_WORDS), min_size=0, max_size=3))
header_cell = st.builds(" ".join, st.lists(st.sampled_from(["Age", "Sex", "Dose", "Response", "Weeks", "Prior IVIG"]), min_size=1, max_size=2))


@dataclass
class Generated:
    """A markdown source and what its rendering must contain."""

    markdown: str
    paragraphs: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # each: the "Header: value" pairs one row must keep


@st.composite
def documents(draw: st.DrawFn) -> Generated:
    first = draw(paragraph)
    out = Generated("", paragraphs=[first])
    parts = [first]
    for _ in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(["heading", "paragraph", "paragraph", "list", "quote", "table"]))
        if kind == "heading":
            parts.append("#" * draw(st.integers(1, 3)) + " " + " ".join(draw(heading_words)))
        elif kind == "paragraph":
            text = draw(paragraph)
            parts.append(text)
            out.paragraphs.append(text)
        elif kind == "quote":  # a block quote's text, without the marker
            text = draw(paragraph)
            parts.append(f"> {text}")
            out.paragraphs.append(text)
        elif kind == "list":
            items = draw(st.lists(paragraph, min_size=1, max_size=4))
            parts.append("\n".join(f"- {item}" for item in items))
            out.paragraphs.extend(items)
        else:
            header = draw(st.lists(header_cell, min_size=2, max_size=5, unique=True))
            rows = draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), min_size=1, max_size=4))
            lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(row) + " |" for row in rows]
            parts.append("\n".join(lines))
            out.rows += [[f"{h}: {c}" for h, c in zip(header, row, strict=True) if c] for row in rows]
    out.markdown = "\n\n".join(parts) + "\n"
    return out


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("generated")


def _load(generated: Generated, folder: Path) -> Document:
    path = folder / "generated.md"
    path.write_text(generated.markdown, encoding="utf-8")
    return load_document(path).document


def _chunks(doc: Document, max_tokens: int, embedder: SentenceTransformerEmbedder) -> list[Chunk]:
    return chunk_document(doc, ChunkSettings(max_tokens=max_tokens), embedder.count_tokens)


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
budgets = st.sampled_from([32, 64, 128, 250])


@PROPERTY
@given(generated=documents())
def test_prose_survives_ingest_word_for_word(generated: Generated, workdir: Path) -> None:
    text = _load(generated, workdir).text
    for para in generated.paragraphs:
        assert " ".join(para.split()) in text


@PROPERTY
@given(generated=documents(), max_tokens=budgets)
def test_chunk_offsets_reproduce_the_text(generated: Generated, max_tokens: int, workdir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    doc = _load(generated, workdir)
    for chunk in _chunks(doc, max_tokens, embedder):
        assert chunk.text == doc.text[chunk.start : chunk.end] and chunk.text.strip() == chunk.text != ""
        assert chunk.chunk_id.startswith(doc.doc_id + "#")


@PROPERTY
@given(generated=documents(), max_tokens=budgets)
def test_every_character_of_every_block_is_in_a_sentence_of_a_chunk(generated: Generated, max_tokens: int, workdir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    doc = _load(generated, workdir)
    covered = set()
    for chunk in _chunks(doc, max_tokens, embedder):
        for start, end in chunk.sentences:
            covered.update(range(start, end))
    for block in doc.blocks:
        if block.kind != "heading":
            missing = [i for i in range(block.start, block.end) if not doc.text[i].isspace() and i not in covered]
            assert not missing, (block.kind, doc.text[block.start : block.end])


@PROPERTY
@given(generated=documents(), max_tokens=budgets)
def test_sentences_lie_inside_their_chunk_in_order(generated: Generated, max_tokens: int, workdir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    doc = _load(generated, workdir)
    for chunk in _chunks(doc, max_tokens, embedder):
        spans = list(chunk.sentences)
        assert spans and spans[0][0] == chunk.start and spans[-1][1] == chunk.end
        assert all(chunk.start <= s < e <= chunk.end for s, e in spans)
        assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
        assert all(doc.text[s:e].strip() == doc.text[s:e] for s, e in spans)


@PROPERTY
@given(generated=documents(), max_tokens=budgets)
def test_text_chunks_fit_the_token_budget(generated: Generated, max_tokens: int, workdir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """What the model reads (section label + text) fits max_tokens word pieces, special tokens included."""
    doc = _load(generated, workdir)
    for chunk in _chunks(doc, max_tokens, embedder):
        if chunk.kind != "table_row":
            assert embedder.count_tokens(chunk.embed_text) <= max_tokens, chunk.embed_text


@PROPERTY
@given(generated=documents())
def test_table_rows_keep_their_headers(generated: Generated, workdir: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    doc = _load(generated, workdir)
    rows = [c.text for c in _chunks(doc, 128, embedder) if c.kind == "table_row"]
    expected = [pairs for pairs in generated.rows if pairs]
    assert len(rows) == len(expected)
    for text, pairs in zip(rows, expected, strict=True):
        assert text.split(" — ", 1)[1] == "; ".join(pairs)


# ---------------------------------------------------------------- citations on the real corpus


def _corpus_words() -> list[str]:
    text = " ".join(p.read_text() for p in sorted(CORPUS.glob("*.md")))
    return sorted(set(re.findall(r"[A-Za-z][A-Za-z0-9-]{2,}", text)))


question = st.one_of(
    st.builds(lambda ws: " ".join(ws) + "?", st.lists(st.sampled_from(_corpus_words()), min_size=1, max_size=10)),
    st.builds(
        lambda template, a, b: template.format(a, b),
        st.sampled_from(["Does {} help {}?", "What is the {} of {}?", "How many {} had {}?", "Is {} better than {}?"]),
        st.sampled_from(_corpus_words()),
        st.sampled_from(_corpus_words()),
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=question)
def test_citations_are_verbatim_for_any_question(question: str, seed_assistant: Assistant) -> None:
    try:
        answer = seed_assistant.ask(question)
    except QuestionError:
        return
    assert_verbatim(seed_assistant, answer)
    numbers = {c.number for c in answer.citations}
    assert markers(own_voice(answer.text)) <= numbers
    assert all(f"[{n}]" in answer.text for n in numbers)
    assert answer.abstained == (not answer.citations)
