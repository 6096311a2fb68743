"""The public facade: Assistant.load / build / ask / search / conversation, and a Runnable answer chain."""

from __future__ import annotations

import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import ValidationError

from .answer.compose import CitationRegistry, Composer
from .answer.retrieve import HybridRetriever, Mode, Searcher
from .answer.roles import shipped_roles
from .answer.scorer import EvidenceModel, shipped_scorer
from .answer.verdict import shipped_verdict
from .answer.write import StreamUpdate, Writer, make_writer
from .chat.audit import AuditLog
from .chat.conversation import Conversation
from .documents.formats.markdown import plain_text
from .documents.scope import Sources, Where, scope_of
from .errors import AssistantError, IndexMissing, QuestionError
from .index.build import IngestReport, build_index, remove_documents
from .index.embed import Embedder, default_embedder
from .index.load import Index, current_version, load_index
from .index.prepare import Progress
from .index.scope import Scoped
from .schema import AbsenceAudit, Answer, Hit, Scope, ScopeReport, Source
from .settings import RetrieveSettings, Settings

_LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pipeline:
    """One index version with the searcher and composer built on it: each call takes one and uses only it."""

    index: Index
    searcher: Searcher
    composer: Composer


class Assistant:
    """Cited answers over one index. Thread-safe for concurrent ask()/search(); an ingest switches versions between
    calls, never inside one."""

    def __init__(
        self, index: Index, embedder: Embedder, settings: Settings, writer: Writer | None = None, scorer: EvidenceModel | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.writer = writer  # None: extractive answers
        self.scorer = scorer or shipped_scorer()
        self.audit = AuditLog(settings.audit_path()) if settings.audit.enabled else None
        self.last_report: IngestReport | None = None
        self._switching = threading.Lock()  # one version switch at a time (an ingest here, or one seen on disk)
        self._install(index)

    def _install(self, index: Index) -> None:
        """Switch to a new index version: one reference swap, so a call that took the old pipeline finishes on it."""
        searcher = Searcher(index, self.embedder, self.settings.retrieve)
        composer = Composer(index, self.settings.compose, self.settings.retrieve.min_similarity, self.scorer, self.settings.verdict, searcher.scoper.source)
        self._pipeline = Pipeline(index, searcher, composer)

    def close(self) -> None:
        """Write every queued audit row and stop the log's writer thread: call it (or use the assistant as a context
        manager) before deleting an index folder that holds the audit log, or the writer may still be creating its
        files there."""
        if self.audit is not None:
            self.audit.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check_models(self) -> None:
        """A missing, damaged or stale shipped model (evidence scorer, sentence roles, verdict) fails here, at load, with
        the command that rebuilds it, not at the first question."""
        for model in (self.scorer, shipped_roles(), shipped_verdict()):
            model.meta  # noqa: B018

    def refresh(self) -> bool:
        """Switch to the version the index folder's CURRENT names, if another process (a CLI ingest, another server,
        a Ray job) wrote a new one; True if it switched. Answers in progress finish on the version they took."""
        with self._switching:
            if current_version(self.settings.index_dir).name == self._pipeline.index.folder.name:
                return False
            self._install(load_index(self.settings.index_dir, self.embedder, self.settings))
            return True

    def follow(self, every: float) -> threading.Event:
        """Check for a new version every `every` seconds in a background thread (refresh) until the returned event is
        set. A version that cannot be loaded (half pruned, damaged) is logged and the current one keeps answering."""
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(every):
                try:
                    if self.refresh():
                        _LOG.warning("Now answering from index version %s.", self.index.folder.name)
                except AssistantError as exc:
                    _LOG.warning("Index version not switched: %s", exc)

        threading.Thread(target=watch, name="index-follower", daemon=True).start()
        return stop

    @property
    def index(self) -> Index:
        """The live index version (a call in progress keeps the one it started with)."""
        return self._pipeline.index

    @property
    def searcher(self) -> Searcher:
        return self._pipeline.searcher

    @property
    def composer(self) -> Composer:
        return self._pipeline.composer

    # ------------------------------------------------------------ construction

    @classmethod
    def load(
        cls, settings: Settings | None = None, *, embedder: Embedder | None = None, refresh: bool = True
    ) -> Assistant:
        """Open the index in settings.index_dir, building or refreshing it from settings.corpus_dir first."""
        settings = settings or Settings()
        writer = make_writer(settings.llm, os.environ)  # before the slow part: a bad backend fails fast
        embedder = embedder or default_embedder(settings.embed)
        report = None
        if refresh:
            report = build_index([settings.corpus_dir], settings, embedder)
            if report.errors and report.version is None:
                try:
                    load_index(settings.index_dir, embedder, settings)
                except IndexMissing as exc:
                    raise AssistantError("Could not build an index: " + " ".join(report.errors)) from exc
        assistant = cls(load_index(settings.index_dir, embedder, settings), embedder, settings, writer)
        assistant.check_models()
        assistant.last_report = report
        return assistant

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
        if report.version is None and report.errors:
            raise AssistantError("Could not build an index: " + " ".join(report.errors))
        assistant = cls(load_index(settings.index_dir, embedder, settings), embedder, settings, writer)
        assistant.check_models()
        assistant.last_report = report
        return assistant

    def ingest(self, paths: list[Path], *, sync: bool = False, rebuild: bool = False, progress: Progress | None = None) -> IngestReport:
        """Add or update documents, then switch this assistant to the new index version."""
        report = build_index(paths, self.settings, self.embedder, sync=sync, rebuild=rebuild, progress=progress)
        if report.changed or rebuild:
            with self._switching:
                self._install(load_index(self.settings.index_dir, self.embedder, self.settings))
        return report

    def remove(self, doc_ids: list[str]) -> IngestReport:
        """Remove documents (index_dir gets a new version; their files leave the corpus folder), then switch to it."""
        report = remove_documents(doc_ids, self.settings, self.embedder)
        with self._switching:
            self._install(load_index(self.settings.index_dir, self.embedder, self.settings))
        return report

    # ------------------------------------------------------------ questions

    def search(
        self, query: str, k: int = 10, *, mode: Mode | None = None, aliases: bool | None = None, sources: Sources = None,
        where: Where = None,
    ) -> list[Hit]:
        """Ranked chunks for a query (hybrid by default); `sources` (document ids) and `where` (a filter on the
        evidence, documents/scope.py) limit it to those documents' chunks."""
        query, _ = self.clean_question(query)
        options = self._options(k, mode)
        searcher = self._pipeline.searcher
        scoped = searcher.resolve(scope_of(sources, where))
        return searcher.search(query, options.k, mode=options.mode, aliases=aliases, with_aspects=False, scope=scoped).hits

    def ask(
        self,
        question: str,
        *,
        sources: Sources = None,
        where: Where = None,
        k: int | None = None,
        registry: CitationRegistry | None = None,
        resolved: str | None = None,
        writer: Writer | None = None,
    ) -> Answer:
        """A cited answer: extractive, or LLM-written and verified when settings.llm (or `writer`) names a model.

        `sources` (document ids) and `where` (a filter on the evidence: "peer_reviewed and level<=4", or a Scope)
        limit it to those documents: it opens with a line saying so (Answer.search_report.scope). `resolved` lets a
        conversation search a resolved question.
        """
        pipeline = self._pipeline  # one index version for the whole answer
        extractive = self._extractive(pipeline, question, k, registry, resolved, scope_of(sources, where))
        chosen = writer or self.writer
        answer = _state_scope(chosen.answer(extractive, pipeline.index) if chosen else extractive)
        self._log(answer, chosen, pipeline)
        return answer

    def stream_answer(
        self,
        question: str,
        *,
        sources: Sources = None,
        where: Where = None,
        k: int | None = None,
        registry: CitationRegistry | None = None,
        resolved: str | None = None,
        writer: Writer | None = None,
    ) -> Iterator[StreamUpdate]:
        """Like ask(), for a UI: the LLM's draft as it grows, then one last update whose .answer is verified."""
        pipeline = self._pipeline
        extractive = self._extractive(pipeline, question, k, registry, resolved, scope_of(sources, where))
        chosen = writer or self.writer
        if chosen is None:
            self._log(_state_scope(extractive), None, pipeline)
            yield StreamUpdate(extractive.text, extractive)
            return
        for update in chosen.stream_answer(extractive, pipeline.index):
            if update.answer is not None:
                final = _state_scope(update.answer)
                update = StreamUpdate(final.text, final)
                self._log(final, chosen, pipeline)
            yield update

    def probe(self, question: str, where: Where = None) -> Answer:
        """The extractive answer, for checking that a question can be answered (suggested follow-ups, within the
        answer's scope): no LLM writer, not in the audit log."""
        return self._extractive(self._pipeline, question, None, None, None, scope_of(None, where))

    def _log(self, answer: Answer, writer: Writer | None, pipeline: Pipeline) -> None:
        if self.audit is not None:
            self.audit.record(answer, pipeline.index.folder.name, writer.endpoint if writer else "extractive")

    def _extractive(
        self, pipeline: Pipeline, question: str, k: int | None, registry: CitationRegistry | None, resolved: str | None,
        scope: Scope | None,
    ) -> Answer:
        question, notices = self.clean_question(question)
        options = self._options(k, None)
        scoped = pipeline.searcher.resolve(scope)
        registry = registry or CitationRegistry()
        result = pipeline.searcher.search(resolved or question, options.k, scope=scoped)
        answer = pipeline.composer.compose(question, result, registry)
        if answer.abstained:
            answer = self._audit_absence(pipeline, question, resolved or question, answer, registry, scoped)
        answer.notices.extend(notices)
        answer.metadata.index_version = pipeline.index.folder.name
        if scoped is not None:
            answer.search_report = replace(answer.search_report, scope=scoped.report)
        return answer

    def _audit_absence(
        self, pipeline: Pipeline, question: str, query: str, answer: Answer, registry: CitationRegistry, scoped: Scoped | None
    ) -> Answer:
        """Before saying "not covered", search every passage of every document (of the scope); answer if that finds
        evidence."""
        audit = pipeline.searcher.audit(query, scope=scoped)
        audited = pipeline.composer.compose(question, audit, registry)
        outcome = "evidence found by the exhaustive search" if not audited.abstained else "no evidence in any passage"
        audited.search_report = replace(
            audited.search_report,
            absence_audit=AbsenceAudit(
                passages_checked=audit.candidates_checked,
                documents_checked=scoped.documents if scoped else len(pipeline.index.documents),
                outcome=outcome,
                first_pass=answer.search_report.abstain_reason,
            ),
        )
        return audited

    def conversation(self, *, sources: Sources = None, where: Where = None) -> Conversation:
        """A multi-turn conversation with stable citation numbers, limited to a scope (sources, where) if given."""
        return Conversation(self, self._checked(scope_of(sources, where)))

    def retriever(self, k: int = 8, *, sources: Sources = None, where: Where = None) -> HybridRetriever:
        """This index as a LangChain retriever (limited to a scope, if given)."""
        return HybridRetriever(searcher=self.searcher, k=k, scope=self._checked(scope_of(sources, where)))

    def as_runnable(self, *, sources: Sources = None, where: Where = None) -> Runnable[str, Answer]:
        """The answer chain as a LangChain Runnable: question → Answer (limited to a scope, if given)."""
        scope = self._checked(scope_of(sources, where))
        return RunnableLambda(lambda question: self.ask(question, where=scope), name="cited_answer")

    def scope(self, sources: Sources = None, where: Where = None) -> ScopeReport | None:
        """What a scope covers on the live version: its documents and the line an answer within it opens with (None:
        the whole library). ScopeError for one that names or matches nothing."""
        scoped = self._pipeline.searcher.resolve(scope_of(sources, where))
        return scoped.report if scoped else None

    def library(self) -> list[Source]:
        """Every indexed document as a source (its evidence profile and grade), by title: what a scope chooses from."""
        pipeline = self._pipeline
        return sorted((pipeline.searcher.scoper.source(d) for d in pipeline.index.documents), key=lambda s: s.title.lower())

    def _checked(self, scope: Scope | None) -> Scope | None:
        """A scope that resolves on the live version (ScopeError now, not at the first question)."""
        self._pipeline.searcher.resolve(scope)
        return scope

    def _options(self, k: object, mode: object) -> RetrieveSettings:
        """The retrieval settings with this call's k and mode, refused with a reason if invalid (not a TypeError later)."""
        changes = {key: value for key, value in (("k", k), ("mode", mode)) if value is not None}
        try:
            return RetrieveSettings.model_validate({**self.settings.retrieve.model_dump(), **changes})
        except ValidationError as exc:
            reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise QuestionError(f"Invalid search option ({reasons}).") from exc

    def clean_question(self, question: object) -> tuple[str, list[str]]:
        """Normalise a question to plain words; refuse empty ones; trim very long ones with a notice.

        Terminal colour codes and invisible format characters are dropped, other control characters become
        spaces, and markdown/HTML markup is reduced to the words it shows.
        """
        if not isinstance(question, str):
            raise QuestionError(f"A question must be text, not {type(question).__name__}.")
        text = _ANSI_ESCAPE.sub("", unicodedata.normalize("NFKC", question))
        text = "".join(_visible(ch) for ch in text)
        text = plain_text(text)
        if not re.search(r"\w", text):
            raise QuestionError("The question is empty. Type a question, e.g. 'Can upadacitinib help dermatomyositis?'")
        notices = []
        limit = self.settings.max_question_chars
        if len(text) > limit:
            text = text[:limit].rsplit(" ", 1)[0]
            notices.append(f"The question was longer than {limit} characters and was trimmed.")
        return text, notices


_ANSI_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]")


def _visible(ch: str) -> str:
    """Printable characters stay; format characters (zero-width, bidi overrides) and surrogates go; controls become spaces."""
    if ch.isprintable():
        return ch
    return "" if unicodedata.category(ch) in ("Cf", "Cs") else " "


def _state_scope(answer: Answer) -> Answer:
    """An answer limited to a scope opens with the line saying what it searched (after any LLM writer, which writes
    its own text)."""
    if answer.search_report.scope is not None:
        answer.text = f"{answer.search_report.scope.line}\n\n{answer.text}"
    return answer


def ask(question: str, settings: Settings | None = None, *, sources: Sources = None, where: Where = None) -> Answer:
    """One-shot convenience: load (building if needed) the default assistant and ask (within a scope, if given)."""
    return _default(settings).ask(question, sources=sources, where=where)


_DEFAULT: dict[str, Assistant] = {}
_DEFAULT_LOCK = threading.Lock()


def _default(settings: Settings | None) -> Assistant:
    key = (settings or Settings()).model_dump_json()
    with _DEFAULT_LOCK:
        if key not in _DEFAULT:
            _DEFAULT[key] = Assistant.load(settings)
        return _DEFAULT[key]
