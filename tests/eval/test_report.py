"""Console summary, markdown report, chart and JSON for a constructed run."""

from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console

from eval.suites.harness import CaseResult, EvalRun, SuiteResult
from eval.suites.metrics import Violation
from eval.suites.report import markdown, print_summary, write_report

RUN = EvalRun(
    [
        SuiteResult(
            "gold",
            {"fact_recall": 0.5, "citation_precision": 1.0},
            [
                CaseResult("fact", "f1/q1", "Which [bold] dose?", False, r"missing pattern(s): /a|b[-–]/", "“x” [1]"),
                CaseResult("fact", "f2/q1", "How many?", True, "", "“10 patients” [2]"),
            ],
            {"retrieval ablation": [{"retriever": "bm25", "doc R@1": 1.0}]},
            {"facts": 2},
        )
    ],
    [Violation("gold", "fact_recall", 0.5, "0.5 < min 0.9")],
)


def test_console_names_failing_cases_and_violations_literally() -> None:
    console = Console(record=True, width=200)
    print_summary(RUN, console)
    out = console.export_text()
    assert "f1/q1: Which [bold] dose?" in out, "case text is printed as written, not as markup"
    assert "gold.fact_recall: 0.5 < min 0.9" in out
    assert "f2/q1" not in out.split("retrieval ablation")[-1], "passing cases are not listed as failures"


def test_markdown_lists_every_case_with_its_miss() -> None:
    text = markdown(RUN)
    assert "Result: **FAIL**" in text
    assert r"missing pattern(s): /a\|b[-–]/" in text, "pipes in patterns are escaped inside table cells"
    assert "| fact | f2/q1 | How many? | pass |" in text


def test_write_report_makes_markdown_chart_and_json(tmp_path: Path) -> None:
    path = write_report(RUN, tmp_path / "r")
    assert path.read_text(encoding="utf-8").startswith("# Evaluation report")
    assert (tmp_path / "r" / "metrics.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "r" / "results.json").read_text())["violations"] == ["gold.fact_recall: 0.5 < min 0.9"]
