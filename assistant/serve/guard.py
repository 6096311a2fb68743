"""What stands before every /v1 route: the bearer token (or a signed-in UI session, for what the page links to), a
limit on the request body, and one JSON error shape for every error, `{"error": {"message", "type", "code"}}` (the
OpenAI shape, so its client libraries raise with our message)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AssistantError, IndexError_, NotFound, QuestionError
from ..settings import ServiceSettings

SignedIn = Callable[[Request], bool]  # whether a request carries a signed-in UI session (the page's own links)
API_PREFIX = "/v1/"
_KINDS = {400: "invalid_request_error", 401: "invalid_api_key", 404: "not_found", 405: "method_not_allowed",
          413: "request_too_large", 503: "index_unavailable"}


def error(status: int, message: str, kind: str | None = None) -> JSONResponse:
    """The one error shape of the API."""
    return JSONResponse({"error": {"message": message, "type": kind or _KINDS.get(status, "error"), "code": status}}, status_code=status)


class Unauthorized(Exception):
    """A /v1 request without the right bearer token."""


def bearer_guard(settings: ServiceSettings, ui_session: SignedIn | None = None) -> Callable[..., None]:
    """A dependency that refuses a request without the bearer token (or, where `ui_session` is given, without a
    signed-in UI session either). Tokens are compared in constant time."""
    bearer = HTTPBearer(auto_error=False, description="The server's service.api_token")

    def check(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> None:
        token = settings.api_token.get_secret_value() if settings.api_token else None
        if token is None:
            return
        given = credentials.credentials if credentials else ""
        if secrets.compare_digest(given.encode(), token.encode()):
            return
        if ui_session is None or not ui_session(request):
            raise Unauthorized

    return check


class BodyLimit:
    """ASGI middleware: a /v1 request whose body runs past `limit` bytes gets a 413 before it is read in full (by its
    Content-Length, or counted as it streams in; a body within the limit is handed on whole)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)  # the client left: let the app see it
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:
                await self._refuse(scope, receive, send)
                return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}], receive), send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error(413, f"The request body is over {self.limit // 1024} KB (service.max_body_kb); send a shorter one.")(scope, receive, send)


def _replay(messages: list[Message], then: Receive | None = None) -> Receive:
    """A receive() that gives `messages` first, then waits on `then` (a disconnect, for a streaming reply)."""
    queue = list(messages)

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive


def error_handlers(api: FastAPI) -> None:
    """Every error as the one shape: 400 (question, request, unreadable body), 401 (token), 404 (no such document,
    conversation or route), 405, 413, 503 (no index), 500 (the rest)."""

    @api.exception_handler(Unauthorized)
    def unauthorized(_: Request, __: Unauthorized) -> JSONResponse:
        response = error(401, "Missing or wrong bearer token: send 'Authorization: Bearer <service.api_token>'.")
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    handled: list[tuple[type[Exception], int]] = [(QuestionError, 400), (NotFound, 404), (IndexError_, 503), (AssistantError, 500)]
    for kind, status in handled:
        api.add_exception_handler(kind, _as(status))

    @api.exception_handler(RequestValidationError)
    def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        return error(400, f"Invalid request ({problems}). See /docs for the schema.")

    @api.exception_handler(HTTPException)
    def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 400:
            message = f"Could not read the request body ({message}): send UTF-8 JSON. See /docs for the schema."
        return error(exc.status_code, message)


def _as(status: int) -> Callable[[Request, Any], JSONResponse]:
    return lambda _, exc: error(status, str(exc), "assistant_error" if status == 500 else None)
