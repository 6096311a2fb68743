"""What conversations and suggested follow-ups need of an assistant: a narrow Protocol, so that they depend on these
few members and not on `api.Assistant` (which builds them): no import cycle, and a test double is a few lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ..answer.compose import CitationRegistry
from ..answer.retrieve import Searcher
from ..answer.write import StreamUpdate
from ..documents.scope import Where
from ..index.load import Index
from ..schema import Answer
from ..settings import Settings


class Answering(Protocol):
    """The members of `api.Assistant` that conversation.py and suggest.py call."""

    @property
    def index(self) -> Index: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def searcher(self) -> Searcher: ...

    def ask(
        self, question: str, *, k: int | None = None, registry: CitationRegistry | None = None, resolved: str | None = None,
        where: Where = None,
    ) -> Answer: ...

    def stream_answer(
        self, question: str, *, k: int | None = None, registry: CitationRegistry | None = None, resolved: str | None = None,
        where: Where = None,
    ) -> Iterator[StreamUpdate]: ...

    def probe(self, question: str, where: Where = None) -> Answer: ...

    def clean_question(self, question: object) -> tuple[str, list[str]]: ...
