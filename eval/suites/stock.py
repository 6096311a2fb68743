"""The stock LangChain RAG pipeline the benchmark compares against.

RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200) → HuggingFaceEmbeddings (langchain-huggingface,
the packaged all-MiniLM-L6-v2 folder, library defaults) → FAISS → similarity_search(k=4).

`StockFAISS` reproduces langchain_community's FAISS vector store (deprecated package, not a product dependency) with
the same semantics: `from_documents` embeds with `embed_documents`, adds float32 vectors to a `faiss.IndexFlatL2`
(EUCLIDEAN_DISTANCE, normalize_L2=False, the defaults), keeps documents in a dict keyed by uuid4 ids with a
row → id map, and `similarity_search` embeds the query with `embed_query` and returns the k nearest documents.
Only persistence differs: LangChain's `save_local` pickles the docstore, which we never load, so it is JSON here.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import faiss
import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
K = 4


class StockFAISS:
    """langchain_community.vectorstores.FAISS semantics: IndexFlatL2 + docstore + row → id map."""

    def __init__(self, embedding: Embeddings, index: faiss.Index, docstore: dict[str, Document], row_ids: dict[int, str]) -> None:
        self.embedding = embedding
        self.index = index
        self.docstore = docstore
        self.row_ids = row_ids

    @classmethod
    def from_documents(cls, documents: list[Document], embedding: Embeddings) -> StockFAISS:
        texts = [d.page_content for d in documents]
        vectors = np.array(embedding.embed_documents(texts), dtype=np.float32)
        index = faiss.IndexFlatL2(vectors.shape[1])
        index.add(vectors)
        ids = [str(uuid.uuid4()) for _ in texts]
        docstore = {i: Document(id=i, page_content=d.page_content, metadata=d.metadata) for i, d in zip(ids, documents, strict=True)}
        return cls(embedding, index, docstore, dict(enumerate(ids)))

    def similarity_search(self, query: str, k: int = K) -> list[Document]:
        vector = np.array([self.embedding.embed_query(query)], dtype=np.float32)
        _, rows = self.index.search(vector, k)
        return [self.docstore[self.row_ids[int(r)]] for r in rows[0] if r != -1]

    def save_local(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self.index, str(folder / "index.faiss"))
        docs = [{"id": i, "page_content": d.page_content, "metadata": d.metadata} for i, d in self.docstore.items()]
        (folder / "index.json").write_text(json.dumps({"docstore": docs, "row_ids": self.row_ids}))

    @classmethod
    def load_local(cls, folder: Path, embedding: Embeddings) -> StockFAISS:
        data = json.loads((folder / "index.json").read_text())
        docstore = {d["id"]: Document(id=d["id"], page_content=d["page_content"], metadata=d["metadata"]) for d in data["docstore"]}
        row_ids = {int(r): i for r, i in data["row_ids"].items()}
        return cls(embedding, faiss.read_index(str(folder / "index.faiss")), docstore, row_ids)


def stock_embeddings(model_dir: Path) -> Embeddings:
    """HuggingFaceEmbeddings on the packaged model folder, library defaults otherwise (batch 32, no normalising)."""
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(model_name=str(model_dir), model_kwargs={"device": "cpu", "local_files_only": True})


def stock_split(passages: dict[str, str]) -> list[Document]:
    """The stock splitter over every passage; each chunk carries its passage id."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    ids = list(passages)
    return splitter.create_documents([passages[i] for i in ids], metadatas=[{"doc_id": i} for i in ids])
