"""The learned evidence scorer (assistant/answer/scorer.py) and what it decides in answers (issue 14), on the real model,
the real packaged scorer and real indexes; the feature maths on small constructed candidates."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from samples import copy_corpus

from assistant import Assistant, ModelError, Settings
from assistant.answer.scorer import (
    FEATURES,
    MODEL_DIR,
    Context,
    EvidenceModel,
    features,
)
from assistant.answer.sentences import Candidate
from assistant.answer.understand import Concept, QueryPlan
from assistant.schema import Chunk, Hit

CASE_SERIES = "beckett-2024-upadacitinib-myositis-case-series"
AI_ANSWER = "dr-oracle-rinvoq-dermatomyositis-ivig"
COL = {name: i for i, name in enumerate(FEATURES)}


def _candidate(doc: str, text: str, start: int, dense: float, coverage: float, rank: int, matched: frozenset[str] = frozenset()) -> Candidate:
    source = text.rjust(start + len(text))
    chunk = Chunk(f"{doc}#{rank}", doc, start, start + len(text), "", "text", Chunk.pack([(start, start + len(text))]), source)
    return Candidate(Hit(chunk, 1.0 / (1 + rank), dense, rank), start, start + len(text), text, dense, coverage, matched, (), "", tuple(text.lower().split()))


def _context(docs: list[str]) -> Context:
    concept = Concept("quuxamab", (frozenset({"quuxamab"}),), 3.0, True)
    plan = QueryPlan("How is quuxamab dosed?", (), "", "", (concept,))
    return Context(plan, ("quuxamab", "dose"), {d: frozenset() for d in docs}, {d: 1000 for d in docs}, {d: 0.8 for d in docs}, {d: 1.5 for d in docs})


def test_features_describe_each_sentence_on_its_own_terms() -> None:
    cands = [
        _candidate("a", "Quuxamab 5 mg daily reduced flares.", 100, 0.7, 1.0, 0, frozenset({"quuxamab"})),
        _candidate("a", "Patients were followed for a year.", 200, 0.4, 0.0, 0),
        _candidate("b", "Another disease entirely.", 50, 0.2, 0.0, 1),
    ]
    rows = features(cands, _context(["a", "b"]))
    assert rows.shape == (3, len(FEATURES)) and rows.dtype == np.float32
    assert list(rows[:, COL["dense"]]) == pytest.approx([0.7, 0.4, 0.2])
    assert list(rows[:, COL["dense_rank_in_doc"]]) == [1.0, 0.5, 1.0], "ranked within its own document only"
    assert rows[0, COL["doc_coverage"]] == 1.0 and rows[1, COL["doc_coverage"]] == 1.0 and rows[2, COL["doc_coverage"]] == 0.0
    assert rows[0, COL["has_digit"]] == 1 and rows[1, COL["has_digit"]] == 0
    assert rows[0, COL["doc_dense"]] == pytest.approx(0.8) and rows[0, COL["doc_lexical"]] == pytest.approx(0.5), "BM25 over total idf"
    assert features([], _context([])).shape == (0, len(FEATURES))


def test_a_sentences_features_do_not_depend_on_the_other_documents() -> None:
    """A second source is judged on its own: adding a stronger document changes none of its features."""
    weak = _candidate("b", "Quuxamab was given to two patients.", 50, 0.4, 1.0, 1, frozenset({"quuxamab"}))
    strong = _candidate("a", "Quuxamab 5 mg daily reduced flares.", 100, 0.9, 1.0, 0, frozenset({"quuxamab"}))
    alone = features([weak], _context(["b"]))[0]
    beside = features([strong, weak], _context(["a", "b"]))[1]
    assert np.array_equal(alone, beside)


def test_the_packaged_scorer_matches_this_codes_features() -> None:
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    assert meta["features"] == list(FEATURES), "retrain with python -m eval.training.train_scorer after changing FEATURES"
    assert (MODEL_DIR / "CARD.md").is_file() and (MODEL_DIR / "model.txt").is_file()
    probabilities = EvidenceModel().predict(np.zeros((2, len(FEATURES)), np.float32))
    assert probabilities.shape == (2,) and np.all((probabilities >= 0) & (probabilities <= 1))


def test_the_numpy_trees_give_lightgbms_probabilities(assistant: Assistant) -> None:
    """Answering reads the trees with numpy (no 1.5 s lightgbm import); LightGBM itself is the reference."""
    import lightgbm  # the test extra's reference implementation

    booster = lightgbm.Booster(model_file=str(MODEL_DIR / "model.txt"))
    result = assistant.searcher.search("Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?")
    found = assistant.composer.sentences.signals(result)
    real = features(found, assistant.composer.sentences.evidence_context(result))
    rng = np.random.default_rng(14)
    noisy = real[rng.integers(0, len(real), 400)] * rng.uniform(0.5, 1.5, (400, len(FEATURES))).astype(np.float32)
    noisy[rng.random(noisy.shape) < 0.05] = np.nan  # missing values follow LightGBM's rule for each split
    for rows in (real, noisy):
        assert np.allclose(EvidenceModel().predict(rows), booster.predict(rows, num_threads=1), rtol=0, atol=1e-12)


def test_trees_the_evaluator_cannot_read_are_refused(tmp_path: Path) -> None:
    text = (MODEL_DIR / "model.txt").read_text()
    (tmp_path / "model.txt").write_text(text.replace("num_cat=0", "num_cat=1", 1))
    shutil.copy(MODEL_DIR / "meta.json", tmp_path / "meta.json")
    with pytest.raises(ModelError, match="cannot be read .*categorical"):
        EvidenceModel(tmp_path).predict(np.zeros((1, len(FEATURES)), np.float32))


def test_a_missing_or_stale_scorer_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="eval.training.train_scorer"):
        EvidenceModel(tmp_path).predict(np.zeros((1, len(FEATURES)), np.float32))
    shutil.copytree(MODEL_DIR, tmp_path / "stale")
    meta = json.loads((tmp_path / "stale" / "meta.json").read_text())
    (tmp_path / "stale" / "meta.json").write_text(json.dumps({**meta, "features": meta["features"][:-1]}))
    with pytest.raises(ModelError, match="other features"):
        EvidenceModel(tmp_path / "stale").version  # noqa: B018


ZEBRAFINCH = """# Zebrafinch syndrome

Zebrafinch syndrome is a fictional disorder.

In a trial of 40 patients, quuxamab 5 mg daily reduced flares by 60 percent compared with placebo (p = 0.003).
"""
UNRELATED = {
    "gout.md": "# Gout\n\nGout is inflammatory arthritis caused by urate crystals. Colchicine treats acute flares of gout.\n",
    "asthma.md": "# Asthma\n\nAsthma is treated with inhaled corticosteroids. Severe asthma may need biologic treatment.\n",
    "screening.md": (
        "# Mammography reminders\n\nOne thousand women from a health maintenance organization were randomised to telephone "
        "counselling or usual care. Telephone counselling raised mammography use from 61% to 71%.\n"
    ),
}


@pytest.fixture(scope="module")
def zebrafinch(tmp_path_factory: pytest.TempPathFactory, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("zebrafinch")
    corpus = copy_corpus(root / "corpus", {"zebrafinch.md": ZEBRAFINCH, **UNRELATED})
    return Assistant.build(corpus, root / "index", embedder=embedder)


def test_a_one_file_answer_beside_other_files_quotes_its_evidence_and_nothing_unrelated(zebrafinch: Assistant) -> None:
    answer = zebrafinch.ask("How is zebrafinch syndrome treated?")
    assert not answer.abstained
    assert "quuxamab 5 mg daily reduced flares" in answer.text, "the treatment sentence is the answer"
    assert {c.doc_id for c in answer.citations} == {"zebrafinch"}, "no other document answers this question"
    bottom = [c.quote for c in answer.citations if c.number in answer.bottom_line]
    assert any("quuxamab" in quote for quote in bottom), "the bottom line quotes the treatment"


def test_an_abbreviation_the_sources_only_spell_out_is_read_as_their_words(zebrafinch: Assistant) -> None:
    """No file writes 'HMO'; one spells it out without defining it."""
    answer = zebrafinch.ask("Does telephone counselling raise mammography use among HMO members?")
    assert answer.search_report.variants == {"HMO": ["health maintenance organization"]}
    assert not answer.abstained and {c.doc_id for c in answer.citations} == {"screening"}
    assert "No indexed passage mentions" not in answer.text and "never mention" not in answer.text


RIM_NOTES = (
    "# Notes on the RIM trial\n\nThe RIM trial randomised 200 patients with refractory myositis to rituximab early or late; "
    "the primary end point did not differ between the two arms, yet 83% of patients met the definition of improvement.\n"
)


def test_an_abbreviation_is_spelled_out_only_from_a_passage_that_answers(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 30, item 5: once the notes on the RIM trial are removed, "RIM" is not read as the "refractory
    inflammatory myositis" of an unrelated passage (a case series' title); the answer says no source mentions it."""
    corpus = copy_corpus(tmp_path / "corpus", {"rim-notes.md": RIM_NOTES})
    assistant = Assistant.build(corpus, tmp_path / "index", embedder=embedder)
    question = "What did the RIM trial show?"
    assert "rim-notes" in {c.doc_id for c in assistant.ask(question).citations}, "the notes answer while indexed"
    assistant.remove(["rim-notes"])
    answer = assistant.ask(question)
    assert answer.search_report.variants == {}, "no spelled-out reading of RIM"
    assert "as the sources write it" not in answer.text
    assert answer.abstained and "never mention: RIM" in answer.text
    assert not answer.citations, "no unrelated quotes, no table row"


def test_a_typo_that_breaks_the_stemmers_suffix_is_still_corrected(assistant: Assistant) -> None:
    """'cutaneus' stems to itself, three edits from the corpus stem 'cutan', one from the word 'cutaneous'."""
    answer = assistant.ask("Did upadacitinib improve cutaneus disease?")
    assert answer.search_report.corrections == {"cutaneus": "cutaneous"}
    assert not answer.abstained and CASE_SERIES in {c.doc_id for c in answer.citations}
    assert "never mention" not in answer.text and "No indexed passage mentions" not in answer.text


def test_misspelt_drug_and_disease_are_searched_as_the_corpus_spells_them(assistant: Assistant) -> None:
    answer = assistant.ask("Can Rinvok help dermatomyosits?")
    assert not answer.abstained
    assert {c.doc_id for c in answer.citations} == {CASE_SERIES, AI_ANSWER}, "both seed documents answer it"
    assert "“Rinvoq” (you wrote “Rinvok”)" in answer.text and "“dermatomyositis” (you wrote “dermatomyosits”)" in answer.text
    assert answer.search_report.corrections == {"Rinvok": "Rinvoq", "dermatomyosits": "dermatomyositis"}


def test_a_word_the_sources_write_otherwise_is_searched_in_their_form(assistant: Assistant) -> None:
    """The case series writes 'pruritus', never 'pruritic', and the stemmer keeps the two apart."""
    answer = assistant.ask("Did upadacitinib help pruritic dermatomyositis patients?")
    assert answer.search_report.variants == {"pruritic": ["pruritus"]}
    assert "Searched for “pruritic” also as the sources write it: “pruritus”" in answer.text
    assert not answer.abstained and "No indexed passage mentions" not in answer.text and "never mention" not in answer.text


def test_english_words_are_never_respelt(assistant: Assistant) -> None:
    plan = assistant.searcher.planner.plan("What is the capital of France?")
    assert plan.corrections == (), "'capital' and 'France' are English words, not misspellings of corpus words"


def test_a_generic_name_question_answers_from_the_alias(assistant: Assistant) -> None:
    answer = assistant.ask("What is the generic name for Rinvoq?")
    assert not answer.abstained and "never mention" not in answer.text
    first = next(c for c in answer.citations if c.number == answer.bottom_line[0])
    assert re.search(r"rinvoq", first.quote, re.I) and re.search(r"upadacitinib", first.quote, re.I), "the sentence naming both"


@pytest.mark.parametrize("question", ["What is the capital of France?", "Who won the 2018 FIFA World Cup?", "How do I bake sourdough bread?"])
def test_off_topic_questions_still_abstain(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    assert answer.abstained and not answer.citations


def test_answers_report_the_scorer_that_chose_their_sentences(assistant: Assistant) -> None:
    answer = assistant.ask("Can Rinvoq help a patient with dermatomyositis?")
    assert answer.search_report.scorer == assistant.scorer.version
    assert 0 < answer.search_report.best_evidence <= 1


def test_a_settings_bar_no_sentence_clears_makes_an_abstention(corpus_copy: Path, seed_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    strict = Settings(corpus_dir=corpus_copy, index_dir=seed_index).model_copy(
        update={"compose": Settings().compose.model_copy(update={"min_answer_evidence": 1.0})}
    )
    answer = Assistant.load(strict, embedder=embedder, refresh=False).ask("Can Rinvoq help a patient with dermatomyositis?")
    assert answer.abstained and "answers this question closely enough" in answer.text


def test_a_misspelling_is_matched_to_the_nearest_corpus_word(tmp_path: Path) -> None:
    from assistant.index.lexicon import Lexicon

    built = Lexicon.build(["Rinvoq helped dermatomyositis patients.", "Rinvoq was stopped; Rituximab was given.", "Roster.", "Bacterial vectors."])
    assert built.closest_term("Rinvok", 1) == "rinvoq", "one edit, the same first letter"
    assert built.closest_term("dermatomyosits", 1) == "dermatomyositis", "one edit from the word as written (two from its stem)"
    assert built.closest_term("bacteial", 1) == "bacterial", "a typo that breaks the suffix the stemmer strips"
    assert built.closest_term("dermatomiosits", 2) == "dermatomyositis", "the corpus spelling, not the stem"
    assert built.closest_term("dermatomiosits", 1) is None, "two edits from the word (three from the stem) is too far at one"
    assert built.closest_term("Finvoq", 1) is None, "a different first letter is no typo"
    assert built.closest_term("Rinvoq", 1) is None, "a word the corpus has needs no match"
    built.save(tmp_path / "bm25")
    loaded = Lexicon.load(tmp_path / "bm25")
    assert loaded.closest_term("Rinvok", 1) == "rinvoq", "surface forms survive saving and loading"


def test_one_disease_is_never_respelt_as_another() -> None:
    from assistant.answer.understand import another_condition

    assert another_condition("arteritis", "arthritis"), "giant cell arteritis is no misspelt arthritis (Zipf 1.8: a word)"
    assert not another_condition("anaemia", "anemia") and not another_condition("Oedema", "edema"), "British spelling"
    assert not another_condition("dermatomyosits", "dermatomyositis"), "no English word: a misspelling"
    assert not another_condition("cutaneus", "cutaneous"), "no condition or drug"


def test_a_question_on_another_disease_one_letter_away_is_not_answered_by_this_one(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """A rheumatoid arthritis trial asked about giant cell arteritis: before, "arteritis" was read as a misspelt
    "arthritis" and the trial 'supported' it."""
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "ra.md").write_text(
        "# Methotrexate in early rheumatoid arthritis\n\nWe randomly assigned 240 adults with early rheumatoid arthritis to "
        "methotrexate or placebo.\n\nMethotrexate increased remission in early rheumatoid arthritis (34% vs 12%).\n",
        encoding="utf-8",
    )
    assistant = Assistant.build(tmp_path / "c", tmp_path / "i", embedder=embedder)
    answer = assistant.ask("Does methotrexate help giant cell arteritis?")
    assert answer.search_report.corrections == {}
    assert answer.abstained and "never mention: arteritis" in answer.text and "supports it" not in answer.text
    assert assistant.ask("Does methotrexate help rheumatoid arthritus?").search_report.corrections == {"arthritus": "arthritis"}


def test_a_word_the_corpus_writes_otherwise_is_found_in_the_corpus_form() -> None:
    from assistant.index.lexicon import Lexicon

    built = Lexicon.build(
        ["Compliance with treatment was poor.", "Patients did not comply.", "Outcomes of child bearing age.", "Bearing in mind the child.",
         "Post conditioning protects the heart.", "The company reported results."]
    )
    forms = dict(built.variants("compliant", 5, 4, 4, 3))
    assert set(forms) == {"compliance", "comply"}, "same-length stems one letter apart, and a stem the other starts with"
    assert built.variants("compliant", 5, 4, 4, 3)[0][0] == "compliance", "the longest shared start comes first"
    assert built.variants("compliant", 5, 4, 4, 1) == [("compliance", frozenset({"complianc"}))], "at most `most` forms"
    assert dict(built.variants("childbearing", 5, 4, 4, 3)) == {"child bearing": frozenset({"child", "bear"})}, "a compound split in two corpus words"
    assert dict(built.variants("postconditioning", 5, 4, 4, 3)) == {"post conditioning": frozenset({"post", "condit"})}
    assert "child bearing" not in dict(built.variants("childbearing", 5, 4, 6, 3)), "each part must be at least `min_part` letters"
    hyphens = Lexicon.build(["Five had no pre-existing conditions.", "The prednisone dose was tapered."])
    assert dict(hyphens.variants("preexisting", 5, 4, 4, 3)) == {"pre-existing": frozenset({"pre", "exist"})}, "a bound prefix, shorter"
    assert hyphens.variants("nondose", 5, 4, 4, 3) == [], "only a prefix the corpus writes apart splits off"
    assert built.variants("comparison", 5, 4, 4, 3) == [], "a shared start alone is no variant ('compa…')"
    assert built.variants("compliance", 5, 4, 4, 3) == [], "a word the corpus has needs none"
    assert built.variants("quuxamab", 5, 4, 4, 3) == [], "a word with no corpus form stays unknown"
    greek = Lexicon.build(["Neonatal sepsis was treated.", "Pulmonary fibrotic changes.", "Metastatic disease."])
    assert greek.variants("septic", 5, 4, 4, 3) == [("sepsis", frozenset({"sepsi"}))], "a -tic adjective's -sis noun"
    assert dict(greek.variants("fibrosis", 5, 4, 4, 3)) == {"fibrotic": frozenset({"fibrot"})}, "and the other way"
    assert greek.variants("metastasis", 5, 4, 4, 3)[0][0] == "metastatic"
    assert greek.variants("optic", 5, 4, 4, 3) == [], "no '-sis' word of the same root in the corpus"
    letters = Lexicon.build(["Serum IL-1β was measured.", "NF-κB was activated.", "The 5alpha reductase inhibitor."])
    assert letters.variants("1beta", 5, 4, 4, 3) == [("1β", frozenset({"1β"}))], "a Greek letter the corpus writes as the letter"
    assert letters.variants("kappab", 5, 4, 4, 3) == [("κb", frozenset({"κb"}))]
    assert letters.variants("5α", 5, 4, 4, 3) == [("5alpha", frozenset({"5alpha"}))], "and one it spells out"
    assert letters.variants("1gamma", 5, 4, 4, 3) == [], "another letter is another molecule"
    dates = Lexicon.build(["Data were released on January 21, 2020."])
    assert dates.variants("21st", 5, 4, 4, 3) == [("21", frozenset({"21"}))], "an ordinal's number"
    assert dates.variants("22nd", 5, 4, 4, 3) == [], "another day is another date"
    named = Lexicon.build(["The 2019-nCoV outbreak began in Wuhan.", "COVID-19 spread fast.", "Facial flushing was seen.", "A new IL-6 test."])
    assert named.variants("CoV", 5, 4, 4, 3) == [("ncov", frozenset({"ncov"}))], "a mixed-case short form with a one-letter qualifier"
    assert named.variants("ACE", 5, 4, 4, 3) == [], "all capitals: 'face' is no ACE"
    assert named.variants("HCoV", 5, 4, 4, 3) == [], "no corpus word qualifies it"
