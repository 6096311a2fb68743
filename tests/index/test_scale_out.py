"""Issue 15: the Qdrant store and the Ray Data ingest give the answers the local index gives; their failures are
clear and leave the previous index answering. Real model, real index, embedded Qdrant, a local Ray."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from samples import SEED_QUESTION, copy_corpus

from assistant import Assistant, Settings
from assistant.errors import IndexMismatch, IngestError, StoreError
from assistant.index.build import build_index
from assistant.index.load import current_version, load_index
from assistant.index.store import (
    LocalStore,
    QdrantStore,
    collection_name,
    publish,
    qdrant_client,
)
from assistant.schema import Scope
from assistant.settings import IngestSettings, StoreSettings
from eval.suites.gold import load_gold


def _gold_questions() -> list[str]:
    gold = load_gold()
    questions = [q for f in gold.facts for q in f.questions] + [u.question for u in gold.unanswerable] + [gold.seed.question]
    return list(dict.fromkeys(questions))


def _comparable(answer) -> dict:  # type: ignore[no-untyped-def]
    """What a reader sees: the text, every citation (offsets and quotes), abstention, disagreements, sources."""
    data = answer.to_dict()
    return {key: data[key] for key in ("text", "citations", "abstained", "disagreements", "sources", "notices")}


def test_every_gold_question_gets_the_same_answer_from_both_stores(assistant: Assistant, qdrant_assistant: Assistant) -> None:
    for question in _gold_questions():
        assert _comparable(qdrant_assistant.ask(question)) == _comparable(assistant.ask(question)), question


SCOPES = (
    {"sources": ["beckett-2024-upadacitinib-myositis-case-series"]},
    {"sources": ["dr-oracle-rinvoq-dermatomyositis-ivig"]},
    {"where": "peer_reviewed"},
    {"where": "level>=8 and date>=2025"},
)


@pytest.mark.parametrize("scope", SCOPES, ids=lambda scope: str(scope))
def test_both_stores_give_the_same_scoped_hits_and_answers(assistant: Assistant, qdrant_assistant: Assistant, scope: dict) -> None:  # type: ignore[type-arg]
    """Issue 29: a scope is a mask over the local index and a payload filter on Qdrant; the same hits from both, in the
    same order, and the same answers (every fourth gold question, and the seed)."""
    for question in [*_gold_questions()[::4], SEED_QUESTION]:
        local = assistant.search(question, k=10, **scope)
        remote = qdrant_assistant.search(question, k=10, **scope)
        assert [(h.chunk_id, h.score) for h in remote] == [(h.chunk_id, h.score) for h in local], question
        assert _comparable(qdrant_assistant.ask(question, **scope)) == _comparable(assistant.ask(question, **scope)), question


def test_qdrant_returns_only_the_scopes_chunks(assistant: Assistant, qdrant_assistant: Assistant) -> None:
    searcher = qdrant_assistant.searcher
    within = searcher.resolve(Scope(sources=("dr-oracle-rinvoq-dermatomyositis-ivig",))).within
    plan = searcher.planner.plan(SEED_QUESTION)
    vectors = assistant.embedder.embed([SEED_QUESTION])
    remote = qdrant_assistant.index.store.score(vectors, searcher._lexical_query(plan), 5, within)
    scored = np.flatnonzero(np.isfinite(remote.dense[:, 0]))
    assert len(scored) and within.mask[scored].all() and not remote.lexical[~within.mask].any()
    exact = assistant.index.store.score(vectors, None, 5, within).dense[:, 0]
    assert set(scored.tolist()) == set(np.argsort(-exact, kind="stable")[: len(scored)].tolist()), "the scope's own nearest"


def test_the_stores_score_the_same_chunks_alike(assistant: Assistant, qdrant_assistant: Assistant) -> None:
    """Dense cosines agree within float noise; BM25 with synonyms agrees to the bit (the sparse vectors hold bm25s's
    own weights, added in bm25s's order)."""
    searcher = assistant.searcher
    for question in (SEED_QUESTION, "What side effects did upadacitinib cause?", "methotrexate dose"):
        plan = searcher.planner.plan(question)
        vectors = assistant.embedder.embed([question, plan.rewritten])
        keywords = searcher._lexical_query(plan)
        local = assistant.index.store.score(vectors, keywords, 200)
        remote = qdrant_assistant.index.store.score(vectors, keywords, 200)
        scored = np.isfinite(remote.dense[:, 0])
        assert scored.all(), "a corpus smaller than the depth is scored whole"
        np.testing.assert_allclose(remote.dense, local.dense, atol=1e-6)
        assert np.array_equal(remote.lexical, local.lexical)


def test_a_remote_store_scores_the_depth_it_was_asked_for_and_finds_the_true_nearest(assistant: Assistant, qdrant_assistant: Assistant) -> None:
    shallow = qdrant_assistant.settings.store.model_copy(update={"depth": 10})
    index = qdrant_assistant.index
    store = QdrantStore(shallow, index.folder.name, index.store._identity, len(index.chunks), index.folder / "vectors.faiss")
    vector = assistant.embedder.embed([SEED_QUESTION])
    scores = store.score(vector, None, 1)
    scored = np.flatnonzero(np.isfinite(scores.dense[:, 0]))
    assert len(scored) == 10 and not store.exhaustive and LocalStore.exhaustive
    exact = assistant.index.store.score(vector, None, 1).dense[:, 0]
    assert set(scored.tolist()) == set(np.argsort(-exact, kind="stable")[:10].tolist())


def test_a_bad_qdrant_url_names_the_fix(corpus_copy: Path, seed_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(corpus_dir=corpus_copy, index_dir=seed_index, store=StoreSettings(kind="qdrant", qdrant_url="http://127.0.0.1:9", timeout=2))
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:9.*docker run -p 6333:6333 qdrant/qdrant.*--qdrant-url"):
        Assistant.load(settings, embedder=embedder, refresh=False)


def test_the_cli_reports_a_bad_qdrant_url_in_one_line(cli, corpus_copy: Path, seed_index: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", "--corpus", corpus_copy, "--index", seed_index, "--qdrant-url", "http://127.0.0.1:9", SEED_QUESTION)
    assert result.exit_code == 2
    assert "Error: " in result.output and "docker run" in result.output and "Traceback" not in result.output


def test_qdrant_without_a_place_is_refused(cli, corpus_copy: Path, seed_index: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli("ask", "--corpus", corpus_copy, "--index", seed_index, "--store", "qdrant", SEED_QUESTION)
    assert result.exit_code == 2 and "qdrant_url" in result.output and "qdrant_path" in result.output


def test_a_collection_built_with_another_model_is_refused(index_copy: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    store = StoreSettings(kind="qdrant", qdrant_path=tmp_path / "qdrant")
    settings = Settings(corpus_dir=tmp_path, index_dir=index_copy, store=store)
    index = load_index(index_copy, embedder, settings.with_overrides(store=StoreSettings()))
    identity = {key: index.manifest[key] for key in ("format", "model_id", "model_sha256", "dimension", "chunker_version", "chunk_settings")}
    publish(store, index.folder.name, {**identity, "model_sha256": "another-model"}, index.all_vectors(), index.lexicon, [c.doc_id for c in index.chunks])
    with pytest.raises(IndexMismatch, match=r"model_sha256 = 'another-model'.*assistant ingest --rebuild --store qdrant"):
        load_index(index_copy, embedder, settings)


def test_a_version_missing_from_qdrant_says_how_to_publish_it(index_copy: Path, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(corpus_dir=tmp_path, index_dir=index_copy, store=StoreSettings(kind="qdrant", qdrant_path=tmp_path / "q"))
    with pytest.raises(StoreError, match=r"no collection .*assistant ingest --store qdrant"):
        load_index(index_copy, embedder, settings)


def test_a_failed_publish_leaves_the_previous_collection_answering(
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    corpus = copy_corpus(tmp_path / "corpus")
    store = StoreSettings(kind="qdrant", qdrant_path=tmp_path / "qdrant", upsert_batch=32)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", store=store)
    assistant = Assistant.load(settings, embedder=embedder)
    live = current_version(settings.index_dir).name
    before = assistant.ask(SEED_QUESTION).text
    client = qdrant_client(store)
    real_upsert, calls = client.upsert, []

    def failing_upsert(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("connection reset by peer")
        return real_upsert(*args, **kwargs)

    monkeypatch.setattr(client, "upsert", failing_upsert)
    (corpus / "extra.md").write_text("# Zebrafinch syndrome\n\nQuuxamab 5 mg daily reduced flares by 60 percent.\n", encoding="utf-8")
    with pytest.raises(StoreError, match="connection reset by peer"):
        assistant.ingest([corpus], sync=True)
    monkeypatch.undo()
    assert current_version(settings.index_dir).name == live, "CURRENT still names the previous version"
    names = {c.name for c in client.get_collections().collections}
    assert collection_name(store, live) in names and len([n for n in names if n.startswith(store.collection + "-")]) == 1
    assert not list((settings.index_dir / "versions").glob(".*.partial")), "no half-written version left behind"
    assert assistant.ask(SEED_QUESTION).text == before
    assert Assistant.load(settings, embedder=embedder, refresh=False).ask(SEED_QUESTION).text == before


def test_ingest_into_qdrant_switches_the_alias_and_drops_old_collections(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = copy_corpus(tmp_path / "corpus")
    store = StoreSettings(kind="qdrant", qdrant_path=tmp_path / "qdrant")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index", store=store)
    assistant = Assistant.load(settings, embedder=embedder)
    (corpus / "extra.md").write_text(
        "# Zebrafinch syndrome\n\nIn a trial of 40 patients with zebrafinch syndrome, quuxamab 5 mg daily reduced flares by 60 percent.\n",
        encoding="utf-8",
    )
    report = assistant.ingest([corpus], sync=True)
    assert report.added == ["extra"]
    client = qdrant_client(store)
    alias = {a.alias_name: a.collection_name for a in client.get_aliases().aliases}
    assert alias[store.collection] == collection_name(store, report.version)  # type: ignore[arg-type]
    on_disk = {p.name for p in (settings.index_dir / "versions").iterdir()}
    ours = {c.name for c in client.get_collections().collections if c.name.startswith(store.collection + "-")}
    assert ours == {collection_name(store, v) for v in on_disk}, "a collection per kept version, no more"
    answer = assistant.ask("How is zebrafinch syndrome treated?")
    assert any("quuxamab 5 mg daily" in c.quote for c in answer.citations)


# ---------------------------------------------------------------- Ray


def _ray_settings(tmp_path: Path, corpus: Path, **ingest: object) -> Settings:
    options = {"engine": "ray", "workers": 1, **ingest}
    return Settings(corpus_dir=corpus, index_dir=tmp_path / "index", ingest=IngestSettings(**options))  # type: ignore[arg-type]


def test_ray_ingest_builds_the_index_the_local_ingest_builds(tmp_path: Path, corpus_copy: Path, assistant: Assistant, embedder) -> None:  # type: ignore[no-untyped-def]
    settings = _ray_settings(tmp_path, corpus_copy, workers=2)
    report = build_index([corpus_copy], settings, embedder)
    assert not report.errors and report.total_chunks == len(assistant.index.chunks)
    ray_built = Assistant.load(settings, embedder=embedder, refresh=False)
    assert [(c.chunk_id, c.start, c.end, c.sentences) for c in ray_built.index.chunks] == [
        (c.chunk_id, c.start, c.end, c.sentences) for c in assistant.index.chunks
    ]
    np.testing.assert_allclose(ray_built.index.all_vectors(), assistant.index.all_vectors(), atol=1e-5)
    np.testing.assert_allclose(np.asarray(ray_built.index.sentences, np.float32), np.asarray(assistant.index.sentences, np.float32), atol=1e-3)
    assert _comparable(ray_built.ask(SEED_QUESTION)) == _comparable(assistant.ask(SEED_QUESTION))
    assert not (settings.index_dir / "checkpoint").exists() or not any((settings.index_dir / "checkpoint").rglob("*.parquet"))


def _embedding_actors() -> list[int]:
    """Process ids of the Ray embedding actors (Ray names the process after the actor class)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                command = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if b"MapBatches(_Embed)" in command:
                found.append(int(entry))
    return found


def _kill_an_actor_after(condition, killed: list[int]) -> threading.Thread:  # type: ignore[no-untyped-def]
    def run() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pids = _embedding_actors()
            if pids and condition():
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_ray_worker_killed_mid_ingest_fails_clearly_and_the_rerun_resumes(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = copy_corpus(tmp_path / "corpus")
    first = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index([corpus], first, embedder)
    live = current_version(first.index_dir).name
    (corpus / "extra.md").write_text(
        "# Zebrafinch syndrome\n\n" + "\n\n".join(f"Paragraph {n}: quuxamab {n} mg was studied in cohort {n}." for n in range(900)),
        encoding="utf-8",
    )
    settings = _ray_settings(tmp_path, corpus, restarts=0, batch_size=64)
    checkpoint = settings.index_dir / "checkpoint"
    killed: list[int] = []
    thread = _kill_an_actor_after(lambda: any(checkpoint.rglob("part-*.parquet")), killed)
    with pytest.raises(IngestError, match=r"Ray worker failed.*previous index still answers.*Run the same command again"):
        build_index([corpus], settings, embedder)
    thread.join()
    assert killed, "an embedding actor was killed"
    assert current_version(settings.index_dir).name == live
    assert "extra" not in load_index(settings.index_dir, embedder, settings).documents
    kept = len(list(checkpoint.rglob("part-*.parquet")))
    assert kept >= 1

    progress: list[tuple[str, int, int]] = []
    report = build_index([corpus], settings, embedder, progress=lambda *step: progress.append(step))
    assert report.added == ["extra"] and not report.errors
    first_ray = next(step for step in progress if step[0] == "embedding on Ray")
    assert first_ray[1] > 64, "the batches kept from the failed run were not embedded again"
    local = tmp_path / "local"
    shutil.copytree(corpus, local)
    reference = build_index([local], Settings(corpus_dir=local, index_dir=tmp_path / "reference"), embedder)
    assert reference.total_chunks == report.total_chunks
    ray_index = load_index(settings.index_dir, embedder, settings)
    reference_index = load_index(tmp_path / "reference", embedder, Settings(index_dir=tmp_path / "reference"))
    cosines = (ray_index.all_vectors() * reference_index.all_vectors()).sum(axis=1)
    assert cosines.min() > 0.9999, "the same model: ONNX batches of 64 here, bfloat16 bulk batches of 256 locally"


@pytest.mark.parametrize(
    ("scores", "depth", "expected"),
    [
        ([0.5, 0.9, 0.5, 0.7, 0.5], 3, [1, 3, 0]),  # the tie at the cut goes to the lowest row
        ([0.5, 0.9, 0.5, 0.7, 0.5], 10, [1, 3, 0, 2, 4]),
        ([-np.inf, 0.2, -np.inf, 0.2], 4, [1, 3]),  # unscored rows never rank
        ([0.3, 0.3, 0.3], 2, [0, 1]),
        ([], 5, []),
    ],
)
def test_best_rows_breaks_ties_by_row(scores: list[float], depth: int, expected: list[int]) -> None:
    from assistant.answer.retrieve import best_rows

    assert best_rows(np.array(scores, np.float32), depth).tolist() == expected
