"""Format loaders for stage 1 (ingest): each turns one file type into blocks of plain text with exact offsets.

    builder.py   TextBuilder: blocks (and, for paged formats, page marks) accumulated into one text
    markdown.py  .md/.txt through markdown-it-py (front matter, footnotes, tables; HTML blocks via html.py)
    html.py      .html through selectolax, boilerplate (navigation, asides, adverts) left out
    docx.py      .docx through mammoth to HTML, then html.py
    pdf.py       .pdf through pypdfium2: pages, running headers and page numbers left out, hyphenation joined

Every loader has the signature of `ingest.Loader`; `ingest.LOADERS` maps file extensions to them.
"""
