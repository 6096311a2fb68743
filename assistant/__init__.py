"""Cited answers over medical evidence: ingest → chunk → index → retrieve → compose → conversation.

    from assistant import Assistant, ask
    a = Assistant.load()
    a.ask("Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?")
"""

from .api import Assistant, ask
from .compose import CitationRegistry
from .conversation import Conversation
from .embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder
from .errors import (
    AssistantError,
    ConfigError,
    DocumentError,
    IndexError_,
    IndexMismatch,
    IndexMissing,
    ModelError,
    QuestionError,
    UnsupportedFileType,
)
from .index import IngestReport
from .retrieve import HybridRetriever
from .schema import Answer, Chunk, Citation, Disagreement, Document, EvidenceProfile, Hit, Source
from .settings import Settings

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
    "IngestReport",
    "ModelError",
    "QuestionError",
    "SentenceTransformerEmbedder",
    "Settings",
    "Source",
    "UnsupportedFileType",
    "ask",
]
