"""Sample data for the tests: the seed corpus and question, a hostile HTML page, and small documents written by real
tools for the loader tests (PDFs by reportlab, .docx files by python-docx).

Each maker records what it drew where, so a test can check the loader against the source instead of against itself.
"""

from __future__ import annotations

import io
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from PIL import Image
from reportlab.lib.pagesizes import letter
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from assistant.settings import PROJECT_ROOT

CORPUS = PROJECT_ROOT / "corpus"
SEED_QUESTION = "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?"


def copy_corpus(target: Path, extra: dict[str, str] | None = None) -> Path:
    """The seed corpus copied into `target`, plus extra files {name: text}."""
    target.mkdir(parents=True, exist_ok=True)
    for path in CORPUS.glob("*.md"):
        shutil.copy(path, target / path.name)
    for name, text in (extra or {}).items():
        (target / name).write_text(text, encoding="utf-8")
    return target


# A document whose text (after loading) holds live-looking HTML and a javascript: link; the title too.
XSS_HTML = """<html><head><title>Quixotinib safety notes &lt;img src=x onerror="window.__xss=1"&gt;</title></head><body>
<h1>Quixotinib safety notes</h1>
<p>The side effects of quixotinib were mild headache in 4 of 12 patients [2] &lt;script&gt;window.__xss=1&lt;/script&gt; during the first month of treatment.</p>
<p>Side effects of quixotinib also included nausea &lt;img src=x onerror="window.__xss=1"&gt; in 1 patient, who stopped it after two weeks.</p>
<p>The side effects of quixotinib are listed in [the product label](javascript:window.__xss=1), which gives its dose as 5 mg daily.</p>
</body></html>
"""
XSS_QUESTION = "What were the side effects of quixotinib?"


BODY, HEADER = 11, 8
RUNNING_HEADER = "J Rheumatol 2024;51:1-9"


@dataclass
class DrawnPdf:
    """A PDF and, for each page, the lines of body text drawn on it (headers and page numbers not included)."""

    data: bytes
    pages: dict[int, list[str]] = field(default_factory=dict)

    def pages_holding(self, phrase: str) -> list[int]:
        """The pages whose drawn lines hold `phrase`, compared by letters and digits only (so "ran-" + "domised"
        holds "randomised", and a phrase may run from one line to the next)."""
        return [n for n, lines in self.pages.items() if _letters(phrase) in _letters("".join(lines))]


def _letters(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", text)


# Page by page: (kind, text) with kind "title" (18 pt bold), "heading" (11 pt bold), "line" (11 pt), "gap".
TRIAL_PAGES: list[list[tuple[str, str]]] = [
    [
        ("title", "Trial of drug X in rheumatoid arthritis"),
        ("gap", ""),
        ("heading", "Methods"),
        ("line", "We enrolled 120 adults with active rheumatoid arthritis and ran-"),
        ("line", "domised them to drug X or placebo. The primary analysis included all"),
    ],
    [
        ("line", "randomised patients. Pain fell by 2.1 points with drug X and by 0.9"),
        ("line", "points with placebo at the 12-week follow-"),
        ("line", "up visit."),
        ("gap", ""),
        ("heading", "Safety"),
        ("line", "Adverse events were mild. eGFR was stable in both arms."),
    ],
    [
        ("heading", "Conclusions"),
        ("line", "Drug X reduced pain in adults with rheumatoid arthritis. mRNA levels"),
        ("line", "of interleukin 6 were not measured."),
    ],
]


def trial_pdf(pages: list[list[tuple[str, str]]] = TRIAL_PAGES, *, header: bool = True) -> DrawnPdf:
    """A journal-style PDF: a running header on every page and a page number at the foot ("Page 3 of 3" on the last)."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=letter)
    width, height = letter
    drawn = DrawnPdf(b"")
    for number, content in enumerate(pages, 1):
        if header:
            pdf.setFont("Helvetica", HEADER)
            pdf.drawString(72, height - 40, RUNNING_HEADER)
        pdf.setFont("Helvetica", HEADER)
        pdf.drawCentredString(width / 2, 30, f"Page {number} of {len(pages)}" if number == len(pages) else str(number))
        y = height - 100
        drawn.pages[number] = []
        for kind, text in content:
            if kind == "gap":
                y -= 12
                continue
            pdf.setFont("Helvetica-Bold" if kind in ("title", "heading") else "Helvetica", 18 if kind == "title" else BODY)
            pdf.drawString(72, y, text)
            y -= 28 if kind == "title" else 15
            if kind == "line":
                drawn.pages[number].append(text)
        pdf.showPage()
    pdf.save()
    drawn.data = buffer.getvalue()
    return drawn


def scanned_page_pdf() -> bytes:
    """Two pages: text on the first, only a picture (a scanned page) on the second."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=letter)
    pdf.setFont("Helvetica", BODY)
    pdf.drawString(72, 700, "Methotrexate is started at 15 mg weekly.")
    pdf.showPage()
    picture = Image.new("L", (60, 80), 200)
    pdf.drawImage(ImageReader(picture), 72, 300, width=400, height=400)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def protocol_docx() -> bytes:
    """A hospital-protocol style .docx: title property, headings, bullet and numbered lists, a table with a header row."""
    document = docx.Document()
    document.core_properties.title = "Drug X protocol for adults"
    document.add_heading("Drug X protocol", level=1)
    document.add_paragraph("Give drug X to adults with active disease. mRNA testing is not needed.")
    document.add_heading("Dosing", level=2)
    document.add_paragraph("10 mg daily for 12 weeks", style="List Bullet")
    document.add_paragraph("5 mg daily in renal impairment", style="List Bullet")
    document.add_paragraph("Stop if ALT rises above 3 times normal", style="List Number")
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip([*table.rows[0].cells, *table.rows[1].cells], ["Dose", "Weeks", "10 mg", "12"], strict=True):
        cell.text = text
    repeat = OxmlElement("w:tblHeader")  # Word's "repeat as header row": the row of column names
    repeat.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(repeat)
    paragraph = document.add_paragraph("Check the blood count")
    paragraph.add_run().add_break()
    paragraph.add_run("every 4 weeks.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
