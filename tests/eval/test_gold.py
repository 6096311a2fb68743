"""The gold set and thresholds files validate, and every gold fact really is in its document."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant import ConfigError
from assistant.documents.chunk import split_sentences
from assistant.documents.ingest import discover, load_document
from assistant.settings import Settings
from eval.suites.gold import (
    DISAGREEMENTS_PATH,
    GOLD_PATH,
    MIN_CONVERSATIONS,
    MIN_FACTS_PER_DOC,
    MIN_PAIRS,
    MIN_PAIRS_PER_LABEL,
    MIN_UNANSWERABLE,
    DisagreementSet,
    GoldSet,
    load_disagreements,
    load_gold,
)
from eval.suites.harness import load_thresholds
from eval.suites.metrics import matches_all, normalise

GOLD = load_gold()
DOCUMENTS = {d.doc_id: d for d in (load_document(p).document for p in discover([Settings().corpus_dir])[0])}


def _raw() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(GOLD_PATH.read_text(encoding="utf-8"))


def _referenced(raw: dict) -> set[str]:  # type: ignore[type-arg]
    """Fact ids used by conversations and the seed (dropping the others keeps the set self-consistent)."""
    return {e for c in raw["conversations"] for t in c["turns"] for e in t.get("expect", [])} | set(raw["seed"]["facts"])


def test_gold_set_meets_its_minimums() -> None:
    for doc_id in GOLD.documents.values():
        assert sum(f.doc == doc_id for f in GOLD.facts) >= MIN_FACTS_PER_DOC, doc_id
    assert len(GOLD.conversations) >= MIN_CONVERSATIONS
    assert len(GOLD.unanswerable) >= MIN_UNANSWERABLE
    assert {"off_topic", "absent"} <= {u.kind for u in GOLD.unanswerable}, "both kinds of unanswerable question"


def test_gold_documents_are_the_corpus() -> None:
    assert set(GOLD.documents.values()) == set(DOCUMENTS), "gold.yaml must name the corpus documents by doc_id"


@pytest.mark.parametrize("fact", GOLD.facts, ids=lambda f: f.id)
def test_every_fact_occurs_in_one_sentence_of_its_document(fact) -> None:  # type: ignore[no-untyped-def]
    doc = DOCUMENTS[fact.doc]
    sentences = [doc.text[s:e] for b in doc.blocks for s, e in split_sentences(doc.text, b.start, b.end)]
    assert any(matches_all(fact.patterns, s) for s in sentences), (
        f"{fact.id}: no sentence of {fact.doc} matches all of {fact.patterns} (a typo in the gold set?)"
    )


@pytest.mark.parametrize("item", GOLD.unanswerable, ids=lambda u: u.id)
def test_forbidden_answers_are_not_in_the_corpus(item) -> None:  # type: ignore[no-untyped-def]
    text = normalise(" ".join(d.text for d in DOCUMENTS.values()))
    assert not any(re.search(p, text, re.I) for p in item.forbidden), f"{item.id}: the corpus does state this"


def test_seed_needs_facts_from_every_document() -> None:
    assert {GOLD.fact(f).doc for f in GOLD.seed.facts} == set(DOCUMENTS)
    assert set(GOLD.seed.disagreement_docs) == set(DOCUMENTS)


def test_conversation_follow_ups_lean_on_earlier_turns() -> None:
    pronoun = re.compile(r"\b(it|its|they|their|them|the study|the drug|anyone|that)\b|^(and|what about)\b", re.I)
    for conversation in GOLD.conversations:
        for turn in conversation.turns[1:]:
            assert pronoun.search(turn.question), f"{conversation.id}: {turn.question!r} stands on its own"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda g: g.update(facts=[f for f in g["facts"] if f["id"] in _referenced(g) or f["doc"] != g["facts"][0]["doc"]]), "at least 15"),
        (lambda g: g["facts"][0].update(patterns=["(unclosed"]), "does not compile"),
        (lambda g: g["conversations"][0]["turns"][0].update(expect=["no-such-fact"]), "unknown fact ids"),
        (lambda g: g["conversations"][0]["turns"][0].update(abstain=True), "not both"),
        (lambda g: g.update(unanswerable=g["unanswerable"][:3]), "unanswerable"),
        (lambda g: g["facts"][0].update(extra="typo"), "extra"),
    ],
)
def test_schema_refuses_broken_gold_sets(change, message) -> None:  # type: ignore[no-untyped-def]
    raw = _raw()
    change(raw)
    with pytest.raises(ValueError, match=message):
        GoldSet.model_validate(raw)


def test_broken_gold_file_raises_config_error(tmp_path: Path) -> None:
    path = tmp_path / "gold.yaml"
    path.write_text("facts: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid"):
        load_gold(path)


def test_disagreement_pairs_meet_their_minimums() -> None:
    pairs = load_disagreements().pairs
    assert len(pairs) >= MIN_PAIRS
    for label in ("disagree", "agree", "talk_past"):
        assert sum(p.label == label for p in pairs) >= MIN_PAIRS_PER_LABEL, label
    assert all(len(p.documents) == 2 for p in pairs), "a pair is two documents"
    assert len({p.question for p in pairs}) == len(pairs), "one question per pair"


def _raw_pairs() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(DISAGREEMENTS_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["pairs"].append(dict(d["pairs"][0])), "duplicate pair ids"),
        (lambda d: [p.update(label="disagree") for p in d["pairs"] if p["label"] == "agree"], "0 agree pairs"),
        (lambda d: d.update(pairs=d["pairs"][:5]), f"at least {MIN_PAIRS}"),
        (lambda d: d["pairs"][0].update(label="contradict"), "disagree"),
        (lambda d: d["pairs"][0]["documents"].popitem(), "at least 2"),
        (lambda d: d["pairs"][0].update(source="typo"), "extra"),
    ],
)
def test_schema_refuses_broken_disagreement_pairs(change, message) -> None:  # type: ignore[no-untyped-def]
    raw = _raw_pairs()
    change(raw)
    with pytest.raises(ValueError, match=message):
        DisagreementSet.model_validate(raw)


def test_broken_disagreement_file_raises_config_error(tmp_path: Path) -> None:
    path = tmp_path / "disagreements.yaml"
    path.write_text("pairs: [", encoding="utf-8")
    with pytest.raises(ConfigError, match="disagreement pairs .* invalid"):
        load_disagreements(path)


def test_thresholds_hold_the_project_targets() -> None:
    bars = load_thresholds()
    gold = bars["gold"]
    assert gold["fact_recall"].min >= 0.90 and gold["multi_turn_fact_recall"].min >= 0.90
    assert gold["citation_precision"].min == 1.0 and gold["abstention_accuracy"].min == 1.0
    assert gold["false_absence_rate"].max == 0.0
    assert gold["disagreement_precision"].min >= 0.90 and gold["disagreement_recall"].min >= 0.90
    assert bars["pubmedqa"]["recall@5"].min >= 0.98


def test_thresholds_refuse_unknown_metrics(tmp_path: Path) -> None:
    path = tmp_path / "thresholds.yaml"
    path.write_text("gold:\n  fact_recal: {min: 0.9}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="fact_recall"):
        load_thresholds(path)
