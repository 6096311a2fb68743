"""`python -m eval`: exit codes and messages, without loading the model."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import eval.suites.harness
from assistant.cli import app as assistant_app
from eval.__main__ import app
from eval.suites.harness import EvalRun, SuiteResult
from eval.suites.metrics import Violation

runner = CliRunner()


def test_missing_data_exits_2_and_says_how_to_pass_it(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--suite", "pubmedqa", "--data", str(tmp_path / "nowhere"), "--report", str(tmp_path)])
    assert result.exit_code == 2
    assert "--data" in result.output


def test_unknown_suite_lists_the_valid_ones(tmp_path: Path) -> None:
    result = runner.invoke(app, ["--suite", "pubmed", "--report", str(tmp_path)])
    assert result.exit_code == 2 and "pubmedqa" in result.output and "all" in result.output


def _fake_run(violations: list[Violation]):  # type: ignore[no-untyped-def]
    def fake(*args, **kwargs) -> EvalRun:  # type: ignore[no-untyped-def]
        return EvalRun([SuiteResult("gold", {"fact_recall": 0.5})], violations)

    return fake


@pytest.mark.parametrize(("violations", "code"), [([Violation("gold", "fact_recall", 0.5, "0.5 < min 0.9")], 1), ([], 0)])
def test_exit_code_follows_the_thresholds(monkeypatch, tmp_path: Path, violations, code) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(eval.suites.harness, "run_eval", _fake_run(violations))
    result = runner.invoke(app, ["--suite", "gold", "--report", str(tmp_path)])
    assert result.exit_code == code
    assert ("gold.fact_recall: 0.5 < min 0.9" in result.output) == bool(violations), "the failing metric is named"


def test_assistant_eval_forwards_to_the_harness(tmp_path: Path) -> None:
    result = runner.invoke(assistant_app, ["eval", "--suite", "medquad", "--data", str(tmp_path), "--report", str(tmp_path)])
    assert result.exit_code == 2 and "--data" in result.output
    assert "--limit" in runner.invoke(assistant_app, ["eval", "--help"]).output
