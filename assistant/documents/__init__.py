"""Documents: files in, typed Documents and their Chunks out.

Takes a path (md, txt, html, pdf, docx); gives a `Document` (plain text every citation slices, its blocks and
pages), its `Chunk`s with sentence offsets, its evidence profile, and the aliases mined from the corpus' text.
Stands on schema, settings and errors only.
"""

from .aliases import AliasTable, mine_aliases
from .chunk import CHUNKER_VERSION, chunk_document, split_sentences
from .ingest import LOADERS, discover, load_document
from .profile import profile_for

__all__ = [
    "CHUNKER_VERSION",
    "LOADERS",
    "AliasTable",
    "chunk_document",
    "discover",
    "load_document",
    "mine_aliases",
    "profile_for",
    "split_sentences",
]
