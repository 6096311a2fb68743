"""Evidence profiles, stance rules, disagreement between sources, and the absence audit (issue 9)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.answer.stance import asks, find_disagreements, is_hedged, source_stance, stance_of
from assistant.documents.ingest import load_document
from assistant.documents.profile import profile_for
from assistant.schema import EvidenceProfile, Source

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("sentence", "stance"),
    [
        ("Rinvoq (upadacitinib) is not currently recommended as an established treatment for dermatomyositis.", "against"),
        ("There is insufficient evidence to recommend its use.", "against"),
        ("There are no published clinical trials supporting the use of upadacitinib.", "against"),
        ("Upadacitinib appears to be effective in targeting cutaneous manifestations.", "for"),
        ("Aggregate analysis revealed statistically significant improvement in CDASI score.", "for"),
        ("Methotrexate is recommended as first-line steroid-sparing agent.", "for"),
        ("Patients were identified through the tertiary myositis clinics.", "neutral"),
        # against: a recommendation against, missing evidence, a negated or absent effect, a harm on the outcome
        ("Bisoprolol is not advised in patients with second-degree heart block.", "against"),
        ("Prophylactic antibiotics should not be given to patients with simple wounds.", "against"),
        ("Clinicians should not routinely prescribe opioids for acute sciatica.", "against"),
        ("Watchful waiting is not an acceptable alternative for a ruptured ectopic pregnancy.", "against"),
        ("We found no high-quality evidence that glucosamine relieves joint pain.", "against"),
        ("Among adults with sepsis, early vasopressin did not result in fewer deaths than norepinephrine.", "against"),
        ("Those who received zinc did not have significantly shorter colds than those given placebo.", "against"),
        ("Physiotherapy did not lead to better function at one year.", "against"),
        ("There was no clinically important difference in HbA1c between the groups.", "against"),
        ("Cough syrups offer little or no benefit for acute cough in children.", "against"),
        ("Arthroscopic surgery was no better than sham surgery for degenerative meniscal tears.", "against"),
        ("Liberal oxygen therapy increased mortality in acutely ill adults.", "against"),
        # for: a recommendation, an effect on the outcome, superiority or noninferiority
        ("We recommend statins for adults with diabetes aged 40 to 75 years.", "for"),
        ("Inhaled corticosteroids are the preferred controller therapy in persistent asthma.", "for"),
        ("Anticoagulation is indicated for patients with a CHA2DS2-VASc score of 2 or more.", "for"),
        ("Empagliflozin reduced the rate of hospitalisation for heart failure by 35%.", "for"),
        ("Early mobilisation lowered the risk of delirium.", "for"),
        ("Chlorhexidine bathing was associated with a 40% reduction in bloodstream infections.", "for"),
        ("A dose reduction in renal impairment is advisable.", "neutral"),
        ("Dabigatran 150 mg was superior to warfarin for stroke prevention.", "for"),
        ("Short-course therapy was noninferior to the standard 14-day course.", "for"),
        ("Reduce the dose to 2.5 mg twice daily in patients over 80 years of age.", "neutral"),
    ],
)
def test_stance_rules(sentence: str, stance: str) -> None:
    assert stance_of(sentence) == stance


def test_a_question_restated_takes_no_side() -> None:
    """A page quoting a two-sentence question, split at its title's full stop: the question's half "Does It Improve …"
    reads as the page's most relevant sentence, but it asks; the page's stance is its claim that nothing was studied."""
    claim = "A: This has not been studied: nobody has yet looked at the question “Estradiol and Antagonist Pretreatment Prior to Microdose Leuprolide in in Vitro Fertilization."
    restated = "Does It Improve IVF Outcomes in Poor Responders as Compared to Oral Contraceptive Pill”."
    assert asks(restated) and asks("Is it better to be big?") and asks("Does upadacitinib improve skin disease?”")
    assert not asks(claim) and not asks("Upadacitinib improved CDASI (p = 0.014).") and not asks("Dose was 15 mg daily.")
    assert source_stance([restated, claim], [False, True]) == "lacking"
    assert source_stance(["Does upadacitinib improve skin disease?", "Patients were identified in two clinics."], [False, False]) == "reports"


def test_hedges_are_noticed() -> None:
    assert is_hedged("Upadacitinib may also have some benefit in myositis-associated ILD.")
    assert is_hedged("Nebulised saline appeared to shorten hospital stay.")
    assert not is_hedged("Nine patients remained on upadacitinib.")


@dataclass(frozen=True)
class Quoted:
    text: str
    key: tuple[str, int, int]


def _source(doc_id: str, date: str, kind: str) -> Source:
    return Source(doc_id, doc_id, EvidenceProfile(kind, None, date, "published", None, None, None, None))


PAIRS = {
    "disagree": (
        "Drug X is not recommended for condition Y because there is insufficient evidence.",
        "In our trial, drug X produced a statistically significant improvement in condition Y.",
        True,
    ),
    "agree": (
        "Drug X produced a statistically significant improvement in condition Y.",
        "Drug X appears to be effective for condition Y.",
        False,
    ),
    "talk past each other": (
        "Drug X was given at 10 mg daily.",
        "Condition Y affects the skin and muscles.",
        False,
    ),
}


@pytest.mark.parametrize("name", list(PAIRS))
def test_disagreement_on_synthetic_pairs(name: str) -> None:
    first, second, disagree = PAIRS[name]
    quoted = [Quoted(first, ("a", 0, len(first))), Quoted(second, ("b", 0, len(second)))]
    numbers = {q.key: n for n, q in enumerate(quoted, start=1)}
    sources = {"a": _source("a", "2025-01-01", "review"), "b": _source("b", "2024-01-01", "randomised controlled trial")}
    found = find_disagreements(quoted, numbers, sources)
    assert bool(found) == disagree
    if disagree:
        note = found[0].note
        assert "[1]" in note and "[2]" in note and "randomised controlled trial" in note and "2024-01-01" in note


def test_profiles_come_from_front_matter_for_the_seeds() -> None:
    series = profile_for(load_document(ROOT / "corpus" / "beckett-2024-upadacitinib-myositis-case-series.md").document)
    assert (series.doc_type, series.peer_reviewed, series.sample_size, series.date) == (
        "peer-reviewed retrospective case series", True, 10, "2024-01-03"
    )
    assert series.extracted == ()
    ai = profile_for(load_document(ROOT / "corpus" / "dr-oracle-rinvoq-dermatomyositis-ivig.md").document)
    assert ai.peer_reviewed is False and ai.date == "2025-09-23"


def test_profiles_are_extracted_from_text_when_front_matter_is_missing(tmp_path: Path) -> None:
    paper = tmp_path / "paper.md"
    paper.write_text(
        "# Drug X in condition Y: a case series of 12 patients\n\nReceived 2 March 2023\nAccepted 9 May 2023\n\n"
        "This retrospective case series reviewed 12 patients.\n\nProvenance and peer review: externally peer reviewed.\n"
    )
    profile = profile_for(load_document(paper).document)
    assert (profile.doc_type, profile.sample_size, profile.date, profile.peer_reviewed) == ("case series", 12, "2023-05-09", True)
    assert set(profile.extracted) == {"doc_type", "sample_size", "date", "peer_reviewed"}


def test_the_synthetic_disagreement_is_flagged_end_to_end(embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "guide.md").write_text(
        "---\nid: guide\ndoc_type: guideline\ndate: '2025-06-01'\npeer_reviewed: false\n---\n# Zorbitol for gout\n\n"
        "Zorbitol is not recommended for gout, as there is insufficient evidence supporting its use.\n"
    )
    (corpus / "trial.md").write_text(
        "---\nid: trial\ndoc_type: randomised controlled trial\ndate: '2024-02-01'\npeer_reviewed: true\nsample_size: 200\n---\n"
        "# Zorbitol in gout: a randomised trial\n\nZorbitol produced a statistically significant reduction in gout flares (p = 0.01).\n"
    )
    a = Assistant.build(corpus, tmp_path / "index", embedder=embedder)
    answer = a.ask("Does zorbitol help gout?")
    assert answer.disagreements, answer.text
    assert "randomised controlled trial" in answer.disagreements[0].note


def test_absence_is_audited_over_every_passage(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of France?")
    audit = answer.search_report.absence_audit
    assert answer.abstained and audit is not None and audit.passages_checked == len(assistant.index.chunks)
    assert audit.documents_checked == len(assistant.index.documents) and audit.outcome == "no evidence in any passage"


@pytest.mark.parametrize(
    "question",
    [
        "Is there any evidence for Rinvoq in DM?",  # brand name, abbreviation
        "Did anyone stop intravenous immunoglobulin after starting upadacitinib?",  # spelled-out alias
        "What was the CDASI of the 36-year-old man?",  # a table row
    ],
)
def test_evidence_phrased_differently_is_never_called_absent(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained and any(c.doc_id.startswith("beckett") for c in answer.citations)


def test_a_word_the_corpus_lacks_but_that_rewords_the_question_is_no_gap(assistant: Assistant) -> None:
    """"breathing" is not in the sources, but it rewords "lung disease", which is: answer, don't say "not covered".
    "clots" rewords nothing in its question: that one is still reported missing."""
    plan = assistant.searcher.search("How did breathing and lung disease do on upadacitinib?").plan
    assert {c.label: c.rewords for c in plan.concepts if not c.known} == {"breathing": "lung disease"}
    answer = assistant.ask("How did breathing and lung disease do on upadacitinib?")
    assert not answer.abstained and any("stabilised or improved" in c.quote for c in answer.citations)
    question = "Does upadacitinib increase the risk of blood clots in dermatomyositis?"
    assert not next(c for c in assistant.searcher.search(question).plan.concepts if c.label == "clots").rewords, "'blood' is no topic"
    clots = assistant.ask(question)
    assert clots.abstained or "no source names “clots”" in clots.text, "named in the opening line, and no verdict"
