"""Issue 17, the HTTP API: /v1/answer, /v1/search and OpenAI chat completions (an `openai` client gets a cited
answer, streamed too), the bearer token, sign-in required beyond loopback. Real model, real seed index."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import openai
import pytest
from fastapi.testclient import TestClient
from samples import SEED_QUESTION

from assistant import Assistant, Settings
from assistant.errors import ConfigError
from assistant.serve.service import create_api
from assistant.serve.signin import check_sign_in
from assistant.settings import ServiceSettings

TOKEN = "test-token-7f3a"
CASE_SERIES = "beckett-2024-upadacitinib-myositis-case-series"


@pytest.fixture(scope="module")
def client(assistant: Assistant) -> Iterator[TestClient]:
    with TestClient(create_api(assistant, ServiceSettings(api_token=TOKEN))) as test_client:
        test_client.headers["Authorization"] = f"Bearer {TOKEN}"
        yield test_client


def _verbatim(assistant: Assistant, citations: list[dict]) -> None:  # type: ignore[type-arg]
    assert citations
    for c in citations:
        assert assistant.index.documents[c["doc_id"]].text[c["start"] : c["end"]] == c["quote"]


def test_answer_returns_the_cited_answer_and_a_conversation(client: TestClient, assistant: Assistant) -> None:
    response = client.post("/v1/answer", json={"question": SEED_QUESTION})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["text"] == assistant.ask(SEED_QUESTION).text
    assert {c["doc_id"] for c in data["citations"]} >= {CASE_SERIES}
    _verbatim(assistant, data["citations"])
    follow = client.post("/v1/answer", json={"question": "What side effects were seen with it?", "conversation_id": data["conversation_id"]})
    assert follow.status_code == 200 and follow.json()["conversation_id"] == data["conversation_id"]
    assert follow.json()["metadata"]["follow_up"] is True and follow.json()["metadata"]["turn"] == 2


def test_search_returns_ranked_passages(client: TestClient, assistant: Assistant) -> None:
    hits = client.post("/v1/search", json={"query": "upadacitinib CDASI", "k": 5}).json()["hits"]
    assert [h["chunk_id"] for h in hits] == [h.chunk_id for h in assistant.search("upadacitinib CDASI", k=5)]
    for h in hits:
        assert assistant.index.documents[h["doc_id"]].text[h["start"] : h["end"]] == h["text"]


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/v1/answer", {"question": "   "}, "question is empty"),
        ("/v1/answer", {"question": "x", "k": 0}, "k: Input should be greater than or equal to 1"),
        ("/v1/answer", {"questoin": "typo"}, "question: Field required"),
        ("/v1/search", {"query": "ivig", "mode": "fuzzy"}, "mode: Input should be 'hybrid', 'dense' or 'bm25'"),
        ("/v1/chat/completions", {"messages": []}, "messages: List should have at least 1 item"),
        ("/v1/chat/completions", {"messages": [{"role": "assistant", "content": "hi"}]}, "last message must be the user's"),
    ],
)
def test_bad_requests_get_a_400_that_says_what_is_wrong(client: TestClient, path: str, body: dict, message: str) -> None:  # type: ignore[type-arg]
    response = client.post(path, json=body)
    assert response.status_code == 400
    assert message.lower() in response.json()["error"]["message"].lower()


def test_requests_without_the_token_are_refused(assistant: Assistant) -> None:
    with TestClient(create_api(assistant, ServiceSettings(api_token=TOKEN))) as bare:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
            response = bare.post("/v1/answer", json={"question": SEED_QUESTION}, headers=headers)
            assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
            assert TOKEN not in response.text
        assert bare.get("/openapi.json").status_code == 200, "the schema is public; the answers are not"


def test_an_openai_client_gets_a_cited_answer(client: TestClient, assistant: Assistant) -> None:
    gpt = openai.OpenAI(base_url="http://testserver/v1", api_key=TOKEN, http_client=client)
    completion = gpt.chat.completions.create(
        model="anything", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": SEED_QUESTION}]
    )
    message = completion.choices[0].message
    assert message.role == "assistant" and message.content == assistant.ask(SEED_QUESTION).text
    citations = completion.model_extra["citations"]
    _verbatim(assistant, citations)
    assert all(f"[{c['number']}]" in message.content for c in citations)


def test_an_openai_client_streams_the_same_answer(client: TestClient, assistant: Assistant) -> None:
    gpt = openai.OpenAI(base_url="http://testserver/v1", api_key=TOKEN, http_client=client)
    chunks = list(gpt.chat.completions.create(model="m", messages=[{"role": "user", "content": SEED_QUESTION}], stream=True))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == assistant.ask(SEED_QUESTION).text
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 1, "sent in pieces"
    assert chunks[-1].choices[0].finish_reason == "stop"
    _verbatim(assistant, chunks[-1].model_extra["citations"])


def test_chat_history_shapes_a_follow_up(client: TestClient, assistant: Assistant) -> None:
    messages = [
        {"role": "user", "content": "What is upadacitinib?"},
        {"role": "assistant", "content": "(an earlier answer)"},
        {"role": "user", "content": "What side effects were seen with it?"},
    ]
    followed = client.post("/v1/chat/completions", json={"model": "m", "messages": messages}).json()
    conversation = assistant.conversation()
    conversation.ask("What is upadacitinib?", suggest=False)
    expected = conversation.ask("What side effects were seen with it?", suggest=False)
    assert expected.metadata.follow_up, "'it' leans on the earlier question"
    unnumbered = lambda text: re.sub(r"\[\d+\]", "[]", text)  # noqa: E731 - numbers continue an earlier answer's
    assert unnumbered(followed["choices"][0]["message"]["content"]) == unnumbered(expected.text)
    text = followed["choices"][0]["message"]["content"]
    cited = {c["quote"] for c in followed["citations"] if f"[{c['number']}]" in text}
    assert cited == {c.quote for c in expected.citations if f"[{c.number}]" in expected.text}


@pytest.mark.parametrize(("host", "share"), [("0.0.0.0", False), ("192.168.1.20", False), ("127.0.0.1", True)])
def test_serving_beyond_loopback_needs_sign_in(host: str, share: bool) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_SERVICE__API_TOKEN"):
        check_sign_in(ServiceSettings(), host, share)
    with pytest.raises(ConfigError, match=r"service\.users"):
        check_sign_in(ServiceSettings(api_token=TOKEN), host, share)
    check_sign_in(ServiceSettings(api_token=TOKEN, users={"ana": "pw"}), host, share)
    check_sign_in(ServiceSettings(), "127.0.0.1", False)
    check_sign_in(ServiceSettings(), "::1", False)


def test_the_cli_refuses_a_public_server_without_sign_in(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2 and "Refusing to serve on 0.0.0.0 without sign-in" in result.output


def test_the_token_comes_from_the_environment_and_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_SERVICE__API_TOKEN", TOKEN)
    monkeypatch.setenv("ASSISTANT_SERVICE__USERS", '{"ana": "secret-pw"}')
    settings = Settings()
    assert settings.service.api_token.get_secret_value() == TOKEN  # type: ignore[union-attr]
    assert settings.service.users["ana"].get_secret_value() == "secret-pw"
    shown = repr(settings) + settings.model_dump_json()
    assert TOKEN not in shown and "secret-pw" not in shown


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_one_server_serves_the_ui_and_the_api(assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    """ui.serve's app, started for real: the UI at /, the API at /v1 behind the token, the schema at /docs."""
    import uvicorn

    import assistant.serve.ui as ui

    started: dict[str, uvicorn.Server] = {}

    def run(app, host: str, port: int, log_level: str) -> None:  # type: ignore[no-untyped-def]
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level))
        started["server"] = server
        server.run()

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(ui.Assistant, "load", classmethod(lambda cls, settings: assistant))
    port = _free_port()
    settings = assistant.settings.model_copy(update={"service": ServiceSettings(api_token=TOKEN)})
    thread = threading.Thread(target=ui.serve, args=(settings,), kwargs={"port": port}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/docs", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        assert "Medical evidence assistant" in httpx.get(base + "/", timeout=10).text
        assert httpx.post(base + "/v1/answer", json={"question": SEED_QUESTION}, timeout=30).status_code == 401
        answer = httpx.post(base + "/v1/answer", json={"question": SEED_QUESTION}, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
        assert answer.status_code == 200 and answer.json()["citations"]
    finally:
        started["server"].should_exit = True
        thread.join(timeout=10)


def test_suggestions_come_apart_from_the_answer(client: TestClient, assistant: Assistant) -> None:
    """Issue 30: an answer is sent without waiting for its suggested follow-ups; they are fetched by conversation."""
    data = client.post("/v1/answer", json={"question": SEED_QUESTION}).json()
    assert data["suggestions"] == [], "not computed on the answer's time"
    expected = assistant.conversation().ask(SEED_QUESTION).suggestions
    fetched = client.get(f"/v1/conversations/{data['conversation_id']}/suggestions").json()
    assert fetched == {"conversation_id": data["conversation_id"], "turn": 1, "suggestions": expected}
    inline = client.post("/v1/answer", json={"question": SEED_QUESTION, "suggest": True}).json()
    assert inline["suggestions"] == expected and inline["text"] == data["text"]


def test_an_unknown_conversation_is_a_404_not_a_new_conversation(client: TestClient) -> None:
    for response in (
        client.post("/v1/answer", json={"question": "And the dose?", "conversation_id": "never-issued"}),
        client.get("/v1/conversations/never-issued/suggestions"),
    ):
        assert response.status_code == 404
        assert "No conversation 'never-issued'" in response.json()["error"]["message"]


def test_search_says_what_is_ranked(client: TestClient, assistant: Assistant) -> None:
    data = client.post("/v1/search", json={"query": "upadacitinib dermatomyositis", "k": 10}).json()
    hits = data["hits"]
    assert [h["rank"] for h in hits] == list(range(len(hits))), "listed in rank order"
    assert "rank" in data["ranked_by"] and "score_rank" in data["ranked_by"]
    by_score = sorted(hits, key=lambda h: h["score_rank"])
    assert [h["score"] for h in by_score] == sorted((h["score"] for h in hits), reverse=True)
    assert data["index_version"] == assistant.index.folder.name


def test_status_names_the_version_served(client: TestClient, assistant: Assistant) -> None:
    status = client.get("/v1/status").json()
    assert status["index_version"] == assistant.index.folder.name
    assert (status["documents"], status["chunks"]) == (len(assistant.index.documents), len(assistant.index.chunks))


@pytest.mark.parametrize(
    ("method", "path", "content", "status"),
    [
        ("POST", "/v1/answer", b'{"question": "\xff\xfe caf\xe9"}', 400),  # not UTF-8
        ("POST", "/v1/answer", b'{"question": ', 400),  # not JSON
        ("GET", "/v1/no-such-route", None, 404),
        ("GET", "/v1/answer", None, 404),
        ("POST", "/v1/answer", b'{"question": "' + b"a" * (2 * 1024 * 1024) + b'"}', 413),
    ],
)
def test_every_error_has_the_one_shape(client: TestClient, method: str, path: str, content: bytes | None, status: int) -> None:
    response = client.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == status and error["message"] and error["type"]


def test_a_streamed_body_past_the_limit_is_refused_unread(assistant: Assistant) -> None:
    with TestClient(create_api(assistant, ServiceSettings(max_body_kb=4))) as small:
        chunks = (b"x" * 1024 for _ in range(64))  # no Content-Length: counted as it arrives
        response = small.post("/v1/answer", content=chunks, headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and "4 KB" in response.json()["error"]["message"]
        assert small.post("/v1/answer", json={"question": SEED_QUESTION}).status_code == 200, "a small body still passes"


def test_the_api_docs_work_offline(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "cdn" not in html.lower() and "unpkg" not in html.lower(), f"{page} loads nothing from a CDN"
        assets = re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css))"', html)
        assert assets, f"{page} names its scripts"
        for asset in assets:
            assert client.get(asset).status_code == 200, asset


AI_PAGE = "dr-oracle-rinvoq-dermatomyositis-ivig"


def test_answer_and_search_take_a_scope(client: TestClient, assistant: Assistant) -> None:
    """Issue 29: the request's sources and filter mean what they mean in Python."""
    data = client.post("/v1/answer", json={"question": SEED_QUESTION, "sources": [AI_PAGE]}).json()
    expected = assistant.ask(SEED_QUESTION, sources=[AI_PAGE])
    assert data["text"] == expected.text and data["text"].startswith("**Scope.** Searched only the chosen source")
    assert {c["doc_id"] for c in data["citations"]} == {AI_PAGE} and data["search_report"]["scope"]["documents"] == [AI_PAGE]
    filtered = client.post("/v1/answer", json={"question": SEED_QUESTION, "where": "peer_reviewed"}).json()
    assert {c["doc_id"] for c in filtered["citations"]} == {CASE_SERIES}
    follow = client.post("/v1/answer", json={"question": "And its side effects?", "conversation_id": filtered["conversation_id"]}).json()
    assert follow["search_report"]["scope"] is None, "a request's scope is for that question: send it with each turn"
    found = client.post("/v1/search", json={"query": "upadacitinib", "k": 5, "sources": [AI_PAGE]}).json()
    assert [h["chunk_id"] for h in found["hits"]] == [h.chunk_id for h in assistant.search("upadacitinib", k=5, sources=[AI_PAGE])]
    assert found["scope"]["documents"] == [AI_PAGE] and len(found["hits"]) == 5
    assert client.post("/v1/search", json={"query": "upadacitinib"}).json()["scope"] is None


@pytest.mark.parametrize(
    ("path", "scope", "message"),
    [
        ("/v1/answer", {"sources": ["nope"]}, f"No indexed document has the id 'nope'. The library's ids: {CASE_SERIES}, {AI_PAGE}"),
        ("/v1/answer", {"sources": []}, "sources names no document"),
        ("/v1/answer", {"where": "level<=2"}, "No document is at evidence level 1–2: of the 2 indexed documents, 0 at evidence level 1–2"),
        ("/v1/search", {"where": "levle<=2"}, "Cannot read 'levle<=2'"),
        ("/v1/search", {"sources": ["nope"]}, "has the id 'nope'"),
    ],
)
def test_a_bad_scope_is_a_400_that_names_the_fix(client: TestClient, path: str, scope: dict, message: str) -> None:  # type: ignore[type-arg]
    key = "question" if path == "/v1/answer" else "query"
    response = client.post(path, json={key: SEED_QUESTION, **scope})
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]


def test_an_openai_client_sends_a_scope_as_extra_fields(client: TestClient, assistant: Assistant) -> None:
    gpt = openai.OpenAI(base_url="http://testserver/v1", api_key=TOKEN, http_client=client)
    messages = [{"role": "user", "content": SEED_QUESTION}]
    completion = gpt.chat.completions.create(model="m", messages=messages, extra_body={"sources": [CASE_SERIES]})  # type: ignore[arg-type]
    assert completion.choices[0].message.content == assistant.ask(SEED_QUESTION, sources=[CASE_SERIES]).text
    assert {c["doc_id"] for c in completion.model_extra["citations"]} == {CASE_SERIES}
    streamed = gpt.chat.completions.create(model="m", messages=messages, stream=True, extra_body={"where": "level>=8"})  # type: ignore[arg-type]
    text = "".join(c.choices[0].delta.content or "" for c in streamed if c.choices)
    assert text == assistant.ask(SEED_QUESTION, where="level>=8").text
    with pytest.raises(openai.BadRequestError, match="has the id 'nope'"):
        gpt.chat.completions.create(model="m", messages=messages, extra_body={"sources": ["nope"]})  # type: ignore[arg-type]


def test_documents_lists_what_a_scope_chooses_from(client: TestClient, assistant: Assistant) -> None:
    data = client.get("/v1/documents").json()
    assert data["index_version"] == assistant.index.folder.name
    listed = {d["doc_id"]: d for d in data["documents"]}
    assert set(listed) == set(assistant.index.documents)
    assert listed[CASE_SERIES]["grade"]["level"] == 5 and listed[CASE_SERIES]["profile"]["peer_reviewed"] is True
    assert listed[AI_PAGE]["grade"]["level"] == 9 and listed[AI_PAGE]["profile"]["date"] == "2025-09-23"
