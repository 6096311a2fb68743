"""Claims that evidence is missing (assistant/answer/absence.py): the cue rule catches the wordings it names, the
learned reading the others, on the real model; a damaged model is refused with how to restore it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.answer.absence import MODEL_DIR, AbsenceModel, claims_absence, shipped_absence
from assistant.answer.stance import ABSENCE_CLAIM
from assistant.errors import ModelError

# Wordings in neither eval/training/absence_claims.txt nor absence_heldout.txt, nor the cue rule's (the model catches
# about five in six such wordings: its card; "Nobody seems to have put magnesium for night cramps to the test." it misses).
UNSEEN = (
    "Honestly, the research world has simply ignored whether zinc lozenges shorten colds in children.",
    "Science has not yet turned its attention to magnesium for night cramps.",
)
FINDINGS = (
    "Remission at 52 weeks was reached by 34% of patients on methotrexate and 12% on placebo.",
    "We randomly assigned 240 adults with early rheumatoid arthritis to methotrexate 15 mg weekly or placebo.",
    "Nausea was reported by 18% of patients on methotrexate.",
)


def test_the_learned_reading_catches_wordings_the_rule_does_not(embedder) -> None:  # type: ignore[no-untyped-def]
    assert not any(ABSENCE_CLAIM.search(t) for t in UNSEEN), "not the cue rule's wordings"
    vectors = embedder.embed(list(UNSEEN))
    assert claims_absence(UNSEEN, vectors, [True, True], learned=True) == (True, True)
    assert claims_absence(UNSEEN, vectors, [True, True], learned=False) == (False, False)


def test_findings_and_methods_are_no_claims(embedder) -> None:  # type: ignore[no-untyped-def]
    vectors = embedder.embed(list(FINDINGS))
    assert not any(shipped_absence().claims(vectors))
    assert claims_absence(FINDINGS, vectors, [True, True, True], learned=True) == (False, False, False)


def test_the_model_speaks_only_for_unreviewed_pages(embedder) -> None:  # type: ignore[no-untyped-def]
    """In other documents it would hear claims in findings and in "Zebrafinch syndrome is a fictional disorder."; there
    a sentence is a claim only by the cue rule."""
    texts = [*UNSEEN, "Zebrafinch syndrome is a fictional disorder."]
    vectors = embedder.embed(texts)
    assert claims_absence(texts, vectors, [False, False, False], learned=True) == (False, False, False)
    assert claims_absence(UNSEEN, vectors[:2], [True, False], learned=True) == (True, False)


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "absence"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def test_damaged_weights_are_refused_with_how_to_restore_them(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "weights.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match=r"Restore assistant/answer/models/absence/.*train_absence"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32))


def test_weights_of_another_version_are_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    (folder / "meta.json").write_text(json.dumps({**meta, "version": "000000000000"}), encoding="utf-8")
    with pytest.raises(ModelError, match="not the ones meta.json's version names"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32))


def test_a_card_without_a_threshold_is_refused(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    del meta["threshold"]
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match="missing or damaged"):
        AbsenceModel(folder).claims(np.zeros((1, 384), np.float32))


def test_the_shipped_model_reads_the_index_vectors() -> None:
    model = shipped_absence()
    assert model.reads(384) and not model.reads(768)
    assert model.version == json.loads((MODEL_DIR / "meta.json").read_text(encoding="utf-8"))["version"]
