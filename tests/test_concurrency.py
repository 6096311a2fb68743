"""50 concurrent ask() calls on one Assistant give exactly the serial answers, with no errors, including while
an ingest swaps the index version underneath them. Throughput is measured in eval/benchmarks/concurrency.py, not here."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from samples import CORPUS

from assistant import Answer, Assistant, Settings
from eval.benchmarks.concurrency import QUESTIONS, answer_key

CALLS = 50


def _fresh(index_dir: Path, embedder) -> Assistant:  # type: ignore[no-untyped-def]
    """A new Assistant on the index: its caches start cold, as in a freshly started server."""
    return Assistant.load(Settings(corpus_dir=CORPUS, index_dir=index_dir), embedder=embedder, refresh=False)


@pytest.fixture(scope="module")
def serial(seed_index: Path, embedder) -> tuple[Assistant, dict[str, tuple[object, ...]]]:  # type: ignore[no-untyped-def]
    """An Assistant that has answered every question once, one by one, and those answers."""
    one_by_one = _fresh(seed_index, embedder)
    return one_by_one, {q: answer_key(one_by_one.ask(q)) for q in QUESTIONS}


def test_fifty_concurrent_asks_match_the_serial_answers(serial) -> None:  # type: ignore[no-untyped-def]
    shared, expected = serial
    asked = [QUESTIONS[n % len(QUESTIONS)] for n in range(CALLS)]

    with ThreadPoolExecutor(max_workers=CALLS) as pool:
        answers = list(pool.map(shared.ask, asked))

    assert len(answers) == CALLS
    assert [answer_key(a) for a in answers] == [expected[q] for q in asked]


def test_concurrent_asks_on_a_fresh_assistant_match_the_serial_answers(serial, seed_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Every question at once on a fresh Assistant: threads race through its first use of the index (the lazily
    mapped sentence vectors included)."""
    _, expected = serial
    cold = _fresh(seed_index, embedder)
    with ThreadPoolExecutor(max_workers=len(QUESTIONS)) as pool:
        answers = list(pool.map(cold.ask, QUESTIONS))
    assert [answer_key(a) for a in answers] == [expected[q] for q in QUESTIONS]


NOTE = (
    "# Upadacitinib adverse events in a registry\n\n"
    "In a registry of 40 patients with dermatomyositis, upadacitinib caused herpes zoster in three patients "
    "and acne in five patients. No patient stopped upadacitinib because of adverse events.\n"
)
NOTE_REVISED = (
    "# Upadacitinib adverse events in a registry\n\n"
    "This revision adds a paragraph first, so every later sentence moves to new character offsets. "
    "Registry data were checked twice.\n\n" + NOTE.split("\n\n", 1)[1].replace("three", "four")
)


def test_concurrent_asks_during_an_ingest_see_one_version_or_the_other(
    tmp_path: Path, index_copy: Path, embedder  # type: ignore[no-untyped-def]
) -> None:
    """A document is revised (its sentences move) while 8 threads keep asking about it: every answer must be
    wholly the old version's or wholly the new one's, never old hits quoted from the new text."""
    note = tmp_path / "note.md"
    note.write_text(NOTE)
    question = QUESTIONS[1]
    shared = _fresh(index_copy, embedder)
    assert shared.ingest([note]).added == ["note"]
    before = answer_key(shared.ask(question))
    answers: list[Answer] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            answers.append(shared.ask(question))

    with ThreadPoolExecutor(max_workers=8) as pool:
        workers = [pool.submit(keep_asking) for _ in range(8)]
        time.sleep(0.5)
        note.write_text(NOTE_REVISED)
        report = shared.ingest([note])  # swaps the version while the threads are mid-question
        swapped_at = len(answers)
        while len(answers) < swapped_at + 16 and not any(w.done() for w in workers):
            time.sleep(0.05)
        stop.set()
        for worker in workers:
            worker.result()  # re-raises any error a thread hit

    assert report.updated == ["note"]
    after = answer_key(shared.ask(question))
    assert "note" in {c[1] for c in after[2]} and before != after  # a mixed-up version would show
    assert {answer_key(a) for a in answers} == {before, after}


def test_twenty_threads_asking_and_streaming_while_versions_swap_get_one_version_per_answer(
    tmp_path: Path, index_copy: Path, embedder  # type: ignore[no-untyped-def]
) -> None:
    """Two index versions swapped back and forth as fast as possible while 20 threads ask and stream: every answer
    names the version it was composed on (metadata.index_version) and equals that version's serial answer, the
    absence audit's second search included (the off-topic and the registry questions take that path on one side)."""
    shared = _fresh(index_copy, embedder)
    old = shared.index
    note = tmp_path / "note.md"
    note.write_text(NOTE)
    shared.ingest([note])
    new = shared.index
    questions = [*QUESTIONS[:4], "What is the capital of France?", "How many registry patients had herpes zoster?"]
    expected = {}
    for version in (old, new):
        shared._install(version)
        expected.update({(version.folder.name, q): answer_key(shared.ask(q)) for q in questions})
    assert expected[(old.folder.name, questions[-1])] != expected[(new.folder.name, questions[-1])]
    stop = threading.Event()

    def swap() -> None:
        while not stop.is_set():
            for version in (old, new):
                shared._install(version)

    def ask(n: int) -> Answer:
        question = questions[n % len(questions)]
        if n % 2:
            return shared.ask(question)
        return [update.answer for update in shared.stream_answer(question) if update.answer is not None][-1]

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(pool.map(ask, range(120)))
    finally:
        stop.set()
        swapper.join()
    versions = {a.metadata.index_version for a in answers}
    assert versions == {old.folder.name, new.folder.name}, "both versions answered during the run"
    for n, answer in enumerate(answers):
        assert answer_key(answer) == expected[(answer.metadata.index_version, questions[n % len(questions)])]
