"""Answer: a question and an Index in, a cited Answer out.

understand (the question in the corpus' words) → retrieve (passages) → sentences (each candidate sentence: the
scorer's evidence, its role from roles/apparatus) → compose (which documents and sentences answer) with synthesis
(the sources weighed: grades, stance and verdict, claims of missing evidence checked, disagreement) → write/verify
(an optional LLM draft, checked against its quotes and the synthesis) → render (markdown and terminal output).
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
