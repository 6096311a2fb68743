"""Assertions shared by several test files."""

from __future__ import annotations

import re

from assistant import Answer, Assistant


def assert_verbatim(assistant: Assistant, answer: Answer) -> None:
    """Every citation is an exact slice of its document and its source is listed; numbers are unique."""
    sources = {s.doc_id for s in answer.sources}
    for citation in answer.citations:
        assert assistant.index.documents[citation.doc_id].text[citation.start : citation.end] == citation.quote
        assert citation.doc_id in sources
    assert len({c.number for c in answer.citations}) == len(answer.citations)


def markers(text: str) -> set[int]:
    """The [n] citation markers in an answer's text."""
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}
