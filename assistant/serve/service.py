"""The HTTP API, served on the same FastAPI app as the chat UI: cited answers (`POST /v1/answer`), search
(`POST /v1/search`) and the OpenAI chat-completions protocol (`POST /v1/chat/completions`, streaming included), so an
OpenAI client library pointed at `<server>/v1` gets cited answers; the original file of an indexed document by its id
(`GET /v1/documents/{doc_id}/file`, never by path: serve/files.py). OpenAPI schema at /docs.

A bearer token guards every /v1 route when settings.service.api_token is set (a document's file also opens for a
signed-in user of the UI, whose page links to it); `check_sign_in` refuses to serve beyond
loopback without one (and without UI credentials). Tokens are compared in constant time and never logged.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Literal
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from ..api import Assistant
from ..chat.audit import caller
from ..chat.conversation import Conversation
from ..documents.chunk import split_sentences
from ..errors import AssistantError, ConfigError, IndexError_, NotFound, QuestionError
from ..settings import ServiceSettings
from .files import original_file

SignedIn = Callable[[Request], bool]  # whether a request carries a signed-in UI session (the page's own links)

MODEL_NAME = "medevidence-assistant"  # what /v1/models lists; any model name a client sends is accepted


class AnswerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="The question, in words.", examples=["Can Rinvoq help dermatomyositis?"])
    conversation_id: str | None = Field(
        default=None, max_length=64, pattern=r"^[\w-]+$",
        description="Continue a conversation (follow-ups like 'and the dose?' lean on its earlier turns); omit to start one.",
    )
    k: int | None = Field(default=None, ge=1, le=100, description="Passages handed to the composer (default: settings).")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str
    k: int = Field(default=10, ge=1, le=100)
    mode: Literal["hybrid", "dense", "bm25"] | None = None


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, … are accepted and have no effect

    model: str = MODEL_NAME
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False


class Conversations:
    """Server-side conversations by id, the least recently used dropped beyond `limit`."""

    def __init__(self, assistant: Assistant, limit: int) -> None:
        self.assistant = assistant
        self.limit = limit
        self._items: OrderedDict[str, Conversation] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, conversation_id: str | None) -> tuple[str, Conversation]:
        with self._lock:
            key = conversation_id or uuid.uuid4().hex
            conversation = self._items.pop(key, None) or self.assistant.conversation()
            self._items[key] = conversation
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
            return key, conversation


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_sign_in(settings: ServiceSettings, host: str, share: bool) -> None:
    """Beyond loopback (or with a share link) the API needs a token and the UI credentials; refuse to start otherwise."""
    if is_loopback(host) and not share:
        return
    missing = [name for name, value in (("service.api_token", settings.api_token), ("service.users", settings.users)) if not value]
    if missing:
        where = "with --share" if share else f"on {host}"
        raise ConfigError(
            f"Refusing to serve {where} without sign-in: set {' and '.join(missing)} (environment: ASSISTANT_SERVICE__API_TOKEN, "
            'ASSISTANT_SERVICE__USERS=\'{"name": "password"}\'), or serve on 127.0.0.1.'
        )


def create_api(assistant: Assistant, settings: ServiceSettings, ui_session: SignedIn | None = None) -> FastAPI:
    """The /v1 routes over one assistant (see the module docstring). `ui_session` lets the UI's signed-in users open
    what the page links to (a document's file) without the API token."""
    api = FastAPI(
        title="Medical evidence assistant",
        description="Cited answers over your documents. Every sentence carries [n] markers; citations are verbatim slices.",
        version="1",
    )
    conversations = Conversations(assistant, settings.conversations)
    guard = _guard(settings)
    _document_routes(api, assistant, _guard(settings, ui_session))

    @api.post("/v1/answer", dependencies=[Depends(guard)], summary="A cited answer (optionally within a conversation)")
    def answer(request: AnswerRequest, http: Request) -> dict[str, Any]:
        key, conversation = conversations.get(request.conversation_id)
        with caller("api", _client(http)):
            result = conversation.ask(request.question, k=request.k)
        return {**result.to_dict(), "conversation_id": key}

    @api.post("/v1/search", dependencies=[Depends(guard)], summary="Ranked passages for a query")
    def search(request: SearchRequest) -> dict[str, Any]:
        hits = assistant.search(request.query, k=request.k, mode=request.mode)
        index = assistant.index
        return {"hits": [
            {"rank": h.rank, "chunk_id": h.chunk_id, "doc_id": h.doc_id, "title": index.documents[h.doc_id].title,
             "section": h.chunk.section, "start": h.chunk.start, "end": h.chunk.end, "text": h.text,
             "score": h.score, "similarity": h.similarity}
            for h in hits
        ]}

    @api.get("/v1/models", dependencies=[Depends(guard)], summary="The one model this server answers as (OpenAI format)")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "medevidence"}]}

    @api.post("/v1/chat/completions", dependencies=[Depends(guard)], summary="OpenAI chat completions: the cited answer as the assistant message")
    def chat(request: ChatRequest, http: Request) -> Any:
        users = [m.text() for m in request.messages if m.role == "user"]
        if request.messages[-1].role != "user" or not users[-1].strip():
            raise QuestionError("The last message must be the user's question.")
        conversation = assistant.conversation()
        conversation.resume(users[:-1])  # earlier questions shape follow-ups ("and the dose?"); nothing is re-answered
        with caller("api", _client(http)):
            result = conversation.ask(users[-1], suggest=False)
        reply = _completion_id(), int(time.time()), request.model
        if request.stream:
            return StreamingResponse(_stream(result, *reply), media_type="text/event-stream")
        return _completion(result, *reply)

    _error_handlers(api)
    return api


def _document_routes(api: FastAPI, assistant: Assistant, reader: Callable[..., None]) -> None:
    """The original files of indexed documents, by id (serve/files.py), for the API's callers and the UI's users."""

    @api.get(
        "/v1/documents/{doc_id}/file", dependencies=[Depends(reader)], response_class=Response,
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


def _error_handlers(api: FastAPI) -> None:
    """Our errors as OpenAI-style JSON errors: 401 (token), 400 (question, request), 404 (no such document), 503 (no
    index), 500 (the rest)."""

    @api.exception_handler(_Unauthorized)
    def unauthorized(_: Request, __: _Unauthorized) -> JSONResponse:
        response = _error(401, "Missing or wrong bearer token: send 'Authorization: Bearer <service.api_token>'.", "invalid_api_key")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(QuestionError)
    def bad_question(_: Request, exc: QuestionError) -> JSONResponse:
        return _error(400, str(exc), "invalid_request_error")

    @api.exception_handler(NotFound)
    def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _error(404, str(exc), "not_found")

    @api.exception_handler(IndexError_)
    def no_index(_: Request, exc: IndexError_) -> JSONResponse:
        return _error(503, str(exc), "index_unavailable")

    @api.exception_handler(AssistantError)
    def failed(_: Request, exc: AssistantError) -> JSONResponse:
        return _error(500, str(exc), "assistant_error")

    @api.exception_handler(RequestValidationError)
    def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        return _error(400, f"Invalid request ({problems}). See /docs for the schema.", "invalid_request_error")


def _client(http: Request) -> str:
    """Who called, for the audit log: the client address (one token is shared by every caller)."""
    return http.client.host if http.client else "unknown"


def _guard(settings: ServiceSettings, ui_session: SignedIn | None = None):  # type: ignore[no-untyped-def]
    """A dependency that refuses a request without the bearer token (or, where `ui_session` is given, without a
    signed-in UI session either)."""
    bearer = HTTPBearer(auto_error=False, description="The server's service.api_token")

    def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        if token is None:
            return
        given = credentials.credentials if credentials else ""
        if secrets.compare_digest(given.encode(), token.encode()):
            return
        if ui_session is None or not ui_session(request):
            raise _Unauthorized

    return check


class _Unauthorized(Exception):
    """A /v1 request without the right bearer token."""


def _error(status: int, message: str, kind: str) -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind, "code": status}}, status_code=status)


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _extras(result: Any) -> dict[str, Any]:
    data = result.to_dict()
    return {"citations": data["citations"], "abstained": data["abstained"], "disagreements": data["disagreements"]}


def _completion(result: Any, completion_id: str, created: int, model: str) -> dict[str, Any]:
    return {
        "id": completion_id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text}, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **_extras(result),
    }


def _stream(result: Any, completion_id: str, created: int, model: str) -> Iterator[str]:
    """The verified answer as chat.completion.chunk events, a sentence at a time (a draft is never streamed: the
    verifier needs all of it), the citations on the last chunk, then [DONE]."""

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        chunk = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    text = result.text
    cuts = [end for _, end in split_sentences(text, 0, len(text))]
    begin = 0
    for end in cuts[:-1] + [len(text)]:  # whitespace between sentences goes with the one before
        if end > begin:
            yield event({"content": text[begin:end]})
            begin = end
    yield event({}, "stop", **_extras(result))
    yield "data: [DONE]\n\n"
