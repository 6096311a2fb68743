"""Cited answers over medical evidence: ingest → chunk → index → retrieve → compose → conversation.

    from assistant import Assistant, ask
    a = Assistant.load()
    a.ask("Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?")
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Public names → the module that defines them. Imported on first use, so `assistant --help` stays fast.
_EXPORTS = {
    "Assistant": "api", "ask": "api",
    "CitationRegistry": "compose",
    "Conversation": "conversation",
    "Embedder": "embed", "HashingEmbedder": "embed", "SentenceTransformerEmbedder": "embed",
    "AssistantError": "errors", "ConfigError": "errors", "DocumentError": "errors", "IndexError_": "errors",
    "IndexMismatch": "errors", "IndexMissing": "errors", "ModelError": "errors", "QuestionError": "errors",
    "UnsupportedFileType": "errors", "StoreError": "errors", "IngestError": "errors",
    "IngestReport": "index",
    "HybridRetriever": "retrieve",
    "Answer": "schema", "Chunk": "schema", "Citation": "schema", "Disagreement": "schema", "Document": "schema",
    "EvidenceProfile": "schema", "Hit": "schema", "Source": "schema",
    "Settings": "settings", "load_settings": "settings",
}

if TYPE_CHECKING:
    from .api import Assistant, ask
    from .compose import CitationRegistry
    from .conversation import Conversation
    from .embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder
    from .errors import (
        AssistantError, ConfigError, DocumentError, IndexError_, IndexMismatch, IndexMissing, IngestError, ModelError,
        QuestionError, StoreError, UnsupportedFileType,
    )
    from .index import IngestReport
    from .retrieve import HybridRetriever
    from .schema import Answer, Chunk, Citation, Disagreement, Document, EvidenceProfile, Hit, Source
    from .settings import Settings, load_settings


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)


__all__ = [
    "Answer",
    "Assistant",
    "AssistantError",
    "Chunk",
    "Citation",
    "CitationRegistry",
    "ConfigError",
    "Conversation",
    "Disagreement",
    "Document",
    "DocumentError",
    "Embedder",
    "EvidenceProfile",
    "HashingEmbedder",
    "Hit",
    "HybridRetriever",
    "IndexError_",
    "IndexMismatch",
    "IndexMissing",
    "IngestError",
    "IngestReport",
    "ModelError",
    "QuestionError",
    "SentenceTransformerEmbedder",
    "Settings",
    "Source",
    "StoreError",
    "UnsupportedFileType",
    "ask",
    "load_settings",
]
