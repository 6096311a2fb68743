"""Optional LLM answer writer: an LLM rewrites the extractive answer's numbered passages, verify.py checks it.

The extractive composer still selects and numbers the passages. The LLM sees those passages (each quote with a
little of its chunk around it) and writes short sentences ending in [n] markers. Every sentence is verified
against the quotes it cites; unsupported sentences are removed and listed in metadata.dropped_sentences.
When too little survives, or the endpoint fails, the extractive answer is returned with a notice saying why.

Backends (LangChain chat models, the optional extra `llm`): "openai" (any OpenAI-compatible server: vLLM,
llama.cpp, OpenAI) and "ollama"; "extractive" means no LLM.

Streaming, for the UI: `Assistant.stream_answer(question)` and `Conversation.stream_answer(question)` yield
StreamUpdate(text=<the draft so far>) while the model writes, then one last StreamUpdate(text, answer) whose
`answer` is the verified Answer (render that one: it may differ from the draft, sentences may be removed):

    for update in assistant.stream_answer(question):
        show(update.text)
    final = update.answer
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from ..errors import ConfigError, ModelError
from ..index.load import Index
from ..schema import Answer, AnswerMetadata, VerificationCounts
from ..settings import LLMSettings
from .compose import quoted
from .verify import Claim, Verification, opening_problem, verify_draft

EXTRACTIVE = "extractive"
DEFAULT_URLS = {"openai": "https://api.openai.com/v1", "ollama": "http://127.0.0.1:11434"}
_RETRYABLE_STATUS = {408, 409, 429}
_NOTE_MARKER = re.compile(r"\[(\d+)\]")  # the citations a disagreement note names

SYSTEM_PROMPT = """You answer questions about medical evidence using ONLY the numbered passages given.
Rules:
- Write 2 to 6 short sentences in plain English.
- End every sentence with the number of the passage that supports it, like [1] or [2][5].
- State only what the cited passage says. Copy numbers, doses and p values exactly.
- Keep negatives: if a passage says a treatment is not recommended or lacks evidence, say so.
- If passages disagree, say which passage says what.
- Lead with the strongest evidence: the sources are listed strongest first, with their kind of evidence and stance.
- Never open with a claim that evidence is missing when it is marked as contradicted; if you mention it, say that
  the indexed source reports findings.
- If the passages do not answer the question, reply only: Not covered by the indexed sources."""


@dataclass(frozen=True, slots=True)
class Passage:
    """A numbered passage as the LLM sees it: the cited quote, a little context, and its source."""

    number: int
    source: str
    quote: str
    before: str
    after: str

    def render(self) -> str:
        """'[n] quote', then its context and source on an indented line (the quote is what may be cited)."""
        context = f"context: …{self.before} [passage] {self.after}…; " if self.before or self.after else ""
        return f"[{self.number}] {self.quote}\n    ({context}source: {self.source})"


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """Partial text while the model writes; the last update carries the verified Answer."""

    text: str
    answer: Answer | None = None


# ---------------------------------------------------------------- backends

def _openai_chat(settings: LLMSettings, api_key: str | None) -> BaseChatModel:
    """Any OpenAI-compatible /v1 endpoint (vLLM, llama.cpp server, OpenAI). Retries are ours, not the client's."""
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:
        raise ConfigError(_install_hint("openai", "langchain-openai")) from exc
    if api_key is None and settings.base_url is None:
        raise ConfigError(
            f"The openai backend without --base-url calls OpenAI itself, which needs a key: set ${settings.api_key_env}, "
            "or point --base-url at a local OpenAI-compatible server (llama.cpp, vLLM)."
        )
    return ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=api_key or "no-key",  # local servers ignore it; the client insists on one
        timeout=settings.timeout_s,
        max_retries=0,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens,  # sent as max_completion_tokens, which llama-cpp-python's server ignores
        extra_body={"max_tokens": settings.max_tokens} if settings.base_url else None,
    )


def _ollama_chat(settings: LLMSettings, api_key: str | None) -> BaseChatModel:
    """A local Ollama server (no key: Ollama has no authentication)."""
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise ConfigError(_install_hint("ollama", "langchain-ollama")) from exc
    return ChatOllama(
        model=settings.model,
        base_url=settings.base_url or DEFAULT_URLS["ollama"],
        temperature=settings.temperature,
        num_predict=settings.max_tokens,
        client_kwargs={"timeout": settings.timeout_s},
    )


BACKENDS: dict[str, Callable[[LLMSettings, str | None], BaseChatModel]] = {"openai": _openai_chat, "ollama": _ollama_chat}


def _install_hint(backend: str, package: str) -> str:
    return f"The {backend} backend needs {package}: install the extra with `pip install -e '.[llm]'`."


def make_writer(settings: LLMSettings, environ: Mapping[str, str]) -> Writer | None:
    """The writer the settings ask for (None for 'extractive'); the API key is read from `environ` here only."""
    if settings.backend == EXTRACTIVE:
        return None
    factory = BACKENDS.get(settings.backend)
    if factory is None:
        valid = ", ".join([EXTRACTIVE, *BACKENDS])
        raise ConfigError(f"Unknown LLM backend {settings.backend!r}. Valid backends: {valid}.")
    if not settings.model:
        raise ConfigError(f"The {settings.backend} backend needs a model name: pass --model (settings.llm.model).")
    api_key = environ.get(settings.api_key_env) or None
    return Writer(factory(settings, api_key), settings, secret=api_key)


# ---------------------------------------------------------------- prompting

def passages_for(answer: Answer, index: Index, context_chars: int) -> list[Passage]:
    """The extractive answer's citations as numbered passages, each with up to `context_chars` of its chunk around it."""
    wanted = {c.chunk_id for c in answer.citations}
    chunks = {c.chunk_id: c for c in index.chunks if c.chunk_id in wanted}
    labels = {s.doc_id: f"{s.profile.label()}; evidence level {s.grade.level} of 9" for s in answer.sources}
    passages = []
    for cite in answer.citations:
        text = index.documents[cite.doc_id].text
        chunk = chunks.get(cite.chunk_id)
        low, high = (chunk.start, chunk.end) if chunk else (cite.start, cite.end)
        before = text[max(low, cite.start - context_chars) : cite.start]
        after = text[cite.end : min(high, cite.end + context_chars)]
        source = f"{cite.title} ({labels[cite.doc_id]})" if cite.doc_id in labels else cite.title
        passages.append(Passage(cite.number, source, cite.quote, _squash(before, keep="end"), _squash(after, keep="start")))
    return passages


def _squash(text: str, *, keep: str) -> str:
    """One line, cut at a word boundary on the side away from the quote."""
    words = text.split()
    if words and keep == "end" and not text[:1].isspace():
        words = words[1:]
    elif words and keep == "start" and not text[-1:].isspace():
        words = words[:-1]
    return " ".join(words)


def weighing_lines(answer: Answer) -> list[str]:
    """The synthesis as the LLM reads it: each source strongest first (kind of evidence, stance, its findings' numbers),
    each contradicted claim of missing evidence, and the conditions or drugs of the question no source names."""
    synthesis = answer.synthesis
    if synthesis is None:
        return []
    titles = {s.doc_id: s.title for s in answer.sources}
    lines = [
        f"- {titles.get(v.doc_id, v.doc_id)}: {v.grade.label()}; stance: {v.stance}; findings {' '.join(f'[{n}]' for n in v.findings) or '(none)'}"
        for v in synthesis.sources
    ]
    lines += [f"- [{c.claim}] claims evidence is lacking: CONTRADICTED by {' '.join(f'[{n}]' for n in c.evidence)}" for c in synthesis.contradicted]
    if synthesis.unnamed:
        lines.append(f"- No source names {', '.join(synthesis.unnamed)}: none takes a side on it.")
    return lines


def prompt_messages(question: str, passages: list[Passage], weighing: list[str] | None = None) -> list[BaseMessage]:
    """System rules, then the sources weighed (strongest first), the numbered passages, then the question (last,
    where small models attend best)."""
    body = "\n".join(p.render() for p in passages)
    sources = "Sources, strongest evidence first:\n" + "\n".join(weighing) + "\n\n" if weighing else ""
    return [
        SystemMessage(SYSTEM_PROMPT),
        HumanMessage(
            f"{sources}Passages:\n{body}\n\nQuestion: {question}\n\n"
            "Answer in short sentences, each ending with its passage number like [1]."
        ),
    ]


# ---------------------------------------------------------------- the writer

class Writer:
    """Calls one chat model with timeouts and retries, then verifies what it wrote."""

    def __init__(self, chat: BaseChatModel, settings: LLMSettings, *, secret: str | None = None) -> None:
        self.chat = chat
        self.settings = settings
        self._secret = secret

    def __repr__(self) -> str:
        return f"Writer({self.endpoint})"

    @property
    def endpoint(self) -> str:
        """Backend, model and URL, for notices (credentials in the URL are removed)."""
        url = public_url(self.settings.base_url or DEFAULT_URLS.get(self.settings.backend, "(default)"))
        return f"{self.settings.backend} endpoint {url} (model {self.settings.model})"

    def answer(self, extractive: Answer, index: Index) -> Answer:
        """The verified LLM answer, or the extractive one with a notice saying why not."""
        final = None
        for update in self.stream_answer(extractive, index):
            final = update.answer
        assert final is not None, "stream_answer always ends with an Answer"
        return final

    def stream_answer(self, extractive: Answer, index: Index) -> Iterator[StreamUpdate]:
        """The draft as it grows, then the verified Answer. An abstention is passed through untouched."""
        if extractive.abstained or not extractive.citations:
            yield StreamUpdate(extractive.text, extractive)
            return
        passages = passages_for(extractive, index, self.settings.context_chars)
        messages = prompt_messages(extractive.question, passages, weighing_lines(extractive))
        started = time.perf_counter()
        draft = ""
        try:
            for piece in self._stream(messages):
                draft += piece
                yield StreamUpdate(draft)
        except ModelError as exc:
            fallback = with_notice(extractive, f"{exc} Showing the extractive answer meanwhile.")
            fallback.metadata.writer = self.endpoint
            yield StreamUpdate(fallback.text, fallback)
            return
        final = self._finish(extractive, index, draft, time.perf_counter() - started)
        yield StreamUpdate(final.text, final)

    def _stream(self, messages: list[BaseMessage]) -> Iterator[str]:
        """Text pieces from the model; a failure before the first piece is retried with exponential backoff."""
        attempts = self.settings.max_retries + 1
        for attempt in range(attempts):
            started = False
            try:
                for chunk in self.chat.stream(messages):
                    started = True
                    yield chunk.text
                return
            except Exception as exc:  # noqa: BLE001 - client libraries raise many types; all become ModelError here
                if started or attempt == attempts - 1 or not _retryable(exc):
                    raise ModelError(self._failure(exc, attempt + 1, started)) from None
                time.sleep(self.settings.backoff_s * 2**attempt)

    def _failure(self, exc: Exception, attempts: int, started: bool) -> str:
        detail = self._redact(f"{type(exc).__name__}: {exc}".strip())
        what = "stopped mid-answer" if started else f"did not answer after {attempts} attempt{'s' * (attempts > 1)}"
        return (
            f"The LLM {self.endpoint} {what} ({detail}). Fix: start the server or point --base-url "
            "(settings.llm.base_url) at a running one, and check --model."
        )

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _finish(self, extractive: Answer, index: Index, draft: str, seconds: float) -> Answer:
        """Verify the draft against the cited quotes; keep what passes, or fall back to the extractive answer."""
        passages = {c.number: c.quote for c in extractive.citations}
        verification = verify_draft(draft, passages, index.aliases)
        metadata = dataclasses.replace(  # the answer's own (index version, conversation turn) with the writer's report
            extractive.metadata,
            writer=self.endpoint,
            llm_draft=self._redact(draft),
            llm_seconds=round(seconds, 3),
            dropped_sentences=[d.to_dict() for d in verification.dropped],
            verification=VerificationCounts(verification.total, len(verification.kept), round(verification.kept_fraction, 3)),
        )
        too_little = not verification.kept or verification.kept_fraction < self.settings.min_kept_fraction
        docs = {c.number: c.doc_id for c in extractive.citations}
        misleads = None if too_little else opening_problem(verification.kept[0], extractive.synthesis, docs)
        if too_little or misleads:
            fallback = with_notice(extractive, self._rejected(verification, misleads))
            fallback.metadata = metadata
            return fallback
        added = left_out(extractive, verification.kept) if self.settings.require_sources else []
        answer = written_answer(extractive, verification, metadata, self._kept_notice(verification), added)
        if added:
            titles = {c.number: c.title for c in extractive.citations}
            left = "; ".join(f"{titles[a.cited[0]]} [{a.cited[0]}]" for a in added)
            answer.notices.append(f"The model's draft left out {left}: the extractive answer's sentence is added verbatim.")
            answer.metadata.added_sentences = [a.text for a in added]
        return answer

    def _rejected(self, verification: Verification, misleads: str | None) -> str:
        why = (
            f"its opening {misleads}" if misleads else
            f"{len(verification.kept)} of {verification.total} sentences were supported by the passages they cite "
            f"(at least {self.settings.min_kept_fraction:.0%} must be)"
        )
        return (
            f"The LLM answer ({self.settings.model}) was not used: {why}. Showing the extractive answer; the removed "
            "sentences and reasons are in metadata.dropped_sentences."
        )

    def _kept_notice(self, verification: Verification) -> str:
        notice = (
            f"Written by {self.settings.model} from the numbered passages; {len(verification.kept)} of "
            f"{verification.total} sentences passed verification against their citations"
        )
        if verification.dropped:
            notice += ", the others were removed (see metadata.dropped_sentences)"
        return notice + "."


def _retryable(exc: Exception) -> bool:
    """Connection errors, timeouts, 5xx and 408/409/429 are worth retrying; other 4xx (bad key, no model) are not."""
    status = getattr(exc, "status_code", None)
    return not (isinstance(status, int) and 400 <= status < 500 and status not in _RETRYABLE_STATUS)


def public_url(url: str) -> str:
    """The URL without user:password@ or a query string, safe for notices."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")) if parts.scheme else url


# ---------------------------------------------------------------- answers

def left_out(extractive: Answer, kept: tuple[Claim, ...]) -> list[Claim]:
    """For each source the extractive bottom line or a disagreement note relies on that no kept sentence cites, its
    first bottom-line sentence (else the sentence the note cites), verbatim and cited; a contradicted claim of missing
    evidence with the label that says by which evidence."""
    by_number = {c.number: c for c in extractive.citations}
    relied = [*extractive.bottom_line, *(number for note in extractive.disagreements for number, _, _ in note.sides)]
    cited_docs = {by_number[n].doc_id for claim in kept for n in claim.cited if n in by_number}
    refuted = {c.claim: c.evidence for c in extractive.synthesis.contradicted} if extractive.synthesis else {}
    added: dict[str, Claim] = {}
    for number in relied:
        citation = by_number.get(number)
        if citation and citation.doc_id not in cited_docs and citation.doc_id not in added:
            label = f"*Contradicted by {' '.join(f'[{n}]' for n in refuted[number])}:* " if number in refuted else ""
            added[citation.doc_id] = Claim(f"{label}{quoted(citation.quote)} [{number}]", citation.quote, (number,))
    return list(added.values())


def written_answer(
    extractive: Answer, verification: Verification, metadata: AnswerMetadata, notice: str, added: list[Claim] | None = None
) -> Answer:
    """The kept sentences (with the extractive answer's [n] numbers), then the verbatim sentences `added` for the
    sources the draft left out, plus the disagreement notes; citations pruned to those cited. The bottom line is
    what the first sentence cites. `metadata`: the answer's, with the writer's report; the kept sentences are added."""
    written = [*verification.kept, *(added or [])]
    lines = [" ".join(c.text for c in written)]
    cited = {n for c in written for n in c.cited}
    for note in extractive.disagreements:
        lines += ["", f"**Sources disagree.** {note.note}"]
        cited |= {number for number, _, _ in note.sides} | {int(n) for n in _NOTE_MARKER.findall(note.note)}
    citations = [c for c in extractive.citations if c.number in cited]
    docs = {c.doc_id for c in citations}
    return dataclasses.replace(
        extractive,
        text="\n".join(lines),
        citations=citations,
        sources=[s for s in extractive.sources if s.doc_id in docs],
        notices=[*extractive.notices, notice],
        metadata=dataclasses.replace(metadata, llm_sentences=[c.text for c in verification.kept]),
        bottom_line=list(written[0].cited),
    )


def with_notice(answer: Answer, notice: str) -> Answer:
    """A copy of `answer` with one more notice."""
    return dataclasses.replace(answer, notices=[*answer.notices, notice], metadata=dataclasses.replace(answer.metadata))
