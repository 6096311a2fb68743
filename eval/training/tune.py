"""Tune how the evidence scorer's verdicts become an answer (ComposeSettings) on the dev splits; never on test.

    python -m eval.training.tune --data ../shared/data          # → eval/TUNING.md: every setting tried, its dev figures

Each dataset's dev-split questions are asked of every document of the dataset pooled (MedQuAD: the 2,000-passage
slice), for each combination of the grid; the search runs once per question and only composing is repeated.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from assistant import Assistant, Settings
from assistant.answer.compose import CitationRegistry, Composer
from assistant.answer.retrieve import SearchResult
from assistant.answer.sentences import Candidate
from assistant.index.embed import default_embedder
from assistant.settings import ComposeSettings

from ..suites.answers import answer_metrics, score_answer
from ..suites.datasets import Query
from ..suites.harness import CACHE_DIR, HOLDOUT, SPANS
from ..suites.metrics import is_absent, ratio
from .splits import load_splits
from .train_scorer import DATASETS, DEV_LIMIT, pooled

TUNING_PATH = Path(__file__).resolve().parents[1] / "TUNING.md"
GRID: dict[str, Sequence[object]] = {
    "lead_share": (0.5, 0.8),
    "order_by_extracted_grades": (False, True),
    "bottom_line": (3, 4),
    "topic_gate": (True, False),
}
WITHOUT_OWN = " without own"
# The figures the choice weighs equally (false absences count against).
OBJECTIVE = (
    ("covidqa", "span_in_bottom_line"), ("covidqa", "span_in_answer"), ("covidqa", "opens_with_own_document"),
    ("covidqa", "own_document_citation_share"), ("pubmedqa", "opens_with_own_document"),
    ("pubmedqa", "own_document_citation_share"), ("medquad", "opens_with_own_document"),
)  # and, for PubMedQA, abstaining when the question's own abstract is not indexed


@dataclass(frozen=True, slots=True)
class Asked:
    """A dev question with its search and scoring done once."""

    pool: str  # a dataset name, or "<name> without own" (the pool without the asked questions' documents)
    query: Query
    result: SearchResult
    candidates: list[Candidate]


def searched(assistant: Assistant, pool: str, queries: Sequence[Query]) -> list[Asked]:
    out = []
    for q in queries:
        result = assistant.searcher.search(q.text)
        out.append(Asked(pool, q, result, assistant.composer.sentences.candidates(result)))
    return out


def figures(assistants: dict[str, Assistant], asked: Sequence[Asked], compose: ComposeSettings) -> dict[str, float]:
    """Every pool's answer metrics for one ComposeSettings (the absence audit is not re-run: a first-pass abstention
    counts as an absence)."""
    out: dict[str, float] = {}
    for pool, assistant in assistants.items():
        composer = Composer(
            assistant.index, compose, assistant.settings.retrieve.min_similarity, assistant.scorer, assistant.settings.verdict,
            assistant.searcher.scoper.source,
        )
        answers = [(a.query, composer.answer(a.query.text, a.result, a.candidates, CitationRegistry())) for a in asked if a.pool == pool]
        if pool.endswith(WITHOUT_OWN):
            out[pool] = ratio(sum(is_absent(answer) for _, answer in answers), len(answers))
            continue
        spans = pool in SPANS
        scored = [score_answer(query, answer, 0.0, spans=spans) for query, answer in answers]
        out.update({f"{pool} {k}": v for k, v in answer_metrics(scored, spans=spans).items()})
    return out


def objective(row: dict[str, float]) -> float:
    good = [row[f"{name} {metric}"] for name, metric in OBJECTIVE] + [v for k, v in row.items() if k.endswith(WITHOUT_OWN)]
    return sum(good) / len(good) - sum(v for k, v in row.items() if k.endswith("false_absence_rate"))


def main(
    data: Annotated[Path, typer.Option(help="Folder holding covidqa/, pubmedqa/ and medquad/.")],
    out: Annotated[Path, typer.Option(help="Where the table goes.")] = TUNING_PATH,
) -> None:
    """Try every combination of GRID on the dev splits; print and write the table, best first."""
    settings = Settings()
    embedder = default_embedder(settings.embed)
    splits = load_splits()
    assistants: dict[str, Assistant] = {}
    asked: list[Asked] = []
    for name, loader in DATASETS.items():
        data_set = loader(data, DEV_LIMIT.get(name))
        assistants[name] = pooled(data_set.passages, data_set.suffix, CACHE_DIR / data_set.key, settings, embedder)
        keys = splits.keys(name, "dev")
        dev = [q for q in data_set.queries if q.group in keys]
        asked += searched(assistants[name], name, dev)
        if name in HOLDOUT:  # the same questions without their own documents indexed: "not covered" is right
            own = {d for q in dev for d in q.relevant_docs}
            rest = {d: t for d, t in data_set.passages.items() if d not in own}
            pool = name + WITHOUT_OWN
            assistants[pool] = pooled(rest, data_set.suffix, CACHE_DIR / f"{data_set.key}-without-dev", settings, embedder)
            asked += searched(assistants[pool], pool, dev)
    rows = []
    started = time.perf_counter()
    for values in itertools.product(*GRID.values()):
        changes = dict(zip(GRID, values, strict=True))
        compose = ComposeSettings.model_validate({**settings.compose.model_dump(), **changes})
        row = figures(assistants, asked, compose)
        rows.append((objective(row), changes, row))
    rows.sort(key=lambda r: -r[0])
    metrics = list(rows[0][2])
    lines = [
        "# Tuning the composer on the dev splits",
        "",
        f"`python -m eval.training.tune` ({len(asked)} dev questions, {len(rows)} settings, {time.perf_counter() - started:.0f} s). "
        "Objective: the mean of " + ", ".join(f"{n} {m}" for n, m in OBJECTIVE) + " and of PubMedQA's abstention "
        "without the questions' own abstracts, minus the false-absence rates.",
        "",
        "| objective | " + " | ".join(GRID) + " | " + " | ".join(metrics) + " |",
        "|" + "---|" * (1 + len(GRID) + len(metrics)),
    ]
    table = [
        f"| {score:.3f} | " + " | ".join(str(c[k]) for k in GRID) + " | " + " | ".join(f"{row[m]:.3f}" for m in metrics) + " |"
        for score, c, row in rows
    ]
    defaults = settings.compose.model_dump()
    chosen = [line for line, (_, c, _) in zip(table, rows, strict=True) if all(c[k] == defaults[k] for k in GRID)]
    lines[3:3] = [
        "The shipped defaults (ComposeSettings) are not always the objective's best row: where the dev figures and "
        "the gold set's multi-source answers pull apart, the gold set decides, and each field's description says "
        "why. Their row:",
        "",
        *(lines[4:6] + chosen if chosen else ["(the defaults are outside this grid)"]),
        "",
    ]
    lines += table
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    typer.echo("\n".join(lines[:12]))


if __name__ == "__main__":
    typer.run(main)
