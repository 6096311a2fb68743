"""Performance levers, each measured on the same MedQuAD sample: batch size, threads, embedding backend (torch,
ONNX Runtime, int8), ANN indexes, a query-embedding cache, and repeated tokenisation while chunking.

    python -m eval.benchmarks.levers [--data PATH] [--limit 1000] [--questions 200] [--ann-index DIR] [--out eval/LEVERS.md]

--ann-index points at an index folder (e.g. the full benchmark's <work>/ours/index) to measure ANN at full size.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .measure import (
    DEFAULT_DATA,
    ROOT,
    CallLog,
    TimedEmbedder,
    gemm_gflops,
    load_workload,
    log,
    sequence_flops,
    timed,
    token_lengths,
    write_corpus,
)


def throughput(settings: Any, texts: list[str], gflops: float, char_batches: bool = False) -> dict[str, float]:
    """Tokens/s and % of roofline for one embedder configuration on `texts` (after a warm-up call). With
    char_batches, batches are cut from a character-length sort and embedded one call each (the old bucketing)."""
    import torch

    from assistant.index.embed import default_embedder

    torch.set_num_threads(settings.threads)
    embedder = default_embedder(settings)
    embedder.embed(texts[:8])
    if char_batches:
        ordered, step = sorted(texts, key=len, reverse=True), settings.batch_size
        seconds = timed(lambda: [embedder.embed(ordered[b : b + step]) for b in range(0, len(ordered), step)])[0] / 1000
    else:
        seconds = timed(lambda: embedder.embed(texts))[0] / 1000
    lengths = token_lengths(texts)
    return {"tokens_s": sum(lengths) / seconds, "roofline": 100 * sum(map(sequence_flops, lengths)) / seconds / (gflops * 1e9)}


def query_latency(settings: Any, questions: list[str]) -> float:
    """p50 milliseconds to embed one question."""
    from assistant.index.embed import default_embedder

    embedder = default_embedder(settings)
    embedder.embed(questions[:3])
    return statistics.median(timed(lambda: embedder.embed([q]))[0] for q in questions)


def dense_recall(vectors: np.ndarray, doc_ids: list[str], queries: np.ndarray, truth: list[str], k: int, index: Any = None) -> float:
    """Share of questions whose own passage is among the documents of the top-k chunks by inner product."""
    import faiss

    if index is None:
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
    _, rows = index.search(queries, k)
    return float(np.mean([pid in {doc_ids[r] for r in row if r >= 0} for row, pid in zip(rows, truth, strict=True)]))


def ann_rows(vectors: np.ndarray, queries: np.ndarray, doc_ids: list[str], truth: list[str]) -> Iterator[tuple[str, ...]]:
    """Flat inner product vs HNSW and IVF: build time, p50 query ms, overlap of the top-50 with exact, recall@10."""
    import faiss

    depth = 50
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, reference = exact.search(queries, depth)
    nlist = int(4 * np.sqrt(len(vectors)))
    quantizers: list[Any] = []

    def hnsw(ef: int) -> Any:
        index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 80
        index.add(vectors)
        index.hnsw.efSearch = ef
        return index

    def ivf(nprobe: int) -> Any:
        quantizer = faiss.IndexFlatIP(vectors.shape[1])
        quantizers.append(quantizer)  # the IVF index does not own its coarse quantizer: keep it alive
        index = faiss.IndexIVFFlat(quantizer, vectors.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(vectors)
        index.add(vectors)
        index.nprobe = nprobe
        return index

    candidates = {"flat (exact, shipped)": lambda: exact, "HNSW32 efSearch 64": lambda: hnsw(64), "HNSW32 efSearch 128": lambda: hnsw(128),
                  f"IVF{nlist} nprobe 8": lambda: ivf(8), f"IVF{nlist} nprobe 32": lambda: ivf(32)}
    for name, make in candidates.items():
        build_ms, index = timed(make)
        latency = statistics.median(timed(lambda q=q: index.search(q[None, :], depth))[0] for q in queries)
        _, rows = index.search(queries, depth)
        overlap = np.mean([len(set(a) & set(b)) / depth for a, b in zip(rows, reference, strict=True)])
        yield (name, f"{build_ms / 1000:.2f}", f"{latency:.3f}", f"{overlap:.3f}", f"{dense_recall(vectors, doc_ids, queries, truth, 10, index):.3f}")


def cache_study(assistant: Any, log_: CallLog, questions: list[str]) -> dict[str, float]:
    """How many texts ask() embeds, and how many of them it (or an earlier ask) already embedded."""
    seen: Counter[str] = Counter()
    within = across = total = 0
    for question in questions:
        start = len(log_.calls)
        assistant.ask(question)
        texts = [t for call in log_.calls[start:] for t in call]
        local = Counter(texts)
        within += sum(n - 1 for n in local.values())
        across += sum(1 for t in local if seen[t])
        total += len(texts)
        seen.update(local)
    return {"texts_per_ask": total / len(questions), "repeat_within_ask": within / max(total, 1), "repeat_across_asks": across / max(total, 1)}


def tokenisation_study(documents: list[Any], settings: Any, embedder: Any) -> dict[str, float]:
    """Time and calls spent counting word pieces while chunking, and how many calls repeat a text already counted."""
    from assistant.documents.chunk import chunk_document

    calls: Counter[str] = Counter()

    def counting(text: str) -> int:
        calls[text] += 1
        return embedder.count_tokens(text)

    ms, chunks = timed(lambda: [c for d in documents for c in chunk_document(d, settings.chunk, counting)])
    plain_ms, _ = timed(lambda: [chunk_document(d, settings.chunk, embedder.count_tokens) for d in documents])
    count_ms, _ = timed(lambda: [embedder.count_tokens(t) for t in calls.elements()])
    return {"chunks": len(chunks), "chunk_ms": plain_ms, "count_calls": sum(calls.values()), "distinct": len(calls), "count_ms": count_ms}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.benchmarks.levers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--limit", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--sample", type=int, default=600, help="chunks embedded per throughput configuration")
    parser.add_argument("--ann-index", type=Path, default=None, help="index folder whose vectors the ANN study uses")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "LEVERS.md")
    args = parser.parse_args(argv)

    from assistant import Assistant, Settings
    from assistant.documents.ingest import load_document
    from assistant.index.embed import default_embedder
    from assistant.settings import EmbedSettings

    work = Path(tempfile.mkdtemp(prefix="levers-"))
    workload = load_workload(args.data, args.limit, args.questions)
    write_corpus(workload, work / "corpus")
    questions = [q for q, _ in workload.questions]
    truth = [pid for _, pid in workload.questions]
    gflops = gemm_gflops()
    log(f"{len(workload.passages)} passages in {work}; GEMM {gflops:.1f} GFLOP/s")

    settings = Settings(corpus_dir=work / "corpus", index_dir=work / "index")
    calls = CallLog()
    embedder = TimedEmbedder(default_embedder(settings.embed), calls)
    build_ms, assistant = timed(lambda: Assistant.build(settings.corpus_dir, settings.index_dir, settings, embedder=embedder))
    build_embed_s = calls.seconds
    chunks = assistant.index.chunks
    texts = [c.embed_text for c in chunks]
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.choice(len(texts), min(args.sample, len(texts)), replace=False)]
    log(f"built {len(chunks)} chunks in {build_ms / 1000:.1f} s")

    variants = {f"{b} batch {n}, {t} thread{'s' * (t > 1)}{', int8' * q}": EmbedSettings(backend=b, batch_size=n, threads=t, quantize=q)
                for b, n, t, q in [("torch", 16, 2, False), ("torch", 32, 2, False), ("torch", 64, 2, False), ("torch", 128, 2, False),
                                   ("torch", 64, 1, False), ("onnx", 16, 2, False), ("onnx", 32, 2, False), ("onnx", 64, 2, False),
                                   ("onnx", 128, 2, False), ("onnx", 64, 1, False), ("onnx", 64, 2, True)]}
    speed = {"onnx batch 64, 2 threads, batches cut by characters (before)": throughput(EmbedSettings(), sample, gflops, char_batches=True)}
    for name, embed_settings in variants.items():
        speed[name] = throughput(embed_settings, sample, gflops)
        log(f"{name}: {speed[name]['tokens_s']:,.0f} tokens/s")
    latency = {name: query_latency(EmbedSettings(backend=b, quantize=q), questions[:60])
               for name, b, q in [("torch", "torch", False), ("onnx", "onnx", False), ("onnx int8", "onnx", True)]}

    vectors = assistant.index.all_vectors()
    doc_ids = [c.doc_id for c in chunks]
    fp32_queries = default_embedder(EmbedSettings()).embed(questions)
    int8_settings = settings.with_overrides(index_dir=work / "index-int8", embed=EmbedSettings(quantize=True))
    int8_assistant = Assistant.build(settings.corpus_dir, int8_settings.index_dir, int8_settings)
    assert [c.chunk_id for c in int8_assistant.index.chunks] == [c.chunk_id for c in chunks]
    int8_vectors, int8_queries = int8_assistant.index.all_vectors(), int8_assistant.embedder.embed(questions)
    torch_queries = default_embedder(EmbedSettings(backend="torch")).embed(questions)
    recall = {
        "torch (sentence-transformers)": [dense_recall(vectors, doc_ids, torch_queries, truth, k) for k in (5, 10)],
        "onnx float32": [dense_recall(vectors, doc_ids, fp32_queries, truth, k) for k in (5, 10)],
        "onnx int8": [dense_recall(int8_vectors, doc_ids, int8_queries, truth, k) for k in (5, 10)],
    }
    agreement = float(np.mean(np.sum(int8_vectors * vectors, axis=1)))
    hybrid = {name: [float(np.mean([pid in {h.doc_id for h in a.search(q, k=k)} for q, pid in workload.questions])) for k in (5, 10)]
              for name, a in [("onnx float32", assistant), ("onnx int8", int8_assistant)]}

    if args.ann_index:
        from assistant.index.load import load_index

        ann_settings = Settings(corpus_dir=work / "corpus", index_dir=args.ann_index)
        full = load_index(args.ann_index, default_embedder(ann_settings.embed), ann_settings)
        full_workload = json.loads((args.ann_index.parent.parent / "workload.json").read_text())
        ann_vectors, ann_docs = full.all_vectors(), [c.doc_id for c in full.chunks]
        ann_queries = default_embedder(EmbedSettings()).embed([q for q, _ in full_workload["questions"]])
        ann_truth = [pid for _, pid in full_workload["questions"]]
    else:
        ann_vectors, ann_docs, ann_queries, ann_truth = vectors, doc_ids, fp32_queries, truth
    ann = list(ann_rows(ann_vectors, ann_queries, ann_docs, ann_truth))

    cache = cache_study(assistant, calls, questions[:40])
    query_embed_ms = latency["onnx"]
    documents = [load_document(p).document for p in sorted((work / "corpus").iterdir())[:300]]
    tokens = tokenisation_study(documents, settings, assistant.embedder)

    lines = [
        "# Performance levers, measured",
        "",
        f"Generated by `python -m eval.benchmarks.levers {' '.join(argv or [])}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"{len(workload.passages)} MedQuAD passages ({len(chunks)} chunks), {len(questions)} questions, GEMM roofline {gflops:.1f} GFLOP/s. "
        "See eval/BENCHMARK.md for the machine and the full side-by-side run.",
        "",
        f"## Embedding throughput ({len(sample)} of our chunks, one call, after warm-up)",
        "",
        "ONNX batches are cut by word-piece count (tokenised once); torch (sentence-transformers) sorts by characters.",
        "",
        "| configuration | tokens/s | % of GEMM roofline |",
        "|---|---|---|",
        *[f"| {name} | {s['tokens_s']:,.0f} | {s['roofline']:.0f} % |" for name, s in speed.items()],
        "",
        "## One question's embedding (p50 of 60)",
        "",
        "| backend | ms |",
        "|---|---|",
        *[f"| {name} | {ms:.1f} |" for name, ms in latency.items()],
        "",
        "## Recall of each question's own passage",
        "",
        f"Dense only (inner product over all chunk vectors); int8 chunk vectors agree with float32 at mean cosine {agreement:.4f}.",
        "",
        "| vectors | dense recall@5 | dense recall@10 |",
        "|---|---|---|",
        *[f"| {name} | {r[0]:.3f} | {r[1]:.3f} |" for name, r in recall.items()],
        "",
        "Product search (hybrid, `search(q, k)`) on an index built with each:",
        "",
        "| embedder | recall@5 | recall@10 |",
        "|---|---|---|",
        *[f"| {name} | {r[0]:.3f} | {r[1]:.3f} |" for name, r in hybrid.items()],
        "",
        f"## ANN vs exact search ({len(ann_vectors):,} vectors, top-50 candidates as `Searcher._dense` asks)",
        "",
        "| index | build s | p50 ms/query | overlap@50 with exact | dense recall@10 |",
        "|---|---|---|---|---|",
        *[f"| {' | '.join(row)} |" for row in ann],
        "",
        "## Query-embedding cache (40 ask() calls)",
        "",
        f"ask() embeds {cache['texts_per_ask']:.1f} texts per question (question, alias rewrite, aspect sub-queries, the "
        f"composer's sentences); {100 * cache['repeat_within_ask']:.1f} % repeat a text embedded earlier in the same ask, "
        f"{100 * cache['repeat_across_asks']:.1f} % one embedded by an earlier ask (the composer caches sentences already). "
        f"One question costs {query_embed_ms:.1f} ms to embed with the shipped backend.",
        "",
        "## Repeated tokenisation while chunking (300 documents)",
        "",
        f"Chunking {tokens['chunks']} chunks took {tokens['chunk_ms']:.0f} ms; it counted word pieces {tokens['count_calls']:,} times "
        f"for {tokens['distinct']:,} distinct texts; all counting together costs {tokens['count_ms']:.0f} ms. The whole build of "
        f"{len(chunks)} chunks took {build_ms / 1000:.1f} s, {build_embed_s:.1f} s of it in embedding.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    log(f"wrote {args.out}")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
