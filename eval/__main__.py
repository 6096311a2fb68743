"""`python -m eval`: run the suites, print a summary, write a report; exit 1 when a threshold is missed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from assistant.errors import AssistantError, ConfigError
from assistant.settings import PROJECT_ROOT, Settings, StoreSettings

from .suites.harness import SUITES
from .suites.metrics import CITATION_CHECKS

DEFAULT_DATA = PROJECT_ROOT.parent / "shared" / "data"
DEFAULT_REPORT = PROJECT_ROOT / "eval" / "reports"

app = typer.Typer(add_completion=False, help="Evaluate the assistant: gold set and weighing cases; PubMedQA, MedQuAD and COVID-QA retrieval and answers; the synthesis suite.")


@app.command()
def main(
    suite: Annotated[str, typer.Option(help=f"Which suite: {' | '.join((*SUITES, 'all'))}.")] = "gold",
    report: Annotated[Path, typer.Option(help="Folder for report.md, metrics.png and results.json.")] = DEFAULT_REPORT,
    data: Annotated[Path, typer.Option(help="Folder holding pubmedqa/, medquad/ and covidqa/ (default: ../shared/data).")] = DEFAULT_DATA,
    limit: Annotated[Optional[int], typer.Option(min=1, help="PubMedQA and synthesis: first N PMIDs; MedQuAD: N passages; COVID-QA: first N papers; perdoc: N abstracts and N/12 papers of the split. Default: all.")] = None,
    citations: Annotated[str, typer.Option(help=f"Citation check: {' | '.join(CITATION_CHECKS)}.")] = "extractive",
    ablation: Annotated[bool, typer.Option("--ablation", help="Datasets too: score all four retrievers (4× query time).")] = False,
    split: Annotated[str, typer.Option(help="Datasets: whose questions are asked for the answer metrics (train | dev | test).")] = "test",
    questions: Annotated[Optional[int], typer.Option(min=1, help="Datasets: ask at most N of the split's questions (spread evenly).")] = None,
    gate: Annotated[str, typer.Option(help="Exit 1 below the targets ('target') or below the regression floors ('floor', CI).")] = "target",
    store: Annotated[str, typer.Option(help="Where chunks are searched: local | qdrant.")] = "local",
    qdrant_url: Annotated[Optional[str], typer.Option(help="Qdrant server (with --store qdrant).")] = None,
    qdrant_path: Annotated[Optional[Path], typer.Option(help="Embedded Qdrant folder (with --store qdrant).")] = None,
) -> None:
    """Run the evaluation; exits 1 when a metric is outside eval/thresholds.yaml, 2 on a usage or data error."""
    from rich.console import Console

    from .suites.harness import AnswerScope, run_eval
    from .suites.report import print_summary

    console = Console(width=max(Console().width, 120))
    try:
        settings = store_settings(store, qdrant_url, qdrant_path)
        run = run_eval(
            [suite], data_dir=data, limit=limit, report_dir=report, citation_mode=citations, ablation=ablation, gate=gate,
            scope=AnswerScope(split, questions),
            console=console, settings=settings,
        )
    except AssistantError as exc:
        typer.secho(f"Error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    print_summary(run, console)
    typer.echo(f"Report: {report / 'report.md'}")
    raise typer.Exit(0 if run.ok else 1)


def store_settings(kind: str, url: str | None, path: Path | None) -> Settings:
    """Default settings with the store the options name; invalid combinations become a ConfigError."""
    try:
        return Settings(store=StoreSettings(kind=kind, qdrant_url=url, qdrant_path=path))  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"Invalid store options: {exc.errors()[0]['msg']}.") from exc


if __name__ == "__main__":
    app()
