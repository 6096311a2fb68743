"""Answer-level scoring on the external datasets: does the answer's bottom line quote the evidence that answers?

Every question of a dataset has its own document (paper, abstract, passage) in a pool of many; the answer should
open with it, cite mostly from it, quote the gold span (COVID-QA) and never claim the sources are silent.
The stock LangChain recipe (1,000-character chunks, top 1 / top 4) on the same pool is the baseline.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant import Answer, Assistant, Citation
from assistant.index.embed import Embedder

from .datasets import Query
from .metrics import cited_numbers, is_absent, ratio

SPAN_SHARE = 0.6  # a quote "holds" a gold span when it contains this share of the span's words (shared/data README)
_WORD = re.compile(r"\w+")
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were which with".split()
)


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def holds_span(quote: str, span: str, share: float = SPAN_SHARE) -> bool:
    """The quote contains at least `share` of the span's words (counted with repeats)."""
    wanted = words(span)
    have = set(words(quote))
    return bool(wanted) and sum(w in have for w in wanted) >= share * len(wanted)


def word_recall(quotes: Sequence[str], reference: str) -> float:
    """Share of the reference's distinct content words that occur in the quotes."""
    wanted = {w for w in words(reference) if w not in _STOPWORDS}
    have = {w for q in quotes for w in words(q)}
    return ratio(len(wanted & have), len(wanted))


@dataclass(frozen=True, slots=True)
class Scored:
    """One question's answer, scored against its own document and gold answer text."""

    query: Query
    absent: bool  # abstains, or says in its own words that something is not covered
    abstained: bool  # answered "Not covered" outright
    opens_with_own: bool
    own_citations: int
    citations: int
    span_in_bottom_line: bool
    span_in_answer: bool
    long_answer_recall: float
    ms: float
    first_doc: str
    excerpt: str
    own_stance: str = ""  # the answer's stance of the own document (Answer.synthesis), "" when it is not a source


VERDICT_OF: dict[str, str] = {  # a source's stance, read as a yes / no / maybe answer to a yes/no question
    "supports": "yes", "refutes": "no", "no effect": "no", "lacking": "no", "mixed": "maybe", "reports": "maybe",
}
DECIDED = frozenset(VERDICT_OF) - {"reports"}  # the stances an answer states; "reports on it" states none


def cited(answer: Answer) -> list[Citation]:
    """The citations whose [n] marker appears in the answer text."""
    used = cited_numbers(answer.text)
    return [c for c in answer.citations if c.number in used]


def bottom_line(answer: Answer) -> list[Citation]:
    by_number = {c.number: c for c in answer.citations}
    return [by_number[n] for n in answer.bottom_line if n in by_number]


def score_answer(query: Query, answer: Answer, ms: float, *, spans: bool) -> Scored:
    """`spans`: the gold answer is a span to find in a quote (COVID-QA), else a reference to overlap (PubMedQA)."""
    bottom, quoted = bottom_line(answer), cited(answer)
    own = [c for c in quoted if c.doc_id in query.relevant_docs]
    return Scored(
        query=query,
        absent=is_absent(answer),
        abstained=answer.abstained,
        opens_with_own=bool(bottom) and bottom[0].doc_id in query.relevant_docs,
        own_citations=len(own),
        citations=len(quoted),
        span_in_bottom_line=spans and any(holds_span(c.quote, query.answer) for c in bottom),
        span_in_answer=spans and any(holds_span(c.quote, query.answer) for c in quoted),
        long_answer_recall=word_recall([c.quote for c in bottom if c.doc_id in query.relevant_docs], query.answer),
        ms=ms,
        first_doc=bottom[0].doc_id if bottom else "",
        excerpt=answer.text[:300],
        own_stance=next((v.stance for v in answer.synthesis.sources if v.doc_id in query.relevant_docs), "") if answer.synthesis else "",
    )


def ask_all(assistant: Assistant, queries: Sequence[Query], *, spans: bool) -> list[Scored]:
    out = []
    for query in queries:
        started = time.perf_counter()
        answer = assistant.ask(query.text)
        out.append(score_answer(query, answer, 1000 * (time.perf_counter() - started), spans=spans))
    return out


def answer_metrics(scored: Sequence[Scored], *, spans: bool) -> dict[str, float]:
    n = len(scored)
    metrics = {
        "opens_with_own_document": ratio(sum(s.opens_with_own for s in scored), n),
        "own_document_citation_share": ratio(sum(s.own_citations for s in scored), sum(s.citations for s in scored)),
        "false_absence_rate": ratio(sum(s.absent for s in scored), n),
        "false_abstention_rate": ratio(sum(s.abstained for s in scored), n),
    }
    if spans:
        metrics["span_in_bottom_line"] = ratio(sum(s.span_in_bottom_line for s in scored), n)
        metrics["span_in_answer"] = ratio(sum(s.span_in_answer for s in scored), n)
    else:
        metrics["long_answer_recall"] = statistics.fmean(s.long_answer_recall for s in scored) if scored else 0.0
    if any(s.query.verdict for s in scored):
        metrics.update(stance_metrics(scored))
    return metrics


def stance_metrics(scored: Sequence[Scored]) -> dict[str, float]:
    """The own document's stance in each answer (read as yes / no / maybe; "maybe" when it is not a source) against
    the dataset's label: accuracy and macro-F1 over the three labels."""
    pairs = [(VERDICT_OF.get(s.own_stance, "maybe"), s.query.verdict) for s in scored if s.query.verdict]
    f1s = []
    for label in ("yes", "no", "maybe"):
        hits = sum(p == t == label for p, t in pairs)
        predicted, actual = sum(p == label for p, _ in pairs), sum(t == label for _, t in pairs)
        f1s.append(ratio(2 * hits, predicted + actual))
    decided = [(p, t) for (p, t), s in zip(pairs, (s for s in scored if s.query.verdict), strict=True) if s.own_stance in DECIDED]
    return {
        "stance_accuracy": ratio(sum(p == t for p, t in pairs), len(pairs)),
        "stance_macro_f1": statistics.fmean(f1s),
        "stance_decided_share": ratio(len(decided), len(pairs)),
        "stance_decided_accuracy": ratio(sum(p == t for p, t in decided), len(decided)),
    }


def latency(scored: Sequence[Scored]) -> dict[str, float]:
    times = np.array([s.ms for s in scored]) if scored else np.zeros(1)
    return {"ask ms p50": round(float(np.percentile(times, 50)), 1), "ask ms p95": round(float(np.percentile(times, 95)), 1)}


def stock_baseline(documents: dict[str, str], queries: Sequence[Query], embedder: Embedder) -> dict[str, float]:
    """The stock recipe (eval/suites/stock.py: 1,000-character chunks, 200 overlap, cosine top-k) on the same documents:
    the share of questions whose top 1 / top 4 chunks hold the gold span. The packaged model normalises its
    vectors, so cosine ranks as the stock pipeline's L2 search does."""
    from .stock import stock_split

    chunks = stock_split(documents)
    vectors = embedder.embed([c.page_content for c in chunks])
    questions = embedder.embed([q.text for q in queries])
    top = np.argsort(-(questions @ vectors.T), axis=1)[:, :4]
    found = [[holds_span(chunks[int(i)].page_content, q.answer) for i in row] for q, row in zip(queries, top, strict=True)]
    return {
        "stock top-1 chunk holds span": ratio(sum(f[0] for f in found), len(found)),
        "stock top-4 chunks hold span": ratio(sum(any(f) for f in found), len(found)),
    }


def spread(queries: Sequence[Query], most: int | None) -> list[Query]:
    """At most `most` queries, taken evenly across the list (so across documents), deterministic."""
    if most is None or most >= len(queries):
        return list(queries)
    step = len(queries) / most
    return [queries[int(i * step)] for i in range(most)]
