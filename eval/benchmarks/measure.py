"""What the benchmarks measure with: the MedQuAD workload, timers and percentiles, memory, embedding FLOPs against
this machine's GEMM roofline, the machine's description, and a clean environment for each stage's subprocess."""

from __future__ import annotations

import json
import os
import platform
import random
import re
import resource
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
MAX_SEQ = 256  # all-MiniLM-L6-v2 reads at most 256 word pieces (sentence_bert_config.json)
WARMUP = 10  # questions asked before any clock starts

# MiniLM-L6 (BERT, 6 layers, d=384, FFN 1536). Per token and layer: Q, K, V and output projections 4·2·d² plus the
# FFN 2·2·d·d_ff = 24·d² FLOPs; attention scores QKᵀ and the weighted sum AV add 2·2·L·d for a sequence of L pieces.
LAYERS, D_MODEL, D_FF = 6, 384, 1536
FLOPS_PER_TOKEN = LAYERS * (2 * 4 * D_MODEL**2 + 2 * 2 * D_MODEL * D_FF)  # 21.2 MFLOP
ATTENTION_FLOPS_PER_TOKEN_PER_POSITION = LAYERS * 4 * D_MODEL  # × L


def sequence_flops(length: int) -> int:
    """FLOPs for one forward pass over a sequence of `length` word pieces (embeddings and pooling are negligible)."""
    return length * FLOPS_PER_TOKEN + ATTENTION_FLOPS_PER_TOKEN_PER_POSITION * length * length


@dataclass(frozen=True, slots=True)
class Workload:
    """The corpus (passage id → text) and the questions, each with its own passage id."""

    passages: dict[str, str]
    questions: list[tuple[str, str]]
    warmup: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"passages": self.passages, "questions": self.questions, "warmup": self.warmup}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Workload:
        return cls(data["passages"], [tuple(q) for q in data["questions"]], data["warmup"])


def load_workload(data_dir: Path, limit: int | None, n_questions: int, seed: int = 7) -> Workload:
    """Distinct MedQuAD answer passages (a seeded sample of `limit`) and questions whose passage is in the corpus."""
    path = data_dir / "medquad" / "medquad.jsonl"
    if not path.exists():
        raise SystemExit(f"MedQuAD not found at {path}. Pass --data pointing at the folder that holds medquad/medquad.jsonl.")
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    ids: dict[str, str] = {}
    for row in rows:
        text = row["answer"].strip()
        if text and text not in ids:
            ids[text] = f"mq{len(ids):05d}"
    rng = random.Random(seed)
    chosen = list(ids.items())
    if limit is not None and limit < len(chosen):
        chosen = rng.sample(chosen, limit)
    passages = {pid: text for text, pid in sorted(chosen, key=lambda kv: kv[1])}
    pairs = [(row["question"].strip(), ids[row["answer"].strip()]) for row in rows if ids.get(row["answer"].strip()) in passages]
    rng.shuffle(pairs)
    if len(pairs) < n_questions + WARMUP:
        raise SystemExit(f"Only {len(pairs)} questions have their passage in this corpus; raise --limit or lower --questions.")
    return Workload(passages, pairs[:n_questions], [q for q, _ in pairs[n_questions : n_questions + WARMUP]])


def write_corpus(workload: Workload, folder: Path) -> None:
    """One plain-text file per passage (the file stem is the document id)."""
    folder.mkdir(parents=True, exist_ok=True)
    for pid, text in workload.passages.items():
        (folder / f"{pid}.txt").write_text(text + "\n")


def rss_mb() -> float:
    """Current resident set size of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def settled_rss_mb() -> float:
    """RSS once the heap pages freed so far are handed back to the OS: a baseline that a load which does the same
    (ours, `release_freed_memory`) cannot undercut by releasing garbage made before it."""
    from assistant.index.load import release_freed_memory

    release_freed_memory()
    return rss_mb()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
    return ordered[rank]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000, out


def token_lengths(texts: list[str]) -> list[int]:
    """Word pieces the model reads for each text ([CLS] … [SEP], cut at MAX_SEQ), with the model's own tokenizer."""
    from tokenizers import Tokenizer

    from assistant.index.embed import packaged_model_dir

    tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(MAX_SEQ)
    return [len(e.ids) for e in tokenizer.encode_batch(texts)]


def padded_tokens(calls: list[list[str]], lengths: dict[str, int], batch_size: int, by_tokens: bool = False) -> int:
    """Word pieces computed including padding: each embedding call is sorted by length (sentence-transformers:
    characters; our ONNX embedder: word pieces) and every batch is padded to its longest member."""
    total = 0
    for texts in calls:
        ordered = sorted(texts, key=lengths.__getitem__ if by_tokens else len, reverse=True)
        for begin in range(0, len(ordered), batch_size):
            batch = ordered[begin : begin + batch_size]
            total += len(batch) * max(lengths[t] for t in batch)
    return total


def embedding_figures(
    texts: list[str], calls: list[list[str]], batch_size: int, embed_s: float, by_tokens: bool = False
) -> dict[str, float]:
    lengths = token_lengths(texts)
    by_text = dict(zip(texts, lengths, strict=True))
    return {
        "tokens": sum(lengths),
        "padded_tokens": padded_tokens(calls, by_text, batch_size, by_tokens),
        "flops": float(sum(sequence_flops(n) for n in lengths)),
        "embed_s": embed_s,
    }


class CallLog:
    """Records the texts of every embedding call and the seconds spent in them."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.seconds = 0.0

    def record(self, texts: list[str], fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        out = fn()
        self.seconds += time.perf_counter() - start
        self.calls.append(list(texts))
        return out


class TimedEmbedder:
    """Delegates to the real embedder, logging embed() calls (index.py batching is measured as it is)."""

    def __init__(self, inner: Any, log: CallLog) -> None:
        self.inner, self.log = inner, log
        self.model_id, self.dimension = inner.model_id, inner.dimension

    def embed(self, texts: list[str]) -> Any:
        return self.log.record(texts, lambda: self.inner.embed(texts))

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def fingerprint(self) -> str:
        return self.inner.fingerprint()


class _Capped(Exception):
    """Raised by the alarm when one call runs past ASK_CAP_S."""


def capped(fn: Callable[[], Any], seconds: int) -> tuple[float, Any]:
    """Milliseconds and result of fn, or (the cap, None) when it runs past `seconds`."""

    def stop(*_: object) -> None:
        raise _Capped

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        return timed(fn)
    except _Capped:
        return seconds * 1000.0, None
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def child_env() -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def gemm_gflops(n: int = 2048, repeats: int = 10) -> float:
    """Best float32 matmul throughput of numpy's BLAS on this machine (2·n³ FLOPs per product)."""
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    best = min(timed(lambda: a @ b)[0] for _ in range(repeats)) / 1000
    return 2 * n**3 / best / 1e9


def machine() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), platform.processor())
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    simd = ", ".join(f for f in ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile") if f" {f}" in flags)
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal"))
    packages = []
    for name in ("torch", "sentence-transformers", "transformers", "tokenizers", "faiss-cpu", "numpy", "bm25s", "onnxruntime",
                 "langchain-core", "langchain-text-splitters", "langchain-huggingface"):
        try:
            packages.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            continue
    return {
        "cpu": f"{cpu} ({simd})",
        "cores": str(os.cpu_count()),
        "ram": f"{mem_kb / 2**20:.1f} GiB",
        "python": platform.python_version(),
        "os": platform.platform(),
        "libraries": ", ".join(packages),
    }


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_section(path: Path, text: str, start: str, end: str) -> None:
    """Replace one benchmark's section of `path` (between its markers `start` and `end`, which `text` holds too), or
    append it; the rest of the file is left alone."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    new = pattern.sub(lambda _: text, old) if pattern.search(old) else old.rstrip() + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")
