"""Load on the real server: `assistant serve` started as users start it, driven over HTTP by 1, 8 and 64 concurrent
clients on /v1/answer and /v1/chat/completions, against ask() in process on the same index.

    HF_HUB_OFFLINE=1 python -m eval.benchmarks.http [--clients 1 8 64] [--workers 1 2] [--out eval/BENCHMARK.md]
        [--source DIR] [--json FILE] [--compare FILE]

Indexes corpus/ into a temporary folder, times ask() in process (a subprocess, QUESTIONS × rounds, one at a time),
then starts the server (a subprocess running the code in --source, default this checkout) and, per endpoint and client
count, sends requests from that many clients at once (each sends its next request when its last one is answered).
Every answer is compared with the serial one (the 1-client run) and with ask() in process. Writes its section of
eval/BENCHMARK.md (between the HTTP markers; the rest of the file is left alone) and, with --json, the figures, which
a later run takes as --compare to show before and after. Exits 1 on any error or differing answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import httpx

from .concurrency import QUESTIONS
from .measure import ROOT, load_average, log, machine, percentile, write_section

START_MARK, END_MARK = "<!-- http-benchmark:start -->", "<!-- http-benchmark:end -->"
ENDPOINTS = ("/v1/answer", "/v1/chat/completions")
READY_S = 300  # the server builds or refreshes its index before it listens
REQUEST_TIMEOUT_S = 300

# Runs in a subprocess on the --source checkout's code: ask() in process, one question at a time, after a warm-up.
IN_PROCESS = """
import json, sys, time
from pathlib import Path
from assistant import Assistant, Settings
from assistant.settings import EmbedSettings
corpus, index, rounds, questions = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
embed = EmbedSettings(threads=int(sys.argv[5])) if sys.argv[5] != "0" else EmbedSettings()
assistant = Assistant.load(Settings(corpus_dir=corpus, index_dir=index, embed=embed), refresh=False)
for q in questions:
    assistant.ask(q)
times, answers = [], {}
cpu = time.process_time()
for _ in range(rounds):
    for q in questions:
        start = time.perf_counter()
        answer = assistant.ask(q)
        times.append((time.perf_counter() - start) * 1000)
        answers[q] = [answer.text, answer.abstained, [[c.number, c.doc_id, c.start, c.end, c.quote] for c in answer.citations]]
print(json.dumps({"ms": times, "cpu_ms": (time.process_time() - cpu) * 1000 / len(times), "answers": answers}))
"""


@dataclass(frozen=True, slots=True)
class Run:
    """One endpoint driven by `clients` clients at once."""

    endpoint: str
    clients: int
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    differ_serial: int  # answers unlike the 1-client run's answer to the same question
    differ_in_process: int  # answers unlike ask() in process
    load: str  # load average at the start of the run
    server_cpu_ms: float  # CPU time the server (all its processes) spent per request
    processes: int = 1  # answering processes (assistant serve --workers)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


def answer_key(endpoint: str, data: dict[str, Any]) -> list[Any]:
    """What must not change: the text, abstention and every citation (the key ask() in process is compared by)."""
    text = data["text"] if endpoint == "/v1/answer" else data["choices"][0]["message"]["content"]
    return [text, data["abstained"], [[c["number"], c["doc_id"], c["start"], c["end"], c["quote"]] for c in data["citations"]]]


def body(endpoint: str, question: str) -> dict[str, Any]:
    if endpoint == "/v1/answer":
        return {"question": question}
    return {"model": "medevidence-assistant", "messages": [{"role": "user", "content": question}]}


async def drive(url: str, endpoint: str, questions: list[str], clients: int) -> tuple[float, list[float], list[Any]]:
    """Send `questions` (in order, shared by the clients) from `clients` clients at once: seconds, latencies in ms,
    and each answer's key (None for an error), in question order."""
    latencies: list[float] = [0.0] * len(questions)
    keys: list[Any] = [None] * len(questions)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(len(questions)):
        queue.put_nowait(n)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def client(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            start = time.perf_counter()
            try:
                response = await http.post(endpoint, json=body(endpoint, questions[n]))
                keys[n] = answer_key(endpoint, response.json()) if response.status_code == 200 else None
            except (httpx.HTTPError, ValueError, KeyError):
                keys[n] = None
            latencies[n] = (time.perf_counter() - start) * 1000

    async with httpx.AsyncClient(base_url=url, timeout=REQUEST_TIMEOUT_S, limits=limits) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return time.perf_counter() - start, latencies, keys


def measure(server: int, url: str, endpoint: str, clients: int, n_requests: int, serial: dict[str, Any], in_process: dict[str, Any]) -> Run:
    questions = [QUESTIONS[n % len(QUESTIONS)] for n in range(n_requests)]
    load = load_average()
    cpu = server_cpu_s(server)
    seconds, latencies, keys = asyncio.run(drive(url, endpoint, questions, clients))
    cpu_ms = (server_cpu_s(server) - cpu) * 1000 / n_requests
    if clients == 1:
        serial.update({q: k for q, k in zip(questions, keys, strict=True) if k is not None and q not in serial})
    errors = sum(k is None for k in keys)
    differ_serial = sum(k is not None and k != serial.get(q) for q, k in zip(questions, keys, strict=True))
    differ_in_process = sum(k is not None and k != in_process[q] for q, k in zip(questions, keys, strict=True))
    ok = [ms for ms, k in zip(latencies, keys, strict=True) if k is not None] or [float("nan")]
    return Run(endpoint, clients, n_requests, seconds, percentile(ok, 50), percentile(ok, 95), percentile(ok, 99), errors,
               differ_serial, differ_in_process, load, cpu_ms)


def start_server(source: Path, corpus: Path, index: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    """`assistant serve` on a free loopback port, running the code in `source`; returns once it answers."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(source)}
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), "--corpus", str(corpus), "--index", str(index)]
    if workers > 1:
        command += ["--workers", str(workers)]
    server = subprocess.Popen(command, env=env, cwd=source)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"The server exited with status {server.returncode} before answering.")
        try:
            if httpx.get(url + "/openapi.json", timeout=5).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit(f"The server did not answer within {READY_S} s.")


def server_pids(pid: int) -> list[int]:
    """The server's process and its worker processes (uvicorn --workers)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    return [pid, *(int(p) for p in (children.read_text().split() if children.exists() else []))]


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the server's processes have used so far."""
    total = 0
    for each in server_pids(pid):
        stat = Path(f"/proc/{each}/stat")
        if stat.exists():
            fields = stat.read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return total / os.sysconf("SC_CLK_TCK")


def server_rss_mb(server: subprocess.Popen[bytes]) -> float:
    """Resident memory of the server and its worker processes (uvicorn --workers), in MB."""
    total = 0
    for pid in server_pids(server.pid):
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            total += next((int(line.split()[1]) for line in status.read_text().splitlines() if line.startswith("VmRSS:")), 0)
    return total / 1024


def in_process_ask(source: Path, corpus: Path, index: Path, rounds: int, threads: int = 0) -> dict[str, Any]:
    """ask() in a fresh process, one question at a time; `threads`: the embedder's (0: the default, the cores)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(source)}
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(corpus), str(index), str(rounds), json.dumps(QUESTIONS), str(threads)],
        env=env, cwd=source, capture_output=True, text=True, check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def build_index(source: Path, corpus: Path, index: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONPATH": str(source)}
    subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", "--corpus", str(corpus), "--index", str(index)],
                   env=env, cwd=source, check=True, capture_output=True)


def git_commit(source: Path) -> str:
    done = subprocess.run(["git", "-C", str(source), "log", "-1", "--format=%h %s"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)
    return (done.stdout.strip()[:60] or "unknown") + (" (uncommitted changes)" if dirty.stdout.strip() else "")


def section(figures: dict[str, Any], before: dict[str, Any] | None) -> str:
    """The benchmark's section of eval/BENCHMARK.md."""
    ask_ms, fair_ms = figures["ask_p50_ms"], figures["ask_one_thread"]["p50_ms"]
    rss = ", ".join(f"{n} process(es) {mb:.0f} MB" for n, mb in figures["rss_mb"].items())
    lines = [
        START_MARK, "## Load on the HTTP server", "",
        f"Generated by `python -m eval.benchmarks.http {figures['args']}` on {figures['date']} ({figures['commit']}). The real",
        f"server (`assistant serve [--workers N]`) on the seed corpus, {len(QUESTIONS)} questions cycled; each client sends its next",
        "request when its last one is answered. The clients run in the benchmark's own process on the same cores (their",
        f"CPU time: {figures['client_cpu_s']:.1f} s). {figures['cores']} cores, shared with other work: load average at the start",
        f"{figures['load_start']}, at the end {figures['load_end']}, and at the start of each run in the table. Server memory",
        f"(resident, all processes): {rss}.", "",
        f"ask() in process, one at a time: p50 {ask_ms:.1f} ms, p95 {figures['ask_p95_ms']:.1f} ms, {figures['ask_cpu_ms']:.1f} ms of CPU",
        f"each with the default embedder threads (the cores); p50 {fair_ms:.1f} ms, {figures['ask_one_thread']['cpu_ms']:.1f} ms of CPU with one",
        f"(as the server runs it, service.embed_threads). Targets from the default: one request within 1.5 × ask() ({1.5 * ask_ms:.0f} ms);",
        f"64 clients ≥ 0.7 × cores ÷ ask() = {0.7 * figures['cores'] / (ask_ms / 1000):.1f} requests/s (from the one-thread ask(): "
        f"{1.5 * fair_ms:.0f} ms and {0.7 * figures['cores'] / (fair_ms / 1000):.1f}/s).", "",
        "| processes | endpoint | clients | requests | requests/s | p50 ms | p95 ms | p99 ms | server CPU ms/request | errors | differ from serial | differ from ask() | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.get('processes', 1)} | `{r['endpoint']}` | {r['clients']} | {r['requests']} | {r['requests'] / r['seconds']:.1f} | "
        f"{r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['server_cpu_ms']:.0f} | {r['errors']} | "
        f"{r['differ_serial']} | {r['differ_in_process']} | {r['load']} |"
        for r in figures["runs"]
    ]
    if before:
        lines += _before_table(figures, before)
    return "\n".join([*lines, "", END_MARK])


def _before_table(figures: dict[str, Any], before: dict[str, Any]) -> list[str]:
    """Before and after, one process each, run by run."""
    lines = ["", f"Before ({before['commit']}, {before['date']}; ask() p50 {before['ask_p50_ms']:.1f} ms then), one process each:", "",
             "| endpoint | clients | requests/s before → after | p50 ms before → after | p99 ms before → after | errors before → after |",
             "|---|---|---|---|---|---|"]
    after = {(r["endpoint"], r["clients"]): r for r in figures["runs"] if r.get("processes", 1) == 1}
    for run in before["runs"]:
        now = after.get((run["endpoint"], run["clients"]))
        if now:
            lines.append(
                f"| `{run['endpoint']}` | {run['clients']} | {run['requests'] / run['seconds']:.1f} → {now['requests'] / now['seconds']:.1f} | "
                f"{run['p50_ms']:.0f} → {now['p50_ms']:.0f} | {run['p99_ms']:.0f} → {now['p99_ms']:.0f} | {run['errors']} → {now['errors']} |"
            )
    return lines


def drive_server(args: argparse.Namespace, source: Path, corpus: Path, index: Path, workers: int,
                 in_process: dict[str, Any]) -> tuple[list[Run], float]:
    """Start the server with `workers` processes, run every endpoint at every client count; the runs and its memory."""
    server, url = start_server(source, corpus, index, workers)
    runs: list[Run] = []
    try:
        for endpoint in ENDPOINTS:
            asyncio.run(drive(url, endpoint, QUESTIONS, 1))  # warm-up: every question once
            serial: dict[str, Any] = {}
            for clients in sorted(args.clients):
                n_requests = len(QUESTIONS) * args.rounds if clients == 1 else max(len(QUESTIONS) * args.rounds, 4 * clients)
                run = replace(measure(server.pid, url, endpoint, clients, n_requests, serial, in_process), processes=workers)
                runs.append(run)
                log(f"{workers} process(es) {endpoint} × {clients}: {run.per_second:.1f}/s p50 {run.p50_ms:.0f} ms, "
                    f"errors {run.errors}, differ {run.differ_serial}/{run.differ_in_process}")
        return runs, server_rss_mb(server)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64], help="concurrent clients, one run each")
    parser.add_argument("--rounds", type=int, default=3, help="serial requests per question; concurrent runs send 4 per client")
    parser.add_argument("--workers", type=int, nargs="+", default=[1], help="answering processes (serve --workers), one server each")
    parser.add_argument("--source", type=Path, default=ROOT, help="the checkout whose code the server runs (default: this one)")
    parser.add_argument("--label", help="what --source holds, when it is not a git checkout (e.g. 'main at 61845b5')")
    parser.add_argument("--out", type=Path, default=ROOT / "eval" / "BENCHMARK.md", help="file whose HTTP section is written")
    parser.add_argument("--json", type=Path, help="also write the figures here (a later run's --compare)")
    parser.add_argument("--compare", type=Path, help="figures of an earlier run (--json), shown as 'before'")
    args = parser.parse_args()
    source = args.source.resolve()
    corpus, index = ROOT / "corpus", Path(tempfile.mkdtemp(prefix="bench-http-")) / "index"
    load_start, cpu_start = load_average(), time.process_time()
    log(f"indexing {corpus} into {index}")
    build_index(source, corpus, index)
    log("ask() in process")
    local, one_thread = in_process_ask(source, corpus, index, args.rounds), in_process_ask(source, corpus, index, args.rounds, 1)
    runs: list[Run] = []
    rss: dict[int, float] = {}
    for workers in args.workers:
        measured, rss[workers] = drive_server(args, source, corpus, index, workers, local["answers"])
        runs += measured
    figures = {
        "args": " ".join(sys.argv[1:]), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "commit": args.label or git_commit(source),
        "cores": os.cpu_count(), "machine": machine(), "load_start": load_start, "load_end": load_average(),
        "client_cpu_s": time.process_time() - cpu_start, "rss_mb": rss, "ask_ms": local["ms"], "ask_cpu_ms": local["cpu_ms"],
        "ask_p50_ms": percentile(local["ms"], 50), "ask_p95_ms": percentile(local["ms"], 95),
        "ask_one_thread": {"p50_ms": percentile(one_thread["ms"], 50), "cpu_ms": one_thread["cpu_ms"]}, "runs": [asdict(r) for r in runs],
    }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1), encoding="utf-8")
    text = section(figures, json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else None)
    write_section(args.out, text, START_MARK, END_MARK)
    print(text)
    return 1 if any(r.errors or r.differ_serial or r.differ_in_process for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
