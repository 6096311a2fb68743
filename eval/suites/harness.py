"""Runs the suites: the hand-written gold set on the corpus, and retrieval on PubMedQA / MedQuAD pools."""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import TypeAdapter, ValidationError
from rich.console import Console

from assistant import Answer, Assistant, Document, Settings
from assistant.answer.retrieve import Mode
from assistant.errors import ConfigError
from assistant.index.embed import Embedder, default_embedder

from ..training.splits import SPLITS, Splits, load_splits
from .answers import Scored, answer_metrics, ask_all, latency, spread, stock_baseline
from .datasets import Query, RetrievalSet, load_covidqa, load_medquad, load_pubmedqa, pubmedqa_records, write_corpus
from .gold import (
    DISAGREEMENTS_PATH,
    GOLD_PATH,
    DisagreementPair,
    DisagreementSet,
    Fact,
    GoldSet,
    load_disagreements,
    load_gold,
)
from .metrics import (
    Bound,
    CitationCheck,
    Detection,
    abstention_correct,
    check_fact,
    check_thresholds,
    citation_check,
    detection,
    first_relevant_rank,
    is_absent,
    matches_all,
    ratio,
    retrieval_metrics,
    score_citations,
)
from .perdoc import PERDOC_METRICS, run_perdoc
from .records import CaseResult, EvalRun, SuiteResult
from .synthesis import SYNTHESIS_METRICS, VARIANTS, run_synthesis
from .weighing import WEIGHING_PATH, WeighingSet, load_weighing, run_weighing

EVAL_DIR = Path(__file__).resolve().parents[1]  # eval/: thresholds, gold set, splits, reports
THRESHOLDS_PATH = EVAL_DIR / "thresholds.yaml"
CACHE_DIR = EVAL_DIR / ".cache"
DATASETS: dict[str, Callable[[Path, int | None], RetrievalSet]] = {
    "pubmedqa": load_pubmedqa,
    "medquad": load_medquad,
    "covidqa": load_covidqa,
}
SPANS = {"covidqa"}  # datasets whose gold answer is a span to find in a quote (the others: a reference text)
# Datasets whose asked questions are also put to the pool without their own documents: another abstract rarely answers
# a PubMedQA question, so "not covered" is the right answer there (COVID-QA's papers overlap too much for that).
HOLDOUT = {"pubmedqa"}
SUITES = ("gold", *DATASETS, *VARIANTS, "perdoc")
# Retriever configurations of the ablation: (mode, alias expansion).
RETRIEVERS: dict[str, tuple[Mode, bool]] = {
    "bm25": ("bm25", False),
    "dense": ("dense", False),
    "hybrid": ("hybrid", False),
    "hybrid+aliases": ("hybrid", True),
}
DEFAULT_RETRIEVER = "hybrid+aliases"  # the assistant's default settings; the datasets' headline metrics
RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr")
ANSWER_METRICS = ("opens_with_own_document", "own_document_citation_share", "false_absence_rate", "false_abstention_rate")
_SHORT = {"recall@1": "R@1", "recall@5": "R@5", "recall@10": "R@10", "mrr": "MRR"}
GOLD_METRICS = (
    "fact_recall",
    "facts_fully_recalled",
    "citation_precision",
    "false_absence_rate",
    "spurious_absence_notes",
    "abstention_accuracy",
    "multi_turn_fact_recall",
    "seed_fact_recall",
    "seed_disagreement",
    "disagreement_precision",
    "disagreement_recall",
    "weighing_accuracy",
)
SUITE_METRICS: dict[str, tuple[str, ...]] = {
    "gold": GOLD_METRICS,
    **{
        name: (
            *RETRIEVAL_METRICS,
            *ANSWER_METRICS,
            *(("span_in_bottom_line", "span_in_answer") if name in SPANS else ("long_answer_recall",)),
            *(("stance_accuracy", "stance_macro_f1", "stance_decided_share", "stance_decided_accuracy") if name == "pubmedqa" else ()),
            *(("abstains_without_own_document",) if name in HOLDOUT else ()),
        )
        for name in DATASETS
    },
    **{variant: SYNTHESIS_METRICS for variant in VARIANTS},
    "perdoc": PERDOC_METRICS,
}


def excerpt(answer: Answer, limit: int = 360) -> str:
    """The answer's first `limit` characters on one line."""
    text = re.sub(r"\s*\n\s*", " / ", answer.text.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- gold suite

@dataclass(slots=True)
class _GoldTally:
    """Running counts behind the citation and absence metrics, one answer at a time."""

    check: CitationCheck
    documents: Mapping[str, Document]
    citations_ok: int = 0
    citations: int = 0
    bad_citations: list[str] = field(default_factory=list)
    answerable: int = 0
    false_absences: int = 0
    spurious_notes: int = 0

    def record(self, answer: Answer, expected: list[CaseResult] | None) -> list[CaseResult]:
        """Score an answer's citations; for an answerable one (`expected` = its fact cases) tally absence claims."""
        score = score_citations(answer, self.documents, self.check)
        self.citations_ok += score.correct
        self.citations += score.total
        self.bad_citations += [f"{answer.question!r}: {b}" for b in score.bad]
        if expected is None:
            return []
        self.answerable += 1
        if is_absent(answer):
            delivered = all(c.passed for c in expected)
            self.spurious_notes += delivered
            self.false_absences += not delivered
        return expected


def _fact_case(kind: str, case_id: str, answer: Answer, fact: Fact) -> CaseResult:
    result = check_fact(answer, fact.patterns, fact.doc)
    detail = result.reason(fact.doc)
    if is_absent(answer):
        detail = (detail + "; " if detail else "") + ("abstained" if answer.abstained else "says not covered")
    return CaseResult(kind, case_id, answer.question, result.found, detail, excerpt(answer))


def _abstention_case(kind: str, case_id: str, answer: Answer, forbidden: Sequence[str]) -> CaseResult:
    passed = abstention_correct(answer, forbidden)
    detail = "" if passed else ("states a forbidden answer" if is_absent(answer) else "answered instead of abstaining")
    return CaseResult(kind, case_id, answer.question, passed, detail, excerpt(answer))


def _share(cases: Iterable[CaseResult]) -> float:
    cases = list(cases)
    return ratio(sum(c.passed for c in cases), len(cases))


def run_gold(assistant: Assistant, gold: GoldSet, pairs: DisagreementSet, check: CitationCheck, weighing: WeighingSet) -> SuiteResult:
    """Ask every gold question on the real index and score facts, citations, absences and retrieval;
    then disagreement detection over the pairs (each its own tiny index), the seed answer and the weighing cases."""
    started = time.perf_counter()
    tally = _GoldTally(check, assistant.index.documents)
    cases: list[CaseResult] = []
    for fact in gold.facts:
        for n, question in enumerate(fact.questions, start=1):
            answer = assistant.ask(question)
            cases += tally.record(answer, [_fact_case("fact", f"{fact.id}/q{n}", answer, fact)])
    for conversation in gold.conversations:
        chat = assistant.conversation()
        for n, turn in enumerate(conversation.turns, start=1):
            answer = chat.ask(turn.question, suggest=False)
            case_id = f"{conversation.id}/t{n}"
            if turn.abstain:
                tally.record(answer, None)
                cases.append(_abstention_case("turn-abstain", case_id, answer, ()))
            else:
                expected = [_fact_case("turn", f"{case_id}:{f}", answer, gold.fact(f)) for f in turn.expect]
                cases += tally.record(answer, expected)
    for item in gold.unanswerable:
        answer = assistant.ask(item.question)
        tally.record(answer, None)
        cases.append(_abstention_case("unanswerable", item.id, answer, item.forbidden))
    seed = assistant.ask(gold.seed.question)
    cases += tally.record(seed, [_fact_case("seed", f"seed:{f}", seed, gold.fact(f)) for f in gold.seed.facts])
    cases.append(_disagreement_case(seed, gold.seed.disagreement_docs))
    asked = time.perf_counter() - started
    started = time.perf_counter()
    flagging = [_flagging("seed", "disagree", seed), *run_disagreements(assistant, pairs.pairs)]
    cases += [f.case for f in flagging]
    detected = detection((f.expected, f.flagged) for f in flagging)
    cases += run_weighing(assistant, weighing)
    paired = time.perf_counter() - started
    started = time.perf_counter()
    queries = gold_queries(assistant, gold)
    ablation, _ = score_retrieval(assistant, queries)
    info: dict[str, object] = {
        "facts": len(gold.facts),
        "fact questions": sum(c.kind == "fact" for c in cases),
        "conversations": len(gold.conversations),
        "unanswerable": len(gold.unanswerable),
        "citations checked": tally.citations,
        "disagreement cases": f"{len(flagging)} ({', '.join(f'{k} {v}' for k, v in detected.counts().items())})",
        "answering s": round(asked, 1),
        "disagreement pairs and weighing s": round(paired, 1),
        "ablation s": round(time.perf_counter() - started, 1),
    }
    notes = [f"Citation failure: {b}" for b in tally.bad_citations]
    unlocated = sorted({q.id.split("/")[0] for q in queries if not q.relevant_chunks})
    notes += [f"No chunk holds all patterns of {f}: a chunk-level miss for every retriever." for f in unlocated]
    tables = {"disagreement detection": _detection_rows(flagging), "retrieval ablation": ablation}
    return SuiteResult("gold", _gold_metrics(gold, cases, tally, detected), cases, tables, info, notes)


def _gold_metrics(gold: GoldSet, cases: list[CaseResult], tally: _GoldTally, detected: Detection) -> dict[str, float]:
    """The gold metrics from the scored cases and the citation/absence tally (defined in report.DEFINITIONS)."""
    facts = [c for c in cases if c.kind == "fact"]
    per_fact = {f.id: all(c.passed for c in facts if c.case_id.startswith(f.id + "/")) for f in gold.facts}
    return {
        "fact_recall": _share(facts),
        "facts_fully_recalled": ratio(sum(per_fact.values()), len(per_fact)),
        "citation_precision": ratio(tally.citations_ok, tally.citations),
        "false_absence_rate": ratio(tally.false_absences, tally.answerable),
        "spurious_absence_notes": ratio(tally.spurious_notes, tally.answerable),
        "abstention_accuracy": _share(c for c in cases if c.kind in ("unanswerable", "turn-abstain")),
        "multi_turn_fact_recall": _share(c for c in cases if c.kind == "turn"),
        "seed_fact_recall": _share(c for c in cases if c.kind == "seed"),
        "seed_disagreement": _share(c for c in cases if c.kind == "seed-disagreement"),
        "disagreement_precision": detected.precision,
        "disagreement_recall": detected.recall,
        "weighing_accuracy": _share(c for c in cases if c.kind == "weighing"),
    }


def _disagreement_case(answer: Answer, docs: Sequence[str]) -> CaseResult:
    """The answer reports a disagreement whose sides cite passages of every listed document."""
    by_number = {c.number: c.doc_id for c in answer.citations}
    sides = {by_number.get(number) for note in answer.disagreements for number, _, _ in note.sides}
    missing = [d for d in docs if d not in sides]
    if not answer.disagreements:
        detail = "no disagreement reported"
    else:
        detail = f"disagreement does not cite {', '.join(missing)}" if missing else ""
    return CaseResult("seed-disagreement", "seed:disagreement", answer.question, not detail, detail, excerpt(answer))


@dataclass(frozen=True, slots=True)
class Flagging:
    """One labelled pair's answer: whether it flagged a disagreement, and whether it should have."""

    label: str  # disagree | agree | talk_past
    flagged: bool
    case: CaseResult

    @property
    def expected(self) -> bool:
        return self.label == "disagree"


def run_disagreements(assistant: Assistant, pairs: Sequence[DisagreementPair]) -> list[Flagging]:
    """Index each pair's two documents on their own (the assistant's model and settings), ask its question, and
    record whether the answer flags a disagreement."""
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="disagreements-") as tmp:
        for pair in pairs:
            corpus = Path(tmp) / pair.id / "corpus"
            corpus.mkdir(parents=True)
            for name, text in pair.documents.items():
                (corpus / f"{name}.md").write_text(text, encoding="utf-8")
            with Assistant.build(corpus, corpus.parent / "index", assistant.settings, embedder=assistant.embedder) as paired:
                outcomes.append(_flagging(pair.id, pair.label, paired.ask(pair.question)))
    return outcomes


def _flagging(case_id: str, label: str, answer: Answer) -> Flagging:
    """Right when the answer flags a disagreement exactly when the pair is labelled `disagree`."""
    flagged = bool(answer.disagreements)
    detail = f"flagged: {answer.disagreements[0].note}" if flagged else "not flagged" + (" (abstained)" if answer.abstained else "")
    passed = flagged == (label == "disagree")
    return Flagging(label, flagged, CaseResult("disagreement", f"{label}/{case_id}", answer.question, passed, detail, excerpt(answer)))


def _detection_rows(flagging: Sequence[Flagging]) -> list[dict[str, object]]:
    """Per label: how many cases, and how many the answers flagged as a disagreement."""
    labels = dict.fromkeys(f.label for f in flagging)
    return [
        {"label": label, "cases": sum(f.label == label for f in flagging), "flagged": sum(f.flagged for f in flagging if f.label == label)}
        for label in labels
    ]


def gold_queries(assistant: Assistant, gold: GoldSet) -> list[Query]:
    """One query per fact question; its gold chunks are those of the fact's document matching all its patterns."""
    queries = []
    for fact in gold.facts:
        chunks = frozenset(
            c.chunk_id for c in assistant.index.chunks if c.doc_id == fact.doc and matches_all(fact.patterns, c.text)
        )
        queries += [Query(f"{fact.id}/q{n}", q, frozenset({fact.doc}), chunks) for n, q in enumerate(fact.questions, 1)]
    return queries


# ---------------------------------------------------------------- retrieval

@dataclass(frozen=True, slots=True)
class Miss:
    """A query whose relevant document the default retriever left out of the top k, and what it returned."""

    query: Query
    retrieved: tuple[str, ...]


def score_retrieval(
    assistant: Assistant, queries: Sequence[Query], retrievers: Sequence[str] = tuple(RETRIEVERS), k: int = 10
) -> tuple[list[dict[str, object]], list[Miss]]:
    """recall@1/5/10 and MRR per retriever configuration (documents, and chunks where the queries name them),
    and the document-level misses of the default retriever."""
    rows: list[dict[str, object]] = []
    misses: list[Miss] = []
    for name in retrievers:
        mode, aliases = RETRIEVERS[name]
        started = time.perf_counter()
        doc_ranks, chunk_ranks = [], []
        for query in queries:
            hits = assistant.search(query.text, k=k, mode=mode, aliases=aliases)
            doc_ranks.append(first_relevant_rank([h.doc_id for h in hits], query.relevant_docs))
            if doc_ranks[-1] is None and name == DEFAULT_RETRIEVER:
                misses.append(Miss(query, tuple(dict.fromkeys(h.doc_id for h in hits))))
            if query.relevant_chunks is not None:
                chunk_ranks.append(first_relevant_rank([h.chunk_id for h in hits], query.relevant_chunks))
        row: dict[str, object] = {"retriever": name, **{f"doc {_SHORT[m]}": v for m, v in retrieval_metrics(doc_ranks).items()}}
        if chunk_ranks:
            row.update({f"chunk {_SHORT[m]}": v for m, v in retrieval_metrics(chunk_ranks).items()})
        row["ms/query"] = 1000 * (time.perf_counter() - started) / max(len(queries), 1)
        rows.append(row)
    return rows, misses


@dataclass(frozen=True, slots=True)
class AnswerScope:
    """Which questions of a dataset are asked for the answer-level metrics: those of one split (`splits`, by default
    the committed eval/splits.json), at most `questions` of them, spread across documents."""

    split: str = "test"
    questions: int | None = None
    splits: Splits | None = None


def run_dataset(
    data: RetrievalSet,
    settings: Settings,
    embedder: Embedder,
    cache_dir: Path,
    console: Console,
    *,
    ablation: bool = False,
    scope: AnswerScope = AnswerScope(),
) -> SuiteResult:
    """Pool the passages into one cached, incremental index; score each question's own passage in the ranking (every
    question), then ask the questions of `scope` and score their answers.

    Only the default retriever is scored unless `ablation` (four times the query time)."""
    root = cache_dir / data.key
    write_corpus(data.passages, root / "corpus", data.suffix)
    started = time.perf_counter()
    with console.status(f"[bold]{data.name}[/bold]: indexing {len(data.passages)} passages (cached in {root})") as status:
        assistant = Assistant.build(
            root / "corpus", root / "index", settings, embedder=embedder,
            progress=lambda stage, done, total: status.update(f"[bold]{data.name}[/bold]: {stage} {done}/{total} chunks"),
        )
    built = time.perf_counter() - started
    report = assistant.last_report
    started = time.perf_counter()
    rows, misses = score_retrieval(assistant, data.queries, tuple(RETRIEVERS) if ablation else (DEFAULT_RETRIEVER,))
    queried = time.perf_counter() - started
    default = next(r for r in rows if r["retriever"] == DEFAULT_RETRIEVER)
    metrics = {m: float(default[f"doc {_SHORT[m]}"]) for m in RETRIEVAL_METRICS}
    splits = scope.splits or load_splits()
    asked = spread([q for q in data.queries if splits.of(data.name, q.group) == scope.split], scope.questions)
    spans = data.name in SPANS
    with console.status(f"[bold]{data.name}[/bold]: asking {len(asked)} {scope.split}-split questions"):
        scored = ask_all(assistant, asked, spans=spans)
    metrics.update(answer_metrics(scored, spans=spans))
    if data.name in HOLDOUT and set(data.passages) - {d for q in asked for d in q.relevant_docs}:  # some left to index
        with console.status(f"[bold]{data.name}[/bold]: asking them again without their own documents indexed"):
            metrics["abstains_without_own_document"] = _abstains_without_own(data, asked, settings, embedder, root.parent)
    shared = _sharing_a_passage(data.queries)
    unshared = len(data.queries) - len(shared)
    info: dict[str, object] = {
        "data": data.key,
        "passages": len(data.passages),
        "chunks": len(assistant.index.chunks),
        "questions": len(data.queries),
        "questions whose passage answers other questions too": len(shared),
        "recall@10 on the others": round(ratio(unshared - sum(m.query.id not in shared for m in misses), unshared), 3),
        "chunks embedded now": report.embedded_chunks if report else 0,
        "index s": round(built, 1),
        "queries s": round(queried, 1),
        "answer-level questions": f"{len(asked)} of the {scope.split} split",
        **latency(scored),
        "index folder": str(root / "index"),
    }
    if spans:
        documents = {doc_id: doc.text for doc_id, doc in assistant.index.documents.items()}
        info.update({k: round(v, 3) for k, v in stock_baseline(documents, asked, embedder).items()})
    notes = [
        f"Retrieval metrics: the {DEFAULT_RETRIEVER} retriever (the assistant's default) over every question; a hit is any "
        "chunk of the question's own passage among the top k chunks returned.",
        f"Answer metrics: Assistant.ask on the {scope.split}-split questions (split by document, eval/splits.json), "
        "every passage of the dataset pooled in one index.",
    ]
    cases = [
        CaseResult(
            "miss", m.query.id, m.query.text, False,
            f"own passage {', '.join(sorted(m.query.relevant_docs))} not in the top 10; returned {', '.join(m.retrieved[:3])}",
            data.passages[min(m.query.relevant_docs)][:200],
        )
        for m in misses
    ]
    cases += [_answer_case(s, spans) for s in scored]
    tables = {"retrieval ablation" if ablation else "retrieval": rows}
    return SuiteResult(data.name, metrics, cases, tables, info, notes)


def _abstains_without_own(data: RetrievalSet, asked: Sequence[Query], settings: Settings, embedder: Embedder, cache_dir: Path) -> float:
    """Share of the asked questions answered "not covered" by an index of the dataset without their own documents."""
    own = {d for q in asked for d in q.relevant_docs}
    root = cache_dir / f"{data.key}-without-{hashlib.sha256(' '.join(sorted(own)).encode()).hexdigest()[:10]}"
    write_corpus({d: t for d, t in data.passages.items() if d not in own}, root / "corpus", data.suffix)
    assistant = Assistant.build(root / "corpus", root / "index", settings, embedder=embedder)
    return ratio(sum(is_absent(assistant.ask(q.text)) for q in asked), len(asked))


def _answer_case(scored: Scored, spans: bool) -> CaseResult:
    """An asked question: passes when the answer opens with its own document (and, for spans, quotes the span)."""
    problems = []
    if scored.absent:
        problems.append("says not covered")
    if not scored.opens_with_own:
        problems.append(f"bottom line opens with {scored.first_doc or 'nothing'}")
    if spans and not scored.span_in_bottom_line:
        problems.append("span " + ("elsewhere in the answer" if scored.span_in_answer else "not quoted") + f": {scored.query.answer[:120]!r}")
    excerpt = re.sub(r"\s*\n\s*", " / ", scored.excerpt)
    return CaseResult("answer", scored.query.id, scored.query.text, not problems, "; ".join(problems), excerpt)


def _sharing_a_passage(queries: Sequence[Query]) -> set[str]:
    """Ids of questions whose relevant passage is also another question's (MedQuAD's generic answers,
    e.g. one inheritance paragraph for many "Is X inherited?" questions, which never names X)."""
    owners: dict[frozenset[str], list[str]] = {}
    for query in queries:
        owners.setdefault(query.relevant_docs, []).append(query.id)
    return {q for ids in owners.values() if len(ids) > 1 for q in ids}


# ---------------------------------------------------------------- entry point

def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, dict[str, Bound]]:
    """The one thresholds file; unknown suites or metrics are refused with the valid names."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        thresholds = TypeAdapter(dict[str, dict[str, Bound]]).validate_python(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"Cannot use the thresholds file {path}: {exc}. Fix it and run again.") from exc
    for suite, bars in thresholds.items():
        if suite not in SUITE_METRICS:
            raise ConfigError(f"{path}: unknown suite {suite!r}. Valid: {', '.join(SUITES)}.")
        if unknown := sorted(set(bars) - set(SUITE_METRICS[suite])):
            raise ConfigError(f"{path}: unknown {suite} metric(s) {unknown}. Valid: {', '.join(SUITE_METRICS[suite])}.")
    return thresholds


def resolve_suites(names: Iterable[str]) -> list[str]:
    """Expand "all" and refuse unknown suite names, listing the valid ones."""
    out: list[str] = []
    for name in names:
        wanted = SUITES if name == "all" else (name,)
        for suite in wanted:
            if suite not in SUITES:
                raise ConfigError(f"Unknown suite {suite!r}. Valid: {', '.join((*SUITES, 'all'))}.")
            if suite not in out:
                out.append(suite)
    return out


def run_eval(
    suites: Iterable[str] = ("gold",),
    *,
    data_dir: Path | None = None,
    limit: int | None = None,
    report_dir: Path | None = None,
    settings: Settings | None = None,
    embedder: Embedder | None = None,
    assistant: Assistant | None = None,
    cache_dir: Path = CACHE_DIR,
    citation_mode: str = "extractive",
    ablation: bool = False,
    scope: AnswerScope = AnswerScope(),
    gold_path: Path = GOLD_PATH,
    disagreements_path: Path = DISAGREEMENTS_PATH,
    weighing_path: Path = WEIGHING_PATH,
    thresholds_path: Path = THRESHOLDS_PATH,
    gate: str = "target",
    console: Console | None = None,
) -> EvalRun:
    """Run the named suites, check them against the thresholds file, and write the report if asked.

    `assistant` (gold suite) and `embedder` let callers reuse a loaded model; by default the gold suite
    indexes settings.corpus_dir into cache_dir/gold. The gold suite always runs the retriever ablation;
    the datasets only with `ablation`. `scope`: which questions of each dataset are asked for its answer metrics.
    """
    console = console or Console()
    names = resolve_suites(suites)
    thresholds = load_thresholds(thresholds_path)
    check = citation_check(citation_mode)
    gold_sets = (load_gold(gold_path), load_disagreements(disagreements_path), load_weighing(weighing_path)) if "gold" in names else None
    datasets = [n for n in names if n in DATASETS]
    need_data = datasets + [n for n in names if n in (*VARIANTS, "perdoc")]
    if scope.split not in SPLITS:
        raise ConfigError(f"Unknown split {scope.split!r}. Valid: {', '.join(SPLITS)}.")
    if need_data and data_dir is None:
        raise ConfigError(f"The {', '.join(need_data)} suite(s) need the data folder: pass --data PATH.")
    loaded = {n: DATASETS[n](data_dir, limit) for n in datasets}  # type: ignore[arg-type]  # fail fast, before the model loads
    settings = settings or Settings()
    embedder = embedder or (assistant.embedder if assistant else default_embedder(settings.embed))
    results = []
    for name in names:
        if gold_sets is not None and name == "gold":
            with console.status("[bold]gold[/bold]: indexing the corpus and asking the gold questions"):
                gold_assistant = assistant or Assistant.build(settings.corpus_dir, cache_dir / "gold", settings, embedder=embedder)
                results.append(run_gold(gold_assistant, gold_sets[0], gold_sets[1], check, gold_sets[2]))
        elif name in VARIANTS:
            pooled, records = load_pubmedqa(data_dir, limit), pubmedqa_records(data_dir)  # type: ignore[arg-type]
            results.append(run_synthesis(
                pooled, records, settings, embedder, cache_dir, console, split=scope.split, questions=scope.questions, variant=name,
            ))
        elif name == "perdoc":
            results.append(run_perdoc(data_dir, settings, embedder, cache_dir, console, split=scope.split, limit=limit, questions=scope.questions))  # type: ignore[arg-type]
        else:
            results.append(run_dataset(loaded[name], settings, embedder, cache_dir, console, ablation=ablation, scope=scope))
    measured = {r.name: r.metrics for r in results}
    run = EvalRun(results, check_thresholds(measured, thresholds, gate), check_thresholds(measured, thresholds))
    if report_dir is not None:
        from .report import write_report

        write_report(run, report_dir)
    return run
