"""PubMedQA / MedQuAD loaders and the dataset suite, on small hand-made files in the real formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from assistant import Assistant, ConfigError, HashingEmbedder, Settings
from eval.suites.datasets import (
    COVIDQA_FILE,
    MEDQUAD_FILE,
    PUBMEDQA_FILE,
    Query,
    load_covidqa,
    load_medquad,
    load_pubmedqa,
    write_corpus,
)
from eval.suites.harness import AnswerScope, run_dataset, score_retrieval
from eval.training.splits import Splits

ABSTRACTS = {
    "300": ("Does coffee protect the liver?", ["Coffee drinkers had lower liver enzyme levels.", "Cirrhosis was rarer."]),
    "100": ("Is helicopter intubation slower?", ["Flight nurses intubated manikins in a helicopter.", "It took longer."]),
    "200": ("Do statins cause myalgia in runners?", ["Marathon runners on statins reported muscle pain.", "CK rose."]),
}


@pytest.fixture()
def data_dir(tmp_path: Path) -> Path:
    pubmedqa = tmp_path / PUBMEDQA_FILE
    pubmedqa.parent.mkdir(parents=True)
    pubmedqa.write_text(
        json.dumps({p: {"QUESTION": q, "CONTEXTS": c, "LONG_ANSWER": f"Conclusion {p}."} for p, (q, c) in ABSTRACTS.items()})
    )
    medquad = tmp_path / MEDQUAD_FILE
    medquad.parent.mkdir(parents=True)
    rows = [
        {"id": "1", "focus": "Gout", "question": "What is gout?", "answer": "Gout is inflammatory arthritis caused by urate crystals."},
        {"id": "2", "focus": "Gout", "question": "What causes gout?", "answer": "Gout is inflammatory arthritis caused by urate crystals. "},
        {"id": "3", "focus": "Anemia", "question": "What is anemia?", "answer": "Anemia is a shortage of red blood cells or hemoglobin."},
        {"id": "4", "focus": "Asthma", "question": "How is asthma treated?", "answer": "Asthma is treated with inhaled corticosteroids and bronchodilators."},
    ]
    medquad.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    covidqa = tmp_path / COVIDQA_FILE
    covidqa.parent.mkdir(parents=True)
    paper = {
        "document_id": 7,
        "context": "Ferrets and a coronavirus: a study\n\nAbstract: Ferrets shed the virus for nine days. Cats did not.",
        "qas": [{"id": 70, "question": "How long did ferrets shed the virus?", "answers": [{"text": "nine days", "answer_start": 66}]}],
    }
    covidqa.write_text(json.dumps({"data": [{"paragraphs": [paper]}]}))
    return tmp_path


# Every fixture item in the test split (the committed eval/splits.json covers the real data only).
ALL_TEST = Splits({"pubmedqa": {"test": list(ABSTRACTS)}, "medquad": {"test": ["Gout", "Anemia", "Asthma"]}, "covidqa": {"test": ["7"]}})


def test_pubmedqa_limit_takes_the_first_pmids_sorted_and_pools_them(data_dir: Path) -> None:
    data = load_pubmedqa(data_dir, limit=2)
    assert sorted(data.passages) == ["100", "200"], "first N PMIDs in sorted order"
    assert data.passages["100"] == "Flight nurses intubated manikins in a helicopter.\n\nIt took longer."
    assert [(q.id, q.relevant_docs) for q in data.queries] == [("100", {"100"}), ("200", {"200"})]
    assert "Is helicopter" not in data.passages["100"], "abstracts are pooled title- and question-less"


def test_dataset_key_names_the_slice_and_the_data_version(data_dir: Path) -> None:
    assert load_pubmedqa(data_dir, 2).key != load_pubmedqa(data_dir).key
    assert load_pubmedqa(data_dir, 3).key == load_pubmedqa(data_dir).key, "a limit covering everything is the full set"
    before = load_pubmedqa(data_dir).key
    (data_dir / PUBMEDQA_FILE).write_text(json.dumps({"1": {"QUESTION": "q", "CONTEXTS": ["c"], "LONG_ANSWER": "a"}}))
    assert load_pubmedqa(data_dir).key != before, "changed data must not reuse a cached index"


def test_medquad_pools_distinct_answers_and_keeps_their_questions(data_dir: Path) -> None:
    data = load_medquad(data_dir)
    assert len(data.passages) == 3, "the two gout rows share one passage"
    gout = {q.id: q.relevant_docs for q in data.queries if q.id in ("1", "2")}
    assert gout["1"] == gout["2"]
    sliced = load_medquad(data_dir, limit=1)
    assert len(sliced.passages) == 1
    assert all(q.relevant_docs <= set(sliced.passages) for q in sliced.queries) and sliced.queries
    assert load_medquad(data_dir, limit=1).passages == sliced.passages, "the slice is fixed"


def test_covidqa_pools_papers_with_their_titles_and_gold_spans(data_dir: Path, tmp_path: Path) -> None:
    data = load_covidqa(data_dir)
    assert list(data.passages) == ["covidqa-7"] and data.suffix == ".md"
    (query,) = data.queries
    assert (query.answer, query.group, query.relevant_docs) == ("nine days", "7", {"covidqa-7"})
    write_corpus(data.passages, tmp_path / "c", data.suffix)
    assistant = Assistant.build(tmp_path / "c", tmp_path / "i", embedder=HashingEmbedder())
    doc = assistant.index.documents["covidqa-7"]
    assert doc.title == "Ferrets and a coronavirus: a study", "the first line is the paper's title, from front matter"
    assert "Ferrets shed the virus for nine days." in doc.text and "Ferrets and a coronavirus" not in doc.text


def test_a_split_the_committed_file_lacks_is_refused(data_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no split"):
        Splits({"covidqa": {"test": ["8"]}}).of("covidqa", "7")


def test_missing_data_says_how_to_pass_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--data"):
        load_pubmedqa(tmp_path)
    with pytest.raises(ConfigError, match="--data"):
        load_medquad(tmp_path)
    with pytest.raises(ConfigError, match="--data"):
        load_covidqa(tmp_path)


def test_write_corpus_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    write_corpus({"a": "alpha", "b": "beta"}, tmp_path)
    before = (tmp_path / "a.txt").stat().st_mtime_ns
    write_corpus({"a": "alpha", "b": "gamma"}, tmp_path)
    assert (tmp_path / "a.txt").stat().st_mtime_ns == before
    assert (tmp_path / "b.txt").read_text() == "gamma"


def test_dataset_suite_scores_own_abstracts_and_reuses_its_cache(data_dir: Path, tmp_path: Path) -> None:
    data = load_pubmedqa(data_dir)
    settings, embedder, console = Settings(), HashingEmbedder(), Console(quiet=True)
    first = run_dataset(data, settings, embedder, tmp_path / "cache", console, scope=AnswerScope(splits=ALL_TEST))
    assert first.info["passages"] == 3 and first.info["chunks embedded now"] == first.info["chunks"]
    assert first.metrics["recall@1"] == first.metrics["mrr"] == 1.0, "each question shares its key words only with its own abstract"
    assert not [c for c in first.cases if c.kind == "miss"], "no misses to list"
    assert first.info["answer-level questions"] == "3 of the test split"
    assert {"opens_with_own_document", "own_document_citation_share", "false_absence_rate", "long_answer_recall"} <= first.metrics.keys()
    assert sorted(c.case_id for c in first.cases if c.kind == "answer") == sorted(ABSTRACTS), "every test-split question asked"
    again = run_dataset(data, settings, embedder, tmp_path / "cache", console, ablation=True, scope=AnswerScope(splits=ALL_TEST))
    assert again.info["chunks embedded now"] == 0, "a rerun reuses the cached index"
    assert [r["retriever"] for r in again.tables["retrieval ablation"]] == ["bm25", "dense", "hybrid", "hybrid+aliases"]


def test_chunk_scoring_counts_an_unlocatable_answer_as_a_miss(tmp_path: Path) -> None:
    write_corpus({"a": "Gout is caused by urate crystals.", "b": "Anemia is a lack of hemoglobin."}, tmp_path / "c")
    assistant = Assistant.build(tmp_path / "c", tmp_path / "i", embedder=HashingEmbedder())
    found = Query("q1", "What causes gout?", frozenset({"a"}), frozenset({"a#0"}))
    nowhere = Query("q2", "What causes gout?", frozenset({"a"}), frozenset())
    doc_only = Query("q3", "What causes gout?", frozenset({"a"}))
    (row,), _ = score_retrieval(assistant, [found, nowhere, doc_only], ("bm25",))
    assert row["doc R@1"] == 1.0 and row["chunk R@10"] == 0.5, "chunk scores cover q1 and q2, not the doc-only q3"


def test_medquad_reports_questions_sharing_a_passage(data_dir: Path, tmp_path: Path) -> None:
    result = run_dataset(
        load_medquad(data_dir), Settings(), HashingEmbedder(), tmp_path / "cache", Console(quiet=True), scope=AnswerScope(splits=ALL_TEST)
    )
    assert result.info["questions whose passage answers other questions too"] == 2, "the two gout questions"
    assert result.info["recall@10 on the others"] == 1.0, "anemia and asthma each find their own passage"


def test_default_retriever_misses_are_listed(tmp_path: Path) -> None:
    write_corpus({"a": "Gout is caused by urate crystals.", "b": "Anemia is a lack of hemoglobin."}, tmp_path / "c")
    assistant = Assistant.build(tmp_path / "c", tmp_path / "i", embedder=HashingEmbedder())
    wrong = Query("q", "What causes gout?", frozenset({"zzz"}))
    _, misses = score_retrieval(assistant, [wrong], ("bm25", "hybrid+aliases"))
    assert [(m.query.id, m.retrieved[0]) for m in misses] == [("q", "a")], "one miss, from the default retriever only"


def test_the_condition_lexicon_keeps_the_rare_words_of_topic_names() -> None:
    from eval.training.build_conditions import condition_words

    topics = ["Pustular psoriasis", "Crohn's Disease", "Blood Clots", "Dermatitis Herpetiformis: Skin Manifestation", "Eyelid Disorders", "Hypomagnesemia 2, renal"]
    assert condition_words(topics) == ["clots", "crohn", "herpetiformis", "hypomagnesemia", "psoriasis"], "the head word or eponym only"


def test_the_condition_lexicon_keeps_one_word_topics_asked_about_symptoms_or_treatment() -> None:
    from eval.training.build_conditions import common_conditions

    asked = {
        "Pneumonia": {"information", "symptoms", "treatment"}, "Asthma": {"treatment"},  # conditions, uncommon words
        "Ultrasound": {"information"}, "Potassium": {"information"},  # MedlinePlus topics asked about in general only
        "Psoriasis": {"symptoms"},  # rare: condition_words has it
        "Cancer": {"treatment"},  # too common in English to be named when missing
        "Lung Cancer": {"symptoms"},  # more than one word
    }
    assert common_conditions(asked) == ["asthma", "pneumonia"]


def test_the_condition_phrases_are_topics_of_common_words_asked_about_symptoms_or_treatment() -> None:
    from eval.training.build_conditions import common_phrases

    asked = {
        "Heart Failure": {"symptoms", "treatment"}, "heart failure": {"symptoms"}, "Back Pain": {"treatment"},  # one condition each
        "Alagille syndrome": {"symptoms"},  # a rare word names it alone
        "C syndrome": {"symptoms"},  # a one-letter word
        "Healthy Aging": {"information"},  # asked about in general only
        "High Blood Cholesterol Level": {"treatment"},  # four words
    }
    assert common_phrases(asked) == ["back pain", "heart failure"]


def test_heldout_pages_claim_in_the_heldout_wordings_and_no_rule_of_ours_reads_most_of_them() -> None:
    """The synthesis-heldout suite's pages: each claims the evidence is lacking in one of the wordings held out from the
    cue rules and from the absence-claim model's training (eval/training/absence_heldout.txt)."""
    from assistant.answer.stance import ABSENCE_CLAIM
    from eval.suites.synthesis import HELDOUT_CLAIMS, page_for
    from eval.training.train_absence import CLAIMS_FILE, wordings

    heldout = wordings(HELDOUT_CLAIMS)
    assert len(heldout) == 12 and not set(heldout) & set(wordings(CLAIMS_FILE)), "held out from the model's training wordings"
    assert sum(bool(ABSENCE_CLAIM.search(w.format(topic="whether X helps Y"))) for w in heldout) <= 2, "and mostly from the rules"
    question = "Do mitochondria play a role in remodelling lace plant leaves during programmed cell death?"
    page = page_for("21645374", question, 2011, "test", heldout)
    assert any(w.format(topic="whether mitochondria play a role in remodelling lace plant leaves during programmed cell death") in page for w in heldout)
    assert page != page_for("21645374", question, 2011, "test"), "the suite's own wordings otherwise"
    unmarked = page_for("21645374", question, 2011, "test", heldout, marked=False)
    assert page.startswith("---\n") and not unmarked.startswith("---"), "the synthesis-unmarked suite's page has no front matter"
    assert unmarked.startswith("# ") and page.split("---\n\n", 1)[1] in unmarked, "its title a heading, the same text"
