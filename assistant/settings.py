"""One typed Settings object, created at the edge and passed down explicitly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChunkSettings(_Section):
    max_tokens: int = Field(
        default=128,
        ge=32,
        le=250,
        description="Most word pieces in one chunk's embedded text (the model reads 256 at most).",
    )


class EmbedSettings(_Section):
    model_dir: Path | None = Field(
        default=None,
        description="Folder of a sentence-transformers model; None uses the packaged all-MiniLM-L6-v2.",
    )
    backend: Literal["onnx", "torch"] = Field(
        default="onnx",
        description=(
            "'onnx': ONNX Runtime on an export of the same weights, made once into cache_dir (same vectors within 1e-6, "
            "faster ingest, several times faster queries, no torch import at query time); 'torch': sentence-transformers."
        ),
    )
    quantize: bool = Field(
        default=False,
        description="onnx only: int8 dynamic quantisation of the weight matrices (faster, lower recall: eval/BENCHMARK.md).",
    )
    cache_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cache" / "medevidence-assistant",
        description="Where the ONNX export of the model is kept (exported on first use, never downloaded).",
    )
    batch_size: int = Field(
        default=16, ge=1, description="Texts embedded per forward pass, longest first (16 beat 32/64/128: eval/LEVERS.md)."
    )
    bulk_bfloat16: bool = Field(
        default=True,
        description=(
            "onnx only: calls of at least bulk_texts texts (ingest) run on torch with bfloat16 matrix products when "
            "the CPU has them natively (AVX512-BF16, AMX): the same vectors within cosine 0.9999 and about 1.2x the "
            "word pieces/s (eval/BENCHMARK.md). Questions stay on ONNX Runtime."
        ),
    )
    bulk_texts: int = Field(default=256, ge=1, description="Texts in one embedding call from which bulk_bfloat16 applies.")
    threads: int = Field(default=2, ge=1, description="Intra-op threads for torch or ONNX Runtime (this machine has 2 cores).")


class RetrieveSettings(_Section):
    mode: Literal["hybrid", "dense", "bm25"] = Field(
        default="hybrid", description="Which retrievers feed the fused ranking."
    )
    aliases: bool = Field(default=True, description="Expand queries with aliases mined from the corpus.")
    k: int = Field(default=14, ge=1, le=100, description="Chunks handed to the composer.")
    candidates: int = Field(default=50, ge=1, description="Chunks each retriever contributes to fusion.")
    rrf_k: int = Field(default=60, ge=1, description="Reciprocal rank fusion constant (Cormack et al. 2009).")
    sentence_weight: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description=(
            "Share of the dense vote given to ranking chunks by their best sentence (the rest: whole-chunk vectors). "
            "0.5 measured: gold fact recall 0.810 -> 0.833, chunk MRR 0.562 -> 0.590; PubMedQA and MedQuAD unchanged."
        ),
    )
    per_document: int = Field(
        default=5,
        ge=0,
        description="Chunks reserved for every document that has relevant evidence (source diversity).",
    )
    audit_documents: int = Field(
        default=25,
        ge=1,
        description=(
            "The absence audit scores every passage of every document, then composes over the passages of this many "
            "best-scoring documents (all of them in a corpus this small or smaller)."
        ),
    )
    min_similarity: float = Field(
        default=0.25,
        ge=-1,
        le=1,
        description="Cosine similarity a chunk needs to count as relevant (diversity and abstention).",
    )


class ComposeSettings(_Section):
    min_sentence_score: float = Field(
        default=0.30, description="Relevance a sentence needs to be quoted in an answer."
    )
    per_source: int = Field(default=6, ge=1, description="Most sentences quoted from one document.")
    bottom_line: int = Field(default=3, ge=1, description="Sentences in the bottom line.")
    max_sentences: int = Field(default=16, ge=1, description="Most sentences quoted in one answer.")


class LLMSettings(_Section):
    """The optional answer writer: an LLM rewrites the extractive answer's passages, our verifier checks it."""

    backend: str = Field(
        default="extractive", description="'extractive' (no LLM), 'openai' (any OpenAI-compatible server) or 'ollama'."
    )
    base_url: str | None = Field(
        default=None, description="Endpoint, e.g. http://127.0.0.1:8080/v1 (llama.cpp, vLLM) or http://127.0.0.1:11434 (Ollama)."
    )
    model: str | None = Field(default=None, description="Model name the endpoint serves.")
    api_key_env: str = Field(
        default="OPENAI_API_KEY", description="Name of the environment variable holding the API key (read at the edge, never logged)."
    )
    timeout_s: float = Field(default=120.0, gt=0, description="Seconds to wait for the endpoint to connect or send the next piece of the answer.")
    max_retries: int = Field(default=2, ge=0, le=10, description="Further attempts after a failed call, with backoff.")
    backoff_s: float = Field(default=1.0, ge=0, description="First wait between attempts; doubles each retry.")
    temperature: float = Field(default=0.0, ge=0, le=2, description="Sampling temperature (0 = most literal).")
    max_tokens: int = Field(default=400, ge=16, description="Most tokens the model may write.")
    context_chars: int = Field(
        default=160, ge=0, description="Characters of the surrounding chunk shown beside each quoted passage."
    )
    min_kept_fraction: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Share of the LLM's sentences that must pass verification, else the extractive answer is shown.",
    )


class Settings(_Section):
    """Everything the assistant can be told; unknown keys are rejected."""

    corpus_dir: Path = Field(default=PROJECT_ROOT / "corpus", description="Folder of source documents.")
    index_dir: Path = Field(default=PROJECT_ROOT / ".index", description="Folder holding index versions.")
    max_file_mb: float = Field(default=50.0, gt=0, description="Largest document accepted, in megabytes.")
    max_question_chars: int = Field(default=2000, ge=10, description="Longer questions are trimmed.")
    chunk: ChunkSettings = Field(default_factory=ChunkSettings)
    embed: EmbedSettings = Field(default_factory=EmbedSettings)
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings)
    compose: ComposeSettings = Field(default_factory=ComposeSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with top-level fields replaced (validated)."""
        return Settings.model_validate({**self.model_dump(), **changes})

    def chunk_fingerprint(self) -> str:
        """Hash of the settings that change how documents are chunked."""
        blob = json.dumps(self.chunk.model_dump(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
