"""The per-document suite's scoring (eval/suites/perdoc.py), on constructed answers and records."""

from __future__ import annotations

from assistant import Answer, Citation
from eval.suites.answers import score_answer
from eval.suites.datasets import Query, RetrievalSet
from eval.suites.perdoc import (
    Abstract,
    other_question_case,
    perdoc_metrics,
    quotes_results,
    results_paragraphs,
    same_answer,
    scoped_case,
    scoped_metrics,
    split_documents,
)
from eval.training.splits import Splits

RECORD = {
    "CONTEXTS": ["We asked whether coffee helps.", "We enrolled 40 drinkers.", "Enzymes fell by 20%  in drinkers."],
    "LABELS": ["BACKGROUND", "METHODS", "RESULTS"],
}


def _answer(quotes: list[str], bottom: list[int], abstained: bool = False) -> Answer:
    citations = [Citation(n, "own", "t", q, 0, len(q), "", "own#0") for n, q in enumerate(quotes, start=1)]
    text = "**Not covered by the indexed sources.**" if abstained else " ".join(f"“{q}” [{n}]" for n, q in enumerate(quotes, start=1))
    return Answer("q", text, citations, [], abstained, "q", bottom_line=bottom)


def test_results_paragraphs_are_those_labelled_results_or_findings() -> None:
    assert results_paragraphs(RECORD) == ["Enzymes fell by 20%  in drinkers."]
    assert results_paragraphs({"CONTEXTS": ["a", "b"], "LABELS": ["PRINCIPAL FINDINGS", "methods and results"]}) == ["a", "b"]


def test_a_bottom_line_quotes_results_only_through_its_own_quotes() -> None:
    found = results_paragraphs(RECORD)
    assert quotes_results(_answer(["We enrolled 40 drinkers.", "Enzymes fell by 20% in drinkers."], [1, 2]), found), "whitespace is normalised"
    assert not quotes_results(_answer(["We enrolled 40 drinkers.", "Enzymes fell by 20% in drinkers."], [1]), found), "quoted, but not in the bottom line"
    assert not quotes_results(_answer(["We asked whether coffee helps."], [1]), found)


def test_metrics_name_each_dataset_and_skip_abstracts_without_results() -> None:
    query = Query("p", "Does coffee help?", frozenset({"own"}), answer="Coffee helps the liver.", group="p")
    span = Query("c", "How many drinkers?", frozenset({"own"}), answer="40 drinkers", group="1")
    paper = score_answer(span, _answer(["We enrolled 40 drinkers."], [1]), 5.0, spans=True)
    good = Abstract(score_answer(query, _answer(["Enzymes fell by 20% in drinkers."], [1]), 5.0, spans=False), True)
    absent = Abstract(score_answer(query, _answer([], [], abstained=True), 5.0, spans=False), False)
    unlabelled = Abstract(score_answer(query, _answer(["We asked whether coffee helps."], [1]), 5.0, spans=False), None)
    metrics = perdoc_metrics([paper], [good, absent, unlabelled])
    assert metrics["covidqa_span_in_bottom_line"] == 1.0 and metrics["covidqa_false_absence_rate"] == 0.0
    assert metrics["pubmedqa_results_share"] == 0.5, "the abstract labelling no results paragraph is not counted"
    assert abs(metrics["pubmedqa_false_absence_rate"] - 1 / 3) < 1e-9 and metrics["pubmedqa_false_abstention_rate"] == metrics["pubmedqa_false_absence_rate"]
    assert set(perdoc_metrics([], [good])) == {"pubmedqa_false_absence_rate", "pubmedqa_false_abstention_rate", "pubmedqa_long_answer_recall", "pubmedqa_results_share"}


def test_an_abstract_asked_another_ones_question_should_say_not_covered() -> None:
    other = Query("q2", "Does tea help?", frozenset({"p2"}), answer="Tea helps.", group="p2")
    refused = other_question_case("p1", other, _answer([], [], abstained=True))
    answered = other_question_case("p1", other, _answer(["Enzymes fell by 20% in drinkers."], [1]))
    assert refused.passed and not answered.passed and answered.case_id == "p1<-q2"
    assert perdoc_metrics([], [], [refused, answered])["pubmedqa_other_question_abstention"] == 0.5


def test_documents_of_a_split_spread_evenly() -> None:
    keys = ["10001", "10002", "10003", "10004"]
    queries = [Query(f"q{i}", "?", frozenset({f"d{i}"}), group=key) for i, key in enumerate(keys)]
    data = RetrievalSet("pubmedqa", {f"d{i}": "text" for i in range(4)}, queries, "pubmedqa-x-4")
    splits = Splits({"pubmedqa": {"dev": ["10001", "10002", "10004"], "test": ["10003"]}})
    assert split_documents(data, splits, "dev", None) == ["d0", "d1", "d3"]
    assert split_documents(data, splits, "dev", 2) == ["d0", "d1"]
    assert split_documents(data, splits, "test", 5) == ["d2"]


def test_scoped_and_alone_agree_when_both_open_with_the_same_sentence_or_both_say_not_covered() -> None:
    opening = _answer(["Enzymes fell by 20% in drinkers.", "We enrolled 40 drinkers."], [1, 2])
    assert same_answer(opening, _answer(["Enzymes fell by 20%  in drinkers."], [1])), "the rest of the bottom line may differ"
    assert not same_answer(opening, _answer(["We enrolled 40 drinkers.", "Enzymes fell by 20% in drinkers."], [1, 2]))
    assert not same_answer(opening, _answer([], [], abstained=True))
    assert same_answer(_answer([], [], abstained=True), _answer([], [], abstained=True))


def test_a_scoped_case_says_which_answer_differs() -> None:
    span = Query("c", "How many drinkers?", frozenset({"own"}), answer="40 drinkers", group="1")
    answered, other, absent = _answer(["We enrolled 40 drinkers."], [1]), _answer(["Enzymes fell."], [1]), _answer([], [], abstained=True)
    assert scoped_case("covidqa", span, answered, answered).passed
    assert scoped_case("covidqa", span, answered, absent).detail == "scoped says not covered, alone answers"
    assert scoped_case("covidqa", span, absent, answered).detail == "alone says not covered, scoped answers"
    case = scoped_case("pubmedqa", span, answered, other)
    assert (case.kind, case.passed, case.detail) == ("scoped-pubmedqa", False, "opens with another sentence than alone")


def test_scoped_metrics_are_the_perdoc_figures_named_scoped_and_the_agreement() -> None:
    span = Query("c", "How many drinkers?", frozenset({"own"}), answer="40 drinkers", group="1")
    missed = score_answer(span, _answer(["Enzymes fell by 20% in drinkers."], [1]), 0.0, spans=True)
    found = score_answer(span, _answer(["We enrolled 40 drinkers."], [1]), 0.0, spans=True)
    metrics = scoped_metrics([missed, found], [], [True, False, False, True])
    assert metrics == {"scoped_covidqa_span_in_bottom_line": 0.5, "scoped_covidqa_false_absence_rate": 0.0, "scoped_agreement": 0.5}
