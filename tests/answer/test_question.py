"""What a question asks for (answer types as explicit rules), and that the composer quotes what was asked."""

from __future__ import annotations

import re

import pytest

from assistant import Assistant
from assistant.answer.question import (
    ANSWER_TYPES,
    DOSE,
    answer_types,
    asked_outcome,
    asked_populations,
    asks_about_harm,
    asks_for_a_verdict,
    benefit_answers,
    condition_phrases,
    names_a_condition_or_drug,
    required_type,
)

BY_NAME = {t.name: t for t in ANSWER_TYPES}


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Where was the study done?", {"setting"}),
        ("In which hospitals were patients recruited?", {"setting"}),
        ("How long were they on the drug?", {"duration"}),
        ("What was the median time on Rinvoq?", {"duration"}),
        ("Between which dates were patients enrolled?", {"period"}),
        ("When was the trial run?", {"period"}),
        ("Why did a patient stop taking Rinvoq?", {"stopping"}),
        ("Which laboratory test should be repeated?", {"lab test"}),
        ("Which myositis subtypes did the patients have?", {"subtype"}),
        ("What dose of IVIG is used?", {"dose"}),
        ("How many patients were treated?", {"count"}),
        ("Can Rinvoq help dermatomyositis?", {"efficacy", "significance", "adverse"}),
        ("What did the case series show for the skin?", {"efficacy", "significance", "adverse"}),
        ("What is dermatomyositis?", set()),
    ],
)
def test_answer_types_of_questions(question: str, expected: set[str]) -> None:
    assert {t.name for t in answer_types(question)} == expected


@pytest.mark.parametrize(
    ("name", "sentence", "states"),
    [
        ("setting", "Patients were treated at a single urban centre in Vancouver, British Columbia, Canada.", True),
        ("setting", "Patients were recruited in Lyon, France.", True),
        ("setting", "Skin disease improved in most patients.", False),
        ("duration", "Median months of therapy was 9.5 months, ranging from 2 to 33 months.", True),
        ("duration", "Treatment lasted 2-5 days.", True),
        ("duration", "Ten patients were included.", False),
        ("period", "Patients were included from September 2020 to June 2023.", True),
        ("period", "Records from 2015 to 2019 were reviewed.", True),
        ("period", "The dose was 2020 mg in total.", False),
        ("stopping", "One patient discontinued treatment due to severe facial acneiform eruption.", True),
        ("stopping", "Nine patients remained on upadacitinib.", False),
        ("lab test", "Serial creatine kinase (CK) measurements", True),
        ("lab test", "Regular assessment of muscle strength", False),
        ("subtype", "Five patients were classified as having classic DM, three amyopathic DM and two ASSD.", True),
        ("subtype", "Five patients improved.", False),
        ("cost", "AAPs resulted in higher mean adjusted pharmacy costs.", True),
        ("cost", "The drug is expensive compared with other options.", True),
        ("cost", "A course cost $1,200.", True),
        ("cost", "The drug was well tolerated.", False),
    ],
)
def test_what_counts_as_stating_each_type(name: str, sentence: str, states: bool) -> None:
    assert bool(BY_NAME[name].evidence.search(sentence)) == states


def test_rank_only_types_never_make_a_question_abstain() -> None:
    """"Where does dermatomyositis show on the skin?" is not about a study site: these types rank, never require."""
    for question in ("Where does the rash appear?", "How long does a flare last?", "When is IVIG used?", "Can I stop IVIG?",
                     "Which lab tests matter?", "What subtypes exist?"):
        assert required_type(question) is None


@pytest.mark.parametrize(
    ("question", "pattern"),
    [
        ("Where was the upadacitinib case series conducted?", r"single urban centre in Vancouver"),
        ("How long were patients treated with upadacitinib?", r"9\.5 months"),
        ("Between which dates were patients treated with Rinvoq enrolled in the case series?", r"September 2020"),
        ("Why did a patient stop taking Rinvoq?", r"discontinued treatment due to severe facial acneiform eruption"),
        pytest.param(
            "Which laboratory test should be repeated to follow dermatomyositis activity?", r"creatine kinase",
            marks=pytest.mark.xfail(
                strict=True,
                reason="The evidence scorer gives the list item 'Serial creatine kinase (CK) measurements' 0.004 and its "
                "document no place; ComposeSettings.aspect_documents would admit it, but costs dev own-abstract share "
                "and moves no dev span figure, so it is off (eval/TUNING.md)",
            ),
        ),
    ],
)
def test_the_answer_quotes_what_the_question_asks_for(assistant: Assistant, question: str, pattern: str) -> None:
    answer = assistant.ask(question)
    assert not answer.abstained
    assert any(re.search(pattern, c.quote) for c in answer.citations), [c.quote for c in answer.citations]


@pytest.mark.parametrize(
    "question",
    ["What dose of colchicine is used after a heart attack?", "How is colchicine dosed?", "Colchicine 0.5 mg or 1 mg?"],
)
def test_a_dose_question_requires_a_dose(question: str) -> None:
    assert required_type(question) is DOSE


@pytest.mark.parametrize(
    "question",
    ["Does low-dose colchicine reduce cardiovascular events?", "Are high-dose steroids better than pulses?"],
)
def test_a_dose_adjective_does_not_make_a_dose_question(question: str) -> None:
    assert required_type(question) is not DOSE, "'low-dose X' names a regimen; the question asks about its effect"


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("Does upadacitinib help dermatomyositis?", True),
        ("Pertrochanteric fractures: is there an advantage to an intramedullary nail?", True),  # a title's question part
        ("Cardiac reoperations in octogenarians: Do they really benefit?", True),
        ("Upadacitinib - does it help?", True),
        ("Lloyd-Davies position with Trendelenburg--a disaster waiting to happen?", False),  # no yes/no question in it
        ("What are the side effects?", False),
        ("Which drugs is she on?", False),  # "is" inside a question, not opening one
    ],
)
def test_a_yes_no_question_is_found_at_the_start_or_after_a_titles_colon_or_dash(question: str, verdict: bool) -> None:
    assert asks_for_a_verdict(question) is verdict


@pytest.mark.parametrize(
    "word", ["psoriasis", "Crohn", "clots", "eczema", "dermatomyositis", "carcinomatosis", "upadacitinib", "rituximab", "asthma", "pneumonia"]
)
def test_a_condition_or_drug_is_told_by_the_lexicon_or_its_ending(word: str) -> None:
    assert names_a_condition_or_drug(word)


def test_a_condition_named_in_common_words_is_read_as_one_phrase() -> None:
    assert condition_phrases("Can Rinvoq help heart failure or Back-Pain?") == ["heart failure", "Back-Pain"]
    assert condition_phrases("Does high blood pressure reduce the risk of chronic low back pain?") == ["high blood pressure", "back pain"]
    assert condition_phrases("Did the heart rate fail to recover after the back injury?") == [], "no condition phrase"


@pytest.mark.parametrize(
    "word", ["octogenarians", "nonagenarians", "ototoxic", "debulking", "calculators", "prognosis", "remodelling", "ultrasound", "potassium"]
)
def test_other_rare_words_name_no_condition(word: str) -> None:
    """Words a paper may write otherwise ("aged 80 or older"): their absence takes no verdict away."""
    assert not names_a_condition_or_drug(word)


@pytest.mark.parametrize(
    ("question", "outcome"),
    [
        ("Does Rinvoq help weight loss in dermatomyositis?", "weight loss"),
        ("Can Rinvoq cause cancer in dermatomyositis patients?", "cancer"),
        ("Does Rinvoq help with hair loss?", "hair loss"),
        ("Does desflurane alter left ventricular function when used to control surgical stimulation?", "left ventricular function"),
        ("Does upadacitinib reduce the CDASI score?", "CDASI score"),
        ("Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?", ""),
        ("Does Rinvoq help dermatomyositis patients on IVIG?", "dermatomyositis"),
        ("Is Rinvoq effective?", ""),
        ("Does Rinvoq help?", ""),
    ],
)
def test_the_outcome_a_verdict_asks_about(question: str, outcome: str) -> None:
    assert asked_outcome(question) == outcome


@pytest.mark.parametrize(
    ("question", "harm"),
    [
        ("Does Rinvoq cause muscle weakness in dermatomyositis?", True),
        ("Can Rinvoq trigger a flare of dermatomyositis?", True),
        ("Does Rinvoq increase the risk of infection?", True),
        ("Does Rinvoq have side effects?", True),
        ("Does partial expander deflation exacerbate the adverse effects of radiotherapy?", True),
        ("Does Rinvoq help dermatomyositis?", False),
        ("Do steroids in ear drops reduce cochlear toxicity?", False),  # lessening a harm is a benefit
        ("Attenuation of laser-induced damage: does edaravone offer protection?", False),
        ("Does deprivation predict all-cause mortality?", False),
    ],
)
def test_a_question_asks_about_harm_when_it_asks_whether_something_causes_or_raises_it(question: str, harm: bool) -> None:
    assert asks_about_harm(question) is harm


def test_a_question_names_a_population_by_any_of_its_words() -> None:
    assert [w for w, _ in asked_populations("Can I take Rinvoq while pregnant?")] == ["pregnant"]
    assert [w for w, _ in asked_populations("Is Rinvoq safe in paediatric dermatomyositis or in older adults?")] == ["paediatric", "older adults"]
    family = dict(asked_populations("Is it safe during breastfeeding?"))["breastfeeding"]
    assert "lactation" in family
    assert asked_populations("Does Rinvoq help adults with dermatomyositis?") == []


def test_benefit_answers_neither_a_harm_nor_an_approval() -> None:
    assert benefit_answers("Does Rinvoq help dermatomyositis?")
    assert not benefit_answers("Does Rinvoq cause acne?")
    assert not benefit_answers("Is Rinvoq FDA approved for dermatomyositis?")
    assert not benefit_answers("Is upadacitinib licensed for myositis?")
