"""Issue 29, item 2: which question words can make an answer 'not covered'. Framing words ("percentage", "acronym")
never do, nor everyday words or words that reword a topic the corpus has; the missing topic words' share of the
question's idf decides."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.answer.compose import unnamed_outcome, verdict_asked, verdict_on_nothing_named
from assistant.answer.question import is_adverb, is_framing
from assistant.answer.understand import (
    CONTRAST_WORDS,
    Concept,
    QueryPlan,
    contrast_questions,
    information,
    missing_share,
    nearest_words,
    specific_words,
    unnamed_candidates,
    worded_by_the_document,
)


def concept(label: str, idf: float, known: bool, zipf: float, rewords: str = "") -> Concept:
    return Concept(label, (frozenset({label}),), idf, known, zipf=zipf, rewords=rewords)


def test_framing_words_say_what_is_asked_not_what_about() -> None:
    assert all(is_framing(w) for w in ("percentage", "acronym", "Proportion", "main", "role", "dose"))
    assert not any(is_framing(w) for w in ("pneumonia", "octogenarians", "subside", "upadacitinib", "mortality"))


@pytest.mark.parametrize("word", ["reliable", "feasible", "accurate", "better", "different", "association", "related", "underrecognised", "underdiagnosed"])
def test_a_word_asking_for_a_judgment_names_no_topic(word: str) -> None:
    # "Is the INR reliable?": the abstract reports a correlation of 0.96, never the word "reliable"
    assert is_framing(word)


@pytest.mark.parametrize("word", ["reliance", "betterment", "relapse", "diagnosed", "linkage", "truth"])
def test_a_word_only_like_a_judgment_is_a_topic(word: str) -> None:
    assert not is_framing(word)


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


def test_within_one_document_only_a_missing_word_naming_no_condition_is_put_to_the_contrast() -> None:
    # "Does methotrexate help psoriasis in octogenarians?" over a rheumatoid arthritis trial that never writes either
    words = (concept("methotrexate", 1.0, True, 2.0), concept("psoriasis", 1.0, False, 2.9), concept("octogenarians", 1.0, False, 1.6), concept("help", 1.0, False, 5.5))
    asked = contrast_questions("Does methotrexate help psoriasis in octogenarians?", words)
    assert [c.label for c, _ in asked] == ["octogenarians"], "a known, a condition's and an everyday word are not put to it"
    assert asked[0][1][0] == f"Does methotrexate help psoriasis in {CONTRAST_WORDS[0]}?" and len(asked[0][1]) == len(CONTRAST_WORDS)


def test_a_word_counts_as_the_documents_meaning_only_by_the_margin_over_every_contrast() -> None:
    words = (concept("octogenarians", 1.0, False, 1.6), concept("ferritin", 1.0, False, 2.0))
    contrasts = np.array([[0.40, 0.45, 0.41], [0.50, 0.49, 0.52]])  # the best sentence's cosine with each contrast word
    marked = worded_by_the_document(words, list(words), 0.53, contrasts, 0.06)
    assert [c.rewords for c in marked] == ["the document", ""], "0.08 over the closest contrast counts; 0.01 does not"
    assert missing_share(marked, one_document=True)[0] == [marked[1]]


def test_a_verdict_on_a_named_drug_is_on_nothing_named_when_the_sources_use_none_of_its_other_words() -> None:
    rinvoq, weight, loss = concept("Rinvoq", 1.0, True, 0.0), concept("weight", 1.0, False, 5.1), concept("loss", 1.0, False, 5.0)
    plan = QueryPlan("Does Rinvoq help weight loss?", (), "", "", (rinvoq, weight, loss))
    assert verdict_on_nothing_named(plan, (rinvoq,)) == [weight, loss], "every word but the drug unused, however common"
    used = QueryPlan("Does Rinvoq help muscle weakness?", (), "", "", (rinvoq, weight, concept("weakness", 1.0, True, 4.0)))
    assert verdict_on_nothing_named(used, (rinvoq,)) == [], "one word the sources use"
    asked = QueryPlan("What is Rinvoq's weight loss?", (), "", "", (rinvoq, weight, loss))
    assert verdict_on_nothing_named(asked, (rinvoq,)) == [], "no verdict asked"
    assert verdict_on_nothing_named(plan, plan.concepts) == [], "no drug named: the subject is every concept"
    reduce = concept("reduce", 1.0, True, 5.2)
    effect = QueryPlan("Does Rinvoq reduce weight loss?", (), "", "", (rinvoq, reduce, weight, loss))
    assert verdict_on_nothing_named(effect, (rinvoq,)) == [weight, loss], "a verb of effect names no topic"


def test_an_outcome_the_sources_never_name_is_unnamed_though_they_name_the_rest() -> None:
    rinvoq, dm = concept("Rinvoq", 1.0, True, 0.0), concept("dermatomyositis", 3.0, True, 0.0)
    hair, loss = concept("hair", 1.0, False, 5.1), concept("loss", 1.0, False, 5.0)
    plan = QueryPlan("Does Rinvoq cause hair loss in dermatomyositis?", (), "", "", (dm, rinvoq, hair, loss))
    assert verdict_on_nothing_named(plan, (rinvoq,)) == [], "the sources name dermatomyositis"
    assert unnamed_outcome(plan, (rinvoq,)) == ["hair loss"], "but never the outcome asked about"
    weakness = QueryPlan("Does Rinvoq help muscle weakness in dermatomyositis?", (), "", "", (dm, rinvoq, concept("muscle", 1.0, True, 4.5), concept("weakness", 1.0, True, 4.0)))
    assert unnamed_outcome(weakness, (rinvoq,)) == [], "an outcome the sources name"
    person = QueryPlan("Does Rinvoq help patients with hair loss?", (), "", "", (rinvoq, concept("patients", 1.0, True, 5.0), hair, loss))
    assert unnamed_outcome(person, (rinvoq,)) == [], "a person is no outcome; what follows 'with' is who is treated"
    assert unnamed_outcome(plan, plan.concepts) == [], "no drug named"
    asked = QueryPlan("What hair loss did Rinvoq cause in dermatomyositis?", (), "", "", (dm, rinvoq, hair, loss))
    assert unnamed_outcome(asked, (rinvoq,)) == [], "no verdict asked"


def test_a_condition_never_rewords_another_condition() -> None:
    # "psoriasis" is close in meaning to "dermatomyositis" (both skin diseases); asked of a dermatomyositis series, the
    # sources never name it, and it is the outcome asked about
    rinvoq, dm = concept("Rinvoq", 1.0, True, 0.0), concept("dermatomyositis", 3.0, True, 0.0)
    psoriasis = concept("psoriasis", 1.0, False, 2.9, rewords="dermatomyositis")
    plan = QueryPlan("Does Rinvoq help psoriasis in dermatomyositis?", (), "", "", (dm, rinvoq, psoriasis))
    assert unnamed_outcome(plan, (rinvoq,)) == ["psoriasis"]
    breathing = concept("breathing", 1.0, False, 3.4, rewords="lung disease")
    facet = QueryPlan("Does Rinvoq help breathing in lung disease?", (), "", "", (rinvoq, concept("lung disease", 3.0, True, 0.0), breathing))
    assert unnamed_outcome(facet, (rinvoq,)) == [], "a word that is no condition still rewords one"


def test_a_question_for_content_asks_no_verdict_unless_it_names_a_drug() -> None:
    cells = QueryPlan("What is the role of dendritic cells in the immune response?", (), "", "", (concept("dendritic", 3.0, True, 2.5),))
    assert not verdict_asked(cells), "'response' is the immune response, no treatment's"
    rinvoq = Concept("Rinvoq", (frozenset({"rinvoq"}), frozenset({"upadacitinib"})), 3.0, True)
    assert verdict_asked(QueryPlan("What is the efficacy of Rinvoq in dermatomyositis?", (), "", "", (rinvoq,))), "an alias with a drug's stem"
    assert verdict_asked(QueryPlan("Does the immune response improve?", (), "", "", ())), "a yes/no question"
    assert verdict_asked(QueryPlan("How well does exercise work for knee pain?", (), "", "", ())), "'how well' asks for one"


def test_only_a_specific_word_no_passage_uses_in_any_form_is_offered_a_nearest_word() -> None:
    pimples = concept("pimples", 5.0, False, 2.9)
    plan = (
        concept("Rinvoq", 6.0, True, 0.0), pimples, concept("cause", 1.0, False, 5.4),  # everyday: no topic
        concept("percentage", 3.0, False, 4.0),  # framing
        concept("breathing", 3.0, False, 4.0, rewords="lung disease"),
    )
    assert unnamed_candidates(plan) == [pimples]
    spelt = Concept("compliant", (frozenset({"compliant"}),), 4.0, False, zipf=3.0, forms=("compliance",))
    assert unnamed_candidates((spelt,)) == [], "the corpus writes it otherwise: it is no missing word"


def test_the_words_a_passage_may_say_instead_are_its_uncommon_words_the_question_does_not_name() -> None:
    texts = ["One patient discontinued upadacitinib due to severe facial acne.", "Acne resolved; the patient restarted."]
    words = specific_words(texts, lambda w: w == "upadacitinib")
    assert words[:2] == ["discontinued", "facial"] and "acne" in words and words.count("acne") == 1
    assert not {"patient", "severe", "one", "due", "the", "upadacitinib"} & set(words)


def test_a_nearest_word_is_offered_only_as_close_as_the_threshold() -> None:
    plan = (concept("Rinvoq", 6.0, True, 0.0), concept("pimples", 5.0, False, 2.9), concept("heartburn", 5.0, False, 2.9))
    asked = list(plan[1:])
    vectors = np.array([[1.0, 0.0], [0.0, 1.0]])
    words = ["acne", "calcinosis"]
    word_vectors = np.array([[0.8, 0.6], [0.6, 0.8]])
    marked = nearest_words(plan, asked, vectors, words, word_vectors, threshold=0.7)
    assert [c.nearest for c in marked] == ["", "acne", "calcinosis"]
    assert [c.nearest for c in nearest_words(plan, asked, vectors, words, word_vectors, threshold=0.9)] == ["", "", ""]
    assert nearest_words(plan, asked, vectors, [], np.zeros((0, 2)), 0.7) == plan


@pytest.mark.parametrize("word", ["cures", "cure", "relieved", "controlling", "treats", "improved", "helped"])
def test_a_verb_of_benefit_in_any_form_names_no_topic(word: str) -> None:
    assert is_framing(word)


@pytest.mark.parametrize("word", ["curve", "curcumin", "treaty", "controversy", "helmet"])
def test_a_word_that_only_starts_like_a_verb_of_benefit_is_a_topic(word: str) -> None:
    assert not is_framing(word)
