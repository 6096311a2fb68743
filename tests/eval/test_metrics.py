"""The eval metrics on constructed answers: each test names the behaviour a metric must catch."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assistant import Answer, Citation, ConfigError, Document
from eval.suites.metrics import (
    Bound,
    abstention_correct,
    check_fact,
    check_thresholds,
    citation_check,
    cited_numbers,
    claims_citing,
    detection,
    first_relevant_rank,
    grounded,
    is_absent,
    mean_reciprocal_rank,
    recall_at,
    score_citations,
    verbatim,
)

TEXT = (
    "Aggregate analysis revealed improvement in CDASI score from median of 10.5 to 2.5 (p value = 0.014). "
    "Of the two patients reliant on intravenous IG therapy at baseline, one was able to discontinue intravenous IG."
)
OTHER = "Rinvoq is not currently recommended, as there is insufficient evidence."
DOCS = {
    "cs": Document("cs", "Case series", TEXT, (), {}, "cs.md", "x"),
    "ca": Document("ca", "Clinical answer", OTHER, (), {}, "ca.md", "y"),
}


def cite(number: int, doc_id: str, start: int, end: int) -> Citation:
    text = DOCS[doc_id].text
    return Citation(number, doc_id, DOCS[doc_id].title, text[start:end], start, end, "", f"{doc_id}#0")


def answer(text: str, citations: list[Citation], abstained: bool = False) -> Answer:
    return Answer("q", text, citations, [], abstained, "q")


AGGREGATE = cite(1, "cs", 0, TEXT.index("0.014).") + len("0.014)."))
CONCLUSION = cite(2, "ca", 0, len(OTHER))


# ---------------------------------------------------------------- facts

def test_fact_found_when_pattern_is_in_text_and_cited_to_its_document() -> None:
    ans = answer(f"“{AGGREGATE.quote}” [1]", [AGGREGATE])
    assert check_fact(ans, [r"10\.5.*2\.5", r"0\.014"], "cs").found


def test_fact_cited_to_the_wrong_document_is_not_found() -> None:
    ans = answer(f"“{AGGREGATE.quote}” [1]", [AGGREGATE])
    result = check_fact(ans, [r"0\.014"], "ca")
    assert not result.found and result.cited_elsewhere == ("cs",), "a fact must be credited to its own document"
    assert "cited to cs instead" in result.reason("ca")


def test_fact_in_text_without_a_citation_marker_is_not_found() -> None:
    ans = answer(f"“{AGGREGATE.quote}”", [AGGREGATE])
    assert not check_fact(ans, [r"0\.014"], "cs").found, "an uncited statement is not a cited fact"


def test_missing_pattern_is_reported_by_name() -> None:
    ans = answer(f"“{AGGREGATE.quote}” [1]", [AGGREGATE])
    result = check_fact(ans, [r"0\.014", r"0\.0625"], "cs")
    assert not result.found and result.missing == (r"0\.0625",)


def test_every_pattern_must_hold_in_one_cited_passage() -> None:
    ivig = cite(2, "cs", TEXT.index("Of the"), len(TEXT))
    ans = answer(f"“{AGGREGATE.quote}” [1] “{ivig.quote}” [2]", [AGGREGATE, ivig])
    assert not check_fact(ans, [r"0\.014", r"intravenous IG"], "cs").found, "patterns split over passages"


def test_patterns_tolerate_unicode_forms() -> None:
    doc = Document("d", "D", "Typically started at 15-20 mg/m²/week.", (), {}, "d.md", "z")
    citation = Citation(1, "d", "D", doc.text, 0, len(doc.text), "", "d#0")
    assert check_fact(answer(f"“{doc.text}” [1]", [citation]), [r"mg/m2/week"], "d").found


# ---------------------------------------------------------------- absence

def test_abstention_on_a_gold_fact_counts_as_absent() -> None:
    ans = answer("**Not covered by the indexed sources.** Searched for: x.", [], abstained=True)
    assert is_absent(ans)
    assert not check_fact(ans, [r"0\.014"], "cs").found


def test_absence_claim_in_own_words_counts_even_without_abstaining() -> None:
    assert is_absent(answer("The indexed sources do not state a dose for upadacitinib.", []))


def test_absence_words_inside_a_quote_do_not_count() -> None:
    quote = "The most recent guidelines do not mention JAK inhibitors"
    assert not is_absent(answer(f"“{quote}” [1]", [])), "a source saying 'do not mention' is not an abstention"


def test_abstention_with_an_invented_answer_is_wrong() -> None:
    ans = answer("Not covered by the indexed sources. Upadacitinib 15 mg daily is typical.", [])
    assert not abstention_correct(ans, [r"upadacitinib[^.]{0,60}\d+ ?mg"])
    assert abstention_correct(ans, [])


def test_an_answer_is_not_an_abstention() -> None:
    assert not abstention_correct(answer(f"“{OTHER}” [2]", [CONCLUSION]))


# ---------------------------------------------------------------- citations

def test_verbatim_citation_scores_one() -> None:
    ans = answer(f"“{AGGREGATE.quote}” [1]", [AGGREGATE])
    assert score_citations(ans, DOCS).correct == 1 and score_citations(ans, DOCS).total == 1


def test_tampered_quote_scores_zero() -> None:
    tampered = replace(AGGREGATE, quote=AGGREGATE.quote.replace("0.014", "0.001"))
    score = score_citations(answer(f"“{tampered.quote}” [1]", [tampered]), DOCS)
    assert (score.correct, score.total) == (0, 1)


def test_shifted_offsets_score_zero() -> None:
    shifted = replace(AGGREGATE, start=AGGREGATE.start + 1)
    assert not verbatim(shifted, answer("[1]", [shifted]), DOCS)


def test_citation_to_an_unknown_document_scores_zero() -> None:
    stray = replace(AGGREGATE, doc_id="missing")
    assert not verbatim(stray, answer("[1]", [stray]), DOCS)


def test_dangling_marker_counts_as_a_failed_citation() -> None:
    score = score_citations(answer(f"“{AGGREGATE.quote}” [1] and more [7]", [AGGREGATE]), DOCS)
    assert (score.correct, score.total) == (1, 2) and "[7]" in score.bad[0]


def test_markers_with_several_numbers_are_parsed() -> None:
    assert cited_numbers("a [1] b [2, 3] c [10]") == {1, 2, 3, 10}


def test_grounded_check_accepts_a_faithful_paraphrase() -> None:
    ans = answer("CDASI improved from a median of 10.5 to 2.5 (p = 0.014) [1].", [AGGREGATE])
    assert grounded(AGGREGATE, ans, DOCS)


def test_grounded_check_rejects_a_number_not_in_the_passage() -> None:
    ans = answer("CDASI improved from a median of 10.5 to 1.5 (p = 0.014) [1].", [AGGREGATE])
    assert verbatim(AGGREGATE, ans, DOCS) and not grounded(AGGREGATE, ans, DOCS)


def test_grounded_check_rejects_a_claim_about_something_else() -> None:
    ans = answer("Tofacitinib caused pneumonia and herpes zoster reactivation [1].", [AGGREGATE])
    assert not grounded(AGGREGATE, ans, DOCS)


def test_claims_are_the_text_before_each_marker() -> None:
    assert claims_citing("“A” [1] “B” [2]\nC [1, 2]", 2) == [" “B” ", "C "]


def test_unknown_citation_check_lists_valid_names() -> None:
    with pytest.raises(ConfigError, match="extractive"):
        citation_check("llm")


# ---------------------------------------------------------------- disagreement detection

def test_detection_counts_each_outcome_against_its_label() -> None:
    # (labelled disagree, flagged): 3 caught, 1 missed, 1 false alarm, 2 rightly quiet
    outcomes = [(True, True)] * 3 + [(True, False), (False, True)] + [(False, False)] * 2
    found = detection(outcomes)
    assert found.counts() == {"TP": 3, "FP": 1, "FN": 1, "TN": 2}
    assert found.precision == pytest.approx(3 / 4) and found.recall == pytest.approx(3 / 4)


def test_a_detector_that_never_flags_scores_zero_not_perfect() -> None:
    quiet = detection([(True, False), (False, False)])
    assert quiet.precision == 0.0 and quiet.recall == 0.0, "flagging nothing must not pass a precision minimum"


def test_false_alarms_cost_precision_only() -> None:
    noisy = detection([(True, True), (False, True), (False, True)])
    assert noisy.recall == 1.0 and noisy.precision == pytest.approx(1 / 3)


# ---------------------------------------------------------------- retrieval and thresholds

def test_rank_metrics() -> None:
    ranks = [first_relevant_rank(["a", "b", "c"], {"b"}), first_relevant_rank(["a"], {"z"}), 1]
    assert ranks == [2, None, 1]
    assert recall_at(ranks, 1) == pytest.approx(1 / 3) and recall_at(ranks, 5) == pytest.approx(2 / 3)
    assert mean_reciprocal_rank(ranks) == pytest.approx((0.5 + 0 + 1) / 3)
    assert recall_at([], 5) == 0.0, "an empty set must not pass a minimum"


def test_thresholds_report_each_violation() -> None:
    bars = {"gold": {"fact_recall": Bound(min=0.9), "false_absence_rate": Bound(max=0.0)}}
    found = check_thresholds({"gold": {"fact_recall": 0.8, "false_absence_rate": 0.0}}, bars)
    assert [v.metric for v in found] == ["fact_recall"] and "< min 0.9" in str(found[0])
    assert check_thresholds({"gold": {"fact_recall": 0.9, "false_absence_rate": 0.1}}, bars)[0].metric == "false_absence_rate"


def test_threshold_on_an_unmeasured_metric_is_a_violation() -> None:
    found = check_thresholds({"gold": {}}, {"gold": {"fact_recall": Bound(min=0.9)}})
    assert found and "not measured" in found[0].problem


def test_a_bound_needs_min_or_max() -> None:
    with pytest.raises(ValueError):
        Bound()


def test_a_floor_gates_regressions_while_the_target_is_still_reported() -> None:
    from eval.suites.metrics import Bound

    recall = Bound(min=0.90, floor=0.70)
    assert recall.violated_by(0.80, "floor") is None and recall.violated_by(0.60, "floor") == "0.6 < floor 0.7"
    assert recall.violated_by(0.80) == "0.8 < min 0.9", "the target still fails"
    absences = Bound(max=0.0, floor=0.05)
    assert absences.violated_by(0.01, "floor") is None and absences.violated_by(0.01) is not None
    with pytest.raises(ValueError, match="never stricter"):
        Bound(min=0.9, floor=0.95)
