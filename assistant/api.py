"""The public facade: Assistant.load / build / ask / search / conversation, and a Runnable answer chain."""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from langchain_core.runnables import Runnable, RunnableLambda

from .compose import CitationRegistry, Composer
from .conversation import Conversation
from .embed import Embedder, default_embedder
from .errors import AssistantError, IndexMissing, QuestionError
from .index import Index, IngestReport, Progress, build_index, load_index
from .retrieve import HybridRetriever, Mode, Searcher
from .schema import Answer, Hit
from .settings import Settings
from .write import StreamUpdate, Writer, make_writer


class Assistant:
    """Cited answers over one index. Thread-safe for concurrent ask()/search()."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings, writer: Writer | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.writer = writer  # None: extractive answers
        self._swap_lock = threading.Lock()
        self.last_report: IngestReport | None = None
        self._install(index)

    def _install(self, index: Index) -> None:
        self.index = index
        self.searcher = Searcher(index, self.embedder, self.settings.retrieve)
        self.composer = Composer(index, self.embedder, self.settings.compose, self.settings.retrieve.min_similarity)

    # ------------------------------------------------------------ construction

    @classmethod
    def load(
        cls, settings: Settings | None = None, *, embedder: Embedder | None = None, refresh: bool = True
    ) -> Assistant:
        """Open the index in settings.index_dir, building or refreshing it from settings.corpus_dir first."""
        settings = settings or Settings()
        writer = make_writer(settings.llm, os.environ)  # before the slow part: a bad backend fails fast
        embedder = embedder or default_embedder(settings.embed)
        if refresh:
            report = build_index([settings.corpus_dir], settings, embedder)
            if report.errors and report.version is None:
                try:
                    load_index(settings.index_dir, embedder, settings)
                except IndexMissing as exc:
                    raise AssistantError("Could not build an index: " + " ".join(report.errors)) from exc
        return cls(load_index(settings.index_dir, embedder, settings), embedder, settings, writer)

    @classmethod
    def build(
        cls,
        corpus_dir: Path | str,
        index_dir: Path | str,
        settings: Settings | None = None,
        *,
        embedder: Embedder | None = None,
        progress: Progress | None = None,
    ) -> Assistant:
        """Index any folder of documents into index_dir and open it."""
        settings = (settings or Settings()).with_overrides(corpus_dir=Path(corpus_dir), index_dir=Path(index_dir))
        writer = make_writer(settings.llm, os.environ)
        embedder = embedder or default_embedder(settings.embed)
        report = build_index([settings.corpus_dir], settings, embedder, progress=progress)
        assistant = cls(load_index(settings.index_dir, embedder, settings), embedder, settings, writer)
        assistant.last_report = report
        return assistant

    def ingest(self, paths: list[Path], *, sync: bool = False, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Add or update documents, then switch this assistant to the new index version."""
        report = build_index(paths, self.settings, self.embedder, sync=sync, rebuild=rebuild, progress=progress)
        if report.changed or rebuild:
            with self._swap_lock:
                self._install(load_index(self.settings.index_dir, self.embedder, self.settings))
        return report

    # ------------------------------------------------------------ questions

    def search(self, query: str, k: int = 10, *, mode: Mode | None = None, aliases: bool | None = None) -> list[Hit]:
        """Ranked chunks for a query (hybrid by default)."""
        query, _ = self.clean_question(query)
        return self.searcher.search(query, k, mode=mode, aliases=aliases).hits

    def ask(
        self,
        question: str,
        *,
        k: int | None = None,
        registry: CitationRegistry | None = None,
        searched_for: str | None = None,
        writer: Writer | None = None,
    ) -> Answer:
        """A cited answer: extractive, or LLM-written and verified when settings.llm (or `writer`) names a model.

        `searched_for` lets a conversation search a resolved question.
        """
        extractive = self._extractive(question, k, registry, searched_for)
        chosen = writer or self.writer
        return chosen.answer(extractive, self.index) if chosen else extractive

    def stream_answer(
        self,
        question: str,
        *,
        k: int | None = None,
        registry: CitationRegistry | None = None,
        searched_for: str | None = None,
        writer: Writer | None = None,
    ) -> Iterator[StreamUpdate]:
        """Like ask(), for a UI: the LLM's draft as it grows, then one last update whose .answer is verified."""
        extractive = self._extractive(question, k, registry, searched_for)
        chosen = writer or self.writer
        if chosen is None:
            yield StreamUpdate(extractive.text, extractive)
            return
        yield from chosen.stream_answer(extractive, self.index)

    def _extractive(self, question: str, k: int | None, registry: CitationRegistry | None, searched_for: str | None) -> Answer:
        question, notices = self.clean_question(question)
        result = self.searcher.search(searched_for or question, k)
        answer = self.composer.compose(question, result, registry or CitationRegistry())
        answer.notices.extend(notices)
        return answer

    def conversation(self) -> Conversation:
        """A multi-turn conversation with stable citation numbers."""
        return Conversation(self)

    def retriever(self, k: int = 8) -> HybridRetriever:
        """This index as a LangChain retriever."""
        return HybridRetriever(searcher=self.searcher, k=k)

    def as_runnable(self) -> Runnable[str, Answer]:
        """The answer chain as a LangChain Runnable: question → Answer."""
        return RunnableLambda(lambda question: self.ask(question), name="cited_answer")

    def clean_question(self, question: object) -> tuple[str, list[str]]:
        """Normalise a question; refuse empty ones; trim very long ones with a notice."""
        if not isinstance(question, str):
            raise QuestionError(f"A question must be text, not {type(question).__name__}.")
        text = unicodedata.normalize("NFKC", question)
        text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
        text = re.sub(r"\s+", " ", text).strip()
        if not re.search(r"\w", text):
            raise QuestionError("The question is empty. Type a question, e.g. 'Can upadacitinib help dermatomyositis?'")
        notices = []
        limit = self.settings.max_question_chars
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0]
            notices.append(f"The question was longer than {limit} characters and was trimmed.")
        return text, notices


def ask(question: str, settings: Settings | None = None) -> Answer:
    """One-shot convenience: load (building if needed) the default assistant and ask."""
    return _default(settings).ask(question)


_DEFAULT: dict[str, Assistant] = {}
_DEFAULT_LOCK = threading.Lock()


def _default(settings: Settings | None) -> Assistant:
    key = (settings or Settings()).model_dump_json()
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = Assistant.load(settings)
        return _DEFAULT[key]
