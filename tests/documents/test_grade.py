"""Evidence grades (assistant/documents/grade.py): the hierarchy, its modifiers, and front matter that contradicts itself."""

from __future__ import annotations

import pytest
from samples import CORPUS

from assistant.documents.grade import comparable, grade_of, kind_of
from assistant.documents.ingest import load_document
from assistant.documents.profile import profile_for
from assistant.schema import EvidenceProfile


def profile(doc_type: str, peer: bool | None = None, date: str | None = None, sample: int | None = None, design: str | None = None) -> EvidenceProfile:
    return EvidenceProfile(doc_type, peer, date, "published" if date else None, sample, design, None, None)


@pytest.mark.parametrize(
    ("description", "kind", "level"),
    [
        ("systematic review and meta-analysis", "meta-analysis", 1),
        ("Systematic review", "systematic review", 1),
        ("clinical practice guideline", "guideline", 2),
        ("randomised controlled trial", "randomised trial", 3),
        ("randomized, double-blind, placebo-controlled trial", "randomised trial", 3),
        ("non-randomised comparative study", "observational study", 4),
        ("prospective cohort study", "cohort study", 4),
        ("peer-reviewed retrospective case series", "case series", 5),
        ("narrative review", "narrative review", 6),
        ("AI-generated clinical answer pending human review", "unreviewed AI-generated answer", 9),
        ("health blog post", "unreviewed page", 9),
        ("medRxiv preprint of a randomised trial", "preprint", 8),
    ],
)
def test_declared_types_map_to_the_hierarchy(description: str, kind: str, level: int) -> None:
    assert kind_of(description) == (kind, level)


def test_an_unknown_type_sits_between_opinion_and_preprints() -> None:
    assert kind_of("document") is None
    grade = grade_of(profile("document"))
    assert grade.level == 7 and grade.reviewed and grade.extracted


def test_the_seed_documents_are_graded_from_their_front_matter() -> None:
    series = grade_of(profile_for(load_document(CORPUS / "beckett-2024-upadacitinib-myositis-case-series.md").document))
    page = grade_of(profile_for(load_document(CORPUS / "dr-oracle-rinvoq-dermatomyositis-ivig.md").document))
    assert (series.level, series.kind, series.sample_size, series.year, series.extracted) == (5, "peer-reviewed case series", 10, 2024, False)
    assert (page.level, page.reviewed, page.year) == (9, False, 2025)
    assert series.rank() < page.rank(), "the case series outranks the AI page"
    assert series.label() == "peer-reviewed case series (10 patients, 2024)"


def test_research_declared_not_peer_reviewed_is_a_preprint() -> None:
    grade = grade_of(profile("randomised controlled trial", peer=False, sample=300))
    assert grade.level == 8 and not grade.reviewed and "not peer-reviewed" in grade.kind


def test_contradictory_front_matter_keeps_the_weaker_reading_and_says_so() -> None:
    grade = grade_of(profile("AI-generated answer", peer=True))
    assert grade.level == 9 and not grade.reviewed
    assert grade.conflicts and "peer-reviewed" in grade.conflicts[0]


def test_within_a_level_larger_and_newer_rank_first() -> None:
    small = grade_of(profile("randomised controlled trial", peer=True, sample=120, date="2023-01-01"))
    large = grade_of(profile("randomised controlled trial", peer=True, sample=4745, date="2021-01-01"))
    newer = grade_of(profile("randomised controlled trial", peer=True, sample=4745, date="2024-01-01"))
    assert sorted([small, large, newer], key=lambda g: g.rank()) == [newer, large, small]


def test_dates_are_weighed_only_between_sources_on_the_same_side() -> None:
    trial = grade_of(profile("randomised controlled trial", peer=True))
    guideline = grade_of(profile("guideline"))
    page = grade_of(profile("health blog post", peer=False))
    assert comparable(trial, guideline) and not comparable(trial, page)
