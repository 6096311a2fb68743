"""Claims that evidence is missing (assistant/answer/absence.py): the cue rule catches the wordings it names, the
learned reading the others, on the real model; a damaged model is refused with how to restore it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.absence import MODEL_DIR, AbsenceModel, claims_absence, heard, shipped_absence
from assistant.answer.stance import ABSENCE_CLAIM
from assistant.errors import ModelError

# Wordings in neither eval/training/absence_claims.txt nor absence_heldout.txt, nor the cue rule's (the model catches
# about 98 in 100 such wordings: its card; "Nobody seems to have put magnesium for night cramps to the test." it misses).
UNSEEN = (
    "Honestly, the research world has simply ignored whether zinc lozenges shorten colds in children.",
    "Science has not yet turned its attention to magnesium for night cramps.",
)
ZINC, MAGNESIUM = "Do zinc lozenges shorten colds in children?", "Does magnesium relieve night cramps?"
FINDINGS = (
    "Remission at 52 weeks was reached by 34% of patients on methotrexate and 12% on placebo.",
    "We randomly assigned 240 adults with early rheumatoid arthritis to methotrexate 15 mg weekly or placebo.",
    "Nausea was reported by 18% of patients on methotrexate.",
)
METHOTREXATE = "Does methotrexate bring early rheumatoid arthritis into remission?"


def _question(embedder, question: str) -> np.ndarray:  # type: ignore[no-untyped-def]
    return embedder.embed([question])[0]


def test_the_learned_reading_catches_wordings_the_rule_does_not(embedder) -> None:  # type: ignore[no-untyped-def]
    assert not any(ABSENCE_CLAIM.search(t) for t in UNSEEN), "not the cue rule's wordings"
    for text, asked in zip(UNSEEN, (ZINC, MAGNESIUM), strict=True):
        vectors, question = embedder.embed([text]), _question(embedder, asked)
        assert claims_absence([text], vectors, [True], learned=True, question=question) == (True,)
        assert claims_absence([text], vectors, [True], learned=False, question=question) == (False,)
        assert claims_absence([text], vectors, [True], learned=True) == (False,), "no question, no model read"


def test_findings_and_methods_are_no_claims(embedder) -> None:  # type: ignore[no-untyped-def]
    vectors, question = embedder.embed(list(FINDINGS)), _question(embedder, METHOTREXATE)
    assert not any(shipped_absence().claims(vectors, FINDINGS, question))
    assert claims_absence(FINDINGS, vectors, [True, True, True], learned=True, question=question) == (False, False, False)


def test_a_claim_that_restates_a_long_question_is_read_as_one(embedder) -> None:  # type: ignore[no-untyped-def]
    """The question's own words outweighed the few that say the evidence is missing, until the model read the
    sentence less the question's direction; the question restated is no claim."""
    question = "Pertrochanteric fractures in elderly patients: is there an advantage to an intramedullary nail over a sliding hip screw?"
    texts = [
        f"On the question “{question.rstrip('?')}”, the jury isn't even out, because the trials that would settle it were never run.",
        question,
        f"Frequently asked: {question}",
    ]
    assert not ABSENCE_CLAIM.search(texts[0]), "not the cue rule's wording"
    assert claims_absence(texts, embedder.embed(texts), [True] * 3, learned=True, question=_question(embedder, question)) == (True, False, False)


# The claims' near neighbours: research on the same topic exists. The sentence vector alone read such sentences as
# claims (45 % of the written "research exists" wordings); the cue beside it tells them apart.
EXISTS = (
    "Several studies have examined whether zinc lozenges shorten colds in children.",
    "There has been some evidence supporting the presence of the July effect, including data from surgical specialties.",
    "A 2019 trial looked at magnesium for night cramps and found a small benefit.",
)


def test_research_that_exists_is_no_claim_that_it_is_missing(embedder) -> None:  # type: ignore[no-untyped-def]
    vectors = embedder.embed(list(EXISTS))
    for question in (ZINC, "Is there a July effect in surgery?", "Does magnesium relieve night cramps?"):
        assert claims_absence(EXISTS, vectors, [True] * len(EXISTS), learned=True, question=_question(embedder, question)) == (False,) * len(EXISTS)


@pytest.mark.parametrize(
    ("level", "text", "expected"),
    [
        (9, "Zebrafinch syndrome is a fictional disorder.", True),  # an unreviewed page: every sentence
        (7, UNSEEN[0], True),  # unknown type (an unmarked page, most abstracts): a sentence naming the literature
        (6, UNSEEN[0], True),  # an opinion, patient information: the same
        (7, "Zebrafinch syndrome is a fictional disorder.", False),
        (7, "Nobody seems to have put magnesium for night cramps to the test.", False),  # names no literature
        (4, UNSEEN[0], False),  # a study: its conclusions are findings, the cue rule alone reads it
        (3, "Science has not yet turned its attention to magnesium for night cramps.", False),
        (8, UNSEEN[0], False),  # a preprint reports research of its own
    ],
)
def test_the_model_is_heard_where_a_document_reports_no_study_of_its_own(level: int, text: str, expected: bool) -> None:
    assert heard(level, text) is expected


def test_a_sentence_the_model_is_not_heard_on_is_a_claim_by_the_cue_rule_alone(embedder) -> None:  # type: ignore[no-untyped-def]
    texts = [*UNSEEN, "No clinical studies have examined whether zinc shortens colds."]
    vectors, question = embedder.embed(texts), _question(embedder, ZINC)
    assert claims_absence(texts, vectors, [False, False, False], learned=True, question=question) == (False, False, True)
    assert claims_absence(UNSEEN, vectors[:2], [True, False], learned=True, question=question) == (True, False)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "absence"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def test_damaged_weights_are_refused_with_how_to_restore_them(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"Restore assistant/answer/models/absence/.*train_absence"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32), ["text"], np.ones(384, np.float32))


def test_weights_of_another_version_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**meta, "version": "000000000000"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not the ones meta.json's version names"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32), ["text"], np.ones(384, np.float32))


def test_a_card_without_a_threshold_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    del meta["threshold"]
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="missing or damaged"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32), ["text"], np.ones(384, np.float32))


def test_a_card_naming_other_cues_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**meta, "cues": ["another_cue"]}), encoding="utf-8")
    with pytest.raises(ModelError, match="cues"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32), ["text"], np.ones(384, np.float32))


def test_the_shipped_model_reads_the_index_vectors() -> None:
    model = shipped_absence()
    assert model.reads(384) and not model.reads(768)
    assert model.version == json.loads((MODEL_DIR / "meta.json").read_text(encoding="utf-8"))["version"]
