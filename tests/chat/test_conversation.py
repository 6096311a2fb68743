"""Follow-up questions on the real model: context carried, topic switches clean, numbers stable, no leaks."""

from __future__ import annotations

from samples import SEED_QUESTION

from assistant import Assistant


def test_a_follow_up_carries_the_earlier_entities(assistant: Assistant) -> None:
    conv = assistant.conversation()
    conv.ask(SEED_QUESTION, suggest=False)
    answer = conv.ask("What side effects were seen with it?", suggest=False)
    assert answer.metadata.follow_up and "Rinvoq" in answer.metadata.resolved_question
    assert any("acne" in c.quote for c in answer.citations), "the follow-up is about upadacitinib's harms"


def test_it_and_the_drug_become_the_earlier_turns_main_entity(assistant: Assistant) -> None:
    conv = assistant.conversation()
    conv.ask("How many patients were treated with upadacitinib in the myositis case series?", suggest=False)
    where = conv.ask("Where was the study done?", suggest=False)
    assert "done" not in conv.turns[-1].entities, "a word rare in the corpus but common in English is no topic"
    how_long = conv.ask("How long were they on the drug?", suggest=False)
    assert how_long.metadata.resolved_question == "How long were they on upadacitinib?", where.metadata.resolved_question
    assert any("9.5 months" in c.quote for c in how_long.citations)


def test_it_after_the_questions_own_entity_means_that_entity(assistant: Assistant) -> None:
    conv = assistant.conversation()
    conv.ask(SEED_QUESTION, suggest=False)
    answer = conv.ask("And methotrexate, how is it dosed?", suggest=False)
    assert answer.metadata.resolved_question == "And methotrexate, how is it dosed?"
    assert any("15-20 mg/m²/week" in c.quote for c in answer.citations)


def test_it_as_what_one_stops_is_the_latest_drug_not_the_latest_topic(assistant: Assistant) -> None:
    """"How many stopped it?" after "What about the lungs?" was searched as "How many stopped lungs?" and quoted the
    dyspnoea finding; one stops a drug."""
    conv = assistant.conversation()
    conv.ask(SEED_QUESTION, suggest=False)
    conv.ask("What about the lungs?", suggest=False)
    answer = conv.ask("How many stopped it?", suggest=False)
    assert answer.metadata.resolved_question == "How many stopped Rinvoq?"
    assert any("remained on upadacitinib" in c.quote for c in answer.citations if c.number in answer.bottom_line)


def test_a_new_topic_is_not_polluted_by_the_old_one(assistant: Assistant) -> None:
    conv = assistant.conversation()
    conv.ask(SEED_QUESTION, suggest=False)
    answer = conv.ask("What dose of methotrexate is used?", suggest=False)
    assert not answer.metadata.follow_up and answer.metadata.resolved_question == "What dose of methotrexate is used?"
    assert any("15-20 mg/m²/week" in c.quote for c in answer.citations)


def test_a_drug_named_two_turns_back_outlasts_everyday_words(assistant: Assistant) -> None:
    conv = assistant.conversation()
    conv.ask("Had any patients in the upadacitinib case series tried tofacitinib before?", suggest=False)
    conv.ask("How did their CDASI scores change after switching?", suggest=False)
    answer = conv.ask("What dose had they been taking before the switch?", suggest=False)
    searched = answer.metadata.resolved_question
    assert "tofacitinib" in searched, f"the drug is carried before rarer everyday words: {searched}"
    assert not answer.abstained and any("5 mg" in c.quote and "tofacitinib" in c.quote for c in answer.citations)


def test_four_turns_keep_context_and_citation_numbers(assistant: Assistant) -> None:
    conv = assistant.conversation()
    first = conv.ask(SEED_QUESTION, suggest=False)
    turns = [conv.ask(q, suggest=False) for q in ("What side effects were seen with it?", "And did anyone stop IVIG?", "What happened to their lung disease?")]
    assert all(t.metadata.follow_up for t in turns)
    numbers = {(c.doc_id, c.start): c.number for c in first.citations}
    for turn in turns:
        for c in turn.citations:
            if (c.doc_id, c.start) in numbers:
                assert numbers[(c.doc_id, c.start)] == c.number, "a passage keeps its number across turns"
    assert any("discontinue intravenous IG" in c.quote for c in turns[1].citations)


def test_conversations_do_not_leak_into_each_other(assistant: Assistant) -> None:
    one, two = assistant.conversation(), assistant.conversation()
    one.ask(SEED_QUESTION, suggest=False)
    answer = two.ask("What side effects were seen with it?", suggest=False)
    assert "Rinvoq" not in answer.metadata.resolved_question, "a fresh conversation has no earlier turns"


def test_suggestions_are_answerable(assistant: Assistant) -> None:
    answer = assistant.conversation().ask(SEED_QUESTION)
    assert answer.suggestions
    for question in answer.suggestions:
        assert not assistant.ask(question).abstained, f"suggestion abstains: {question}"


def test_the_offline_condenser_plugs_into_a_langchain_chain(assistant: Assistant) -> None:
    conv = assistant.conversation()
    conv.ask(SEED_QUESTION, suggest=False)
    chain = conv.condenser() | assistant.retriever(k=5)
    docs = chain.invoke({"input": "What side effects were seen with it?"})
    assert any("acne" in d.page_content or "side effects" in d.page_content for d in docs)
