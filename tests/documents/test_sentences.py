"""The sentence splitter on the Pragmatic Segmenter's golden rules and on medical prose (fixtures: data/sentences.py)."""

from __future__ import annotations

import pytest
from data.sentences import GOLDEN_RULES, MEDICAL

from assistant.documents.chunk import split_sentences


def _split(text: str) -> list[str]:
    return [text[s:e] for s, e in split_sentences(text, 0, len(text))]


@pytest.mark.parametrize(("text", "expected"), GOLDEN_RULES, ids=[t[:40] for t, _ in GOLDEN_RULES])
def test_golden_rule(text: str, expected: list[str]) -> None:
    assert _split(text) == expected


@pytest.mark.parametrize(("text", "expected"), MEDICAL, ids=[t[:40] for t, _ in MEDICAL])
def test_medical_sentence(text: str, expected: list[str]) -> None:
    assert _split(text) == expected


def test_spans_are_offsets_into_the_whole_text() -> None:
    text = "Intro. eGFR fell. The U.S. FDA agreed."
    start = text.index("eGFR")
    spans = split_sentences(text, start, len(text))
    assert [text[s:e] for s, e in spans] == ["eGFR fell.", "The U.S. FDA agreed."]
    assert spans[0][0] == start, "offsets are absolute, not relative to the slice"
