"""Scale-out benchmark: Ray Data ingestion against the single-process ingest, Qdrant (embedded) against the local
store, on the same MedQuAD passages as eval/benchmarks/bench.py; then a projection for a 50M-chunk corpus. Writes eval/SCALE.md.

    python -m eval.benchmarks.scale --limit 5500 [--data ../shared/data] [--workers 2] [--questions 200]

Every stage runs in its own subprocess (peak memory never mixes). A Ray ingest's memory is the driver's peak RSS and
the peak of the summed RSS of every process it started (Ray's raylet, object store and actors), sampled every 0.2 s.
With a GPU (`--device cuda`), the embedding rate on it is measured too; without one it is not measured, and the
projection says so.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .measure import (
    DEFAULT_DATA,
    ROOT,
    CallLog,
    TimedEmbedder,
    Workload,
    child_env,
    load_average,
    load_workload,
    log,
    machine,
    peak_rss_mb,
    percentile,
    timed,
    write_corpus,
)

# Published figures the projection uses (not measured here): cited in SCALE.md.
QDRANT_OVERHEAD = 1.5  # Qdrant capacity planning: memory = vectors x dimension x bytes x 1.5 (indexes, versions, optimiser)
HNSW_LINK_BYTES = 2 * 16 * 4  # level-0 links of an HNSW graph with m = 16 (Qdrant's default): 2m neighbours x 4-byte ids
NODE_RAM_GIB = 64  # the serving node assumed (a common cloud size); a replica of each shard is counted again
TARGET_CHUNKS = 50_000_000


# ---------------------------------------------------------------- stages (each in its own process)


def _settings(work: Path, name: str, **changes: Any) -> Any:
    from assistant import Settings

    return Settings(corpus_dir=work / "corpus", index_dir=work / name / "index", **changes)


class _TreeMemory:
    """Peak of the summed RSS of this process and every process it started (Ray's), sampled every 0.2 s."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> _TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, _tree_rss_mb(os.getpid()))


def _tree_rss_mb(root: int) -> float:
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
        rss[int(entry)] = next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0.0)
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0.0) for pid in tree)


def stage_ingest(work: Path, engine: str, workers: int) -> dict[str, Any]:
    from assistant.index.build import build_index
    from assistant.index.embed import default_embedder
    from assistant.index.load import load_index
    from assistant.settings import IngestSettings

    settings = _settings(work, engine, ingest=IngestSettings(engine=engine, workers=workers))  # type: ignore[arg-type]
    embedder = default_embedder(settings.embed)
    embedder.embed(["warm up: the model is loaded before the clock starts"])
    calls = CallLog()
    recording = TimedEmbedder(embedder, calls)
    if engine == "ray":
        from assistant.index.ray_engine import start_ray

        started = time.perf_counter()
        start_ray(settings.ingest)
        ray_start_s = time.perf_counter() - started
    with _TreeMemory() as memory:
        ms, report = timed(lambda: build_index([settings.corpus_dir], settings, recording))
    if report.errors:
        raise SystemExit(f"{engine} ingest failed: {report.errors[:3]}")
    index = load_index(settings.index_dir, embedder, settings)
    texts = [t for call in calls.calls for t in call]  # local engine: every distinct text; Ray embeds them on its actors
    return {
        "engine": engine,
        "workers": workers if engine == "ray" else 1,
        "chunks": len(index.chunks),
        "texts": len(texts),
        "word_pieces": sum(min(embedder.count_tokens(t), 256) for t in texts) if texts else None,
        "ingest_s": ms / 1000,
        "ray_start_s": ray_start_s if engine == "ray" else None,
        "peak_rss_mb": peak_rss_mb(),
        "tree_peak_rss_mb": memory.peak_mb,
        "sparse_terms_per_chunk": _terms_per_chunk(index),
        "side_store_bytes_per_chunk": _side_store_bytes(index.folder) / max(len(index.chunks), 1),
        "cpus": os.cpu_count(),
    }


def _terms_per_chunk(index: Any) -> float:
    bounds, _, _ = index.lexicon.chunk_weights()
    return float(bounds[-1]) / max(len(index.chunks), 1)


def _side_store_bytes(folder: Path) -> int:
    """What stays in the index folder when Qdrant serves: everything but the chunk vectors' checkpoint and BM25."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name != "vectors.faiss" and "bm25" not in p.parts)


def stage_query(work: Path, store: str) -> dict[str, Any]:
    from assistant import Assistant
    from assistant.index.embed import default_embedder
    from assistant.settings import StoreSettings

    workload = Workload.from_json(json.loads((work / "workload.json").read_text()))
    changes = {"store": StoreSettings(kind="qdrant", qdrant_path=work / "qdrant")} if store == "qdrant" else {}
    settings = _settings(work, "local", **changes)
    embedder = default_embedder(settings.embed)
    embedder.embed(["warm up"])
    publish_s = None
    if store == "qdrant":  # publish the local ingest's version: nothing re-embedded
        ms, assistant = timed(lambda: Assistant.load(settings, embedder=embedder))
        publish_s = ms / 1000
    else:
        assistant = Assistant.load(settings, embedder=embedder, refresh=False)
    for question in workload.warmup:
        assistant.ask(question)
    search_ms, ask_ms, top5, top10, answers = [], [], [], [], {}
    for question, pid in workload.questions:
        ms, hits = timed(lambda: assistant.search(question, k=10))
        search_ms.append(ms)
        top10.append(pid in {h.doc_id for h in hits})
        top5.append(pid in {h.doc_id for h in hits[:5]})
        ms, answer = timed(lambda: assistant.ask(question))
        ask_ms.append(ms)
        answers[question] = {"hits": [h.chunk_id for h in hits], "text": answer.text}
    return {
        "store": store,
        "publish_s": publish_s,
        "search_ms": search_ms,
        "ask_ms": ask_ms,
        "recall5": sum(top5) / len(top5),
        "recall10": sum(top10) / len(top10),
        "answers": answers,
        "peak_rss_mb": peak_rss_mb(),
    }


def stage_gpu(work: Path) -> dict[str, Any]:
    """Word pieces/s of the packaged model on a GPU (float16), on the local ingest's own texts."""
    from assistant.index.embed import default_embedder
    from assistant.settings import EmbedSettings

    embedder = default_embedder(EmbedSettings(backend="torch", device="cuda"))
    texts = json.loads((work / "gpu_texts.json").read_text())
    embedder.embed(texts[:512])
    ms, _ = timed(lambda: embedder.embed(texts))
    pieces = sum(min(embedder.count_tokens(t), 256) for t in texts)
    return {"texts": len(texts), "word_pieces": pieces, "seconds": ms / 1000, "word_pieces_per_s": pieces / (ms / 1000)}


STAGES = {
    "ingest-local": lambda work, args: stage_ingest(work, "local", 1),
    "ingest-ray": lambda work, args: stage_ingest(work, "ray", args.workers),
    "query-local": lambda work, args: stage_query(work, "local"),
    "query-qdrant": lambda work, args: stage_query(work, "qdrant"),
    "gpu": lambda work, args: stage_gpu(work),
}


def run_stage(stage: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    out = work / f"{stage}.json"
    command = [sys.executable, "-m", "eval.benchmarks.scale", "--stage", stage, "--work", str(work), "--workers", str(args.workers)]
    log(f"stage {stage}")
    subprocess.run(command, check=True, env=child_env(), cwd=ROOT)
    return json.loads(out.read_text())


# ---------------------------------------------------------------- projection and report


def projection(ingest: dict[str, Any], gpu_rate: float | None, dimension: int = 384) -> dict[str, Any]:
    """50M chunks from the measured per-chunk figures and per-core rate, and Qdrant's published sizing rule."""
    per_core = ingest["word_pieces"] / ingest["ingest_s"] / ingest["cpus"]
    pieces_per_chunk = ingest["word_pieces"] / ingest["chunks"]  # chunk text and its sentences, as embedded
    total_pieces = TARGET_CHUNKS * pieces_per_chunk
    sparse_bytes = ingest["sparse_terms_per_chunk"] * 8  # term id + weight
    ram_per_chunk = dimension * 1 * QDRANT_OVERHEAD + HNSW_LINK_BYTES + sparse_bytes  # int8 in RAM, originals on disk
    ram_total = TARGET_CHUNKS * ram_per_chunk
    disk_total = TARGET_CHUNKS * (dimension * 4 + dimension + sparse_bytes) * QDRANT_OVERHEAD
    nodes = math.ceil(ram_total / (NODE_RAM_GIB * 2**30 * 0.7))  # 30 % headroom for page cache of the originals
    return {
        "pieces_per_chunk": pieces_per_chunk,
        "per_core_rate": per_core,
        "core_hours": total_pieces / per_core / 3600,
        "hours_on_64_cores": total_pieces / (per_core * 64) / 3600,
        "hours_on_512_cores": total_pieces / (per_core * 512) / 3600,
        "gpu_rate": gpu_rate,
        "gpu_hours": total_pieces / gpu_rate / 3600 if gpu_rate else None,
        "ram_per_chunk": ram_per_chunk,
        "ram_gib": ram_total / 2**30,
        "ram_gib_float32": TARGET_CHUNKS * dimension * 4 * QDRANT_OVERHEAD / 2**30,
        "disk_gib": disk_total / 2**30,
        "nodes": nodes,
        "side_store_gib": TARGET_CHUNKS * ingest["side_store_bytes_per_chunk"] / 2**30,
    }


def agreement(local: dict[str, Any], qdrant: dict[str, Any]) -> tuple[float, float]:
    same_hits = sum(local["answers"][q]["hits"] == a["hits"] for q, a in qdrant["answers"].items())
    same_text = sum(local["answers"][q]["text"] == a["text"] for q, a in qdrant["answers"].items())
    n = len(qdrant["answers"])
    return same_hits / n, same_text / n


def render(results: dict[str, Any]) -> str:
    local, ray = results["ingest-local"], results["ingest-ray"]
    ql, qq = results["query-local"], results["query-qdrant"]
    gpu = results.get("gpu")
    plan = projection(local, gpu["word_pieces_per_s"] if gpu else None)
    hits_same, text_same = agreement(ql, qq)
    rate = lambda r: r["word_pieces"] / r["ingest_s"] if r["word_pieces"] else local["word_pieces"] / r["ingest_s"]  # noqa: E731
    m = results["machine"]
    lines = [
        "# Scale-out benchmark: Ray Data ingestion, Qdrant serving, a 50M-chunk projection",
        "",
        f"Generated by `{results['command']}` on {results['date']}. Corpus: {results['documents']:,} MedQuAD answer passages "
        f"(the seeded sample eval/benchmarks/bench.py uses), {len(ql['search_ms'])} questions whose own passage is in the corpus. "
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram']} RAM; load average {results['load_start']} at start, "
        f"{results['load_end']} at the end. Every figure in the first two tables is **measured** on this machine; the "
        "projection below says which of its inputs are measured and which are published figures.",
        "",
        "## Ingestion: Ray Data against the single-process path (measured)",
        "",
        "| figure | single process | Ray Data |",
        "|---|---|---|",
        f"| embedding workers | 1 process, {local['cpus']} threads | {ray['workers']} actors x 1 CPU (local Ray, `ray.init(num_cpus={ray['workers']})`) |",
        f"| chunks | {local['chunks']:,} | {ray['chunks']:,} |",
        f"| distinct texts embedded (chunks and sentences) | {local['texts']:,} | same texts (same chunker) |",
        f"| word pieces embedded | {local['word_pieces']:,} | {local['word_pieces']:,} |",
        f"| ingest wall time, s (model preloaded) | {local['ingest_s']:.1f} | {ray['ingest_s']:.1f} (+ {ray['ray_start_s']:.1f} s starting Ray) |",
        f"| word pieces/s | {rate(local):,.0f} | {rate(ray):,.0f} |",
        f"| peak RSS of the ingesting process, MB | {local['peak_rss_mb']:.0f} | {ray['peak_rss_mb']:.0f} (driver) |",
        f"| peak RSS of it and every process it started, MB | {local['tree_peak_rss_mb']:.0f} | {ray['tree_peak_rss_mb']:.0f} (driver, raylet, object store, actors) |",
        "",
        "## Serving: Qdrant (embedded) against the local FAISS + bm25s store (measured)",
        "",
        "| figure | local | Qdrant (embedded) |",
        "|---|---|---|",
        f"| publishing the version (no re-embedding), s | – | {qq['publish_s']:.1f} |",
        f"| search p50 / p95, ms (k=10) | {statistics.median(ql['search_ms']):.1f} / {percentile(ql['search_ms'], 95):.1f} | "
        f"{statistics.median(qq['search_ms']):.1f} / {percentile(qq['search_ms'], 95):.1f} |",
        f"| ask() p50 / p95, ms | {statistics.median(ql['ask_ms']):.1f} / {percentile(ql['ask_ms'], 95):.1f} | "
        f"{statistics.median(qq['ask_ms']):.1f} / {percentile(qq['ask_ms'], 95):.1f} |",
        f"| recall@5 / recall@10 (own passage) | {ql['recall5']:.3f} / {ql['recall10']:.3f} | {qq['recall5']:.3f} / {qq['recall10']:.3f} |",
        f"| questions with the same top-10 chunks as local | – | {hits_same:.3f} |",
        f"| questions with the same answer text as local | – | {text_same:.3f} |",
        f"| peak RSS serving, MB | {ql['peak_rss_mb']:.0f} | {qq['peak_rss_mb']:.0f} |",
        "",
        "Qdrant's embedded mode (qdrant-client's local mode) searches exactly, in Python, in this process: its latency is "
        "not a Qdrant server's. A server answers the same two requests per search (a batch of the dense queries and the "
        "keyword query, then one fetch of the found points' vectors) with HNSW over int8 vectors rescored on the originals "
        "(`store.hnsw_ef`, `store.oversampling`).",
        "",
        f"## Projection for {TARGET_CHUNKS / 1e6:.0f}M chunks (all of PubMed is roughly 40–70M chunks)",
        "",
        "| figure | value | from |",
        "|---|---|---|",
        f"| word pieces embedded per chunk (its text and its sentences) | {plan['pieces_per_chunk']:.0f} | measured above |",
        f"| embedding rate per CPU core, word pieces/s | {plan['per_core_rate']:,.0f} | measured above (single process / cores) |",
        f"| CPU core-hours to embed | {plan['core_hours']:,.0f} | projected |",
        f"| wall hours on 64 / 512 cores (Ray actors, 1 core each) | {plan['hours_on_64_cores']:,.1f} / {plan['hours_on_512_cores']:,.1f} | projected (assumes linear scaling: Ray measured at {rate(ray) / rate(local):.2f}x the single process on this machine's {local['cpus']} cores) |",
        (
            f"| embedding rate per GPU, word pieces/s | {plan['gpu_rate']:,.0f} | measured (`--device cuda`) |"
            if plan["gpu_rate"]
            else "| embedding rate per GPU | not measured | no GPU was lent to this run; `python -m eval.benchmarks.scale --device cuda` measures it |"
        ),
        (f"| GPU-hours to embed | {plan['gpu_hours']:,.1f} | projected |" if plan["gpu_hours"] else "| GPU-hours to embed | – | needs the GPU rate |"),
        f"| Qdrant RAM per chunk, bytes | {plan['ram_per_chunk']:,.0f} | 384 int8 x 1.5 (Qdrant's sizing rule) + HNSW links (m=16) + sparse BM25 ({local['sparse_terms_per_chunk']:.0f} terms/chunk measured x 8 bytes) |",
        f"| Qdrant RAM, GiB (int8 in RAM, originals on disk) | {plan['ram_gib']:,.0f} | projected; all-float32 in RAM would be {plan['ram_gib_float32']:,.0f} GiB |",
        f"| Qdrant disk, GiB | {plan['disk_gib']:,.0f} | projected (float32 originals, int8 copy, sparse vectors, x 1.5) |",
        f"| Qdrant nodes of {NODE_RAM_GIB} GiB (70 % used), one replica | {plan['nodes']} | projected; double it for a replica of each shard |",
        f"| side store (documents, chunk offsets, sentence vectors) on disk, GiB | {plan['side_store_gib']:,.0f} | {local['side_store_bytes_per_chunk']:,.0f} bytes/chunk measured; memory-mapped |",
        "",
        "Published figures used: Qdrant's capacity-planning rule (memory = vectors x dimension x bytes x 1.5, "
        "https://qdrant.tech/documentation/capacity-planning/) and its HNSW default m = 16. What this design does not yet "
        "move out of the serving process: the chunk table and document texts are loaded into each serving process "
        "(eval/BENCHMARK.md: about 1.7 kB of RAM per chunk beyond the vectors), which at 50M chunks is ~80 GiB per "
        "replica; the next step is to read them from the side store on demand or from Qdrant payloads.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.benchmarks.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding medquad/medquad.jsonl")
    parser.add_argument("--limit", type=int, default=5500, help="passages to index (seeded sample, as eval/benchmarks/bench.py)")
    parser.add_argument("--questions", type=int, default=200, help="timed questions")
    parser.add_argument("--workers", type=int, default=2, help="Ray embedding actors")
    parser.add_argument("--device", default="cpu", help="'cuda' also measures the embedding rate on a GPU")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "SCALE.md", help="markdown report")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a new temp folder)")
    parser.add_argument("--reuse-ingest", action="store_true", help="keep the ingest stages' figures and indexes in --work")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        (args.work / f"{args.stage}.json").write_text(json.dumps(STAGES[args.stage](args.work, args)))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    load_start = load_average()
    workload = load_workload(args.data, args.limit, args.questions)
    (work / "workload.json").write_text(json.dumps(workload.to_json()))
    write_corpus(workload, work / "corpus")
    log(f"work folder {work}: {len(workload.passages)} passages, {len(workload.questions)} questions")
    ingests = ("ingest-local", "ingest-ray")
    results: dict[str, Any] = (
        {name: json.loads((work / f"{name}.json").read_text()) for name in ingests} if args.reuse_ingest
        else {name: run_stage(name, work, args) for name in ingests}
    )
    shutil.rmtree(work / "qdrant", ignore_errors=True)  # published afresh by the query stage
    results.update({name: run_stage(name, work, args) for name in ("query-local", "query-qdrant")})
    if args.device == "cuda":
        texts = list(workload.passages.values())
        (work / "gpu_texts.json").write_text(json.dumps(texts))
        results["gpu"] = run_stage("gpu", work, args)
    results.update(
        command="python -m eval.benchmarks.scale " + " ".join(sys.argv[1:] if argv is None else argv),
        date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        documents=len(workload.passages),
        machine=machine(),
        load_start=load_start,
        load_end=load_average(),
    )
    (work / "results.json").write_text(json.dumps(results))
    args.out.write_text(render(results))
    log(f"wrote {args.out}")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
