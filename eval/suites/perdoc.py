"""The per-document suite: "here is a paper, answer my questions about it".

Each COVID-QA paper of the split is indexed alone (nothing else in the corpus) and asked its own questions; each
PubMedQA abstract of the split is indexed alone and asked its own question. Retrieval cannot miss the right document
here, so what is measured is whether the answer says "not covered" although the document answers (false absences),
whether the bottom line quotes the gold span (COVID-QA), and whether it quotes the abstract's findings: a sentence of
a CONTEXTS paragraph whose LABEL names results (PubMedQA), with the LONG_ANSWER's words quoted as a further measure.
The same questions are asked again of the split's documents pooled, each scoped to its own document (`sources=[id]`,
issue 29: the two ways to ask one paper should agree). Each index is cached under eval/.cache/perdoc/, so a rerun
only asks.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from assistant import Answer, Assistant, Settings
from assistant.index.embed import Embedder

from ..training.splits import Splits, load_splits
from .answers import Scored, answer_metrics, bottom_line, score_answer, spread
from .datasets import Query, RetrievalSet, load_covidqa, load_pubmedqa, pubmedqa_records, write_corpus
from .metrics import is_absent, ratio
from .records import CaseResult, SuiteResult

PERDOC_METRICS = (
    "covidqa_span_in_bottom_line",
    "covidqa_span_in_answer",
    "covidqa_false_absence_rate",
    "covidqa_false_abstention_rate",
    "pubmedqa_false_absence_rate",
    "pubmedqa_false_abstention_rate",
    "pubmedqa_results_share",
    "pubmedqa_long_answer_recall",
    "pubmedqa_other_question_abstention",
    "scoped_covidqa_span_in_bottom_line",
    "scoped_covidqa_false_absence_rate",
    "scoped_pubmedqa_false_absence_rate",
    "scoped_pubmedqa_results_share",
    "scoped_agreement",
)
# The figures also measured with the split's documents pooled, each question scoped to its own document (`ask_scoped`).
SCOPED = ("covidqa_span_in_bottom_line", "covidqa_false_absence_rate", "pubmedqa_false_absence_rate", "pubmedqa_results_share")
QUESTIONS_PER_PAPER = 12  # a COVID-QA paper holds about 12 questions: `limit` abstracts come with limit / 12 papers
_RESULTS = re.compile(r"RESULT|FINDING")  # RESULTS, METHODS AND RESULTS, PRINCIPAL FINDINGS, …


@dataclass(frozen=True, slots=True)
class Abstract:
    """One PubMedQA answer, scored: `results` whether its bottom line quotes a results sentence (None: the abstract
    labels no paragraph as results)."""

    scored: Scored
    results: bool | None


def results_paragraphs(record: dict) -> list[str]:  # type: ignore[type-arg]
    """The CONTEXTS paragraphs of a PubMedQA item whose LABEL names results (or findings)."""
    return [text for text, label in zip(record["CONTEXTS"], record["LABELS"], strict=True) if _RESULTS.search(label.upper())]


def quotes_results(answer: Answer, paragraphs: Sequence[str]) -> bool:
    """The answer's bottom line quotes a sentence that lies in one of `paragraphs`."""
    flat = [" ".join(p.split()) for p in paragraphs]
    return any(" ".join(c.quote.split()) in p for c in bottom_line(answer) for p in flat)


def split_documents(data: RetrievalSet, splits: Splits, split: str, most: int | None) -> list[str]:
    """The documents of the split's questions, at most `most` of them spread evenly (deterministic)."""
    docs = sorted({d for q in data.queries if splits.of(data.name, q.group) == split for d in q.relevant_docs})
    if most is None or most >= len(docs):
        return docs
    step = len(docs) / most
    return [docs[int(i * step)] for i in range(most)]


def indexed(data: RetrievalSet, docs: Sequence[str], root: Path, settings: Settings, embedder: Embedder) -> Assistant:
    """An index under `root` holding only `docs` of the dataset (cached: a rerun embeds nothing)."""
    write_corpus({d: data.passages[d] for d in docs}, root / "corpus", data.suffix)
    return Assistant.build(root / "corpus", root / "index", settings, embedder=embedder)


def alone(data: RetrievalSet, doc_id: str, settings: Settings, embedder: Embedder, cache_dir: Path) -> Assistant:
    """An index holding only `doc_id`."""
    return indexed(data, [doc_id], cache_dir / "perdoc" / data.key.rsplit("-", 1)[0] / doc_id, settings, embedder)


def ask_alone(
    data: RetrievalSet, docs: Sequence[str], questions: int | None, settings: Settings, embedder: Embedder, cache_dir: Path,
    *, another: bool = False,
) -> tuple[list[tuple[Query, Answer, float]], list[tuple[str, Query, Answer]]]:
    """Each document indexed alone and asked its questions (at most `questions` in all, spread evenly); with `another`,
    each is also asked the question of the next document in `docs` (the last, the first's), while its index is loaded:
    nothing in it answers that, so the right answer is "not covered"."""
    wanted = set(docs)
    asked = spread([q for q in data.queries if q.relevant_docs & wanted], questions)
    by_doc = {d: q for q in data.queries for d in sorted(q.relevant_docs)} if another else {}
    listed = [d for d in docs if d in by_doc]
    following = {d: other for d, other in zip(listed, listed[1:] + listed[:1], strict=True) if other != d}
    out, others = [], []
    for doc_id in docs:
        mine = [q for q in asked if doc_id in q.relevant_docs]
        if not mine and doc_id not in following:
            continue
        assistant = alone(data, doc_id, settings, embedder, cache_dir)
        for query in mine:
            started = time.perf_counter()
            answer = assistant.ask(query.text)
            out.append((query, answer, 1000 * (time.perf_counter() - started)))
        if doc_id in following:
            question = by_doc[following[doc_id]]
            others.append((doc_id, question, assistant.ask(question.text)))
    return out, others


def ask_scoped(
    data: RetrievalSet, docs: Sequence[str], asked: Sequence[Query], settings: Settings, embedder: Embedder, cache_dir: Path
) -> list[Answer]:
    """The same questions asked of `docs` pooled in one index (cached), each with `sources=` its own document: "ask this
    paper" in a library, which should answer as the paper indexed alone does."""
    digest = hashlib.sha256("\n".join(sorted(docs)).encode()).hexdigest()[:10]
    assistant = indexed(data, docs, cache_dir / "perdoc" / "pooled" / f"{data.key}-{digest}", settings, embedder)
    return [assistant.ask(q.text, sources=sorted(q.relevant_docs)) for q in asked]


def same_answer(alone: Answer, scoped: Answer) -> bool:
    """Both say "not covered" or neither does, and their bottom lines open with the same sentence."""
    opening = [" ".join(first[0].quote.split()) if (first := bottom_line(a)) else "" for a in (alone, scoped)]
    return is_absent(alone) == is_absent(scoped) and opening[0] == opening[1]


def scoped_case(kind: str, query: Query, alone: Answer, scoped: Answer) -> CaseResult:
    """A question asked with `sources=[its document]` in the pooled index, against the document alone (`same_answer`):
    which of them says "not covered", or that they open with different sentences."""
    absent = (is_absent(alone), is_absent(scoped))
    problem = (
        "" if same_answer(alone, scoped)
        else "scoped says not covered, alone answers" if absent == (False, True)
        else "alone says not covered, scoped answers" if absent == (True, False)
        else "opens with another sentence than alone"
    )
    return CaseResult(f"scoped-{kind}", query.id, query.text, not problem, problem, re.sub(r"\s*\n\s*", " / ", scoped.text)[:300])


def _abstract(query: Query, answer: Answer, ms: float, record: dict) -> Abstract:  # type: ignore[type-arg]
    found = results_paragraphs(record)
    return Abstract(score_answer(query, answer, ms, spans=False), quotes_results(answer, found) if found else None)


def _covidqa_case(s: Scored) -> CaseResult:
    problems = ["says not covered" if s.absent else ""]
    if not s.span_in_bottom_line:
        problems.append("span " + ("elsewhere in the answer" if s.span_in_answer else "not quoted") + f": {s.query.answer[:120]!r}")
    return _case("covidqa", s, [p for p in problems if p])


def _pubmedqa_case(a: Abstract) -> CaseResult:
    problems = ["says not covered" if a.scored.absent else "", "no results sentence in the bottom line" if a.results is False else ""]
    return _case("pubmedqa", a.scored, [p for p in problems if p])


def other_question_case(doc_id: str, question: Query, answer: Answer) -> CaseResult:
    absent = is_absent(answer)
    excerpt = re.sub(r"\s*\n\s*", " / ", answer.text)[:300]
    return CaseResult("pubmedqa-other", f"{doc_id}<-{question.id}", question.text, absent, "" if absent else "answered another abstract's question", excerpt)


def _case(kind: str, s: Scored, problems: list[str]) -> CaseResult:
    return CaseResult(kind, s.query.id, s.query.text, not problems, "; ".join(problems), re.sub(r"\s*\n\s*", " / ", s.excerpt))


def scoped_metrics(papers: Sequence[Scored], abstracts: Sequence[Abstract], agreed: Sequence[bool]) -> dict[str, float]:
    """The `SCOPED` figures of the answers scoped to their own document in the pooled index, and the share of questions
    (`agreed`, one flag a question: `same_answer`) answered as the document indexed alone answers them."""
    out = {f"scoped_{m}": v for m, v in perdoc_metrics(papers, abstracts).items() if m in SCOPED}
    return {**out, "scoped_agreement": ratio(sum(agreed), len(agreed))} if agreed else out


def perdoc_metrics(papers: Sequence[Scored], abstracts: Sequence[Abstract], others: Sequence[CaseResult] = ()) -> dict[str, float]:
    """The suite's metrics (report.DEFINITIONS) from the scored COVID-QA and PubMedQA answers, and the PubMedQA
    abstracts asked another's question (`others`, passed when it says "not covered")."""
    covid = answer_metrics(papers, spans=True) if papers else {}
    pubmed = answer_metrics([a.scored for a in abstracts], spans=False) if abstracts else {}
    labelled = [a.results for a in abstracts if a.results is not None]
    out = {f"covidqa_{m}": covid[m] for m in ("span_in_bottom_line", "span_in_answer", "false_absence_rate", "false_abstention_rate") if m in covid}
    out.update({f"pubmedqa_{m}": pubmed[m] for m in ("false_absence_rate", "false_abstention_rate", "long_answer_recall") if m in pubmed})
    if abstracts:
        out["pubmedqa_results_share"] = ratio(sum(labelled), len(labelled))
    if others:
        out["pubmedqa_other_question_abstention"] = ratio(sum(c.passed for c in others), len(others))
    return out


def run_perdoc(
    data_dir: Path, settings: Settings, embedder: Embedder, cache_dir: Path, console: Console,
    *, split: str, limit: int | None = None, questions: int | None = None,
) -> SuiteResult:
    """Index every COVID-QA paper and PubMedQA abstract of `split` alone and ask it its own questions. `limit`: at most
    that many abstracts and limit / QUESTIONS_PER_PAPER papers (so both datasets weigh alike), spread over the split."""
    started = time.perf_counter()
    covid, pubmed = load_covidqa(data_dir), load_pubmedqa(data_dir)
    records = pubmedqa_records(data_dir)
    splits = load_splits()
    papers = split_documents(covid, splits, split, None if limit is None else max(1, math.ceil(limit / QUESTIONS_PER_PAPER)))
    pmids = split_documents(pubmed, splits, split, limit)
    with console.status(f"[bold]perdoc[/bold]: {len(papers)} COVID-QA papers of the {split} split, each indexed alone"):
        by_paper = ask_alone(covid, papers, questions, settings, embedder, cache_dir)[0]
        scored_papers = [score_answer(q, a, ms, spans=True) for q, a, ms in by_paper]
    papers_s = time.perf_counter() - started
    started = time.perf_counter()
    with console.status(f"[bold]perdoc[/bold]: {len(pmids)} PubMedQA abstracts of the {split} split, each indexed alone"):
        own, another = ask_alone(pubmed, pmids, questions, settings, embedder, cache_dir, another=True)
        abstracts = [_abstract(q, a, ms, records[q.group]) for q, a, ms in own]
        others = [other_question_case(*asked) for asked in another]
    pubmed_s = time.perf_counter() - started
    started = time.perf_counter()
    with console.status(f"[bold]perdoc[/bold]: the same questions, the {split} split's documents pooled, each scoped to its own"):
        scoped_covid = ask_scoped(covid, papers, [q for q, _, _ in by_paper], settings, embedder, cache_dir)
        scoped_pubmed = ask_scoped(pubmed, pmids, [q for q, _, _ in own], settings, embedder, cache_dir)
    scoped_papers = [score_answer(q, s, 0.0, spans=True) for (q, _, _), s in zip(by_paper, scoped_covid, strict=True)]
    scoped_abstracts = [_abstract(q, s, 0.0, records[q.group]) for (q, _, _), s in zip(own, scoped_pubmed, strict=True)]
    compared = [
        *(scoped_case("covidqa", q, a, s) for (q, a, _), s in zip(by_paper, scoped_covid, strict=True)),
        *(scoped_case("pubmedqa", q, a, s) for (q, a, _), s in zip(own, scoped_pubmed, strict=True)),
    ]
    agreed = [c.passed for c in compared]
    metrics = {**perdoc_metrics(scored_papers, abstracts, others), **scoped_metrics(scoped_papers, scoped_abstracts, agreed)}
    info: dict[str, object] = {
        "COVID-QA papers": len(papers), "COVID-QA questions": len(scored_papers),
        "PubMedQA abstracts": len(pmids), "PubMedQA abstracts labelling no results paragraph": sum(a.results is None for a in abstracts),
        "COVID-QA s": round(papers_s, 1), "PubMedQA s": round(pubmed_s, 1), "scoped s": round(time.perf_counter() - started, 1),
        "index folders": str(cache_dir / "perdoc"),
    }
    notes = [
        f"Every document of the {split} split indexed alone (its own index, nothing else in the corpus) and asked its own "
        "questions with Assistant.ask.",
        "Each PubMedQA abstract alone is also asked the next abstract's question (pubmedqa_other_question_abstention): "
        "its answer should be 'not covered'.",
        f"The scoped_ figures ask the same questions of the split's documents pooled ({len(papers)} papers in one index, "
        f"{len(pmids)} abstracts in another), each with sources=[its own document]; scoped_agreement is the share "
        "answered as the document alone answers them (both 'not covered', or both opening with the same sentence).",
    ]
    cases = [_covidqa_case(s) for s in scored_papers] + [_pubmedqa_case(a) for a in abstracts] + others + compared
    return SuiteResult("perdoc", metrics, cases, {}, info, notes)
