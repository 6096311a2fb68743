"""OpenAI's chat-completions protocol over cited answers: the request shapes and the reply, whole or streamed, so an
OpenAI client library pointed at `<server>/v1` gets the cited answer as the assistant message (citations beside it)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..documents.chunk import split_sentences
from ..errors import QuestionError
from ..schema import Answer

MODEL_NAME = "medevidence-assistant"  # what /v1/models lists; any model name a client sends is accepted


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
    # Not OpenAI's: the documents the answer may draw on (OpenAI clients send them as extra_body), as in /v1/answer
    sources: list[str] | None = Field(default=None, max_length=1000, description="Search only these documents (ids).")
    where: str | None = Field(default=None, max_length=500, description="Search only documents whose evidence passes this filter.")

    def questions(self) -> tuple[list[str], str]:
        """The earlier user questions (they shape a follow-up) and the question to answer, the last message."""
        users = [m.text() for m in self.messages if m.role == "user"]
        if self.messages[-1].role != "user" or not users[-1].strip():
            raise QuestionError("The last message must be the user's question.")
        return users[:-1], users[-1]


def models() -> dict[str, Any]:
    return {"object": "list", "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "medevidence"}]}


def reply(result: Answer, model: str, stream: bool) -> dict[str, Any] | Iterator[str]:
    """The chat.completion (or, with `stream`, its chat.completion.chunk events) for one cited answer."""
    ids = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), model
    return _stream(result, *ids) if stream else _completion(result, *ids)


def _extras(result: Answer) -> dict[str, Any]:
    data = result.to_dict()
    return {"citations": data["citations"], "abstained": data["abstained"], "disagreements": data["disagreements"]}


def _completion(result: Answer, completion_id: str, created: int, model: str) -> dict[str, Any]:
    return {
        "id": completion_id, "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": result.text}, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        **_extras(result),
    }


def _stream(result: Answer, completion_id: str, created: int, model: str) -> Iterator[str]:
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
