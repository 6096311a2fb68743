"""The source verdict (assistant/answer/verdict.py) on the shipped weights and the real embedder: abstract-like sources
cut by the chunker's sentence splitter and embedded as the index stores them (float16); the cue counting on sentences
written for it; a missing or damaged model refused with the retrain command."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import ModelError
from assistant.answer.stance import AGAINST, FOR, HEDGE
from assistant.answer.verdict import (
    CUES,
    LABELS,
    MODEL_DIR,
    VerdictModel,
    _lowercase_twin,
    cue_counts,
    decide,
    feature_names,
    shipped_verdict,
)
from assistant.documents.chunk import split_sentences
from assistant.settings import VerdictSettings

QUESTION = "Do preoperative statins reduce atrial fibrillation after coronary artery bypass grafting?"
_SETTING = (
    "Statins have pleiotropic effects beyond lowering cholesterol. We studied 221 patients undergoing coronary artery "
    "bypass grafting. Patients were randomised to atorvastatin or placebo for seven days before surgery. "
)
POSITIVE = _SETTING + (
    "Postoperative atrial fibrillation occurred in 18% of the atorvastatin group and 35% of the placebo group (p = 0.003). "
    "Atorvastatin significantly reduced the risk of atrial fibrillation (odds ratio 0.42, 95% CI 0.24-0.73)."
)
NEGATIVE = _SETTING + (
    "Postoperative atrial fibrillation occurred in 30% of the atorvastatin group and 32% of the placebo group (p = 0.71). "
    "There was no significant difference in atrial fibrillation between the groups (odds ratio 0.93, 95% CI 0.55-1.58), "
    "and atorvastatin did not reduce the length of hospital stay."
)
COL = {cue: i for i, cue in enumerate(CUES)}


def _source(embedder, text: str) -> tuple[list[str], np.ndarray]:  # type: ignore[no-untyped-def]
    sentences = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
    return sentences, embedder.embed(sentences).astype(np.float16).astype(np.float32)  # the index keeps float16


@pytest.fixture(scope="module")
def question_vector(embedder) -> np.ndarray:  # type: ignore[no-untyped-def]
    return embedder.embed([QUESTION])[0]


@pytest.fixture(scope="module")
def model() -> VerdictModel:
    assert shipped_verdict() is shipped_verdict(), "read once per process"
    return shipped_verdict()


def _label(p: np.ndarray) -> str:
    return LABELS[int(np.argmax(p))]


def test_a_clearly_positive_abstract_reads_yes(model: VerdictModel, embedder, question_vector: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    p = model.predict(QUESTION, question_vector, *_source(embedder, POSITIVE))
    assert p.shape == (3,) and p.sum() == pytest.approx(1.0)
    assert _label(p) == "yes", f"a significant reduction of the outcome asked about is a yes: {p}"


def test_a_clearly_negative_abstract_reads_no(model: VerdictModel, embedder, question_vector: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    negative = model.predict(QUESTION, question_vector, *_source(embedder, NEGATIVE))
    positive = model.predict(QUESTION, question_vector, *_source(embedder, POSITIVE))
    assert _label(negative) == "no", f"'no significant difference', 'did not reduce' is a no: {negative}"
    assert negative[1] > positive[1] + 0.3, "the negative abstract is far likelier a no than the positive one"


def test_a_source_of_one_sentence_is_read(model: VerdictModel, embedder, question_vector: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    sentences, vectors = _source(embedder, NEGATIVE)
    p = model.predict(QUESTION, question_vector, sentences[-1:], vectors[-1:])
    assert p.shape == (3,) and np.all(p > 0) and p.sum() == pytest.approx(1.0)
    assert _label(p) == "no", f"the negated result alone still reads no: {p}"


def test_a_source_without_sentences_says_nothing(model: VerdictModel, question_vector: np.ndarray) -> None:
    p = model.predict(QUESTION, question_vector, [], np.zeros((0, 384), np.float32))
    assert np.allclose(p, 1 / 3), "no evidence: a third each, not the training prior's yes"
    assert decide(p, VerdictSettings()) is None


def test_weights_choose_which_sentences_count(model: VerdictModel, embedder, question_vector: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """A source reporting a benefit on the outcome and no difference on another: weighting one sentence up moves the
    verdict toward it; weights of one are no weights; all-zero weights leave nothing to read."""
    sentences, vectors = _source(embedder, POSITIVE + " Length of stay did not differ between the groups (p = 0.48).")
    on_benefit, on_null = np.full(len(sentences), 0.1), np.full(len(sentences), 0.1)
    on_benefit[-2], on_null[-1] = 1.0, 1.0
    benefit = model.predict(QUESTION, question_vector, sentences, vectors, on_benefit)
    null = model.predict(QUESTION, question_vector, sentences, vectors, on_null)
    assert _label(benefit) == "yes" and _label(null) == "no", (benefit, null)
    unweighted = model.predict(QUESTION, question_vector, sentences, vectors)
    assert np.allclose(unweighted, model.predict(QUESTION, question_vector, sentences, vectors, np.ones(len(sentences))))
    assert np.allclose(model.predict(QUESTION, question_vector, sentences, vectors, np.zeros(len(sentences))), 1 / 3)


def test_decide_needs_the_settings_probability() -> None:
    settings = VerdictSettings(min_probability=0.6)
    assert decide(np.array([0.2, 0.7, 0.1]), settings) == "no"
    assert decide(np.array([0.5, 0.4, 0.1]), settings) is None


def test_cues_read_significance_and_its_negation() -> None:
    counts = cue_counts([
        "Patients were randomised.",
        "There was no significant difference in mortality (p = 0.34).",
        "Pain was significantly reduced (p < 0.001; odds ratio 0.5, 95% CI 0.3-0.8).",
        "The rate did not differ (relative risk 1.54; 95% confidence interval 0.62-3.81).",
        "The mean difference was 1.2 points (95% CI 0.4 to 2.0), similar to earlier trials.",
    ])
    assert counts.shape == (5, len(CUES)) and not counts[0].any(), "a method sentence carries no cue"
    assert counts[1, COL["not_significant"]] == 1 and counts[1, COL["no_effect"]] == 1 and counts[1, COL["p_high"]] == 1
    assert counts[1, COL["significant"]] == 0 and counts[1, COL["effect"]] == 0, "a negated result is not also a result"
    assert counts[2, COL["significant"]] == 1 and counts[2, COL["p_low"]] == 1 and counts[2, COL["ci_excludes"]] == 1
    assert counts[3, COL["no_effect"]] == 1 and counts[3, COL["ci_includes"]] == 1, "a ratio's interval holding 1"
    assert counts[4, COL["ci_excludes"]] == 1 and counts[4, COL["same"]] == 1, "a difference's interval excluding 0"
    assert cue_counts([]).shape == (0, len(CUES))


def test_the_stance_rules_read_lower_case_text_as_they_read_any_case() -> None:
    """verdict matches stance.py's rules on lower-cased text without IGNORECASE (faster); a rule with a capital
    letter would then never match, so its twin is the rule itself."""
    text = "Upadacitinib was EFFECTIVE. It is not recommended; there is Insufficient Evidence. It may help."
    for rule in (FOR, AGAINST, HEDGE):
        assert [m.span() for m in _lowercase_twin(rule).finditer(text.lower())] == [m.span() for m in rule.finditer(text)]
    import re

    capital = re.compile(r"\bNSAIDs\b", re.I)
    assert _lowercase_twin(capital) is capital


def test_the_shipped_model_matches_this_code_and_loads_without_pickle(monkeypatch: pytest.MonkeyPatch, question_vector: np.ndarray) -> None:
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    assert meta["features"] == list(feature_names(meta["blocks"])), f"retrain: {meta['design']}"
    assert (MODEL_DIR / "CARD.md").is_file()
    calls: list[object] = []
    real_load = np.load

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("something unpickled while the verdict loaded")

    def np_load(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, refuse)
    monkeypatch.setattr(np, "load", np_load)
    p = VerdictModel().predict(QUESTION, question_vector, ["No significant difference was found."], np.ones((1, 384), np.float32) / 20)
    assert calls == [False] and p.shape == (3,), "the weights are read once, with allow_pickle=False"
    with real_load(MODEL_DIR / "model.npz", allow_pickle=False) as f:  # an object array would need pickle and raise here
        assert all(f[k].dtype.kind == "f" for k in f.files)


def test_a_missing_or_damaged_model_names_the_fix(tmp_path: Path, question_vector: np.ndarray) -> None:
    with pytest.raises(ModelError, match="eval.training.train_stance"):
        VerdictModel(tmp_path / "nowhere").predict(QUESTION, question_vector, ["One."], np.ones((1, 384), np.float32))
    damaged = tmp_path / "damaged"
    shutil.copytree(MODEL_DIR, damaged)
    (damaged / "model.npz").write_bytes(b"not an npz")
    with pytest.raises(ModelError, match="cannot be read .*eval.training.train_stance"):
        VerdictModel(damaged).predict(QUESTION, question_vector, ["One."], np.ones((1, 384), np.float32))
    stale = tmp_path / "stale"
    shutil.copytree(MODEL_DIR, stale)
    meta = json.loads((stale / "meta.json").read_text())
    (stale / "meta.json").write_text(json.dumps({**meta, "features": meta["features"][:-1]}))
    with pytest.raises(ModelError, match="other features"):
        VerdictModel(stale).meta  # noqa: B018
