"""`python -m eval`: run the suites, print a summary, write a report; exit 1 when a threshold is missed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from assistant.errors import AssistantError
from assistant.settings import PROJECT_ROOT

from .harness import SUITES
from .metrics import CITATION_CHECKS

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_REPORT = PROJECT_ROOT / "eval" / "reports"

app = typer.Typer(add_completion=False, help="Evaluate the assistant: gold set; PubMedQA, MedQuAD and COVID-QA retrieval and answers.")


@app.command()
def main(
    suite: Annotated[str, typer.Option(help=f"Which suite: {' | '.join((*SUITES, 'all'))}.")] = "gold",
    report: Annotated[Path, typer.Option(help="Folder for report.md, metrics.png and results.json.")] = DEFAULT_REPORT,
    data: Annotated[Path, typer.Option(help="Folder holding pubmedqa/, medquad/ and covidqa/ (default: ../shared/data).")] = DEFAULT_DATA,
    limit: Annotated[Optional[int], typer.Option(min=1, help="PubMedQA: first N PMIDs; MedQuAD: N passages; COVID-QA: first N papers. Default: all.")] = None,
    citations: Annotated[str, typer.Option(help=f"Citation check: {' | '.join(CITATION_CHECKS)}.")] = "extractive",
    ablation: Annotated[bool, typer.Option("--ablation", help="Datasets too: score all four retrievers (4× query time).")] = False,
    split: Annotated[str, typer.Option(help="Datasets: whose questions are asked for the answer metrics (train | dev | test).")] = "test",
    questions: Annotated[Optional[int], typer.Option(min=1, help="Datasets: ask at most N of the split's questions (spread evenly).")] = None,
    gate: Annotated[str, typer.Option(help="Exit 1 below the targets ('target') or below the regression floors ('floor', CI).")] = "target",
) -> None:
    """Run the evaluation; exits 1 when a metric is outside eval/thresholds.yaml, 2 on a usage or data error."""
    from rich.console import Console

    from .harness import AnswerScope, run_eval
    from .report import print_summary

    console = Console(width=max(Console().width, 120))
    try:
        run = run_eval(
            [suite], data_dir=data, limit=limit, report_dir=report, citation_mode=citations, ablation=ablation, gate=gate,
            scope=AnswerScope(split, questions),
            console=console,
        )
    except AssistantError as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    print_summary(run, console)
    typer.echo(f"Report: {report / 'report.md'}")
    raise typer.Exit(0 if run.ok else 1)


if __name__ == "__main__":
    app()
