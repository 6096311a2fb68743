"""Issue 29, item 2: which question words can make an answer 'not covered'. Framing words never do; the share the
missing topic words carry is the smaller of their corpus-idf share and their English-rarity share, so a corpus of one
document (where every word it lacks has the top idf) does not turn one rare word into an abstention."""

from __future__ import annotations

from assistant.answer.question import is_framing
from assistant.answer.understand import Concept, information, missing_share


def concept(label: str, idf: float, known: bool, zipf: float, rewords: str = "") -> Concept:
    return Concept(label, (frozenset({label}),), idf, known, zipf=zipf, rewords=rewords)


def test_framing_words_say_what_is_asked_not_what_about() -> None:
    assert all(is_framing(w) for w in ("percentage", "acronym", "Proportion", "main", "role", "dose"))
    assert not any(is_framing(w) for w in ("pneumonia", "octogenarians", "subside", "upadacitinib", "mortality"))


def test_a_missing_framing_word_is_no_gap() -> None:
    # "What is the acronym MERS-CoV?" on one paper that spells MERS-CoV out but never writes "acronym"
    words = [concept("acronym", 2.0, False, 2.9), concept("mers", 0.3, True, 1.5)]
    assert missing_share(words) == ([], 0.0)


def test_one_rare_word_in_a_one_document_corpus_does_not_carry_the_question() -> None:
    # "Cardiac reoperations in octogenarians: do they really benefit?" over its own abstract ("mean age 81.9 years"):
    # by idf (every known word 0.3, the missing one 1.0) "octogenarians" carries over half; by English rarity a third.
    words = [concept("cardiac", 0.3, True, 3.6), concept("reoperations", 0.3, True, 1.0), concept("octogenarians", 1.0, False, 1.6)]
    missing, share = missing_share(words)
    assert [c.label for c in missing] == ["octogenarians"]
    by_idf = 1.0 / 1.6
    by_english = information(words[2]) / sum(map(information, words))
    assert by_english < 0.4 < by_idf and share == by_english


def test_a_question_about_something_else_is_still_mostly_missing() -> None:
    # "Does glorbitis respond to zanubrutinib?" over a corpus about neither
    words = [concept("glorbitis", 2.0, False, 0.0), concept("zanubrutinib", 2.0, False, 0.0), concept("respond", 0.5, True, 4.2)]
    missing, share = missing_share(words)
    assert [c.label for c in missing] == ["glorbitis", "zanubrutinib"] and share > 0.75


def test_everyday_and_reworded_words_count_neither_way() -> None:
    words = [concept("during", 1.0, False, 6.0), concept("breathing", 2.0, False, 3.0, rewords="lung disease"), concept("asthma", 0.5, True, 3.5)]
    assert missing_share(words) == ([], 0.0)
