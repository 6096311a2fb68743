"""Presenting a run: a rich console summary, report.md with every case, a bar chart, and results.json."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .records import EvalRun, SuiteResult

DEFINITIONS: dict[str, str] = {
    "fact_recall": "share of (fact, question) cases whose answer contains every pattern of the fact AND cites, "
    "with a [n] marker, a passage of the fact's document whose quote matches every pattern",
    "facts_fully_recalled": "share of gold facts recalled for every one of their questions (paraphrases included)",
    "citation_precision": "share of citations that pass the citation check (extractive: quote is non-empty and equals "
    "documents[doc_id].text[start:end]; grounded: that, plus the numbers and most key terms of each claim citing it "
    "occur in the quote); a [n] marker with no citation counts as a failure",
    "false_absence_rate": "synthesis: as for the datasets; gold: share of answerable questions (fact questions, conversation turns, seed) whose answer "
    "abstains, or says in its own words (outside quotes) that the sources do not cover something while missing an "
    "expected fact; datasets: share of asked questions (all answerable: their own document is indexed) whose answer "
    "abstains or says in its own words that the sources do not cover something",
    "false_abstention_rate": "datasets: the part of false_absence_rate that is an outright 'Not covered' (the answer "
    "abstains although its own document is indexed); the rest are answers that quote evidence and add 'No indexed "
    "passage mentions: X' for a question word no passage uses; reported, no threshold",
    "spurious_absence_notes": "share of answerable questions whose answer delivers every expected fact yet still "
    "says something is not covered (e.g. 'No indexed passage mentions: many'); reported, no threshold",
    "abstention_accuracy": "share of unanswerable questions (list + conversation turns marked abstain) answered by "
    "abstaining or an explicit 'not covered', with no forbidden (invented) statement",
    "multi_turn_fact_recall": "fact recall over the facts expected at each conversation turn, asked in one Conversation",
    "seed_fact_recall": "share of the seed question's required facts (from both documents) in its one answer",
    "seed_disagreement": "1 if the seed answer reports a disagreement whose sides cite passages of both documents",
    "disagreement_precision": "share of flagged answers (answer.disagreements non-empty) whose case is labelled "
    "disagree; cases: the synthetic pairs of eval/disagreements.yaml (disagree / agree / talk_past, each pair indexed "
    "on its own and asked with Assistant.ask) plus the seed question on the corpus (disagree); 0 when nothing is flagged",
    "disagreement_recall": "share of cases labelled disagree whose answer flags a disagreement",
    "weighing_accuracy": "share of the turns of eval/weighing.yaml (small corpora indexed on their own, the seed corpus "
    "among them) whose answer meets every expectation: the document it opens with, findings in and apparatus out of "
    "the bottom line, refuted claims of missing evidence named, disagreements flagged, abstentions",
    "recall@k": "share of questions with a chunk of their own passage (doc) or a gold chunk (chunk: one containing "
    "the fact's patterns) among the top k results of Assistant.search",
    "mrr": "mean of 1/rank of the first relevant result within the top 10 (0 when absent)",
    "opens_with_own_document": "datasets and synthesis: share of asked questions whose bottom line's first quote comes from the "
    "question's own document (paper, abstract, passage), every document of the dataset pooled in one index",
    "own_document_citation_share": "datasets: of all citations whose [n] appears in the answers, the share from each "
    "question's own document",
    "span_in_bottom_line": "COVID-QA: share of questions whose bottom line quotes a sentence holding >= 60% of the gold "
    "answer span's words",
    "span_in_answer": "COVID-QA: share of questions with such a sentence quoted anywhere in the answer",
    "abstains_without_own_document": "PubMedQA: share of the asked questions answered 'not covered' (abstained, or an "
    "absence stated in the assistant's own words) by an index of every other abstract: nothing there answers them",
    "opens_with_evidence": "synthesis: share of questions whose bottom line's first quote comes from an abstract, not "
    "from the unreviewed page that claims the evidence is lacking (eval/suites/synthesis.py)",
    "page_leads": "synthesis: share of questions whose bottom line's first quote comes from the unreviewed page",
    "claim_flagged": "synthesis: share of questions whose answer names the page's claim of missing evidence as "
    "contradicted by an indexed source (Answer.synthesis.contradicted)",
    "stance_accuracy": "PubMedQA: share of asked questions whose answer gives the question's own abstract the stance its "
    "final_decision labels (supports = yes; argues against, finds no effect, says evidence is lacking = no; mixed, or "
    "only reports on it, or not a source = maybe); baselines on the test split: majority 0.552, TF-IDF logistic "
    "regression 0.576, BioBERT 0.681, one human annotator 0.780",
    "stance_macro_f1": "PubMedQA: the same, macro-F1 over yes / no / maybe (majority 0.237, TF-IDF 0.350)",
    "stance_decided_share": "PubMedQA: share of asked questions whose answer states a stance for the own abstract (not "
    "only 'reports on it', not absent): the verdict model where it is sure, else the cue rules",
    "stance_decided_accuracy": "PubMedQA: stance_accuracy over the answers that state a stance for the own abstract",
    "covidqa_span_in_bottom_line": "perdoc: span_in_bottom_line with each COVID-QA paper of the split indexed alone and "
    "asked its own questions",
    "covidqa_span_in_answer": "perdoc: span_in_answer, each COVID-QA paper indexed alone",
    "covidqa_false_absence_rate": "perdoc: false_absence_rate, each COVID-QA paper indexed alone (every question answerable)",
    "covidqa_false_abstention_rate": "perdoc: false_abstention_rate (an outright 'Not covered'), each COVID-QA paper alone",
    "pubmedqa_false_absence_rate": "perdoc: false_absence_rate, each PubMedQA abstract indexed alone and asked its question",
    "pubmedqa_false_abstention_rate": "perdoc: false_abstention_rate, each PubMedQA abstract alone",
    "pubmedqa_other_question_abstention": "perdoc: share of the PubMedQA abstracts, each indexed alone, that answer 'not "
    "covered' (abstain, or an absence in the assistant's own words) when asked the next abstract's question",
    "pubmedqa_results_share": "perdoc: share of the answers (abstracts that label a results paragraph) whose bottom line "
    "quotes a sentence of a CONTEXTS paragraph labelled RESULTS (or METHODS AND RESULTS, FINDINGS, …), each abstract alone",
    "pubmedqa_long_answer_recall": "perdoc: long_answer_recall, each PubMedQA abstract alone; reported, no threshold",
    "scoped_covidqa_span_in_bottom_line": "perdoc: covidqa_span_in_bottom_line with the split's COVID-QA papers pooled in "
    "one index, each question scoped to its own paper (sources=[paper])",
    "scoped_covidqa_false_absence_rate": "perdoc: covidqa_false_absence_rate, each question scoped to its paper in the pool",
    "scoped_pubmedqa_false_absence_rate": "perdoc: pubmedqa_false_absence_rate, each question scoped to its abstract in the "
    "PubMedQA pool",
    "scoped_pubmedqa_results_share": "perdoc: pubmedqa_results_share, each question scoped to its abstract in the pool",
    "scoped_agreement": "perdoc: share of the questions (COVID-QA and PubMedQA) whose answer scoped to the own document in "
    "the pool says 'not covered' exactly when the document indexed alone does and opens its bottom line with the same sentence",
    "long_answer_recall": "PubMedQA: mean share of the LONG_ANSWER's content words found in the bottom line's quotes "
    "from the question's own abstract (the conclusion itself is not indexed); reported, no threshold",
}


def _fmt(value: object) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _status(run: EvalRun, suite: str, metric: str) -> str:
    return "FAIL" if any(v.suite == suite and v.metric == metric for v in run.violations) else "ok"


# ---------------------------------------------------------------- console

def print_summary(run: EvalRun, console: Console | None = None) -> None:
    """One table per suite, the ablation tables, then the failing cases and threshold violations."""
    console = console or Console()
    for suite in run.suites:
        table = Table(title=f"{suite.name}: metrics", title_justify="left")
        table.add_column("metric")
        table.add_column("value", justify="right")
        table.add_column("status")
        for metric, value in suite.metrics.items():
            status = _status(run, suite.name, metric)
            table.add_row(metric, _fmt(value), f"[red]{status}[/red]" if status == "FAIL" else f"[green]{status}[/green]")
        console.print(table)
        for title, rows in suite.tables.items():
            console.print(_rows_table(f"{suite.name}: {title}", rows))
        failed = [c for c in suite.cases if not c.passed]
        for case in failed:
            console.print(f"[red]✗[/red] {escape(f'{case.case_id}: {case.question} — {case.detail}')}")
        console.print("[dim]" + escape("; ".join(f"{k}: {v}" for k, v in suite.info.items())) + "[/dim]")
        for note in suite.notes:
            console.print(f"[dim]{escape(note)}[/dim]")
    for violation in (v for v in run.below_target if v not in run.violations):
        console.print(f"  [yellow]target not yet met: {escape(str(violation))}[/yellow]")
    if run.violations:
        console.print("[bold red]Below threshold (eval/thresholds.yaml):[/bold red]")
        for violation in run.violations:
            console.print(f"  [red]{escape(str(violation))}[/red]")
    else:
        console.print("[bold green]All gated thresholds met.[/bold green]")


def _rows_table(title: str, rows: list[dict[str, object]]) -> Table:
    table = Table(title=title, title_justify="left")
    columns = list(rows[0]) if rows else []
    for column in columns:
        table.add_column(column, justify="left" if column == "retriever" else "right")
    for row in rows:
        table.add_row(*(_fmt(row.get(c, "")) for c in columns))
    return table


# ---------------------------------------------------------------- markdown, chart, json

def markdown(run: EvalRun, chart: str | None = None) -> str:
    """The whole run as markdown: summary, definitions, ablation tables and every case."""
    lines = ["# Evaluation report", "", f"Result: **{'PASS' if run.ok else 'FAIL'}**", ""]
    if run.violations:
        lines += ["Below threshold (eval/thresholds.yaml):", "", *[f"- `{v}`" for v in run.violations], ""]
    if missed := [v for v in run.below_target if v not in run.violations]:
        lines += ["Targets not yet met (the run passed its regression floors):", "", *[f"- `{v}`" for v in missed], ""]
    if chart:
        lines += [f"![metrics]({chart})", ""]
    for suite in run.suites:
        lines += _suite_markdown(run, suite)
    lines += ["## Definitions", "", *[f"- **{k}**: {v}." for k, v in DEFINITIONS.items()], ""]
    return "\n".join(lines)


def _suite_markdown(run: EvalRun, suite: SuiteResult) -> list[str]:
    lines = [f"## {suite.name}", "", "| metric | value | status |", "|---|---:|---|"]
    lines += [f"| {m} | {_fmt(v)} | {_status(run, suite.name, m)} |" for m, v in suite.metrics.items()]
    lines += ["", *[f"- {k}: {_cell(v)}" for k, v in suite.info.items()], *[f"- {_cell(n)}" for n in suite.notes], ""]
    for title, rows in suite.tables.items():
        columns = list(rows[0]) if rows else []
        lines += [f"### {title}", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
        lines.append("")
    if suite.cases:
        lines += ["### Cases", "", "| kind | case | question | result | missed | answer excerpt |", "|---|---|---|---|---|---|"]
        lines += [
            f"| {c.kind} | {_cell(c.case_id)} | {_cell(c.question)} | {'pass' if c.passed else '**FAIL**'} | "
            f"{_cell(c.detail)} | {_cell(c.excerpt)} |"
            for c in suite.cases
        ]
        lines.append("")
    return lines


def write_chart(run: EvalRun, path: Path) -> None:
    """Horizontal bars of every metric in [0, 1], red where below its threshold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels, values, colours = [], [], []
    for suite in run.suites:
        for metric, value in suite.metrics.items():
            labels.append(f"{suite.name}: {metric}")
            values.append(value)
            colours.append("#c0392b" if _status(run, suite.name, metric) == "FAIL" else "#2e86c1")
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(labels) + 1.2))
    ax.barh(labels[::-1], values[::-1], color=colours[::-1])
    ax.set_xlim(0, 1.05)
    ax.set_xlabel("value (red: outside its threshold)")
    ax.set_title("Evaluation metrics")
    for y, value in enumerate(values[::-1]):
        ax.text(min(value, 1.0) + 0.01, y, f"{value:.3f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report(run: EvalRun, folder: Path) -> Path:
    """report.md, metrics.png and results.json in `folder`; returns the report's path."""
    folder.mkdir(parents=True, exist_ok=True)
    write_chart(run, folder / "metrics.png")
    (folder / "report.md").write_text(markdown(run, "metrics.png"), encoding="utf-8")
    results = {
        "ok": run.ok,
        "violations": [str(v) for v in run.violations],
        "suites": [asdict(s) for s in run.suites],
    }
    (folder / "results.json").write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    return folder / "report.md"
