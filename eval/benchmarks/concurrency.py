"""Throughput of one Assistant answering concurrent ask() calls, against the same calls made one by one.

    HF_HUB_OFFLINE=1 python -m eval.benchmarks.concurrency [--calls 50] [--threads 1 8 50]

Indexes corpus/ into a temporary folder, then for each thread count times `calls` questions (cycling through
QUESTIONS) twice: on a fresh Assistant (cold sentence-vector cache, as after a restart) and again (warm).
Every concurrent answer is checked against the serial one; the script exits 1 on any error or difference.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from assistant import Answer, Assistant, Settings
from assistant.index.embed import default_embedder
from assistant.settings import PROJECT_ROOT

QUESTIONS = [
    "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?",
    "What adverse events were reported with upadacitinib?",
    "How many patients were treated with upadacitinib?",
    "Did muscle strength improve on upadacitinib?",
    "What happened to interstitial lung disease on upadacitinib?",
    "Could patients stop IVIG after starting upadacitinib?",
    "What dose of upadacitinib was used?",
    "Is tofacitinib better than upadacitinib?",
    "What is the survival rate of pancreatic cancer?",
    "What were the CDASI scores before and after treatment?",
]


def answer_key(answer: Answer) -> tuple[object, ...]:
    """What must not change between serial and concurrent runs: the text and every citation."""
    return answer.text, answer.abstained, tuple((c.number, c.doc_id, c.start, c.end, c.quote) for c in answer.citations)


def timed_run(assistant: Assistant, questions: list[str], threads: int) -> tuple[float, list[tuple[object, ...]], int]:
    """Seconds taken, answer keys in order, and errors raised, for `questions` asked from `threads` threads."""
    errors: list[Exception] = []

    def one(question: str) -> tuple[object, ...] | None:
        try:
            return answer_key(assistant.ask(question))
        except Exception as exc:  # noqa: BLE001 - counted and reported, the point of this script
            errors.append(exc)
            return None

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        keys = list(pool.map(one, questions))
    return time.perf_counter() - start, keys, len(errors)  # type: ignore[return-value]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="questions per run")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8, 50], help="thread counts to try")
    args = parser.parse_args()

    settings = Settings(corpus_dir=PROJECT_ROOT / "corpus", index_dir=Path(tempfile.mkdtemp()) / "index")
    embedder = default_embedder(settings.embed)
    Assistant.build(settings.corpus_dir, settings.index_dir, settings, embedder=embedder)
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(args.calls)]
    reference = Assistant.load(settings, embedder=embedder, refresh=False)
    expected = [answer_key(reference.ask(q)) for q in questions]

    print(f"{args.calls} questions ({len(QUESTIONS)} distinct), {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"{'threads':>7} {'cache':>5} {'seconds':>8} {'q/s':>6} {'errors':>6} {'differ':>6}")
    failed = False
    for threads in args.threads:
        assistant = Assistant.load(settings, embedder=embedder, refresh=False)
        for cache in ("cold", "warm"):
            seconds, keys, errors = timed_run(assistant, questions, threads)
            differ = sum(k != e for k, e in zip(keys, expected, strict=True))
            failed |= bool(errors or differ)
            print(f"{threads:>7} {cache:>5} {seconds:>8.2f} {args.calls / seconds:>6.2f} {errors:>6} {differ:>6}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
