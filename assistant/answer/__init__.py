"""Answer: a question and an Index in, a cited Answer out.

understand (the question in the corpus' words) → retrieve (passages) → scorer (each sentence's evidence) →
compose (the extractive answer, with stance and disagreement) → write/verify (an optional LLM draft, checked against
its quotes) → render (markdown and terminal output).
"""

from .compose import CitationRegistry, Composer
from .retrieve import HybridRetriever, Searcher, SearchResult
from .scorer import EvidenceModel, shipped_scorer
from .understand import Planner, QueryPlan
from .write import StreamUpdate, Writer, make_writer

__all__ = [
    "CitationRegistry",
    "Composer",
    "EvidenceModel",
    "HybridRetriever",
    "Planner",
    "QueryPlan",
    "SearchResult",
    "Searcher",
    "StreamUpdate",
    "Writer",
    "make_writer",
    "shipped_scorer",
]
