"""Word .docx through mammoth (docx → semantic HTML: headings by style, nested lists, tables), then html.py."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import mammoth

from ...errors import DocumentError
from .builder import TextBuilder, squash
from .html import html_into

_FIX = "Open it in Word or LibreOffice and save it again as .docx, or export it as PDF."


def load_docx(raw: bytes, path: Path) -> tuple[dict[str, Any], TextBuilder, list[str]]:
    try:
        html = mammoth.convert_to_html(io.BytesIO(raw), convert_image=mammoth.images.img_element(lambda image: {})).value
        title = _core_title(raw)
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError, OSError) as exc:
        raise DocumentError(str(path), f"the .docx could not be read ({type(exc).__name__}: {exc})", _FIX) from exc
    except Exception as exc:  # mammoth and its XML reader raise many types on damaged files  # noqa: BLE001
        raise DocumentError(str(path), f"the .docx is malformed ({type(exc).__name__}: {exc})", _FIX) from exc
    builder = TextBuilder()
    html_into(builder, html, page=False)
    return ({"title": title} if title else {}), builder, []


def _core_title(raw: bytes) -> str:
    """The title in the document's properties (docProps/core.xml), if it has one."""
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        if "docProps/core.xml" not in archive.namelist():
            return ""
        root = ElementTree.fromstring(archive.read("docProps/core.xml"))
    node = root.find("{http://purl.org/dc/elements/1.1/}title")
    return squash(node.text or "") if node is not None else ""
