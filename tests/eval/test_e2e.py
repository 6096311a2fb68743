"""The gold suite end to end on the real corpus, real model and a real index (about a minute on 2 cores)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant, SentenceTransformerEmbedder, Settings
from eval.suites.gold import load_disagreements, load_gold
from eval.suites.harness import EvalRun, run_eval


@pytest.fixture(scope="session")
def gold_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[EvalRun, Path]:
    """One gold run (the model loads once), with its report written to a temporary folder."""
    settings = Settings(index_dir=tmp_path_factory.mktemp("idx"))
    assistant = Assistant.build(settings.corpus_dir, settings.index_dir, settings, embedder=SentenceTransformerEmbedder(settings.embed))
    report = tmp_path_factory.mktemp("report")
    return run_eval(["gold"], assistant=assistant, settings=settings, report_dir=report), report


def test_every_citation_is_verbatim(gold_run: tuple[EvalRun, Path]) -> None:
    gold = gold_run[0].suites[0]
    assert gold.info["citations checked"] > 0
    assert gold.metrics["citation_precision"] == 1.0, "\n".join(gold.notes)


def test_every_gold_case_is_scored_and_reported(gold_run: tuple[EvalRun, Path]) -> None:
    run, folder = gold_run
    gold, spec = run.suites[0], load_gold()
    assert len([c for c in gold.cases if c.kind == "fact"]) == sum(len(f.questions) for f in spec.facts)
    assert len([c for c in gold.cases if c.kind == "unanswerable"]) == len(spec.unanswerable)
    flagging = [c for c in gold.cases if c.kind == "disagreement"]
    assert len(flagging) == len(load_disagreements().pairs) + 1, "every pair, plus the seed question"
    assert sum(r["cases"] for r in gold.tables["disagreement detection"]) == len(flagging)  # type: ignore[misc]
    assert [r["retriever"] for r in gold.tables["retrieval ablation"]] == ["bm25", "dense", "hybrid", "hybrid+aliases"]
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert all(c.case_id in report for c in gold.cases), "report.md lists every case"
    assert (folder / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((folder / "results.json").read_text())["ok"] == run.ok
