"""Index: Documents in, a searchable index version out.

Takes files (through documents/) and an `Embedder`; gives an index folder of atomic versions (FAISS vectors, BM25
postings, sentence vectors, a manifest) and, loaded, an `Index` whose `store` scores every chunk by meaning and by
keyword (locally or on Qdrant). Ingest runs in this process or on Ray.
"""

from .build import IngestReport, build_index, document_listing, index_status, remove_documents
from .embed import Embedder, HashingEmbedder, SentenceTransformerEmbedder, default_embedder
from .lexicon import Lexicon
from .load import Index, load_index
from .prepare import Progress

__all__ = [
    "Embedder",
    "HashingEmbedder",
    "Index",
    "IngestReport",
    "Lexicon",
    "Progress",
    "SentenceTransformerEmbedder",
    "build_index",
    "default_embedder",
    "document_listing",
    "index_status",
    "load_index",
    "remove_documents",
]
