"""Answer-level scoring on the external datasets (eval/suites/answers.py), on constructed answers."""

from __future__ import annotations

from assistant import Answer, Citation
from eval.suites.answers import answer_metrics, holds_span, score_answer, spread, word_recall
from eval.suites.datasets import Query


def _citation(number: int, doc_id: str, quote: str) -> Citation:
    return Citation(number, doc_id, "t", quote, 0, len(quote), "", f"{doc_id}#0")


def _answer(citations: list[Citation], bottom: list[int], text: str | None = None) -> Answer:
    body = text if text is not None else " ".join(f"“{c.quote}” [{c.number}]" for c in citations)
    return Answer("q", body, citations, [], False, "q", bottom_line=bottom)


QUERY = Query("q1", "How long was the incubation period?", frozenset({"own"}), answer="a mean of 5.1 days", group="1")


def test_a_quote_holds_a_span_with_60_percent_of_its_words() -> None:
    assert holds_span("The incubation period had a mean of 5.1 days (95% CI).", "a mean of 5.1 days")
    assert holds_span("It had a mean of 5.1 weeks.", "a mean of 5.1 days"), "5 of 6 words"
    assert not holds_span("The mean was long.", "a mean of 5.1 days"), "2 of 6 words"
    assert not holds_span("anything", ""), "an empty span is never held"


def test_word_recall_counts_distinct_content_words() -> None:
    assert word_recall(["Coffee lowers liver enzymes."], "Coffee lowers the liver enzymes of drinkers.") == 0.8
    assert word_recall([], "Coffee helps.") == 0.0


def test_an_answer_opening_with_its_own_document_and_quoting_the_span() -> None:
    own, other = _citation(1, "own", "The incubation period had a mean of 5.1 days."), _citation(2, "x", "Masks help.")
    scored = score_answer(QUERY, _answer([own, other], [1, 2]), 12.0, spans=True)
    assert scored.opens_with_own and scored.span_in_bottom_line and scored.span_in_answer and not scored.absent
    assert (scored.own_citations, scored.citations) == (1, 2)


def test_a_span_quoted_outside_the_bottom_line_and_another_document_first() -> None:
    own, other = _citation(2, "own", "The incubation period had a mean of 5.1 days."), _citation(1, "x", "Masks help.")
    scored = score_answer(QUERY, _answer([other, own], [1]), 12.0, spans=True)
    assert not scored.opens_with_own and not scored.span_in_bottom_line and scored.span_in_answer


def test_citations_never_marked_in_the_text_do_not_count() -> None:
    own = _citation(1, "own", "The incubation period had a mean of 5.1 days.")
    scored = score_answer(QUERY, _answer([own], [1], text="**Not covered by the indexed sources.**"), 3.0, spans=True)
    assert scored.absent and scored.citations == 0 and not scored.span_in_answer


def test_metrics_over_scored_answers() -> None:
    own = _citation(1, "own", "The incubation period had a mean of 5.1 days.")
    good = score_answer(QUERY, _answer([own], [1]), 10.0, spans=True)
    bad = score_answer(QUERY, _answer([_citation(1, "x", "Masks help.")], [1]), 10.0, spans=True)
    metrics = answer_metrics([good, bad], spans=True)
    assert metrics["opens_with_own_document"] == 0.5 and metrics["span_in_bottom_line"] == 0.5
    assert metrics["own_document_citation_share"] == 0.5 and metrics["false_absence_rate"] == 0.0
    assert "long_answer_recall" in answer_metrics([good], spans=False)


def test_spread_takes_questions_evenly_and_deterministically() -> None:
    queries = [Query(str(i), "q", frozenset()) for i in range(10)]
    assert [q.id for q in spread(queries, 5)] == ["0", "2", "4", "6", "8"]
    assert spread(queries, None) == queries and spread(queries, 20) == queries


def test_a_named_unmentioned_word_is_an_absence_but_not_an_abstention() -> None:
    own = _citation(1, "own", "The incubation period had a mean of 5.1 days.")
    text = f"“{own.quote}” [1]\n\n**What the sources leave open**\n\n- No indexed passage mentions: “quarantine”."
    noted = score_answer(QUERY, _answer([own], [1], text=text), 10.0, spans=True)
    refused = score_answer(QUERY, Answer("q", "**Not covered by the indexed sources.**", [], [], True, "q"), 10.0, spans=True)
    assert noted.absent and not noted.abstained and refused.absent and refused.abstained
    metrics = answer_metrics([noted, refused], spans=True)
    assert metrics["false_absence_rate"] == 1.0 and metrics["false_abstention_rate"] == 0.5
