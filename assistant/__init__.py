"""Cited answers over medical evidence. The wings, each importing only the ones below it:
documents (files → Documents, Chunks) → index (→ a searchable version) → answer (question → cited Answer) →
chat (conversations, follow-ups, the audit log) → api (the facade: Assistant, ask) → serve (UI, HTTP) and cli;
all standing on schema, settings and errors.

    from assistant import Assistant, ask
    a = Assistant.load()
    a.ask("Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?")
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# Public names → the module that defines them. Imported on first use, so `assistant --help` stays fast.
_EXPORTS = {
    "Assistant": "api", "ask": "api",
    "CitationRegistry": "answer.compose",
    "Conversation": "chat.conversation",
    "Embedder": "index.embed", "HashingEmbedder": "index.embed", "SentenceTransformerEmbedder": "index.embed",
    "AssistantError": "errors", "ConfigError": "errors", "DocumentError": "errors", "IndexError_": "errors",
    "IndexMismatch": "errors", "IndexMissing": "errors", "ModelError": "errors", "QuestionError": "errors",
    "UnsupportedFileType": "errors", "StoreError": "errors", "IngestError": "errors",
    "IngestReport": "index.build",
    "HybridRetriever": "answer.retrieve",
    "Answer": "schema", "Chunk": "schema", "Citation": "schema", "Disagreement": "schema", "Document": "schema",
    "EvidenceProfile": "schema", "Hit": "schema", "Source": "schema",
    "Settings": "settings", "load_settings": "settings",
}

if TYPE_CHECKING:
    from .answer.compose import CitationRegistry
    from .answer.retrieve import HybridRetriever
    from .api import Assistant, ask
    from .chat.conversation import Conversation
    from .errors import (
        AssistantError,
        ConfigError,
        DocumentError,
        IndexError_,
        IndexMismatch,
        IndexMissing,
        IngestError,
        ModelError,
        QuestionError,
        StoreError,
        UnsupportedFileType,
    )
    from .index.build import IngestReport
    from .index.embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder
    from .schema import (
        Answer,
        Chunk,
        Citation,
        Disagreement,
        Document,
        EvidenceProfile,
        Hit,
        Source,
    )
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
