"""Assertions shared by several test files."""

from __future__ import annotations

import re

from typer.testing import Result

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


def assert_clean_failure(result: Result, *needles: str) -> None:
    """A CLI failure: non-zero exit, no traceback, exactly one 'Error: …' line on stderr holding the needles."""
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("Error: "), result.stderr
    assert all(needle in errors[0] for needle in needles)


def own_voice(text: str) -> str:
    """An answer's text without its “quotes”: the words the assistant says itself."""
    return re.sub(r"“[^”]*”", " ", text)
