"""Issue 2's definition of done, on the real model and the real corpus: each test that takes `assistant` runs on
both stores, the local FAISS + bm25s index and the same index served from Qdrant (issue 15)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from samples import SEED_QUESTION
from typer.testing import CliRunner

from assistant import Answer, Assistant, Settings
from assistant.cli import app
from assistant.index.build import build_index

CASE_SERIES = "beckett-2024-upadacitinib-myositis-case-series"
AI_ANSWER = "dr-oracle-rinvoq-dermatomyositis-ivig"


@pytest.fixture(scope="module", params=["local", "qdrant"])
def assistant(request: pytest.FixtureRequest, assistant: Assistant) -> Assistant:
    """The shared seed assistant, once searching the local store and once searching Qdrant."""
    return assistant if request.param == "local" else request.getfixturevalue("qdrant_assistant")


def store_options(settings: Settings) -> list[str]:
    """The CLI options that select the store `settings` names."""
    return ["--qdrant-path", str(settings.store.qdrant_path)] if settings.store.kind == "qdrant" else []


def cited_quotes(answer: Answer, doc_id: str) -> str:
    return "\n".join(c.quote for c in answer.citations if c.doc_id == doc_id)


def test_seed_question_cites_both_documents_with_the_key_facts(assistant: Assistant) -> None:
    answer = assistant.ask(SEED_QUESTION)
    assert not answer.abstained
    assert {c.doc_id for c in answer.citations} == {CASE_SERIES, AI_ANSWER}, "both sources hold evidence"
    series, ai = cited_quotes(answer, CASE_SERIES), cited_quotes(answer, AI_ANSWER)
    assert re.search(r"10\.5.*2\.5.*0\.014", series), "aggregate CDASI change with its p value"
    assert re.search(r"one was able to discontinue intravenous IG", series), "IVIG discontinuation"
    assert re.search(r"acne", series), "the acneiform eruption discontinuation"
    assert re.search(r"not currently recommended|insufficient evidence", ai), "the seed answer's position"


def test_seed_question_flags_the_disagreement(assistant: Assistant) -> None:
    answer = assistant.ask(SEED_QUESTION)
    assert answer.disagreements, "the AI answer says no evidence; the case series reports benefit"
    sides = {number for d in answer.disagreements for number, _, _ in d.sides}
    docs = {c.doc_id for c in answer.citations if c.number in sides}
    assert docs == {CASE_SERIES, AI_ANSWER}


def test_every_answer_sentence_carries_a_citation(assistant: Assistant) -> None:
    answer = assistant.ask(SEED_QUESTION)
    for line in answer.text.splitlines():
        for quote in re.findall(r"“[^”]+”", line):
            assert re.search(re.escape(quote) + r" \[\d+\]", line), f"uncited quote: {quote[:60]}"
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
    assert numbers == {c.number for c in answer.citations}, "every marker resolves to a citation and vice versa"


def test_brand_name_finds_the_case_series_which_never_says_it(assistant: Assistant) -> None:
    assert "Rinvoq" not in assistant.index.documents[CASE_SERIES].text
    hits = assistant.search("Rinvoq", k=10)
    assert CASE_SERIES in {h.doc_id for h in hits[:5]}


def test_a_question_about_one_patient_finds_his_table_row(assistant: Assistant) -> None:
    hits = assistant.search("What was the CDASI of the 36-year-old man?", k=20)
    rows = [h for h in hits if h.chunk.kind == "table_row"]
    assert any(re.search(r"sex: 36, M;.*CDASI, pre-UPA: 27; CDASI, current: 5", h.text) for h in rows)
    answer = assistant.ask("What was the CDASI of the 36-year-old man?")
    assert any("sex: 36, M" in c.quote for c in answer.citations)


QUESTIONS = [
    SEED_QUESTION,
    "What side effects were reported with upadacitinib?",
    "How many patients had prior tofacitinib?",
    "What dose of methotrexate is used in dermatomyositis?",
    "How is IVIG dosed?",
    "Did patients with interstitial lung disease improve?",
    "What was the CDASI change in the aggregate group?",
    "Which monitoring is recommended for patients on IVIG?",
    "Where was the study done?",
    "Is rituximab an option for refractory disease?",
    "What did patients previously treated with tofacitinib experience?",
    "Can prednisone be stopped after starting upadacitinib?",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_citation_is_a_verbatim_slice_of_its_document(assistant: Assistant, question: str) -> None:
    answer = assistant.ask(question)
    for citation in answer.citations:
        text = assistant.index.documents[citation.doc_id].text
        assert citation.quote == text[citation.start : citation.end], f"[{citation.number}] is not verbatim"
        assert citation.quote in answer.text or not answer.text


def test_off_topic_question_abstains(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of France?")
    assert answer.abstained and not answer.citations
    assert "Not covered" in answer.text and "Searched for" in answer.text


def test_a_dose_the_sources_never_state_is_reported_missing(assistant: Assistant) -> None:
    answer = assistant.ask("What is the recommended dose of upadacitinib for dermatomyositis?")
    opening = answer.text.split("\n\n", 1)[0]
    assert opening.startswith("**Not stated.**") and "dose for upadacitinib" in opening, "no source states an upadacitinib dose"
    assert not answer.abstained and answer.citations, "the rule shapes the answer; the evidence about upadacitinib is still quoted"
    assert not any(re.search(r"\bupadacitinib\b[^.]{0,40}\b\d+ ?mg\b", c.quote, re.I) for c in answer.citations)


def test_a_dose_the_sources_state_is_quoted(assistant: Assistant) -> None:
    answer = assistant.ask("What dose of methotrexate is used?")
    assert not answer.abstained
    assert any("15-20 mg/m²/week" in c.quote for c in answer.citations)


def test_reingest_embeds_only_what_changed(corpus_copy: Path, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = tmp_path / "corpus"
    shutil.copytree(corpus_copy, corpus)
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    first = build_index([corpus], settings, embedder)
    assert first.embedded_chunks == first.total_chunks > 0
    again = build_index([corpus], settings, embedder)
    assert again.embedded_chunks == 0 and not again.changed, "unchanged corpus: nothing re-embedded"
    changed = corpus / f"{AI_ANSWER}.md"
    changed.write_text(changed.read_text() + "\nA new closing paragraph about monitoring creatine kinase.\n")
    third = build_index([corpus], settings, embedder)
    assert third.updated == [AI_ANSWER] and third.unchanged == [CASE_SERIES]
    series_chunks = sum(1 for c in Assistant.load(settings, embedder=embedder, refresh=False).index.chunks if c.doc_id == CASE_SERIES)
    assert third.embedded_chunks == third.total_chunks - series_chunks, "only the changed file was embedded"


class _Recording:
    """The session's real model, recording every text it is asked to embed."""

    def __init__(self, inner) -> None:  # type: ignore[no-untyped-def]
        self.inner, self.texts = inner, []
        self.model_id, self.dimension = inner.model_id, inner.dimension

    def embed(self, texts: list[str]):  # type: ignore[no-untyped-def]
        self.texts.extend(texts)
        return self.inner.embed(texts)

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def fingerprint(self) -> str:
        return self.inner.fingerprint()


@pytest.mark.parametrize("k", [1, 5, 10])
def test_search_and_the_retriever_return_exactly_k(assistant: Assistant, k: int) -> None:
    """A treatment question also searches its aspects (outcomes, statistics, harms) for ask(); search() and the
    LangChain retriever still hand back the k best chunks, no more."""
    question = "Can Rinvoq help dermatomyositis?"
    assert len(assistant.search(question, k=k)) == k
    assert len(assistant.retriever(k=k).invoke(question)) == k


def test_a_quoted_list_item_shows_what_it_sits_under(assistant: Assistant) -> None:
    """"Consider increasing IVIG frequency or dose" means little alone: its line names the list it belongs to, in
    italics outside the quote, while the quote and its citation stay verbatim."""
    answer = assistant.ask("What should be done if a dermatomyositis patient responds inadequately to IVIG?")
    assert re.search(r"\*[^*]*If inadequate response to IVIG:\* “Consider increasing IVIG frequency or dose” \[\d+\]", answer.text)
    cited = next(c for c in answer.citations if c.quote == "Consider increasing IVIG frequency or dose")
    assert assistant.index.documents[cited.doc_id].text[cited.start : cited.end] == cited.quote


def test_answering_embeds_the_question_never_the_passages(corpus_copy: Path, seed_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Sentence vectors are made at ingest: ask() embeds only the question and its sub-queries."""
    recording = _Recording(embedder)
    assistant = Assistant.load(Settings(corpus_dir=corpus_copy, index_dir=seed_index), embedder=recording, refresh=False)
    answer = assistant.ask(SEED_QUESTION)
    assert len(answer.citations) >= 4 and recording.texts
    quotes = {c.quote for c in answer.citations}
    assert not quotes & set(recording.texts) and len(recording.texts) <= 8, recording.texts


def test_answering_runs_blas_on_one_thread_and_gives_the_setting_back(corpus_copy: Path, seed_index: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """BLAS's idle threads spin and slow the embedder's threads on few cores: one BLAS thread while answering."""
    from threadpoolctl import threadpool_info, threadpool_limits

    def blas_threads() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    seen: list[set[int]] = []

    class Watching(_Recording):
        def embed(self, texts: list[str]):  # type: ignore[no-untyped-def]
            seen.append(blas_threads())
            return super().embed(texts)

    with threadpool_limits(2, user_api="blas"):
        assistant = Assistant.load(Settings(corpus_dir=corpus_copy, index_dir=seed_index), embedder=Watching(embedder), refresh=False)
        assistant.ask(SEED_QUESTION)
        assistant.search(SEED_QUESTION)
        assert seen and all(threads == {1} for threads in seen), seen
        assert blas_threads() == {2}


def test_cli_ask_json_matches_the_answer_fields(assistant: Assistant) -> None:
    settings = assistant.settings
    result = CliRunner().invoke(
        app, ["ask", "--json", "--corpus", str(settings.corpus_dir), "--index", str(settings.index_dir), *store_options(settings), SEED_QUESTION]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"question", "text", "citations", "abstained", "sources", "search_report", "disagreements"}
    assert isinstance(data["abstained"], bool) and data["citations"]
    for citation in data["citations"]:
        fields = {"number", "doc_id", "title", "quote", "start", "end", "section", "chunk_id", "page", "chunk_pages"}
        assert set(citation) == fields
        assert citation["page"] is None and citation["chunk_pages"] is None, "the seed corpus is markdown: no pages"
        text = assistant.index.documents[citation["doc_id"]].text
        assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_cli_reports_bad_input_cleanly(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "notes.odt").write_bytes(b"PK\x03\x04")
    result = CliRunner().invoke(app, ["ingest", "--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")])
    assert result.exit_code != 0
    assert "unsupported file type '.odt'" in result.output and "Traceback" not in result.output


def test_langchain_faces(assistant: Assistant) -> None:
    docs = assistant.retriever(k=5).invoke("upadacitinib acne")
    assert docs and all(d.metadata["doc_id"] in assistant.index.documents for d in docs)
    answer = assistant.as_runnable().invoke("What side effects were reported with upadacitinib?")
    assert isinstance(answer, Answer) and answer.citations
