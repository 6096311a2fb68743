"""The assistant's exception tree. Every message says what to do next.

    AssistantError
    ├── ConfigError            bad settings or an unknown registry name
    ├── DocumentError          a file that cannot be ingested (per file; the rest still go in)
    │   └── UnsupportedFileType
    ├── IndexError_            the index is missing, corrupt or built differently
    │   ├── IndexMissing
    │   └── IndexMismatch      built with another model, chunker or format
    ├── StoreError             the vector store (a Qdrant server or folder) cannot be reached or used
    ├── IngestError            a distributed ingest (Ray) failed; the previous index stays live
    ├── QuestionError          a question that cannot be asked (empty, …)
    │   └── ScopeError         a scope naming unknown documents, an unreadable filter, or matching no document
    ├── NotFound               a document or conversation a request names is not there (the server answers 404)
    └── ModelError             the embedding model (or an LLM backend) failed to load or run
"""

from __future__ import annotations


class AssistantError(Exception):
    """Base of every error this package raises on purpose."""


class ConfigError(AssistantError):
    """Settings that cannot work, or a name that is not registered."""


class DocumentError(AssistantError):
    """One document could not be read; the message names the file and the fix."""

    def __init__(self, path: str, problem: str, fix: str) -> None:
        self.path = path
        self.problem = problem
        self.fix = fix
        super().__init__(f"{path}: {problem}. {fix}")


class UnsupportedFileType(DocumentError):
    """A file whose extension no loader handles."""


class IndexError_(AssistantError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The on-disk index cannot be used."""


class IndexMissing(IndexError_):
    """No index has been built in this folder yet."""


class IndexMismatch(IndexError_):
    """The index was built with another model, chunker or format version."""


class StoreError(AssistantError):
    """The vector store cannot be reached or used; the message names the setting to fix."""


class IngestError(AssistantError):
    """An ingest failed as a whole (a Ray worker died, the cluster is unreachable); nothing was switched."""


class QuestionError(AssistantError):
    """The question cannot be answered as asked (for example, it is empty)."""


class ScopeError(QuestionError):
    """A scope that cannot be searched: an unknown document id, a filter expression that cannot be read, or one that
    matches no document. The message names the valid ids or the fix; the server answers 400."""


class NotFound(AssistantError):
    """A request names a document or conversation this server does not hold; the message says where to look."""


class ModelError(AssistantError):
    """A model could not be loaded or run."""
