"""Loaders (md, txt, html, pdf), structure, tables as self-describing rows, and alias mining."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.documents.aliases import (
    _PAREN,
    AliasTable,
    _paren_matches,
    mine_aliases,
    schwartz_hearst,
    spelled_out,
)
from assistant.documents.chunk import Leads, chunk_document, split_sentences
from assistant.documents.ingest import load_document
from assistant.errors import UnsupportedFileType
from assistant.index.embed import HashingEmbedder
from assistant.settings import ChunkSettings

ROOT = Path(__file__).resolve().parents[2]
SERIES = ROOT / "corpus" / "beckett-2024-upadacitinib-myositis-case-series.md"


def _minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF with a real text layer, written by hand (no PDF library writes text)."""
    stream = "BT /F1 12 Tf 72 720 Td 14 TL " + " ".join(f"({line}) Tj T*" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_markdown_front_matter_sections_and_table_rows() -> None:
    doc = load_document(SERIES).document
    assert doc.doc_id == "beckett-2024-upadacitinib-myositis-case-series" and doc.meta["sample_size"] == 10
    rows = [doc.text[b.start : b.end] for b in doc.blocks if b.kind == "table_row"]
    assert len(rows) == 14, "10 patient rows in Table 1 and 4 rows in Table 2"
    man = next(r for r in rows if "sex: 36, M" in r)
    assert man.startswith("Table 1 — Age (current), sex: 36, M;")
    assert "Current DMARDs: UPA, intravenous IG" in man and "CDASI, pre-UPA: 27; CDASI, current: 5" in man
    results = next(b for b in doc.blocks if "Aggregate analysis" in doc.text[b.start : b.end])
    assert results.section[-1] == "Results"
    assert "<sup>" not in doc.text and "**" not in doc.text, "markup is stripped from the citable text"
    assert "A p value < 0.05 was considered statistically significant" in doc.text, "comparison signs are content"


def test_inline_markup_is_stripped_but_comparisons_kept(tmp_path: Path) -> None:
    note = tmp_path / "note.md"
    note.write_text("**Result** p < 0.05 in <b>all</b> arms and CK > 200 in *some* [patients](#t1).\n")
    assert load_document(note).document.text == "Result: p < 0.05 in all arms and CK > 200 in some patients."


def test_html_loader_keeps_text_and_tables_drops_scripts(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>IVIG dosing</title><script>alert(1)</script></head><body><nav>Menu</nav>"
        "<h1>IVIG</h1><p>Typical dosing is 2 g/kg &amp; repeated every 4 weeks.</p>"
        "<table><caption>Table 3. Doses</caption><tr><th>Drug</th><th>Dose</th></tr><tr><td>IVIG</td><td>2 g/kg</td></tr></table>"
        "</body></html>"
    )
    doc = load_document(page).document
    assert doc.title == "IVIG dosing"
    assert "Typical dosing is 2 g/kg & repeated every 4 weeks." in doc.text
    assert "Table 3 — Drug: IVIG; Dose: 2 g/kg" in doc.text
    assert "alert" not in doc.text and "Menu" not in doc.text


NESTED_MD = """For patients already on IVIG:

1. If inadequate response to IVIG:
  - Consider increasing IVIG frequency or dose
- IVIG (Intravenous Immunoglobulin): Strong evidence supports its use
  - Typical dosing: 2 g/kg divided over 2-5 days
  - IVIG allows steroid sparing
- Methotrexate: first-line steroid-sparing agent
- Treatment algorithm: For patients with inadequate response to steroids, the progression is:
  - Consider rituximab

Upadacitinib is approved elsewhere. However:

- Lack of evidence in dermatomyositis
"""
NESTED_HTML = (
    "<p>For patients already on IVIG:</p><ol><li>If inadequate response to IVIG:<ul><li>Consider increasing IVIG frequency "
    "or dose</li></ul></li><li>IVIG (Intravenous Immunoglobulin): Strong evidence supports its use<ul><li>Typical dosing: "
    "2 g/kg divided over 2-5 days</li><li>IVIG allows steroid sparing</li></ul></li><li>Methotrexate: first-line "
    "steroid-sparing agent</li><li>Treatment algorithm: For patients with inadequate response to steroids, the progression "
    "is:<ul><li>Consider rituximab</li></ul></li></ol><p>Upadacitinib is approved elsewhere. However:</p><ul><li>Lack of evidence in "
    "dermatomyositis</li></ul>"
)


@pytest.mark.parametrize(("name", "body"), [("nested.md", NESTED_MD), ("nested.html", NESTED_HTML)])
def test_a_nested_list_item_knows_what_it_sits_under(tmp_path: Path, name: str, body: str) -> None:
    (tmp_path / name).write_text(body)
    doc = load_document(tmp_path / name).document
    leads = Leads(doc)

    def lead(item: str) -> str:
        return leads.of(doc.text.index(item))

    assert lead("Consider increasing") == "For patients already on IVIG; If inadequate response to IVIG"
    assert lead("Typical dosing") == lead("IVIG allows") == "For patients already on IVIG; IVIG (Intravenous Immunoglobulin)"
    assert lead("Methotrexate") == "For patients already on IVIG", "a sibling's label is not a parent"
    assert lead("Consider rituximab") == "For patients already on IVIG; Treatment algorithm", "a parent's label, not all of it"
    assert lead("Lack of evidence") == "", "a two-word lead-in ('However:') says nothing"
    start = doc.text.index("Typical dosing")
    assert leads.in_context(start, doc.text.index("\n", start)).startswith("For patients already on IVIG; IVIG (Intravenous")


def test_pdf_loader_reads_the_text_layer(tmp_path: Path) -> None:
    pdf = tmp_path / "note.pdf"
    pdf.write_bytes(_minimal_pdf(["Methotrexate is started at 15 mg weekly.", "Folic acid is given alongside."]))
    doc = load_document(pdf).document
    assert "Methotrexate is started at 15 mg weekly." in doc.text


def test_unknown_file_types_are_refused_with_the_fix(tmp_path: Path) -> None:
    odd = tmp_path / "notes.odt"
    odd.write_bytes(b"PK")
    with pytest.raises(UnsupportedFileType, match=r"Convert it to one of: .*\.md"):
        load_document(odd)


def test_sentence_splitter_respects_abbreviations_and_decimals() -> None:
    text = "Beckett M, et al. reported it. The p value was 0.014 vs. 0.0625 in Fig. 2. Dr. Huang agreed."
    sentences = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
    assert sentences == ["Beckett M, et al. reported it.", "The p value was 0.014 vs. 0.0625 in Fig. 2.", "Dr. Huang agreed."]


def test_chunks_fit_the_budget_and_slice_the_text() -> None:
    doc = load_document(SERIES).document
    embedder = HashingEmbedder()
    chunks = chunk_document(doc, ChunkSettings(max_tokens=64), embedder.count_tokens)
    for chunk in chunks:
        assert chunk.text == doc.text[chunk.start : chunk.end]
        if chunk.kind != "table_row":
            assert embedder.count_tokens(chunk.embed_text) <= 64 + 8  # the budget plus separators
    assert any(c.kind == "apparatus" and "References" in c.section for c in chunks)


def test_an_undefined_abbreviation_is_found_spelled_out_word_by_word() -> None:
    text = "Women from a health maintenance organization in North Carolina; the Department of Health and Human Services."
    assert spelled_out("HMO", text) == ["health maintenance organization"]
    assert spelled_out("HMOs", text) == ["health maintenance organization"], "a plural's s is no letter"
    assert spelled_out("DHHS", text) == ["Department of Health and Human Services"], "connecting words inside a run"
    assert spelled_out("HMN", text) == [], "initials must follow one another"
    assert spelled_out("OHH", text) == [], "a run never starts or ends with a connecting word"
    assert spelled_out("MRM", "computer-aided diagnosis in magnetic resonance MR mammography") == [], "an abbreviation gives no initial"
    assert spelled_out("HIN1", "hepatitis infection by neutralizing antibodies") == [], "a name with digits is no run of initials"
    assert spelled_out("HCC", "healthy control cases and hepatocellular carcinoma cells") == ["healthy control cases", "hepatocellular carcinoma cells"]


def test_a_question_spelled_out_is_read_against_an_abbreviation_the_passages_use() -> None:
    """Issue 29: an abstract writes only "PMR" and "TTN" where its question writes the words out."""
    question = "Can the prognosis of polymyalgia rheumatica be predicted at disease onset?"
    assert spelled_out("PMR", question, inner=True) == ["polymyalgia rheumatica"], "one letter from inside a word"
    assert spelled_out("PMR", question) == [], "never without `inner`"
    assert spelled_out("TTN", "Transient tachypnea of the newborn: a role?", inner=True) == ["Transient tachypnea of the newborn"]
    assert spelled_out("SbCC", "pathogenesis of sebaceous cell carcinoma", inner=True) == ["sebaceous cell carcinoma"]
    assert spelled_out("CDASI", "the risk of blood clots in dermatomyositis", inner=True) == [], "one inner letter per word at most"
    assert spelled_out("PM", "is polymyalgia painful", inner=True) == [], "two words or more"


def test_schwartz_hearst_finds_long_forms() -> None:
    assert schwartz_hearst("DM", "idiopathic inflammatory myositis includes dermatomyositis".split()) == "dermatomyositis"
    assert schwartz_hearst("IG", "conventional drugs, intravenous immunoglobulin".split()) == "immunoglobulin"
    assert schwartz_hearst("XYZ", "nothing matches here".split()) is None


def test_aliases_mined_from_the_corpus_bridge_brand_abbreviation_and_variant() -> None:
    texts = [load_document(p).document.text for p in sorted((ROOT / "corpus").glob("*.md"))]
    table = mine_aliases(texts)
    groups = {frozenset(t.lower() for t in g) for g in table.groups}
    assert any({"rinvoq", "upadacitinib"} <= g for g in groups), "brand ↔ generic from 'Rinvoq (upadacitinib)'"
    assert any({"ivig", "intravenous immunoglobulin", "intravenous ig"} <= g for g in groups), "variant 'intravenous IG'"
    assert any({"adm", "amyopathic dermatomyositis"} <= g for g in groups), "glossary 'ADM, amyopathic dermatomyositis;'"
    assert table.glossary["UPA"] == "upadacitinib"


PAREN_CASES = [
    "see Rinvoq (upadacitinib) and (IVIG)",
    "(see Rinvoq (upadacitinib))",
    "((a b (c)",
    "one two three four five six seven eight nine ten (NT) eleven",
    "ab-cd ef_gh \n (Q R)",
    "naïve café (NC) é ü (ÉÜ)",
    "x" * 3000 + " y (Z)",
    "a (" + "b" * 70 + ")",
]


@pytest.mark.parametrize("text", PAREN_CASES)
def test_parenthesis_scan_finds_what_a_full_scan_finds(text: str) -> None:
    assert [m.span() for m in _paren_matches(text)] == [m.span() for m in _PAREN.finditer(text)]


@given(st.lists(st.sampled_from(["word", "IVIG", "(", ")", " ", "  ", "\n", "-", "x_y", ".", ",", "é", "DM", "(DM)"]), max_size=60))
def test_parenthesis_scan_matches_a_full_scan_on_generated_text(parts: list[str]) -> None:
    text = "".join(parts)
    assert [m.span() for m in _paren_matches(text)] == [m.span() for m in _PAREN.finditer(text)]


def test_parenthesis_scan_matches_a_full_scan_on_the_corpus() -> None:
    for path in sorted((ROOT / "corpus").glob("*.md")):
        text = load_document(path).document.text
        assert [m.span() for m in _paren_matches(text)] == [m.span() for m in _PAREN.finditer(text)], path.name


def test_short_abbreviations_match_case_sensitively() -> None:
    table = AliasTable([["DM", "dermatomyositis"]])
    assert table.expansions("Is DM treatable?") == [("DM", ["dermatomyositis"])]
    assert table.expansions("dm me later") == []


def test_public_names_are_exported() -> None:
    import assistant

    for name in assistant.__all__:
        assert getattr(assistant, name) is not None, name
    assert sorted(assistant.__all__) == assistant.__all__
