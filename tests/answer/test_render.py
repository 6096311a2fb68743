"""What `assistant ask` prints and the markdown export holds (assistant/answer/render.py), on the real seed index."""

from __future__ import annotations

import re

from samples import CORPUS, SEED_QUESTION

from assistant.answer.render import answer_markdown


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_the_cli_answer_shows_every_source_with_its_grade(cli, seed_index, assistant) -> None:  # type: ignore[no-untyped-def]
    expected = assistant.ask(SEED_QUESTION)
    grades = {s.grade.badge() for s in expected.sources}
    assert "evidence level 5 of 9: peer-reviewed case series (10 patients, 2024)" in grades, "the case series' grade"
    result = cli("ask", SEED_QUESTION, "--index", seed_index, "--corpus", CORPUS)
    assert result.exit_code == 0, result.output
    printed = squash(result.stdout)
    references = printed[printed.rindex("Sources") :]
    for source in expected.sources:
        cited = [c.number for c in expected.citations if c.doc_id == source.doc_id]
        assert references.count(source.grade.badge()) == len(cited), "each reference of the source names its grade"


def test_an_abstention_prints_no_references(assistant) -> None:  # type: ignore[no-untyped-def]
    answer = assistant.ask("What is the capital of France?")
    assert answer.abstained and "evidence level" not in answer_markdown(answer)
