"""Ingest on Ray Data: chunk documents in tasks, embed distinct texts on an actor pool (one model per actor; one GPU
per actor with embed.device='cuda'), stream the vectors back into a Parquet checkpoint. The driver then writes the
index version exactly as the local path does (assistant/index/build.py). The per-batch work is assistant/index/prepare.py's:
the same chunker and the same embedder as a single-process ingest.

The checkpoint (index_dir/checkpoint/<model>/part-*.parquet: text hash, vector) outlives a failed run, so running the
same ingest again embeds only what is missing; a successful ingest deletes it. Batch size and actor count are set
explicitly (Ray Data's defaults can run one machine out of memory); actors are restarted and their batches retried
`restarts` times before the ingest fails with the previous index still live.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import AssistantError, IngestError
from ..schema import Chunk, Document, document_from_json, document_to_json
from ..settings import EmbedSettings, IngestSettings, Settings
from .embed import Embedder, default_embedder, resolve_device
from .prepare import Prepared, Progress, prepare_document


class RayEngine:
    """The ingest engine of settings.ingest.engine='ray' (see the module docstring)."""

    def __init__(self, settings: Settings, embedder: Embedder, progress: Progress | None = None) -> None:
        self.settings = settings
        self.dimension = embedder.dimension
        self.progress = progress
        self.checkpoint = settings.index_dir / "checkpoint" / embedder.fingerprint()[:16]

    def prepare(self, documents: list[Document]) -> dict[str, Prepared]:
        ray = start_ray(self.settings.ingest)
        items = [{"document": json.dumps(document_to_json(d), ensure_ascii=False)} for d in documents]
        dataset = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), 4 * self.settings.ingest.workers)))
        chunked = dataset.map_batches(
            _chunk_batch, fn_kwargs={"settings": self.settings.model_dump_json()}, batch_size=16, batch_format="numpy",
            num_cpus=1,
        )
        rows = _run(lambda: chunked.take_all(), self.checkpoint)
        by_id = {d.doc_id: d for d in documents}
        return {row["doc_id"]: _prepared(by_id[row["doc_id"]], json.loads(row["prepared"])) for row in rows}

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of `texts`, in order: those already in the checkpoint are read, the rest embedded on the actor pool."""
        keys = [_key(t) for t in texts]
        have = read_checkpoint(self.checkpoint)
        todo = [{"key": k, "text": t} for k, t in dict(zip(keys, texts, strict=True)).items() if k not in have]
        if todo:
            have.update(self._embed_on_ray(todo, len(texts) - len(todo), len(texts)))
        return np.stack([have[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, self.dimension), np.float32)

    def done(self) -> None:
        """The version is written: the checkpoint is no longer needed."""
        shutil.rmtree(self.checkpoint, ignore_errors=True)

    def _embed_on_ray(self, todo: list[dict[str, str]], done: int, total: int) -> dict[str, np.ndarray]:
        ray = start_ray(self.settings.ingest)
        ingest, embed = self.settings.ingest, self.settings.embed
        gpus = 1 if resolve_device(embed.device) == "cuda" else 0
        blocks = max(ingest.workers, -(-len(todo) // ingest.batch_size))  # every actor gets work
        dataset = ray.data.from_items(todo, override_num_blocks=blocks)
        with warnings.catch_warnings():
            # Ray 2.60 deprecates passing max_restarts / max_task_retries through map_batches' keyword arguments but
            # names no replacement; without them an actor pool restarts a dying actor for ever (-1)
            warnings.simplefilter("ignore", DeprecationWarning)
            vectors = dataset.map_batches(
                _Embed,
                fn_constructor_kwargs={"settings": embed.model_copy(update={"threads": ingest.cpus_per_worker}).model_dump_json()},
                batch_size=ingest.batch_size,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=ingest.workers),
                num_cpus=ingest.cpus_per_worker,
                num_gpus=gpus,
                max_restarts=ingest.restarts,
                max_task_retries=ingest.restarts,
            )
        self.checkpoint.mkdir(parents=True, exist_ok=True)
        found: dict[str, np.ndarray] = {}

        def stream() -> None:
            for batch in vectors.iter_batches(batch_size=None, batch_format="numpy"):
                write_part(self.checkpoint, batch["key"], batch["vector"])
                found.update(zip(batch["key"].tolist(), np.asarray(batch["vector"], np.float32), strict=True))
                if self.progress:
                    self.progress("embedding on Ray", done + len(found), total)

        _run(stream, self.checkpoint)
        return found


def start_ray(settings: IngestSettings):  # type: ignore[no-untyped-def]
    """Connect to settings.ray_address or $RAY_ADDRESS, else start a local Ray with `workers` x `cpus_per_worker` CPUs."""
    try:
        import ray
    except ImportError as exc:
        raise IngestError("--engine ray needs Ray Data: pip install 'medevidence-assistant[scale]'.") from exc

    if ray.is_initialized():
        return ray
    import logging

    logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-second progress lines in the ingest's output
    ray.data.DataContext.get_current().enable_progress_bars = False
    address = settings.ray_address or os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            cpus = max(settings.workers * settings.cpus_per_worker, 1)
            ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False)
    except Exception as exc:  # noqa: BLE001 - any failure to start or reach Ray becomes one clear error
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise IngestError(
            f"Could not start or reach {where} ({type(exc).__name__}: {exc}). Check `ray status` on the head node and "
            "the address (--ray-address or $RAY_ADDRESS), or ingest without --engine ray."
        ) from exc
    return ray


def _run(step: Any, checkpoint: Path) -> Any:
    """Run a Ray step; a dead worker or a failed batch becomes an IngestError that says what was kept."""
    try:
        return step()
    except AssistantError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ray wraps worker failures in many exception types
        kept = sum(1 for _ in checkpoint.glob("part-*.parquet")) if checkpoint.is_dir() else 0
        raise IngestError(
            f"A Ray worker failed during ingest ({type(exc).__name__}: {_first_line(exc)}). Nothing was switched: the "
            f"previous index still answers. Run the same command again: {kept} embedded batch(es) kept in {checkpoint} "
            "are not embedded again. If a worker keeps dying, give it more memory or lower --workers / ingest.batch_size."
        ) from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1][:300] if text else ""


@cache
def _embedder(settings_json: str) -> Embedder:
    """One embedder per worker process and settings (chunking needs its tokenizer only)."""
    return default_embedder(Settings.model_validate_json(settings_json).embed)


def _chunk_batch(batch: dict[str, np.ndarray], settings: str) -> dict[str, np.ndarray]:
    """Ray task: documents (JSON) → their chunks and the texts that get vectors (JSON), by prepare.prepare_document."""
    chunk_settings = Settings.model_validate_json(settings).chunk
    count = _embedder(settings).count_tokens
    ids, prepared = [], []
    for text in batch["document"].tolist():
        document = document_from_json(json.loads(text))
        done = prepare_document(document, chunk_settings, count)
        chunks = [[c.chunk_id, c.start, c.end, c.section, c.kind, [x for pair in c.sentences for x in pair], c.gloss] for c in done.chunks]
        ids.append(document.doc_id)
        prepared.append(json.dumps({"chunks": chunks, "chunk_texts": done.chunk_texts, "sentence_texts": done.sentence_texts}))
    return {"doc_id": np.array(ids, dtype=object), "prepared": np.array(prepared, dtype=object)}


def _prepared(document: Document, data: dict[str, Any]) -> Prepared:
    chunks = [
        Chunk(chunk_id, document.doc_id, start, end, section, kind, Chunk.pack(zip(flat[::2], flat[1::2], strict=True)), document.text, gloss)
        for chunk_id, start, end, section, kind, flat, gloss in data["chunks"]
    ]
    return Prepared(chunks, data["chunk_texts"], data["sentence_texts"])


class _Embed:
    """Ray actor: one embedding model, loaded once, embedding batch after batch."""

    def __init__(self, settings: str) -> None:
        self.embedder = default_embedder(EmbedSettings.model_validate_json(settings))

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        vectors = self.embedder.embed(batch["text"].tolist())
        return {"key": batch["key"], "vector": np.asarray(vectors, dtype=np.float32)}


def _key(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def write_part(folder: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    """One batch of the checkpoint, written whole (temporary name, then renamed)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    matrix = np.asarray(vectors, dtype=np.float32)
    column = pa.FixedSizeListArray.from_arrays(pa.array(matrix.reshape(-1)), matrix.shape[1])
    table = pa.table({"key": pa.array(keys.tolist(), pa.string()), "vector": column})
    name = f"part-{time.time_ns()}-{os.getpid()}"
    pq.write_table(table, folder / f".{name}.tmp")
    os.replace(folder / f".{name}.tmp", folder / f"{name}.parquet")


def read_checkpoint(folder: Path) -> dict[str, np.ndarray]:
    """Vectors already embedded by an earlier run, by text hash (an unreadable part is ignored: re-embedded)."""
    import pyarrow.parquet as pq

    found: dict[str, np.ndarray] = {}
    for part in sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []:
        try:
            table = pq.read_table(part)
        except Exception:  # noqa: BLE001 - a damaged part only costs re-embedding its texts
            continue
        keys = table.column("key").to_pylist()
        width = table.schema.field("vector").type.list_size
        matrix = table.column("vector").combine_chunks().flatten().to_numpy().reshape(-1, width)
        found.update(zip(keys, matrix.astype(np.float32), strict=True))
    return found
