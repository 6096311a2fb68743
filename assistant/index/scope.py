"""A scope resolved against one index version: the documents it names or admits, the chunk rows a search may score
(index/store.py's `Within`), and the line an answer opens with. Unknown ids and scopes matching nothing are refused
here, with the valid ids or the fix, so a search never runs on an empty scope."""

from __future__ import annotations

import difflib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..documents.grade import source_of
from ..documents.scope import admits, checks, describe
from ..errors import ScopeError
from ..schema import Scope, ScopeReport, Source
from .load import Index
from .store import Within

IDS_LISTED = 20  # ids an error names before pointing at the full list (a message's length, not a tuned number)
TITLES_QUOTED = 3  # titles the scope line quotes; more are counted (layout of one line)
RESOLVED_KEPT = 16  # resolved scopes kept per version (a conversation asks one scope again and again); each holds a
# mask of one byte per chunk and 8 bytes per scoped chunk
LISTING = "`assistant docs list` or GET /v1/documents"


@dataclass(frozen=True, slots=True)
class Scoped:
    """A scope resolved on one index version: its chunks (`within`), the report an answer carries (its documents in
    index order, its line), and the stems of its documents' titles (what they mention besides their text)."""

    scope: Scope
    within: Within
    report: ScopeReport
    title_vocabulary: frozenset[str]

    @property
    def documents(self) -> int:
        return len(self.report.documents)

    @property
    def chunks(self) -> int:
        return len(self.within.rows)


class Scoper:
    """Resolves scopes on one index version; each document's evidence profile and grade is read once (`source`, which the
    composer reads too)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self._sources: dict[str, Source] = {}
        self._resolved: OrderedDict[Scope, Scoped] = OrderedDict()
        self._lock = threading.Lock()

    def source(self, doc_id: str) -> Source:
        """A document as a source: its evidence profile and grade (read on first use)."""
        if doc_id not in self._sources:
            self._sources[doc_id] = source_of(self.index.documents[doc_id])
        return self._sources[doc_id]

    def _passes(self, scope: Scope, doc_id: str) -> bool:
        source = self.source(doc_id)
        return admits(scope, source.profile, source.grade)

    def resolve(self, scope: Scope) -> Scoped:
        """The scope on this version; ScopeError for an unknown id, a filter no document passes, or no text to search."""
        with self._lock:
            if scope in self._resolved:
                self._resolved.move_to_end(scope)
                return self._resolved[scope]
        scoped = self._resolve(scope)
        with self._lock:
            self._resolved[scope] = scoped
            while len(self._resolved) > RESOLVED_KEPT:
                self._resolved.popitem(last=False)
        return scoped

    def _resolve(self, scope: Scope) -> Scoped:
        documents = self.index.documents
        unknown = [doc_id for doc_id in scope.sources if doc_id not in documents]
        if unknown:
            raise ScopeError(self._unknown(unknown))
        wanted = set(scope.sources)  # a tuple's `in` is a scan: 550 chosen of 5,500 documents took 50 ms
        named = [d for d in documents if d in wanted] if scope.sources else list(documents)
        chosen = [d for d in named if self._passes(scope, d)] if scope.filtered else named
        if not chosen:
            raise ScopeError(self._no_match(scope, named))
        within = self._within(chosen)
        if not len(within.rows):
            raise ScopeError(f"The {_count(len(chosen), 'document')} in this scope hold no text to search. Choose other documents.")
        titles = tuple(documents[d].title for d in chosen) if len(chosen) <= TITLES_QUOTED else ()
        report = ScopeReport(scope, tuple(chosen), scope_line(scope, len(chosen), len(named), len(documents), titles), titles)
        vocabulary = frozenset().union(*(self.index.title_stems[d] for d in chosen))
        return Scoped(scope, within, report, vocabulary)

    def _within(self, chosen: list[str]) -> Within:
        """The chunk rows of these documents (each document's chunks are consecutive rows of the index)."""
        index = self.index
        spans = sorted((index.chunk_rows(d) for d in chosen), key=lambda r: r.start)  # documents without chunks have none
        rows = np.concatenate([np.arange(r.start, r.stop) for r in spans]) if spans else np.zeros(0, np.int64)
        mask = np.zeros(len(index.chunks), dtype=bool)
        mask[rows] = True
        return Within(rows.astype(np.int64), mask, tuple(chosen))

    def _unknown(self, unknown: list[str]) -> str:
        ids = sorted(self.index.documents)
        guesses = [g for u in unknown if (g := _closest(u, ids))]
        hint = f" Did you mean {', '.join(map(repr, guesses))}?" if guesses else ""
        listed = ", ".join(ids[:IDS_LISTED]) + (f", … ({len(ids)} in all: {LISTING} lists them)" if len(ids) > IDS_LISTED else "")
        return f"No indexed document has the id {', '.join(map(repr, unknown))}.{hint} The library's ids: {listed or '(none)'}."

    def _no_match(self, scope: Scope, named: list[str]) -> str:
        """Why a filter matches nothing: how many of the documents pass each of its clauses alone."""
        sources = [self.source(d) for d in named]
        passing = [f"{sum(test(s.profile, s.grade) for s in sources)} {phrase}" for phrase, test in checks(scope)]
        among = f"the {_count(len(named), 'chosen document')}" if scope.sources else f"the {_count(len(named), 'indexed document')}"
        return (
            f"No document is {describe(scope)}: of {among}, {'; '.join(passing)}. Widen the filter (drop or relax a "
            f"clause), or choose other documents (GET /v1/documents lists each one's evidence)."
        )


def scope_line(scope: Scope, n: int, named: int, total: int, titles: tuple[str, ...]) -> str:
    """The templated line an answer opens with: what it was limited to, by name when it names a few documents."""
    quoted = "; ".join(f"“{t}”" for t in titles)
    filters = describe(scope)
    if scope.sources and not scope.filtered:
        what = f"the chosen source {quoted}" if n == 1 else f"the {n} chosen sources" + (f": {quoted}" if quoted else "")
    elif scope.sources:
        what = f"{n} of the {named} chosen sources, those that are {filters}" + (f": {quoted}" if quoted else "")
    else:
        what = f"sources that are {filters}: {n} of {total} documents" + (f", {quoted}" if quoted else "")
    return f"**Scope.** Searched only {what}."


def _closest(given: str, ids: list[str]) -> str | None:
    """The id a mistyped or shortened one most likely means: the one it starts or is part of, else the closest spelling."""
    lowered = given.lower()
    within = [i for i in ids if lowered and lowered in i.lower()]
    if len(within) == 1:
        return within[0]
    close = difflib.get_close_matches(given, ids, n=1, cutoff=0.6)
    return close[0] if close else None


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
