"""The HTTP API, served on the same FastAPI app as the chat UI: cited answers (`POST /v1/answer`, with suggested
follow-ups fetched apart: `GET /v1/conversations/{id}/suggestions`), search (`POST /v1/search`), each limited to
chosen documents if asked (`sources`, `where`; `GET /v1/documents` lists them with their evidence), the index version
served (`GET /v1/status`), the original file of an indexed document by its id (`GET /v1/documents/{doc_id}/file`,
never by path: serve/files.py) and OpenAI's chat-completions protocol (`POST /v1/chat/completions`, streaming
included: serve/completions.py). OpenAPI schema and its pages at /docs and /redoc, their assets served locally.

Answering is CPU work: it runs in a pool of `service.answer_threads` threads, so the event loop stays free to accept,
parse and reply, and requests beyond the pool wait in order. The guard (serve/guard.py) stands before every route.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import Response, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field

from ..api import Assistant
from ..chat.audit import caller
from ..chat.conversation import Conversation
from ..errors import NotFound
from ..settings import ServiceSettings
from . import completions
from .files import original_file
from .guard import BodyLimit, SignedIn, bearer_guard, error, error_handlers
from .workers import Dispatch, Workers, conversation_prefix

_T = TypeVar("_T")


SOURCES_FIELD = Field(
    default=None, max_length=1000,
    description="Search only these documents (ids, as GET /v1/documents lists them); an unknown id is a 400 naming the "
    "valid ones. Omit for the whole library.", examples=[["beckett-2024-upadacitinib-myositis-case-series"]],
)
WHERE_FIELD = Field(
    default=None, max_length=500,
    description="Search only documents whose evidence passes this filter: clauses joined by 'and' on peer_reviewed, "
    "type (e.g. type=case series|randomised trial), level (1 strongest to 9: level<=4) and date (date>=2020, "
    "date=2019..2021). A filter that cannot be read, or matches no document, is a 400 saying why.",
    examples=["peer_reviewed and level<=5 and date>=2020"],
)


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in words.", examples=["Can Rinvoq help dermatomyositis?"])
    conversation_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[\w-]+$",
        description="Continue a conversation this server started (follow-ups like 'and the dose?' lean on its earlier "
        "turns); omit to start one. An id the server does not hold is a 404.",
    )
    k: int | None = Field(default=None, ge=1, le=100, description="Passages handed to the composer (default: settings).")
    suggest: bool = Field(
        default=False,
        description="Also fill `suggestions` (a few more searches, about 4× the answer's time); otherwise they are "
        "computed when asked for, at GET /v1/conversations/{conversation_id}/suggestions.",
    )
    sources: list[str] | None = SOURCES_FIELD
    where: str | None = WHERE_FIELD  # this question's scope (send it with each turn); the answer says what it searched


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    k: int = Field(default=10, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] | None = None
    sources: list[str] | None = SOURCES_FIELD
    where: str | None = WHERE_FIELD


class Conversations:
    """Server-side conversations by id, the least recently used dropped beyond `limit`."""

    def __init__(self, assistant: Assistant, limit: int, prefix: str = "") -> None:
        self.assistant = assistant
        self.limit = limit
        self.prefix = prefix  # names the process holding a conversation when several answer (serve/workers.py)
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conversation_id: str | None) -> tuple[str, Conversation]:
        """The conversation with this id (NotFound if the server does not hold it), or a new one for None."""
        with self._lock:
            if conversation_id is None:
                key, conversation = self.prefix + uuid.uuid4().hex, self.assistant.conversation()
            elif conversation_id in self._items:
                key, conversation = conversation_id, self._items.pop(conversation_id)
            else:
                raise NotFound(
                    f"No conversation {conversation_id!r} on this server (it may have been dropped as the least recently "
                    f"used of {self.limit}, or the server restarted). Omit conversation_id to start a new one."
                )
            self._items[key] = conversation
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
            return key, conversation


def create_api(
    assistant: Assistant, settings: ServiceSettings, ui_session: SignedIn | None = None, *, worker: int = 0,
    workers: Workers | None = None,
) -> FastAPI:
    """The /v1 routes over one assistant (see the module docstring). `ui_session` lets the UI's signed-in users open
    what the page links to (a document's file) without the API token. `workers`: the server's worker processes, to
    which answering requests are handed (serve/workers.py); `worker`: this process's number when it is one of them."""
    api = FastAPIOffline(
        title="Medical evidence assistant",
        description="Cited answers over your documents. Every sentence carries [n] markers; citations are verbatim slices.",
        version="1",
    )
    if workers is not None:
        api.add_middleware(Dispatch, workers=workers)
    api.add_middleware(BodyLimit, limit=settings.max_body_kb * 1024)  # added last: it runs first
    pool = anyio.CapacityLimiter(settings.answer_threads)

    async def work(fn: Callable[[], _T]) -> _T:
        return await anyio.to_thread.run_sync(fn, limiter=pool)

    guard = Depends(bearer_guard(settings))
    _answer_routes(api, assistant, Conversations(assistant, settings.conversations, conversation_prefix(worker)), work, guard)
    _library_routes(api, assistant, work, guard, Depends(bearer_guard(settings, ui_session)))
    _completion_routes(api, assistant, work, guard)

    @api.api_route("/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def unknown(path: str, http: Request) -> Response:
        return error(404, f"No route {http.method} /v1/{path}. The routes are listed at /docs.")

    error_handlers(api)
    return api


def _answer_routes(api: FastAPI, assistant: Assistant, conversations: Conversations, work: Any, guard: Any) -> None:
    """Cited answers within conversations, and their suggested follow-ups."""

    @api.post("/v1/answer", dependencies=[guard], summary="A cited answer (optionally within a conversation)")
    async def answer(request: AnswerRequest, http: Request) -> dict[str, Any]:
        key, conversation = conversations.get(request.conversation_id)

        def ask() -> dict[str, Any]:
            with caller("api", _client(http)):
                result = conversation.ask(
                    request.question, k=request.k, suggest=request.suggest, sources=request.sources, where=request.where
                )
            return {**result.to_dict(), "conversation_id": key}

        return await work(ask)

    @api.get(
        "/v1/conversations/{conversation_id}/suggestions", dependencies=[guard],
        summary="Suggested follow-ups to the conversation's latest answer, each checked answerable",
    )
    async def suggestions(conversation_id: str) -> dict[str, Any]:
        key, conversation = conversations.get(conversation_id)
        found = await work(conversation.suggest)
        return {"conversation_id": key, "turn": len(conversation.turns), "suggestions": found}


def _library_routes(api: FastAPI, assistant: Assistant, work: Any, guard: Any, reader: Any) -> None:
    """Search, the index version served, and the original files of indexed documents, by id."""

    @api.post("/v1/search", dependencies=[guard], summary="Ranked passages for a query")
    async def search(request: SearchRequest) -> dict[str, Any]:
        def ranked() -> dict[str, Any]:
            index = assistant.index
            scope = assistant.scope(request.sources, request.where)
            hits = assistant.search(request.query, k=request.k, mode=request.mode, where=scope.scope if scope else None)
            by_score = {h.chunk_id: n for n, h in enumerate(sorted(hits, key=lambda h: -h.score))}
            return {
                "ranked_by": "rank: the order an answer reads them in (each document's best passage first, then the rest); "
                "score: fused keyword and meaning relevance (reciprocal rank fusion); score_rank: the order by score",
                "index_version": index.folder.name,
                "scope": asdict(scope) if scope else None,
                "hits": [
                    {"rank": h.rank, "score_rank": by_score[h.chunk_id], "chunk_id": h.chunk_id, "doc_id": h.doc_id,
                     "title": index.documents[h.doc_id].title, "section": h.chunk.section, "start": h.chunk.start,
                     "end": h.chunk.end, "text": h.text, "score": h.score, "similarity": h.similarity}
                    for h in sorted(hits, key=lambda h: h.rank)
                ],
            }

        return await work(ranked)

    @api.get("/v1/documents", dependencies=[guard], summary="Every indexed document with its evidence: what `sources` and `where` choose from")
    def documents() -> dict[str, Any]:
        index = assistant.index
        return {"index_version": index.folder.name, "documents": [asdict(source) for source in assistant.library()]}

    @api.get("/v1/status", dependencies=[guard], summary="The index version this server answers from")
    def status() -> dict[str, Any]:
        index = assistant.index
        return {"index_version": index.folder.name, "documents": len(index.documents), "chunks": len(index.chunks),
                "created": index.manifest.get("created")}

    @api.get(
        "/v1/documents/{doc_id}/file", dependencies=[reader], response_class=Response,
        summary="The original file of an indexed document (a PDF opens in the browser; add #page=N)",
    )
    def document_file(doc_id: str) -> Response:
        found = original_file(assistant.index, doc_id, assistant.settings.corpus_dir)
        headers = {
            "Content-Disposition": f"{'inline' if found.inline else 'attachment'}; filename*=UTF-8''{quote(found.name)}",
            "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
        }
        if not found.inline:
            headers["Content-Security-Policy"] = "sandbox"  # never rendered as a page of this site (an HTML document)
        return Response(found.data, media_type=found.media_type, headers=headers)


def _completion_routes(api: FastAPI, assistant: Assistant, work: Any, guard: Any) -> None:
    """OpenAI's protocol: /v1/models and /v1/chat/completions."""

    @api.get("/v1/models", dependencies=[guard], summary="The one model this server answers as (OpenAI format)")
    def models() -> dict[str, Any]:
        return completions.models()

    @api.post("/v1/chat/completions", dependencies=[guard], summary="OpenAI chat completions: the cited answer as the assistant message")
    async def chat(request: completions.ChatRequest, http: Request) -> Any:
        earlier, question = request.questions()

        def ask() -> Any:
            conversation = assistant.conversation(sources=request.sources, where=request.where)
            conversation.resume(earlier)  # earlier questions shape follow-ups ("and the dose?"); nothing is re-answered
            with caller("api", _client(http)):
                return conversation.ask(question, suggest=False)

        reply = completions.reply(await work(ask), request.model, request.stream)
        return StreamingResponse(reply, media_type="text/event-stream") if request.stream else reply


def _client(http: Request) -> str:
    """Who called, for the audit log: the client address (one token is shared by every caller)."""
    return http.client.host if http.client else "unknown"
