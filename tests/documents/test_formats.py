"""Golden files, one small document per format holding the traps of issue #16: the exact blocks (kind, section,
text), pages and sentences each loader must produce, and citations that stay verbatim with the right page."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from checks import assert_verbatim
from samples import RUNNING_HEADER, protocol_docx, scanned_page_pdf, trial_pdf

from assistant import Assistant, Settings
from assistant.answer.render import answer_markdown
from assistant.documents.chunk import chunk_document, split_sentences
from assistant.documents.ingest import load_document
from assistant.index.embed import HashingEmbedder
from assistant.schema import Document
from assistant.serve.files import pdf_url
from assistant.serve.present import passage_html, sources_markdown
from assistant.settings import ChunkSettings

Expected = list[tuple[str, tuple[str, ...], str]]  # (kind, section, text) of each block


def _blocks(doc: Document) -> Expected:
    return [(b.kind, b.section, doc.text[b.start : b.end]) for b in doc.blocks]


def _sentences(doc: Document) -> list[str]:
    return [doc.text[s:e] for b in doc.blocks if b.kind != "heading" for s, e in split_sentences(doc.text, b.start, b.end)]


def _load(tmp_path: Path, name: str, data: str | bytes) -> Document:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return load_document(path).document


# ---------------------------------------------------------------- markdown

MARKDOWN = """---
title: Drug X in adults
---
Trial of drug X
===============

Dosing
------

- Drug X 10 mg daily
  for 12 weeks
- Placebo daily

> Drug X reduced pain scores[^1] compared with [placebo][pbo]. eGFR was stable.

Table 2. Outcomes at week 12

| Outcome | Drug X | Placebo |
|---|---|---|
| Pain | 3.1 | 4.2 |

    indented text is a code block

[pbo]: https://example.org/placebo

[^1]: Measured on a 10-point scale.
"""
TOP, DOSING = ("Trial of drug X",), ("Trial of drug X", "Dosing")
MARKDOWN_BLOCKS: Expected = [
    ("heading", TOP, "Trial of drug X"),  # a setext heading, not body text
    ("heading", DOSING, "Dosing"),
    ("list_item", DOSING, "Drug X 10 mg daily for 12 weeks"),  # the continuation line stays in its item
    ("list_item", DOSING, "Placebo daily"),
    # no ">" left, no footnote marker, the reference link resolved
    ("paragraph", DOSING, "Drug X reduced pain scores compared with placebo (https://example.org/placebo). eGFR was stable."),
    ("caption", DOSING, "Table 2. Outcomes at week 12"),
    ("table_row", DOSING, "Table 2 — Outcome: Pain; Drug X: 3.1; Placebo: 4.2"),
    ("paragraph", DOSING, "indented text is a code block"),
    ("list_item", ("Footnotes",), "1. Measured on a 10-point scale."),  # footnote texts after the body, numbered
]


def test_markdown_golden_file(tmp_path: Path) -> None:
    doc = _load(tmp_path, "drug-x.md", MARKDOWN)
    assert doc.title == "Drug X in adults", "the front matter title"
    assert _blocks(doc) == MARKDOWN_BLOCKS
    assert "Drug X reduced pain scores compared with placebo (https://example.org/placebo)." in _sentences(doc)
    assert "eGFR was stable." in _sentences(doc), "a sentence may start with a lower-case token"
    assert doc.pages == () and doc.page_at(0) is None, "markdown has no pages"


def test_sloppy_list_indentation_still_nests(tmp_path: Path) -> None:
    """Two spaces under "1." are not enough for CommonMark to nest a list; the author's indentation still says
    what an item sits under (the corpus is written this way)."""
    doc = _load(tmp_path, "plan.md", "For patients on IVIG:\n\n1. If inadequate response to IVIG:\n  - Consider rituximab\n2. Monitor\n")
    items = {doc.text[b.start : b.end]: [doc.text[s:e] for s, e in b.under] for b in doc.blocks if b.kind == "list_item"}
    assert items == {
        "1. If inadequate response to IVIG:": ["For patients on IVIG:"],
        "Consider rituximab": ["For patients on IVIG:", "1. If inadequate response to IVIG:"],
        "2. Monitor": ["For patients on IVIG:"],
    }


# ---------------------------------------------------------------- HTML

HTML = """<html><head><title>Drug X trial</title></head><body>
<header class="site"><a href="/">MedNews</a> <nav>Home | Trials</nav></header>
<article>
 <header><h1>Trial of drug X</h1><p class="byline">By A. Author</p></header>
 <p>Drug X was given to 120 adults &amp; adolescents.<br>eGFR was stable.</p>
 <aside>Buy drug X now!</aside>
 <div class="ad-slot">Sponsored: a clinic near you</div>
 <div class="share-bar">Share on social media</div>
 <table><caption>Table 1. MACE at 3 years</caption>
  <thead><tr><th>Outcome</th><th colspan="2">Hazard ratio (95% CI)</th></tr></thead>
  <tbody><tr><th scope="row">MACE</th><td>0.77</td><td>0.61 to 0.97</td></tr></tbody></table>
 <ul><li>Before treatment<ul><li>check renal function</li></ul></li><li>After treatment</li></ul>
</article>
<footer>© MedNews 2024</footer>
</body></html>"""
H1 = ("Trial of drug X",)
HTML_BLOCKS: Expected = [
    ("heading", H1, "Trial of drug X"),  # the <header> inside <article> is kept
    ("paragraph", H1, "By A. Author"),
    ("paragraph", H1, "Drug X was given to 120 adults & adolescents. eGFR was stable."),
    ("caption", H1, "Table 1. MACE at 3 years"),
    # the <thead> row names the columns; a row's own <th> is data
    ("table_row", H1, "Table 1 — Outcome: MACE; Hazard ratio (95% CI): 0.77; Hazard ratio (95% CI): 0.61 to 0.97"),
    ("list_item", H1, "Before treatment"),
    ("list_item", H1, "check renal function"),
    ("list_item", H1, "After treatment"),
]


def test_html_golden_file(tmp_path: Path) -> None:
    doc = _load(tmp_path, "drug-x.html", HTML)
    assert doc.title == "Drug X trial"
    assert _blocks(doc) == HTML_BLOCKS
    for chrome in ("MedNews", "Home", "Buy drug X", "Sponsored", "Share on"):
        assert chrome not in doc.text, f"page chrome {chrome!r} is left out"
    nested = doc.blocks[[t for _, _, t in HTML_BLOCKS].index("check renal function")]
    assert [doc.text[s:e] for s, e in nested.under] == ["Before treatment"]


def test_html_page_without_an_article_drops_its_header_and_footer(tmp_path: Path) -> None:
    doc = _load(tmp_path, "plain.html", "<body><header>Site menu</header><h2>Dosing</h2><p>15 mg daily.</p><footer>Contact</footer></body>")
    assert _blocks(doc) == [("heading", ("Dosing",), "Dosing"), ("paragraph", ("Dosing",), "15 mg daily.")]


def test_html_inside_markdown_goes_through_the_html_parser(tmp_path: Path) -> None:
    doc = _load(tmp_path, "mixed.md", "# Doses\n\n<table><tr><th>Drug</th><th>Dose</th></tr><tr><td>IVIG</td><td>2 g/kg</td></tr></table>\n")
    assert _blocks(doc)[-1] == ("table_row", ("Doses",), "Table — Drug: IVIG; Dose: 2 g/kg")


# ---------------------------------------------------------------- .docx

def test_docx_golden_file(tmp_path: Path) -> None:
    doc = _load(tmp_path, "protocol.docx", protocol_docx())
    top, dosing = ("Drug X protocol",), ("Drug X protocol", "Dosing")
    assert doc.title == "Drug X protocol for adults", "the title in the document's properties"
    assert _blocks(doc) == [
        ("heading", top, "Drug X protocol"),
        ("paragraph", top, "Give drug X to adults with active disease. mRNA testing is not needed."),
        ("heading", dosing, "Dosing"),
        ("list_item", dosing, "10 mg daily for 12 weeks"),
        ("list_item", dosing, "5 mg daily in renal impairment"),
        ("list_item", dosing, "Stop if ALT rises above 3 times normal"),
        ("table_row", dosing, "Table — Dose: 10 mg; Weeks: 12"),
        ("paragraph", dosing, "Check the blood count every 4 weeks."),
    ]
    assert "mRNA testing is not needed." in _sentences(doc)


# ---------------------------------------------------------------- PDF

TITLE = "Trial of drug X in rheumatoid arthritis"
PDF_BLOCKS: Expected = [
    ("heading", (TITLE,), TITLE),
    ("heading", (TITLE, "Methods"), "Methods"),
    # one paragraph across the page break: no running header or page number inside it, hyphenation joined
    (
        "paragraph",
        (TITLE, "Methods"),
        "We enrolled 120 adults with active rheumatoid arthritis and randomised them to drug X or placebo. The primary "
        "analysis included all randomised patients. Pain fell by 2.1 points with drug X and by 0.9 points with placebo "
        "at the 12-week follow-up visit.",
    ),
    ("heading", (TITLE, "Safety"), "Safety"),
    ("paragraph", (TITLE, "Safety"), "Adverse events were mild. eGFR was stable in both arms."),
    ("heading", (TITLE, "Conclusions"), "Conclusions"),
    (
        "paragraph",
        (TITLE, "Conclusions"),
        "Drug X reduced pain in adults with rheumatoid arthritis. mRNA levels of interleukin 6 were not measured.",
    ),
]
PDF_PAGES = [(1, 1), (1, 1), (1, 2), (2, 2), (2, 2), (3, 3), (3, 3)]
PDF_SENTENCES = [
    "We enrolled 120 adults with active rheumatoid arthritis and randomised them to drug X or placebo.",
    "The primary analysis included all randomised patients.",
    "Pain fell by 2.1 points with drug X and by 0.9 points with placebo at the 12-week follow-up visit.",
    "Adverse events were mild.",
    "eGFR was stable in both arms.",
    "Drug X reduced pain in adults with rheumatoid arthritis.",
    "mRNA levels of interleukin 6 were not measured.",
]


def test_pdf_golden_file(tmp_path: Path) -> None:
    drawn = trial_pdf()
    loaded = load_document(_write(tmp_path / "trial.pdf", drawn.data))
    doc = loaded.document
    assert loaded.warnings == ()
    assert doc.title == TITLE, "no metadata title: the largest heading"
    assert _blocks(doc) == PDF_BLOCKS
    assert [doc.page_range(b.start, b.end) for b in doc.blocks] == PDF_PAGES
    assert _sentences(doc) == PDF_SENTENCES
    assert RUNNING_HEADER not in doc.text and not re.search(r"\bPage \d|^\d+$", doc.text, re.M)


def test_every_pdf_character_has_the_page_it_was_drawn_on(tmp_path: Path) -> None:
    """Checked against the source: each word run of each drawn line is found in the text on the page it was drawn on."""
    drawn = trial_pdf()
    doc = load_document(_write(tmp_path / "trial.pdf", drawn.data)).document
    checked = 0
    for page, lines in drawn.pages.items():
        for line in lines:
            probe = " ".join(line.split()[1:-1])  # the words that hyphenation or line joins leave alone
            if len(probe) < 8:
                continue
            start = doc.text.index(probe)
            assert {doc.page_at(i) for i in range(start, start + len(probe))} == {page}, probe
            checked += 1
    assert checked >= 6


def test_a_scanned_page_is_reported_by_number(tmp_path: Path) -> None:
    loaded = load_document(_write(tmp_path / "part-scanned.pdf", scanned_page_pdf()))
    assert loaded.document.text == "Methotrexate is started at 15 mg weekly."
    assert len(loaded.warnings) == 1 and "page 2 of 2 left out: no text layer" in loaded.warnings[0]
    assert "ocrmypdf" in loaded.warnings[0], "the warning says what to do"


def test_chunks_of_a_pdf_carry_sections_and_pages(tmp_path: Path) -> None:
    doc = load_document(_write(tmp_path / "trial.pdf", trial_pdf().data)).document
    chunks = chunk_document(doc, ChunkSettings(max_tokens=64), HashingEmbedder().count_tokens)
    assert {c.section for c in chunks} == {"Methods", "Safety", "Conclusions"}
    assert any(doc.page_range(c.start, c.end) == (1, 2) for c in chunks), "a chunk across the page break"


@pytest.fixture(scope="module")
def pdf_assistant(tmp_path_factory: pytest.TempPathFactory, embedder) -> tuple[Assistant, object]:  # type: ignore[no-untyped-def]
    """A real index (real model) over the trial PDF and the other golden files."""
    root = tmp_path_factory.mktemp("formats")
    corpus = root / "corpus"
    corpus.mkdir()
    drawn = trial_pdf()
    _write(corpus / "trial.pdf", drawn.data)
    _write(corpus / "protocol.docx", protocol_docx())
    (corpus / "drug-x.html").write_text(HTML)
    Assistant.build(corpus, root / "index", embedder=embedder)
    return Assistant.load(Settings(corpus_dir=corpus, index_dir=root / "index"), embedder=embedder, refresh=False), drawn


@pytest.mark.parametrize(
    "question",
    [
        "How many adults were enrolled in the drug X trial and how were they randomised?",
        "Which patients did the primary analysis of drug X include?",
        "How much did pain fall with drug X compared with placebo at follow-up?",
        "Was eGFR stable with drug X?",
    ],
)
def test_pdf_citations_are_verbatim_on_the_right_page_without_page_furniture(question: str, pdf_assistant) -> None:  # type: ignore[no-untyped-def]
    assistant, drawn = pdf_assistant
    answer = assistant.ask(question)
    assert_verbatim(assistant, answer)
    pdf_citations = [c for c in answer.citations if c.doc_id == "trial"]
    assert pdf_citations, "the trial PDF answers this"
    for citation in pdf_citations:
        assert "Rheumatol" not in citation.quote and not re.search(r"\b(?:Page \d|\d of \d)\b", citation.quote)
        opening = " ".join(citation.quote.split()[:4])
        assert drawn.pages_holding(opening) == [citation.page], f"{opening!r} was drawn on page {citation.page}"
        first, last = citation.chunk_pages or (0, 0)
        assert first <= citation.page <= last
    for citation in answer.citations:
        if citation.doc_id != "trial":
            assert citation.page is None and citation.chunk_pages is None, "only PDFs have pages"
    assert answer.to_dict()["citations"][0].keys() >= {"page", "chunk_pages"}, "--json and the API carry the page"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_pdf_passage_panel_shows_the_page_and_links_to_it(pdf_assistant) -> None:  # type: ignore[no-untyped-def]
    assistant, _ = pdf_assistant
    answer = assistant.ask("Was eGFR stable with drug X?")
    citation = next(c for c in answer.citations if c.doc_id == "trial")
    document = assistant.index.documents["trial"]
    url = pdf_url(document, assistant.settings.corpus_dir)
    assert url == "/v1/documents/trial/file", "served by document id, never by path"
    panel = passage_html(assistant.index, citation, None, "clinician", file_url=url)
    assert f'href="{url}#page={citation.page}"' in panel and f">p. {citation.page}<" in panel
    other = next(c for c in answer.citations if c.doc_id != "trial")
    assert pdf_url(assistant.index.documents[other.doc_id], assistant.settings.corpus_dir) is None
    assert "passage-page" not in passage_html(assistant.index, other, None, "clinician"), "no page line without pages"
    assert f"(p. {citation.page})" in sources_markdown(answer)
    assert f"p. {citation.page}; characters" in answer_markdown(answer), "`assistant ask` prints the page"


def test_ask_json_carries_the_page(pdf_assistant, cli) -> None:  # type: ignore[no-untyped-def]
    assistant, _ = pdf_assistant
    result = cli("ask", "--json", "Was eGFR stable with drug X?", "--index", assistant.settings.index_dir,
                 "--corpus", assistant.settings.corpus_dir)
    assert result.exit_code == 0, result.output
    citations = json.loads(result.stdout)["citations"]
    trial = [c for c in citations if c["doc_id"] == "trial"]
    assert trial and all(isinstance(c["page"], int) and len(c["chunk_pages"]) == 2 for c in trial)


def test_plain_text_is_not_code_or_emphasis(tmp_path: Path) -> None:
    """MedQuAD-style .txt: deeply indented lines are paragraphs and list items (not a code block), and the
    asterisks of allele names are text (not emphasis)."""
    text = "Key Points\n                    - HLA-DRB1*0401 and HLA-DQB1*0302 raise the risk.\n\n\n\t\t    Indented text is a paragraph.\n"
    assert _blocks(_load(tmp_path, "passage.txt", text)) == [
        ("paragraph", (), "Key Points"),
        ("list_item", (), "HLA-DRB1*0401 and HLA-DQB1*0302 raise the risk."),
        ("paragraph", (), "Indented text is a paragraph."),
    ]
