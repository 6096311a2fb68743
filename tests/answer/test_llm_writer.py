"""Issue 6: the optional LLM writer and its verifier, with LangChain's fake chat models on the real index of corpus/.

The scripted drafts are built from the real extractive answer's citations (found by what their quotes say), so
each test feeds the verifier a correct sentence or one specific fault and checks what it keeps and drops.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import (
    FakeListChatModel,
    GenericFakeChatModel,
)
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatResult
from samples import SEED_QUESTION
from typer.testing import CliRunner

from assistant import Answer, Assistant, ConfigError
from assistant.answer.verify import llm_citation_precision, split_claims
from assistant.answer.write import Writer, make_writer, passages_for, prompt_messages, weighing_lines
from assistant.cli import app
from assistant.settings import LLMSettings

SETTINGS = LLMSettings(backend="openai", model="scripted", base_url="http://127.0.0.1:9/v1", max_retries=0)


@pytest.fixture(scope="module")
def extractive(assistant: Assistant) -> Answer:
    return assistant.ask(SEED_QUESTION)


def number_of(answer: Answer, pattern: str) -> int:
    """The citation number of the passage whose quote matches `pattern`."""
    return next(c.number for c in answer.citations if re.search(pattern, c.quote))


@pytest.fixture(scope="module")
def n(extractive: Answer) -> dict[str, int]:
    return {
        "position": number_of(extractive, r"not currently recommended"),
        "cdasi": number_of(extractive, r"p value = 0\.014"),
        "ivig": number_of(extractive, r"able to discontinue intravenous IG"),
        "improves": number_of(extractive, r"improves cutaneous disease"),
    }


LEAD = "In a case series, upadacitinib improves cutaneous disease in refractory DM [{improves}]."  # the strongest source's finding


def written(assistant: Assistant, extractive: Answer, draft: str, **changes: Any) -> Answer:
    writer = Writer(FakeListChatModel(responses=[draft]), SETTINGS.model_copy(update=changes))
    return writer.answer(extractive, assistant.index)


def dropped_reason(answer: Answer, fragment: str) -> str:
    return next(d["reason"] for d in answer.metadata.dropped_sentences if fragment in d["sentence"])


# ---------------------------------------------------------------- what the verifier keeps and drops

def test_a_correct_answer_is_kept_whole_with_only_its_citations(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    draft = (
        f"In a case series, CDASI improved from 10.5 to 2.5 (p value = 0.014) [{n['cdasi']}]. "
        f"One of the two patients on intravenous IG was able to discontinue it after starting upadacitinib [{n['ivig']}]. "
        f"Another source says Rinvoq is not currently recommended for dermatomyositis in patients already on IVIG [{n['position']}]."
    )
    answer = written(assistant, extractive, draft)
    assert answer.metadata.dropped_sentences == []
    assert answer.metadata.llm_sentences == [c.text for c in split_claims(draft)]
    assert answer.text.startswith(draft)
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", answer.text)}
    assert markers == {c.number for c in answer.citations}, "every marker resolves, and only cited passages are listed"
    assert {n["position"], n["cdasi"], n["ivig"]} <= markers
    assert len(answer.citations) < len(extractive.citations)
    assert {s.doc_id for s in answer.sources} == {c.doc_id for c in answer.citations}
    assert any("3 of 3 sentences passed" in notice for notice in answer.notices)
    assert llm_citation_precision(answer, assistant.index) == 1.0


def test_an_invented_number_is_dropped(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    invented = f"CDASI improved in 80% of patients, from 10.5 to 2.5 [{n['cdasi']}]."
    answer = written(assistant, extractive, f"{LEAD.format(**n)} {invented}")
    assert "80%" not in answer.text
    assert "80%" in dropped_reason(answer, "80%")
    assert answer.text.startswith(LEAD.format(**n))


def test_a_wrong_dose_unit_is_dropped(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    """A number the passage states, with another unit, is a different dose."""
    answer = written(assistant, extractive, f"CDASI fell from 10.5 mg to 2.5 mg [{n['cdasi']}]. Rinvoq is not currently recommended [{n['position']}].")
    assert "10.5 mg" in dropped_reason(answer, "10.5 mg")


def test_a_citation_index_that_does_not_exist_or_does_not_hold_the_fact_is_dropped(
    assistant: Assistant, extractive: Answer, n: dict[str, int]
) -> None:
    missing = max(c.number for c in extractive.citations) + 7
    draft = (
        f"{LEAD.format(**n)} "
        f"Upadacitinib lowered CDASI from 10.5 to 2.5 [{missing}]. "
        f"CDASI fell from 10.5 to 2.5 (p value = 0.014) [{n['ivig']}]."
    )
    answer = written(assistant, extractive, draft, min_kept_fraction=0.3)
    assert f"[{missing}]" in dropped_reason(answer, f"[{missing}]") and "not among the passages" in dropped_reason(answer, f"[{missing}]")
    assert f"states 10.5, which [{n['ivig']}] does not" == dropped_reason(answer, "0.014"), "a real fact, in another passage"
    assert answer.metadata.llm_sentences == [LEAD.format(**n)]
    assert missing not in {c.number for c in answer.citations}


def test_an_inverted_recommendation_is_dropped(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    draft = (
        f"Rinvoq is recommended for dermatomyositis in patients already receiving IVIG [{n['position']}]. "
        f"Yes, Rinvoq can help a patient with dermatomyositis who is taking IVIG [{n['position']}]. "
        f"In a case series, upadacitinib improves cutaneous disease in refractory DM [{n['improves']}]."
    )
    answer = written(assistant, extractive, draft, min_kept_fraction=0.3)
    assert "'for'" in dropped_reason(answer, "is recommended") and "against" in dropped_reason(answer, "is recommended")
    assert "answers 'yes' where" in dropped_reason(answer, "can help"), "the 1.5B model's inversion"
    assert answer.metadata.llm_sentences == [split_claims(draft)[2].text]


def test_an_uncited_sentence_and_an_unmentioned_drug_are_dropped(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    draft = (
        "Upadacitinib is a JAK inhibitor.\n"
        f"- Rinvoq improves cutaneous disease in refractory DM [{n['improves']}].\n"
        f"- Prednisone improves cutaneous disease in refractory DM [{n['improves']}].\n"
        f"- Rinvoq is not currently recommended for dermatomyositis [{n['position']}]."
    )
    answer = written(assistant, extractive, draft)
    assert dropped_reason(answer, "JAK inhibitor.") == "cites no passage"
    assert "Prednisone" in dropped_reason(answer, "Prednisone")
    kept = answer.metadata.llm_sentences
    assert any(s.startswith("Rinvoq improves") for s in kept), "the brand name is supported by 'upadacitinib' (corpus alias)"
    assert "Rinvoq" not in next(c.quote for c in answer.citations if c.number == n["improves"])


def test_too_little_surviving_falls_back_to_the_extractive_answer(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    draft = (
        f"Rinvoq is recommended for dermatomyositis [{n['position']}]. CDASI fell in 90% of patients [{n['cdasi']}]. "
        f"Rinvoq is not currently recommended for dermatomyositis [{n['position']}]."
    )
    answer = written(assistant, extractive, draft, min_kept_fraction=0.5)
    assert answer.text == extractive.text and answer.citations == extractive.citations
    assert any("1 of 3 sentences" in notice and "extractive answer" in notice for notice in answer.notices)
    assert len(answer.metadata.dropped_sentences) == 2
    assert llm_citation_precision(answer, assistant.index) is None


def test_not_covered_falls_back_with_the_reason(assistant: Assistant, extractive: Answer) -> None:
    answer = written(assistant, extractive, "Not covered by the indexed sources.")
    assert answer.text == extractive.text
    assert "do not cover" in answer.metadata.dropped_sentences[0]["reason"]


def test_precision_hook_rereads_the_documents(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    answer = written(assistant, extractive, f"CDASI fell from 10.5 to 2.5 (p value = 0.014) [{n['cdasi']}].")
    assert llm_citation_precision(answer, assistant.index) == 1.0
    answer.metadata.llm_sentences = [f"CDASI fell from 10.5 to 1.5 [{n['cdasi']}].", *answer.metadata.llm_sentences]
    assert llm_citation_precision(answer, assistant.index) == 0.5
    assert llm_citation_precision(extractive, assistant.index) is None


# ---------------------------------------------------------------- answer-level checks

def case_series_cited(assistant: Assistant, answer: Answer) -> bool:
    series = next(d for d in assistant.index.documents if d.startswith("beckett"))
    return any(c.doc_id == series for c in answer.citations) and any(f"[{c.number}]" in answer.text for c in answer.citations if c.doc_id == series)


def test_a_yes_that_contradicts_its_own_sentence_is_dropped(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    draft = (
        f"Yes, Rinvoq (upadacitinib) is not currently recommended as an established treatment for dermatomyositis "
        f"in patients already receiving IVIG therapy [{n['position']}]. "
        f"In a case series, upadacitinib improves cutaneous disease in refractory DM [{n['improves']}]. "
        f"No, Rinvoq is not currently recommended for dermatomyositis in patients already on IVIG [{n['position']}]."
    )
    answer = written(assistant, extractive, draft, min_kept_fraction=0.3)
    assert dropped_reason(answer, "Yes, Rinvoq") == "opens with 'yes' but the sentence reads as 'against'"
    assert [s[:3] for s in answer.metadata.llm_sentences] == ["In ", "No,"], "a 'no' that agrees with its sentence stays"


def test_a_draft_citing_one_of_two_disagreeing_sources_gets_the_other_added(
    assistant: Assistant, extractive: Answer, n: dict[str, int]
) -> None:
    assert extractive.disagreements, "the seed answer flags the disagreement"
    draft = LEAD.format(**n)
    answer = written(assistant, extractive, draft)
    assert answer.text.startswith(draft), "the model's sentence first"
    added = answer.metadata.added_sentences
    assert len(added) == 1
    number = int(re.search(r"\[(\d+)\]$", added[0]).group(1))
    quote = next(c.quote for c in answer.citations if c.number == number)
    (claim,) = extractive.synthesis.contradicted  # type: ignore[union-attr]
    assert number == claim.claim in extractive.bottom_line, "the bottom line's sentence of the left-out source"
    assert added[0] == f"*Contradicted by {' '.join(f'[{e}]' for e in claim.evidence)}:* “{quote}” [{number}]", "verbatim, with its label"
    assert any("left out" in notice and "Rinvoq" in notice for notice in answer.notices)
    unchecked = written(assistant, extractive, draft, require_sources=False)
    assert not unchecked.metadata.added_sentences and unchecked.text.startswith(draft), "off: the draft as verified"


def test_a_draft_that_opens_with_the_contradicted_claim_is_rejected(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    """Every sentence is supported by its passage, but the opening leads with the claim the case series refutes."""
    draft = f"Rinvoq is not currently recommended for dermatomyositis in patients already on IVIG [{n['position']}]. {LEAD.format(**n)}"
    answer = written(assistant, extractive, draft)
    assert answer.metadata.dropped_sentences == [], "no sentence is unsupported"
    assert answer.text == extractive.text, "the extractive answer instead"
    assert any("its opening cites only a source whose claim of missing evidence is contradicted" in notice for notice in answer.notices)
    assert written(assistant, extractive, f"{LEAD.format(**n)} {draft.split('. ')[0]}.").text.startswith(LEAD.format(**n)), "the same, led by the finding, is kept"


def test_a_draft_that_opens_against_the_strongest_source_is_rejected(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    """An opening that reads 'against' while the case series, which the synthesis leads with, supports it."""
    assert extractive.synthesis is not None and extractive.synthesis.sources[0].stance == "supports"
    conclusion = number_of(extractive, r"insufficient evidence to recommend")
    draft = f"There is currently insufficient evidence to recommend Rinvoq for dermatomyositis in patients receiving IVIG [{conclusion}]. {LEAD.format(**n)}"
    answer = written(assistant, extractive, draft)
    assert answer.text == extractive.text and any("its opening" in notice for notice in answer.notices)


def test_marker_first_fragments_are_not_an_answer(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    """The 0.5B model's list: verbatim pieces with the marker first."""
    draft = f"[{n['ivig']}] Two as monotherapy\n[{n['improves']}] JAK1 selectivity introduces a second generation of JAK inhibitors"
    answer = written(assistant, extractive, draft)
    assert all("fragment led by its citation marker" in d["reason"] for d in answer.metadata.dropped_sentences)
    assert answer.text == extractive.text and any("extractive answer" in notice for notice in answer.notices)


def test_a_range_inside_parentheses_is_one_sentence_and_kept(assistant: Assistant, extractive: Answer, n: dict[str, int]) -> None:
    sentence = (
        f"CDASI improved from a median of 10.5 (IQR 7.8–12.2) to 2.5 (IQR 0.75–5.5) (p value = 0.014) [{n['cdasi']}]."
    )
    assert [c.text for c in split_claims(sentence)] == [sentence]
    answer = written(assistant, extractive, f"{sentence} Rinvoq is not currently recommended for dermatomyositis [{n['position']}].")
    assert answer.metadata.dropped_sentences == [] and answer.text.startswith(sentence)


@pytest.mark.parametrize(
    "draft",
    [
        "Rinvoq is not currently recommended for dermatomyositis in patients already on IVIG [{position}].",
        "Yes, Rinvoq is not currently recommended [{position}]. Not covered by the indexed sources.",
        "[{ivig}] Two as monotherapy\n[{position}] not currently recommended",
        "Upadacitinib is a JAK inhibitor with no evidence in dermatomyositis.",
    ],
    ids=["one source", "contradiction", "fragments", "uncited"],
)
def test_no_draft_drops_the_case_series(assistant: Assistant, extractive: Answer, n: dict[str, int], draft: str) -> None:
    """Whatever the model writes, the seed question's answer keeps the evidence seed 000 missed."""
    answer = written(assistant, extractive, draft.format(**n))
    assert case_series_cited(assistant, answer)


# ---------------------------------------------------------------- the prompt

def test_the_prompt_numbers_the_extractive_passages_with_context(assistant: Assistant, extractive: Answer) -> None:
    passages = passages_for(extractive, assistant.index, context_chars=160)
    assert [p.number for p in passages] == [c.number for c in extractive.citations]
    assert all(p.quote == c.quote for p, c in zip(passages, extractive.citations, strict=True))
    assert any(p.before or p.after for p in passages), "a little chunk context around the quotes"
    human = prompt_messages(SEED_QUESTION, passages)[1].text
    assert human.rstrip().endswith("like [1].") and f"Question: {SEED_QUESTION}" in human
    for cite in extractive.citations:
        assert f"[{cite.number}] {cite.quote}\n" in human


def test_the_prompt_gives_grades_stances_and_the_contradicted_claim(assistant: Assistant, extractive: Answer) -> None:
    human = prompt_messages(SEED_QUESTION, passages_for(extractive, assistant.index, 160), weighing_lines(extractive))[1].text
    sources = human.split("Passages:", 1)[0]
    assert sources.startswith("Sources, strongest evidence first:")
    assert sources.index("peer-reviewed case series (10 patients, 2024); stance: supports") < sources.index("stance: lacking")
    (claim,) = extractive.synthesis.contradicted  # type: ignore[union-attr]
    assert f"[{claim.claim}] claims evidence is lacking: CONTRADICTED by" in sources
    assert "evidence level 5 of 9" in human and "evidence level 9 of 9" in human


# ---------------------------------------------------------------- API, streaming, conversation

def test_ask_with_a_writer_and_streaming_agree(assistant: Assistant, n: dict[str, int]) -> None:
    draft = (
        f"CDASI improved from 10.5 to 2.5 (p value = 0.014) [{n['cdasi']}]. "
        f"Another source says Rinvoq is not currently recommended for dermatomyositis in patients already on IVIG [{n['position']}]."
    )
    asked = assistant.ask(SEED_QUESTION, writer=Writer(FakeListChatModel(responses=[draft]), SETTINGS))
    chat = GenericFakeChatModel(messages=iter([draft]))
    updates = list(assistant.stream_answer(SEED_QUESTION, writer=Writer(chat, SETTINGS)))
    partials = [u.text for u in updates[:-1]]
    assert len(partials) > 5 and all(u.answer is None for u in updates[:-1])
    assert all(b.startswith(a) for a, b in zip(partials, partials[1:])), "the draft grows"
    final = updates[-1].answer
    assert final is not None and final.text == asked.text == updates[-1].text
    assert final.citations == asked.citations


def test_a_written_answer_within_a_scope_still_says_what_it_searched(assistant: Assistant) -> None:
    """Issue 29: the LLM writes its own text; the scope line and report survive it, asked and streamed alike."""
    only = ["beckett-2024-upadacitinib-myositis-case-series"]
    draft = LEAD.format(improves=number_of(assistant.ask(SEED_QUESTION, sources=only), r"improves cutaneous disease"))
    asked = assistant.ask(SEED_QUESTION, sources=only, writer=Writer(FakeListChatModel(responses=[draft]), SETTINGS))
    scope = asked.search_report.scope
    assert asked.metadata.llm_sentences and scope is not None and asked.text.startswith(scope.line + "\n\n")
    updates = list(assistant.stream_answer(SEED_QUESTION, sources=only, writer=Writer(GenericFakeChatModel(messages=iter([draft])), SETTINGS)))
    assert updates[-1].answer is not None and updates[-1].answer.text == updates[-1].text == asked.text


def test_conversation_streams_and_records_the_turn(assistant: Assistant, n: dict[str, int]) -> None:
    conversation = assistant.conversation()
    draft = LEAD.format(**n)
    assistant_writer, assistant.writer = assistant.writer, Writer(FakeListChatModel(responses=[draft]), SETTINGS)
    try:
        updates = list(conversation.stream_answer(SEED_QUESTION))
    finally:
        assistant.writer = assistant_writer
    final = updates[-1].answer
    assert final is not None and final.metadata.turn == 1 and final.metadata.llm_sentences
    assert conversation.turns[-1].answer is final


def test_a_stream_abandoned_half_way_leaves_the_conversation_usable(assistant: Assistant, n: dict[str, int]) -> None:
    """A closed browser tab stops reading a stream: no turn is recorded and the next question is answered at once
    (the conversation's lock is never held across a yield)."""
    conversation = assistant.conversation()
    draft = f"Rinvoq is not currently recommended for dermatomyositis [{n['position']}]."
    assistant_writer, assistant.writer = assistant.writer, Writer(GenericFakeChatModel(messages=iter([draft])), SETTINGS)
    try:
        stream = conversation.stream_answer(SEED_QUESTION)
        assert next(stream).answer is None, "a draft arrives first"
        finished = ThreadPoolExecutor(1).submit(conversation.ask, "How many patients were in the case series?", suggest=False)
        answer = finished.result(timeout=60)
    finally:
        assistant.writer = assistant_writer
    assert answer.metadata.turn == 1 and [t.answer for t in conversation.turns] == [answer]
    stream.close()


def test_extractive_is_the_default(assistant: Assistant) -> None:
    assert assistant.writer is None and make_writer(LLMSettings(), {}) is None


# ---------------------------------------------------------------- failures, retries, secrets

class DownModel(BaseChatModel):
    """A chat model whose endpoint always fails with `error`, counting the calls."""

    error: Exception
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "down"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        self.calls += 1
        raise self.error


class Unauthorized(Exception):
    status_code = 401


def test_an_endpoint_that_is_down_is_retried_then_the_extractive_answer_says_why(assistant: Assistant, extractive: Answer) -> None:
    model = DownModel(error=ConnectionError("Connection refused"))
    answer = Writer(model, SETTINGS.model_copy(update={"max_retries": 2, "backoff_s": 0.01})).answer(extractive, assistant.index)
    assert model.calls == 3
    assert answer.text == extractive.text
    notice = answer.notices[-1]
    assert "http://127.0.0.1:9/v1" in notice and "model scripted" in notice and "3 attempts" in notice
    assert "--base-url" in notice and "Connection refused" in notice


def test_a_client_error_is_not_retried_and_the_key_never_shows(assistant: Assistant, extractive: Answer) -> None:
    secret = "sk-test-4f9a1c0ffee"
    model = DownModel(error=Unauthorized(f"Incorrect API key provided: {secret}"))
    writer = Writer(model, SETTINGS.model_copy(update={"max_retries": 3}), secret=secret)
    answer = writer.answer(extractive, assistant.index)
    assert model.calls == 1
    assert "Unauthorized" in answer.notices[-1]
    assert secret not in json.dumps(answer.to_dict()) and secret not in repr(writer)


def test_a_real_openai_client_against_a_closed_port(assistant: Assistant, extractive: Answer, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("langchain_openai", reason="the `llm` extra is not installed: pip install -e '.[llm]'")
    secret = "sk-test-7d1e2b"
    monkeypatch.setenv("MY_LLM_KEY", secret)
    settings = SETTINGS.model_copy(update={"api_key_env": "MY_LLM_KEY", "max_retries": 1, "backoff_s": 0.01, "timeout_s": 5})
    writer = make_writer(settings, {"MY_LLM_KEY": secret})
    answer = assistant.ask(SEED_QUESTION, writer=writer)
    assert answer.text == extractive.text
    assert "did not answer after 2 attempts" in answer.notices[-1] and "127.0.0.1:9" in answer.notices[-1]
    assert secret not in json.dumps(answer.to_dict()) and secret not in repr(writer)


def test_unknown_backends_and_missing_models_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="Valid backends: extractive, openai, ollama"):
        make_writer(LLMSettings(backend="gpt"), {})
    with pytest.raises(ConfigError, match="--model"):
        make_writer(LLMSettings(backend="ollama"), {})


def test_cli_rejects_an_unknown_backend_before_indexing(tmp_path: Any) -> None:
    result = CliRunner().invoke(app, ["ask", SEED_QUESTION, "--backend", "gpt", "--model", "x", "--index", str(tmp_path / "idx")])
    assert result.exit_code == 2
    assert "Valid backends: extractive, openai, ollama" in result.output
    assert not (tmp_path / "idx").exists()


def test_sentence_splitting_keeps_markers_with_their_sentence() -> None:
    claims = split_claims("**Answer:** CDASI fell to 2.5 (p = 0.014). [3] It was 10.5 at baseline [3][4].\n- One stopped [2, 5-6].")
    assert [c.cited for c in claims] == [(3,), (3, 4), (2, 5, 6)]
    assert claims[0].body == "CDASI fell to 2.5 (p = 0.014)."


def test_a_draft_that_takes_a_side_on_a_condition_no_source_names_is_rejected(assistant: Assistant) -> None:
    """Asked of the myositis case series alone whether upadacitinib helped psoriasis, a draft opening with the series'
    true finding on dermatomyositis reads as 'yes' to the question; the model is told no source names psoriasis, and
    the extractive answer, which says so in its opening line, stands instead."""
    only = ["beckett-2024-upadacitinib-myositis-case-series"]
    question = "Did upadacitinib help psoriasis?"
    extractive = assistant.ask(question, sources=only)
    assert extractive.synthesis is not None and extractive.synthesis.unnamed == ("psoriasis",)
    assert "- No source names psoriasis: none takes a side on it." in weighing_lines(extractive)
    draft = LEAD.format(improves=number_of(extractive, r"improves cutaneous disease"))
    answer = Writer(FakeListChatModel(responses=[draft]), SETTINGS).answer(extractive, assistant.index)
    assert answer.metadata.dropped_sentences == [], "the sentence is true of its passage"
    assert answer.text == extractive.text and any("which no source names" in notice for notice in answer.notices)
