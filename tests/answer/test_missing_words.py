"""Issue 29, item 2: which question words can make an answer 'not covered'. Framing words ("percentage", "acronym")
never do, nor everyday words or words that reword a topic the corpus has; the missing topic words' share of the
question's idf decides."""

from __future__ import annotations

import pytest

from assistant.answer.question import is_adverb, is_framing
from assistant.answer.understand import Concept, information, missing_share


def concept(label: str, idf: float, known: bool, zipf: float, rewords: str = "") -> Concept:
    return Concept(label, (frozenset({label}),), idf, known, zipf=zipf, rewords=rewords)


def test_framing_words_say_what_is_asked_not_what_about() -> None:
    assert all(is_framing(w) for w in ("percentage", "acronym", "Proportion", "main", "role", "dose"))
    assert not any(is_framing(w) for w in ("pneumonia", "octogenarians", "subside", "upadacitinib", "mortality"))


@pytest.mark.parametrize("word", ["adversely", "reliably", "clinically", "spontaneously", "accurately", "significantly"])
def test_an_adverb_says_how_not_what(word: str) -> None:
    # "Discharging patients earlier: does it adversely affect quality of care?" asks about quality of care
    assert is_adverb(word) and is_framing(word)


@pytest.mark.parametrize("word", ["elderly", "assembly", "anomaly", "butterfly", "family", "costly", "Kimberly", "psoriasis"])
def test_a_word_that_only_ends_in_ly_is_no_adverb(word: str) -> None:
    # "Does it help elderly patients?": the adjective "elder" is rarer than "elderly", so the word names who
    assert not is_adverb(word)


@pytest.mark.parametrize("word", ["subcutaneously", "intravenously", "topically", "intranasally", "preoperatively", "prophylactically", "intermittently"])
def test_a_route_or_a_timing_names_what_is_asked(word: str) -> None:
    # "Can methotrexate be given subcutaneously?" of a corpus that never says so is a gap, not a way of asking
    assert not is_framing(word)


def test_a_missing_adverb_is_no_gap() -> None:
    # "Can a surgeon detect early lymphedema reliably?" over an abstract that never writes "reliably"
    words = [concept("reliably", 2.0, False, 3.4), concept("lymphedema", 1.0, True, 1.8)]
    assert missing_share(words) == ([], 0.0)


def test_a_missing_framing_word_is_no_gap() -> None:
    # "What is the acronym MERS-CoV?" on one paper that spells MERS-CoV out but never writes "acronym"
    words = [concept("acronym", 2.0, False, 2.9), concept("mers", 0.3, True, 1.5)]
    assert missing_share(words) == ([], 0.0)


def test_a_question_about_something_else_is_still_mostly_missing() -> None:
    # "Does glorbitis respond to zanubrutinib?" over a corpus about neither
    words = [concept("glorbitis", 2.0, False, 0.0), concept("zanubrutinib", 2.0, False, 0.0), concept("respond", 0.5, True, 4.2)]
    missing, share = missing_share(words)
    assert [c.label for c in missing] == ["glorbitis", "zanubrutinib"] and share > 0.75


def test_everyday_and_reworded_words_count_neither_way() -> None:
    words = [concept("during", 1.0, False, 6.0), concept("breathing", 2.0, False, 3.0, rewords="lung disease"), concept("asthma", 0.5, True, 3.5)]
    assert missing_share(words) == ([], 0.0)


def test_over_one_document_rarity_in_english_weighs_the_words_not_idf() -> None:
    # "Cardiac reoperations in octogenarians: do they really benefit?" over its own abstract ("mean age 81.9 years"):
    # in an index of one document every word it has shares one idf and the missing one carries most of the question.
    words = [concept("cardiac", 0.3, True, 3.6), concept("reoperations", 0.3, True, 1.0), concept("octogenarians", 1.0, False, 1.6)]
    _, by_idf = missing_share(words)
    missing, by_english = missing_share(words, one_document=True)
    assert [c.label for c in missing] == ["octogenarians"]
    assert by_english == information(words[2]) / sum(map(information, words)) and by_english < 0.4 < by_idf
