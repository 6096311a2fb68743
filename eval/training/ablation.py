"""What each remaining rule adds, measured on the test splits: every rule switched off in turn.

    python -m eval.training.ablation --data ../shared/data         # → eval/ABLATION.md

The rules are the ones left beside the learned evidence scorer (Settings fields): the fusion of its ranking with the
v1 rule's, the v1 rule's admission of second sources, aspect sub-queries, the "not stated" line for doses and costs,
the unknown-words abstention, the quoted limitations, the corpus' other forms of a question word and abbreviations
read as the words that spell them out (and aspect_documents, off by default, switched on). Each
variant asks COVID-QA's and PubMedQA's test-split questions (every document pooled) and the gold set; a rule keeps
its place where switching it off costs something.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from assistant import Settings
from assistant.index.embed import default_embedder

from ..suites.harness import AnswerScope, run_eval

ABLATION_PATH = Path(__file__).resolve().parents[1] / "ABLATION.md"
VARIANTS: dict[str, dict[str, dict[str, object]]] = {
    "all rules": {},
    "scorer's ranking alone (no fusion)": {"compose": {"fusion_k": 0}},
    "no v1-rule admission": {"compose": {"rule_relevance": 9.0}},
    "aspect documents on": {"compose": {"aspect_documents": True}},
    "no aspect sub-queries": {"retrieve": {"aspect_queries": False}},
    "no 'not stated' line": {"compose": {"state_unstated": False}},
    "no unknown-words rule": {"compose": {"unknown_words": False}},
    "no quoted limitations": {"compose": {"limitations": False}},
    "no word variants": {"retrieve": {"variants_kept": 0}},
    "no spelled-out abbreviations": {"retrieve": {"spelled_out_letters": 99}},  # no question word has 99 letters
}
SHOWN = {
    "covidqa": ("span_in_bottom_line", "span_in_answer", "opens_with_own_document", "own_document_citation_share", "false_absence_rate"),
    "pubmedqa": ("opens_with_own_document", "own_document_citation_share", "false_absence_rate", "abstains_without_own_document"),
    "gold": ("fact_recall", "abstention_accuracy", "false_absence_rate", "multi_turn_fact_recall", "disagreement_precision", "disagreement_recall"),
}


def variant_settings(base: Settings, changes: dict[str, dict[str, object]]) -> Settings:
    data = base.model_dump()
    for section, fields in changes.items():
        data[section] = {**data[section], **fields}
    return Settings.model_validate(data)


def main(
    data: Annotated[Path, typer.Option(help="Folder holding covidqa/ and pubmedqa/.")],
    out: Annotated[Path, typer.Option(help="Where the table goes.")] = ABLATION_PATH,
) -> None:
    """Run every variant on the test splits and the gold set; write the table."""
    console = Console(quiet=True)
    base = Settings()
    embedder = default_embedder(base.embed)
    rows = []
    for name, changes in VARIANTS.items():
        settings = variant_settings(base, changes)
        run = run_eval(["gold", *(s for s in SHOWN if s != "gold")], data_dir=data, settings=settings, embedder=embedder,
                       scope=AnswerScope("test"), console=console)
        measured = {r.name: r.metrics for r in run.suites}
        rows.append((name, [measured[suite][metric] for suite, metrics in SHOWN.items() for metric in metrics]))
        typer.echo(f"{name}: done")
    header = [f"{suite} {metric}" for suite, metrics in SHOWN.items() for metric in metrics]
    lines = [
        "# Ablation of the rules beside the evidence scorer",
        "",
        "`python -m eval.training.ablation`: each rule switched off in turn (its Settings field), on the test splits of COVID-QA "
        "and PubMedQA (every document pooled) and on the gold set.",
        "",
        "| variant | " + " | ".join(header) + " |",
        "|---|" + "---:|" * len(header),
        *[f"| {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |" for name, values in rows],
    ]
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    typer.echo("\n".join(lines))


if __name__ == "__main__":
    typer.run(main)
