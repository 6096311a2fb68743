"""The ranking core as pure functions on small arrays: fusion, diversity, the v1 rule and its fusion with the scorer,
and follow-up condensing on hand-built turns (bm25s style: each behaviour pinned on a case small enough to check by hand)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant import Assistant
from assistant.answer.compose import _motivation_aside
from assistant.answer.retrieve import Ranking, diversify, rrf
from assistant.answer.scorer import FEATURES, fused_order, rule_scores
from assistant.answer.sentences import Candidate
from assistant.chat.conversation import Turn, condense
from assistant.schema import UNKNOWN_GRADE, Chunk, Hit
from assistant.settings import ComposeSettings


def rows(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def hit(doc: str, n: int, similarity: float, rank: int, kind: str = "text") -> Hit:
    chunk = Chunk(f"{doc}#{n}", doc, 0, 1, "", kind, Chunk.pack([(0, 1)]), "x")  # type: ignore[arg-type]
    return Hit(chunk, 1.0 / (rank + 1), similarity, rank)


# ---------------------------------------------------------------- rrf


def test_rrf_sums_weighted_reciprocal_ranks() -> None:
    fused = rrf([Ranking("a", rows(7, 3), 1.0), Ranking("b", rows(3, 9), 0.5)], constant=1)
    assert fused == pytest.approx({3: 1 / 3 + 0.5 / 2, 7: 1 / 2, 9: 0.5 / 3})
    assert list(fused) == [3, 7, 9], "best first"


def test_rrf_halves_demoted_rows_and_keeps_first_seen_order_on_ties() -> None:
    fused = rrf([Ranking("a", rows(1, 2), 1.0), Ranking("b", rows(2, 1), 1.0)], constant=0, demoted=frozenset({2}))
    assert fused[2] == pytest.approx(fused[1] / 2)
    tied = rrf([Ranking("a", rows(5), 1.0), Ranking("b", rows(4), 1.0)], constant=0)
    assert list(tied) == [5, 4]


def test_rrf_of_nothing_is_empty() -> None:
    assert rrf([], 60) == {} and rrf([Ranking("a", rows(), 1.0)], 60) == {}


# ---------------------------------------------------------------- diversify


def test_diversify_makes_room_for_a_document_with_evidence() -> None:
    hits = [hit("a", i, 0.8, i) for i in range(4)] + [hit("b", 0, 0.5, 4)]
    chosen = diversify(hits, k=3, reserve=1, floor=0.3)
    assert [h.chunk_id for h in chosen] == ["a#0", "b#0", "a#1"], "b's chunk replaces a's last; each leader first"
    assert [h.rank for h in chosen] == [0, 1, 2]


def test_diversify_leaves_out_chunks_below_the_floor_and_apparatus() -> None:
    hits = [hit("a", 0, 0.8, 0), hit("a", 1, 0.8, 1), hit("b", 0, 0.1, 2), hit("c", 0, 0.9, 3, kind="apparatus")]
    chosen = diversify(hits, k=2, reserve=1, floor=0.3)
    assert [h.chunk_id for h in chosen] == ["a#0", "a#1"]


def test_diversify_never_returns_more_than_k_nor_evicts_below_the_reserve() -> None:
    hits = [hit("a", 0, 0.8, 0), hit("b", 0, 0.8, 1), hit("c", 0, 0.8, 2)]
    chosen = diversify(hits, k=2, reserve=1, floor=0.3)
    assert [h.chunk_id for h in chosen] == ["a#0", "b#0"], "no document holds more than its reserve: c waits"


# ---------------------------------------------------------------- the v1 rule and its fusion with the scorer


def test_rule_scores_mix_similarity_cue_and_coverage() -> None:
    features = np.zeros((2, len(FEATURES)), np.float32)
    col = {name: i for i, name in enumerate(FEATURES)}
    features[0, [col["dense"], col["coverage"]]] = (0.5, 1.0)
    features[1, [col["dense"], col["typed"]]] = (0.5, 1.0)
    settings = ComposeSettings(rule_similarity_weight=0.6, rule_cue_bonus=0.1)
    assert rule_scores(features, settings) == pytest.approx([0.6 * 0.5 + 0.4, 0.6 * 0.6], abs=1e-6)


def test_fused_order_breaks_ties_by_the_scorer_and_k0_is_the_scorer_alone() -> None:
    evidence = np.array([0.9, 0.5, 0.1])
    rule = np.array([0.1, 0.5, 0.9])
    assert fused_order(evidence, rule, 0).tolist() == [0, 1, 2]
    # 0 and 2 tie (1/21 + 1/23 each, ranks from 1) and beat 1 (2/22): the scorer's order breaks the tie
    assert fused_order(evidence, rule, 20).tolist() == [0, 2, 1]
    assert fused_order(evidence, np.array([0.1, 0.9, 0.5]), 1).tolist() == [1, 0, 2]


# ---------------------------------------------------------------- condense, on hand-built turns


def turn(question: str, entities: tuple[str, ...]) -> Turn:
    return Turn(question, question, entities, None)


def test_condense_resolves_it_to_the_latest_turns_entity(assistant: Assistant) -> None:
    history = [turn("Can Rinvoq help dermatomyositis?", ("Rinvoq", "dermatomyositis"))]
    searched, entities = condense(assistant, "What side effects were seen with it?", history)
    assert searched == "What side effects were seen with Rinvoq?"
    assert entities[0] == "Rinvoq"


def test_condense_leaves_a_question_with_its_own_topic_alone(assistant: Assistant) -> None:
    history = [turn("Can Rinvoq help dermatomyositis?", ("Rinvoq", "dermatomyositis"))]
    question = "What dose of methotrexate is used?"
    assert condense(assistant, question, history)[0] == question


def test_condense_appends_the_carried_entities_to_an_elliptic_follow_up(assistant: Assistant) -> None:
    history = [turn("Can Rinvoq help dermatomyositis?", ("Rinvoq", "dermatomyositis"))]
    searched, _ = condense(assistant, "And the dose?", history)
    assert searched.startswith("And the dose? (about: ") and "Rinvoq" in searched and "dermatomyositis" in searched


def test_condense_carries_at_most_the_configured_number_of_entities(assistant: Assistant) -> None:
    history = [turn(f"Question {i}", (f"entity{i}a", f"entity{i}b")) for i in range(4)]
    _, entities = condense(assistant, "And the dose?", history)
    assert len(entities) <= assistant.settings.conversation.carried


# ---------------------------------------------------------------- a study's motivation, set aside


def sentence(text: str, role: str, *, absence: bool = False, matched: frozenset[str] = frozenset(), dense: float = 0.3) -> Candidate:
    return Candidate(hit("doc", 0, 0.5, 0), 0, len(text), text, dense, 0.0, matched, role=role, absence=absence)


CLAIMED = sentence("Whether wibblomab alters hearing has not been investigated.", "background", absence=True, matched=frozenset({"wibblomab"}))


@pytest.mark.parametrize(
    ("own", "set_aside"),
    [
        (sentence("Hearing was tested in 60 patients given wibblomab.", "method", matched=frozenset({"wibblomab"})), True),
        (sentence("Ten patients were given wibblomab.", "method", matched=frozenset({"wibblomab"})), True),  # no digit: "were"
        (sentence("Any advice on wibblomab has to rely on clinical experience.", "finding", matched=frozenset({"wibblomab"})), False),
        (sentence("Our nurses follow the protocol.", "method", matched=frozenset({"follow"})), False),  # names no topic
    ],
)
def test_only_a_study_reporting_its_own_work_sets_its_background_claim_aside(own: Candidate, set_aside: bool) -> None:
    """A study's own methods or results, told with a number or in the past, make its "has not been investigated" the
    motivation of its work; a page's present-tense aside does not, nor one about no specific topic."""
    kept = _motivation_aside([CLAIMED, own], UNKNOWN_GRADE, frozenset({"wibblomab"}), close=0.55)
    assert (CLAIMED not in kept) is set_aside
