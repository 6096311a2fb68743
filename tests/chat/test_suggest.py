"""Suggested follow-ups come from what the answer's own sources hold, never from a cue list written for the seed corpus
(issue 28 item 8), and each is checked answerable. Real model, real indexes."""

from __future__ import annotations

from pathlib import Path

from samples import SEED_QUESTION, copy_corpus

from assistant import Assistant

TRIAL = """---
title: Methotrexate in early inflammatory arthritis
doc_type: randomised controlled trial
peer_reviewed: true
sample_size: 250
date: '2022-02-14'
---
# Methotrexate in early inflammatory arthritis

## Methods

Patients were randomised to receive methotrexate or placebo for 52 weeks, and adverse events were recorded at every visit.

## Results

Serious adverse events occurred in 4% of patients in the methotrexate group and 3% in the placebo group.
Raised transaminases led to discontinuation of methotrexate in 6 patients.
Remission at 52 weeks was reached by 38% of patients on methotrexate and 19% on placebo.

## Discussion

Hepatotoxicity was the commonest reason to stop treatment, as in earlier cohorts.
Folic acid supplementation was given to every patient from the first week.
In patients older than 65 years, nausea was reported twice as often as in younger patients.
Radiographic progression of erosions at 52 weeks was slower on methotrexate than on placebo.
Pneumonitis occurred in one patient, who recovered after methotrexate was stopped.
Adherence was checked by pill counts at every visit and exceeded 90% in both groups.
Quality of life improved more on methotrexate, measured with the Health Assessment Questionnaire.
A longer follow-up is needed to judge the effect on joint replacement.
"""


def test_follow_ups_on_an_added_trial_come_from_the_trial_not_the_seed_corpus(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = copy_corpus(tmp_path / "corpus", {"mtx-trial.md": TRIAL})
    assistant = Assistant.build(corpus, tmp_path / "index", embedder=embedder)
    conversation = assistant.conversation()
    answer = conversation.ask("What percentage of patients had serious adverse events in the methotrexate trial?")
    assert answer.citations and answer.citations[0].doc_id == "mtx-trial"
    assert answer.suggestions, "the trial reports more than the answer quotes"
    seed_words = ("tofacitinib", "interstitial lung disease", "ILD", "upadacitinib", "Rinvoq")
    assert not any(word.lower() in s.lower() for s in answer.suggestions for word in seed_words), answer.suggestions
    for suggestion in answer.suggestions:
        probe = assistant.probe(suggestion)
        assert not probe.abstained, f"{suggestion!r} was offered but is not answerable"


def test_seed_follow_ups_name_what_its_sources_report(assistant: Assistant) -> None:
    conversation = assistant.conversation()
    answer = conversation.ask(SEED_QUESTION)
    assert answer.suggestions, "the seed answer's sources hold more than it quotes"
    cited = {(c.doc_id, c.start, c.end) for c in answer.citations}
    for suggestion in answer.suggestions:
        probe = assistant.probe(suggestion)
        assert any((c.doc_id, c.start, c.end) not in cited for c in probe.citations), f"{suggestion!r} adds nothing new"
