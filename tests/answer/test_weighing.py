"""Issue 28 on the real model and real indexes: the bottom line weighs its sources. A source that does not address
the question never enters the answer; a claim of missing evidence is named as contradicted; documents without a
profile, with contradictory front matter, or made only of captions get a clear answer or abstention."""

from __future__ import annotations

from pathlib import Path

import pytest
from checks import assert_verbatim
from samples import SEED_QUESTION

from assistant import Answer, Assistant, Settings

NOTES = {
    "zebrafinch.md": "# Zebrafinch syndrome\n\nZebrafinch syndrome is treated with quuxamab 10 mg every four weeks.\n",
    "frobnosis.md": "# Frobnosis\n\nFrobnosis is a rare inflammatory disorder of the inner ear.\nIt is treated with snorfacitinib 2 mg.\n",
    "glorbitis.md": "# Glorbitis\n\nGlorbitis is treated with blarnizumab given once a month.\n",
}


def build(tmp: Path, embedder, files: dict[str, str]) -> Assistant:  # type: ignore[no-untyped-def]
    corpus = tmp / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (corpus / name).write_text(text, encoding="utf-8")
    return Assistant.build(corpus, tmp / "index", embedder=embedder)


def alone_with(tmp: Path, embedder, files: dict[str, str], **sections: dict[str, object]) -> Assistant:  # type: ignore[no-untyped-def]
    """The documents indexed (`build`), loaded with each named settings section updated ("compose": {...})."""
    settings = Settings(corpus_dir=tmp / "corpus", index_dir=tmp / "index")
    settings = settings.model_copy(update={name: getattr(settings, name).model_copy(update=values) for name, values in sections.items()})
    build(tmp, embedder, files).close()
    return Assistant.load(settings, embedder=embedder, refresh=False)


def bottom_docs(answer: Answer) -> list[str]:
    by_number = {c.number: c.doc_id for c in answer.citations}
    return [by_number[n] for n in answer.bottom_line]


def test_a_note_sharing_only_a_common_word_never_enters_the_answer(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    answer = build(tmp_path, embedder, NOTES).ask("What is glorbitis treated with?")
    assert not answer.abstained and bottom_docs(answer)[0] == "glorbitis"
    assert {s.doc_id for s in answer.sources} == {"glorbitis"}, "frobnosis shares only 'treated'"
    assert "snorfacitinib" not in answer.text and "quuxamab" not in answer.text


def test_the_seed_answer_leads_with_the_case_series_and_names_the_refuted_claim(assistant: Assistant) -> None:
    answer = assistant.ask(SEED_QUESTION)
    assert_verbatim(assistant, answer)
    assert answer.synthesis is not None
    assert bottom_docs(answer)[0] == "beckett-2024-upadacitinib-myositis-case-series"
    (claim,) = answer.synthesis.contradicted
    assert claim.doc_id == "dr-oracle-rinvoq-dermatomyositis-ivig" and claim.missed
    assert claim.claim in answer.bottom_line and answer.bottom_line[0] != claim.claim, "quoted, never first"
    opening = answer.text.split("**Bottom line.**", 1)[1].split("“", 1)[0]
    assert "peer-reviewed case series (10 patients, 2024) supports it" in opening
    assert "says evidence is lacking, contradicted by" in opening
    grades = {s.doc_id: s.grade.level for s in answer.sources}
    assert grades == {"beckett-2024-upadacitinib-myositis-case-series": 5, "dr-oracle-rinvoq-dermatomyositis-ivig": 9}
    assert "newer" not in answer.text and "more recent" not in answer.text, "an unreviewed page is no newer evidence"


def test_synthesis_is_data_in_the_json(assistant: Assistant) -> None:
    data = assistant.ask(SEED_QUESTION).to_dict()
    synthesis = data["synthesis"]
    assert {v["stance"] for v in synthesis["sources"]} == {"supports", "lacking"}
    assert all(v["grade"]["kind"] and v["grade"]["level"] for v in synthesis["sources"])
    assert synthesis["contradicted"][0]["evidence"], "the claim names the citations that refute it"
    assert all("grade" in s for s in data["sources"])


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("bare.txt", "Wibblomab reduced flare frequency by half in 40 patients with glorbitis over one year.\n"),
        (
            "contradictory.md",
            "---\ndoc_type: AI-generated answer\npeer_reviewed: true\ndate: '2025-01-01'\n---\n\n"
            "Wibblomab reduced flare frequency by half in 40 patients with glorbitis over one year.\n",
        ),
    ],
)
def test_documents_without_a_profile_or_with_contradictory_front_matter_are_answered(tmp_path: Path, embedder, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    assistant = build(tmp_path, embedder, {name: text})
    answer = assistant.ask("Does wibblomab reduce flares in glorbitis?")
    assert not answer.abstained and answer.citations
    assert_verbatim(assistant, answer)
    (source,) = answer.sources
    if name == "contradictory.md":
        assert source.grade.level == 9 and source.grade.conflicts, "the weaker reading, and the conflict said"
    else:
        assert source.grade.level == 7 and source.grade.extracted


def test_a_document_of_captions_only_gets_an_answer_or_an_abstention_never_a_caption_as_finding(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    captions = (
        "<html><body><figure><img src='a.png'><figcaption>Figure 1. Glorbitis lesions before and after wibblomab (A, B).</figcaption></figure>"
        "<figure><img src='b.png'><figcaption>Figure 2. Flare counts by month in patients with glorbitis.</figcaption></figure>"
        "<table><caption>Table 1. Baseline characteristics of patients with glorbitis</caption><tr><th>Age</th></tr><tr><td>41</td></tr></table>"
        "</body></html>"
    )
    assistant = build(tmp_path, embedder, {"captions.html": captions})
    answer = assistant.ask("Does wibblomab help glorbitis?")
    quotes = [c.quote for c in answer.citations if c.number in answer.bottom_line]
    assert answer.abstained or not any(q.startswith(("Figure", "Table 1.")) for q in quotes)
    assert len(assistant.index.documents) == 1, "nothing lost"


ECHO_PAGE = (
    "---\ntitle: 'Does oxybutynin cause arrhythmia in children with bladder dysfunction?'\ndoc_type: AI-generated answer\n"
    "peer_reviewed: false\ndate: '2016-06-01'\n---\n\n"
    "Short answer: we cannot say.\n\n"
    "No clinical studies have examined whether oxybutynin causes arrhythmia in children with bladder dysfunction.\n\n"
    "Talk to a qualified health professional before making any decision.\n"
)
STUDY = (
    "---\ndoc_type: prospective cohort study\npeer_reviewed: true\ndate: '2013-03-01'\n---\n\n"
    "Children with voiding dysfunction often receive anticholinergics.\n\n"
    "We recorded electrocardiograms in 80 children before and three months after starting oxybutynin.\n\n"
    "QT dispersion increased significantly on treatment, and two children developed ventricular ectopy.\n"
)


UNSEEN_PAGE = (
    "---\ntitle: Oxybutynin and the heart in children\ndoc_type: health blog post\npeer_reviewed: false\ndate: '2016-06-01'\n---\n\n"
    "Parents write to us about this all the time.\n\n"
    "Our team combed the medical journals and came away with nothing at all on oxybutynin and heart rhythm in children.\n\n"
    "Until that changes, follow your doctor's advice.\n"
)


# The same page with no front matter: nothing says what it is (a document of unknown type, as most abstracts are too).
UNMARKED_PAGE = UNSEEN_PAGE.split("---\n\n", 1)[1]
# A chatbot transcript whose claim names nothing: the question is only its title, which is in no chunk's text.
TITLED_PAGE = (
    "---\ntitle: 'Q: Does oxybutynin cause arrhythmia in children with bladder dysfunction?'\ndoc_type: chatbot transcript\n"
    "peer_reviewed: false\ndate: '2016-06-01'\n---\n\nA: I'm sorry, but there are no published studies on this.\n\n"
    "Please consult your doctor for advice about your own situation.\n"
)


@pytest.mark.parametrize(
    "page",
    [ECHO_PAGE, UNSEEN_PAGE, UNMARKED_PAGE, TITLED_PAGE],
    ids=["echoes the question", "in words no cue rule names", "unmarked, in such words", "the question only in its title"],
)
def test_a_page_claiming_nothing_is_known_never_leads_and_is_contradicted_by_the_study(tmp_path: Path, embedder, page: str) -> None:  # type: ignore[no-untyped-def]
    """The echoing page restates the question word for word, so its claim scores far above the study's findings; were
    the claim the bar, the study would be left out and the page would open the answer uncontradicted. The other pages
    word their claim as no cue rule reads it ("came away with nothing at all on …"): the learned reading (absence.py)
    still reads it as a claim that evidence is missing, also where no front matter says the page is unreviewed (its
    claim names the literature: "the medical journals")."""
    answer = build(tmp_path, embedder, {"page.md": page, "study.md": STUDY, **NOTES}).ask(
        "Does oxybutynin cause arrhythmia in children with bladder dysfunction?"
    )
    assert bottom_docs(answer)[0] == "study"
    assert answer.synthesis is not None
    assert [v.stance for v in answer.synthesis.sources if v.doc_id == "page"] == ["lacking"]
    (claim,) = answer.synthesis.contradicted
    assert claim.doc_id == "page" and claim.claim in answer.bottom_line


@pytest.mark.parametrize(
    "front_matter",
    ["---\ndoc_type: prospective cohort study\npeer_reviewed: true\n---\n\n", ""],
    ids=["declared cohort", "untyped: an experiment names no design"],
)
def test_a_study_that_notes_its_question_was_never_investigated_reports_its_own_findings(tmp_path: Path, embedder, front_matter: str) -> None:  # type: ignore[no-untyped-def]
    study = (
        f"{front_matter}"
        "Although wibblomab is commonly used in glorbitis, its effects on hearing have not been investigated in this "
        "clinical situation.\n\nThe purpose of the present study was to evaluate hearing in 60 patients given wibblomab.\n\n"
        "No change in hearing thresholds or speech discrimination was noted when wibblomab was added.\n"
    )
    answer = build(tmp_path, embedder, {"study.md": study}).ask("Does wibblomab alter hearing in glorbitis?")
    assert answer.synthesis is not None
    (verdict,) = answer.synthesis.sources
    assert verdict.stance == "no effect", "the study motivates its own work; it claims nothing about the literature"


FAQ_PAGE = (  # no front matter; its closing aside reads as a method and names a word of the question ("follow")
    "# Is ultrasound enough for the follow-up of kidney stones?\n\nWe hear this a lot.\n\n"
    "No published studies have compared ultrasound with CT for the follow-up of kidney stones.\n\n"
    "Our nurses follow the hospital protocol and will go through the options with you.\n"
)
STONES = (
    "Kidney stones recur in half of patients within five years.\n\n"
    "We compared ultrasound with low-dose CT in 120 patients followed up for kidney stones.\n\n"
    "Ultrasound missed 30% of stones smaller than 5 mm but detected every stone larger than 10 mm.\n"
)


def test_a_page_whose_aside_reads_as_a_method_is_no_study_motivating_its_own_work(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Neither document says what it is. The page's "Our nurses follow the hospital protocol …" is read as a method
    sentence; a study that notes nobody has examined its question is motivating its own work, but a page whose only
    "method" names no topic of the question has no work of its own: its claim stands as a claim, and is contradicted."""
    answer = build(tmp_path, embedder, {"page.md": FAQ_PAGE, "stones.txt": STONES}).ask("Is ultrasound enough for the follow-up of kidney stones?")
    assert bottom_docs(answer)[0] == "stones"
    assert answer.synthesis is not None
    assert {v.doc_id: v.stance for v in answer.synthesis.sources}["page"] == "lacking"
    assert [c.doc_id for c in answer.synthesis.contradicted] == ["page"]


MEMORY_PAGE = "# Hearing aids and memory\n\nReaders ask us this every week.\n\nNo trials have tested whether hearing aids slow cognitive decline in older adults.\n"
DEVICES = (
    "We fitted hearing devices in 300 older adults with presbycusis.\n\n"
    "Older adults fitted with hearing devices showed slower memory loss over three years than those without (p = 0.01).\n"
)


def test_a_topic_named_only_to_say_it_was_never_studied_does_not_gate_out_the_study_that_words_it_otherwise(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The study never writes the question's specific words ("aids", "cognitive", "decline": "hearing devices", "memory
    loss"); only the page does, in its claim that no trial exists. Were that mention enough for the topic gate, the
    gate would leave the study out and the claim would stand uncontradicted."""
    answer = build(tmp_path, embedder, {"page.md": MEMORY_PAGE, "devices.txt": DEVICES}).ask("Do hearing aids slow cognitive decline in older adults?")
    assert answer.synthesis is not None
    assert "devices" in {s.doc_id for s in answer.sources}
    assert [c.doc_id for c in answer.synthesis.contradicted] == ["page"]
    assert bottom_docs(answer)[0] == "devices"


CAMPAIGN_PAGE = (
    "---\ntitle: 'Are we seeing the effects of public awareness campaigns?'\ndoc_type: AI-generated answer\n"
    "peer_reviewed: false\ndate: '2016-06-01'\n---\n\n"
    "Short answer: we cannot say.\n\n"
    "There is currently insufficient evidence to say whether we are seeing the effects of public awareness campaigns.\n"
)
MELANOMA = (
    "The last 20 years has seen a marked improvement in skin cancer awareness campaigns. We sought to establish whether "
    "this has affected the presenting Breslow thickness of malignant melanoma in the South West.\n\n"
    "This is a retrospective study looking at the first presentation of melanomas from 2003 to 2011.\n\n"
    "A total of 2001 new melanomas presented from 2003 to 2012. There is an increasing proportion of thin melanomas "
    "presenting year on year, with a positive linear trend (p<0.0001).\n"
)


def test_a_claim_that_nothing_is_known_is_checked_against_the_index_not_only_the_quoted_sources(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The scorer finds no sentence of the melanoma study close to the vague question, so the study is not quoted on
    evidence alone; it names every topic of the question and reports findings, so it refutes the page's claim."""
    answer = build(tmp_path, embedder, {"page.md": CAMPAIGN_PAGE, "melanoma.txt": MELANOMA, **NOTES}).ask(
        "Are we seeing the effects of public awareness campaigns?"
    )
    assert bottom_docs(answer)[0] == "melanoma"
    assert answer.synthesis is not None
    (claim,) = answer.synthesis.contradicted
    assert claim.doc_id == "page" and claim.claim in answer.bottom_line and answer.bottom_line[0] != claim.claim
    assert {s.doc_id for s in answer.sources} == {"melanoma", "page"}, "the notes name neither awareness nor campaigns"


HEARING_PAGE = (
    "---\ntitle: 'Hearing loss: an unknown complication of pre-eclampsia?'\ndoc_type: AI-generated answer\n"
    "peer_reviewed: false\ndate: '2016-06-01'\n---\n\n"
    "There is no published evidence on hearing loss as a complication of pre-eclampsia.\n"
)
MENINGITIS = (
    "---\ndoc_type: prospective cohort study\npeer_reviewed: true\ndate: '2014-03-01'\n---\n\n"
    "We followed 90 children treated for bacterial meningitis.\n\n"
    "Hearing loss, a known complication of bacterial meningitis, affected 28 of the 90 children (31%) a year later.\n"
)
PRE_ECLAMPSIA = (
    "---\ndoc_type: case-control study\npeer_reviewed: true\ndate: '2015-03-01'\n---\n\n"
    "We compared hearing thresholds of 40 women with pre-eclampsia with those of 40 women with normal blood pressure "
    "in pregnancy.\n\n"
    "Sensorineural hearing loss at high frequencies was more frequent after pre-eclampsia (25% against 5%).\n"
)


def test_a_study_on_part_of_the_question_refutes_no_claim_that_the_rest_was_never_studied(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """The meningitis study reports findings on hearing loss as a complication, part of the question, and is quoted
    (its rule relevance clears the bar, lowered here so that this tests the refutation, not the admission); it says
    nothing of pre-eclampsia, so it does not bear on the page's claim (Composer._bearing): the claim stands."""
    files = {"page.md": HEARING_PAGE, "meningitis.md": MENINGITIS}
    answer = alone_with(tmp_path, embedder, files, compose={"rule_relevance": 0.25}).ask("Hearing loss: an unknown complication of pre-eclampsia?")
    assert "meningitis" in {s.doc_id for s in answer.sources}
    assert answer.synthesis is not None and not answer.synthesis.contradicted


def test_a_study_of_the_question_refutes_the_claim_beside_one_on_part_of_it(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    files = {"page.md": HEARING_PAGE, "meningitis.md": MENINGITIS, "pre-eclampsia.md": PRE_ECLAMPSIA}
    answer = build(tmp_path, embedder, files).ask("Hearing loss: an unknown complication of pre-eclampsia?")
    assert answer.synthesis is not None
    (claim,) = answer.synthesis.contradicted
    assert claim.doc_id == "page" and claim.evidence_docs == ("pre-eclampsia",)
    assert bottom_docs(answer)[0] == "pre-eclampsia"


def test_a_source_that_never_names_the_questions_condition_takes_no_side(assistant: Assistant) -> None:
    """Asked of the case series alone, "Did upadacitinib help psoriasis?" is close in meaning to it (the drug), but
    it studies dermatomyositis and never names psoriasis: it neither supports nor refutes the question, and the
    bottom line says which word no source names."""
    answer = assistant.ask("Did upadacitinib help psoriasis?", sources=["beckett-2024-upadacitinib-myositis-case-series"])
    assert "supports it" not in answer.text and "refutes it" not in answer.text
    if not answer.abstained:
        assert answer.synthesis is not None and answer.synthesis.unnamed == ("psoriasis",)
        assert {v.stance for v in answer.synthesis.sources} == {"reports"}
        assert answer.synthesis.line.endswith("reports on it; no source names “psoriasis”.")
        assert answer.text.split("**Bottom line.** ", 1)[1].startswith(answer.synthesis.line), "the line opens the bottom line"


def test_a_condition_common_in_english_is_still_a_condition_no_source_names(assistant: Assistant) -> None:
    """"Did upadacitinib help asthma?": "asthma" is too common in English (Zipf 3.7) to be named missing for its rarity,
    but it is a condition (the lexicon: MedQuAD asks its symptoms and treatment); the case series, which studies
    dermatomyositis, takes no side on it, and the answer names it as unmentioned."""
    answer = assistant.ask("Did upadacitinib help asthma?", sources=["beckett-2024-upadacitinib-myositis-case-series"])
    assert "supports it" not in answer.text and "argues against it" not in answer.text
    if not answer.abstained:
        assert answer.synthesis is not None and answer.synthesis.unnamed == ("asthma",)
        assert {v.stance for v in answer.synthesis.sources} == {"reports"}


def test_a_condition_named_in_common_words_is_one_topic_the_sources_never_mention(assistant: Assistant) -> None:
    """"Can Rinvoq help heart failure?": neither "heart" nor "failure" is rare enough to count as a topic alone, and
    before, the question read as "Can Rinvoq help?": the case series 'supported' it and the AI page's claim was
    'contradicted'. "heart failure" is one condition (the phrase lexicon), which no seed document names."""
    answer = assistant.ask("Can Rinvoq help heart failure?")
    assert "supports it" not in answer.text and "contradicted" not in answer.text.lower()
    assert answer.abstained and "never mention: heart failure" in answer.text


def test_a_verdict_on_a_drug_asked_about_nothing_else_the_sources_name_is_not_covered(assistant: Assistant) -> None:
    """"Does Rinvoq help weight loss?": no seed document uses "weight" or "loss", each too common in English to count
    as a topic alone, so the question read as "Does Rinvoq help?" and the case series "supported" it."""
    answer = assistant.ask("Does Rinvoq help weight loss?")
    assert answer.abstained and "never mention: weight, loss" in answer.text and "supports it" not in answer.text
    asked = assistant.ask("Does Rinvoq help dermatomyositis patients on IVIG?")
    assert not asked.abstained and "supports it" in asked.text, "a word the sources use keeps the question answered"


@pytest.mark.parametrize(
    ("question", "outcome"),
    [
        ("Does Rinvoq cause hair loss in dermatomyositis?", "hair loss"),
        ("Can Rinvoq cause cancer in dermatomyositis patients?", "cancer"),
        ("Does Rinvoq help psoriasis in dermatomyositis?", "psoriasis"),
    ],
)
def test_no_source_takes_a_side_on_an_outcome_none_names(assistant: Assistant, question: str, outcome: str) -> None:
    """The case series names Rinvoq and dermatomyositis, never hair, cancer or psoriasis: before, each question read as
    "Does Rinvoq help dermatomyositis?" and the series "supported" that Rinvoq causes cancer ("psoriasis" was read as
    dermatomyositis in other words, the two being close in meaning)."""
    answer = assistant.ask(question)
    assert not answer.abstained and answer.synthesis is not None, "the sources name the rest: the answer shows them"
    assert answer.synthesis.unnamed == (outcome,) and f"no source names “{outcome}”" in answer.synthesis.line
    assert {v.stance for v in answer.synthesis.sources} <= {"reports", "lacking"}
    weakness = assistant.ask("Does Rinvoq help muscle weakness in dermatomyositis?")
    assert weakness.synthesis is not None and not weakness.synthesis.unnamed, "an outcome the series names"


def test_no_source_takes_a_side_on_what_the_answer_says_no_passage_mentions(assistant: Assistant) -> None:
    """"Can upadacitinib be given sublingually?": the case series reports on upadacitinib, never on a route under the
    tongue; an answer that lists "sublingually" as unmentioned says no source supports or refutes it."""
    answer = assistant.ask("Can upadacitinib be given sublingually?")
    assert not answer.abstained and answer.synthesis is not None
    assert "- No indexed passage mentions: “sublingually”." in answer.text
    assert {v.stance for v in answer.synthesis.sources} <= {"reports", "lacking"}
    assert "supports it" not in answer.synthesis.line and "refutes it" not in answer.synthesis.line


PMR_ABSTRACT = (
    "To identify the features of PMR that may predict the duration of steroid therapy and the occurrence of relapses.\n\n"
    "Prospective cohort study of 176 patients with PMR, followed up for 5 years.\n\n"
    "The probability of stopping steroids within 5 years was reduced by an elevated plasma viscosity at presentation "
    "(hazard ratio 0.49) and by starting treatment at more than 15 mg prednisolone (hazard ratio 0.63).\n"
)


def test_words_an_abstract_only_abbreviates_are_not_missing_from_it(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: the abstract writes only "PMR"; asked on its own, its question in full words is answered from it,
    and the answer says the words were searched as the abstract writes them."""
    answer = build(tmp_path, embedder, {"pmr.txt": PMR_ABSTRACT}).ask("Can the course of polymyalgia rheumatica be predicted?")
    assert not answer.abstained and "never mention" not in answer.text and "No indexed passage mentions" not in answer.text
    assert answer.search_report.variants == {"polymyalgia rheumatica": ["PMR"]}, "two words of one form: one phrase"
    assert "Searched for “polymyalgia rheumatica” also as the sources write it: “PMR”" in answer.text


INR_ABSTRACT = (
    "INR measurements obtained in general practice were validated against values on the same samples obtained in hospital "
    "laboratories.\n\nAll patients who attended anticoagulant clinics had parallel INR estimations in general practice and in a "
    "hospital laboratory; 405 tests were performed.\n\nResults in the practices and in the reference laboratory showed a "
    "correlation coefficient of 0.96.\n"
)


def test_an_abbreviation_the_question_defines_names_its_words(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: "Is the international normalised ratio (INR) reliable?" of an abstract that only writes "INR" said
    "never mention: normalised" (the question defines the abbreviation; the abstract does not), and "reliable", a
    word asking for a judgment, counted as a topic."""
    answer = build(tmp_path, embedder, {"inr.txt": INR_ABSTRACT}).ask("Is the international normalised ratio (INR) reliable?")
    assert not answer.abstained and "never mention" not in answer.text
    assert answer.search_report.variants == {"international normalised ratio": ["INR"]}
    other = build(tmp_path / "other", embedder, {"inr.txt": INR_ABSTRACT}).ask("Is the activated partial thromboplastin time (APTT) reliable?")
    assert other.abstained, "an abbreviation the abstract never uses names nothing of it"
    who = build(tmp_path / "who", embedder, {"inr.txt": INR_ABSTRACT}).ask("Does the World Health Organization (WHO) endorse the INR?")
    assert not who.search_report.variants, "an abbreviation that is an English word ('who') names nothing"


WBC_ABSTRACT = (
    "Early markers of the extent of tissue damage after blunt trauma are sought to triage patients in the emergency department.\n\n"
    "We retrospectively reviewed 214 consecutive adults admitted to a level I trauma centre in 2015-2017, recording the white "
    "blood cell count drawn on arrival, vital signs, and the injury severity score assigned at discharge.\n\n"
    "The white blood cell count on arrival rose with the injury severity score (r = 0.41, p < 0.001), and was higher in "
    "patients who needed an emergency operation.\n"
)


def test_within_one_abstract_a_word_it_says_otherwise_is_its_meaning(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: the abstract writes "white blood cell count", never "leukocyte". With the scorer's confidence and the
    question's closeness to the abstract set out of play, "leukocyte" is still no word the abstract lacks: put in its
    place, no unrelated word brings the question as close to it. "ferritin", which it never says, still is."""
    unscored = {"confident_evidence": 1.0, "one_document_confident_evidence": 1.0, "one_document_similarity": 1.0}
    alone = alone_with(tmp_path, embedder, {"wbc.txt": WBC_ABSTRACT}, compose=unscored)
    worded = alone.ask("Does the leukocyte count correlate with the severity of injury?")
    assert not worded.abstained and "mentions: “leukocyte”" not in worded.text and "never mention" not in worded.text
    assert any("injury severity score (r = 0.41" in c.quote for c in worded.citations if c.number in worded.bottom_line)
    lacking = alone.ask("Does the white blood cell count or the ferritin correlate with the severity of injury?")
    assert "- No indexed passage mentions: “ferritin”" in lacking.text, "a word the abstract never says is still named"


REDO_ABSTRACT = (
    "Cardiac reoperations carry a higher risk than first operations, and the benefit in the very elderly is debated.\n\n"
    "We retrospectively identified 84 consecutive patients aged 80 years or older who underwent a cardiac reoperation "
    "between 2007 and 2013, and followed them for a median of 2.1 years.\n\n"
    "Thirty-day mortality was 11.9%, and 1-year survival was 79%; most survivors reported better physical functioning "
    "and were living at home.\n"
)


@pytest.mark.parametrize("bar, octogenarians_named", [(1.0, True), (None, False)])
def test_within_one_abstract_the_scorers_verdict_keeps_its_other_wording_off_the_open_list(
    tmp_path: Path, embedder, bar: float | None, octogenarians_named: bool  # type: ignore[no-untyped-def]
) -> None:
    """Issue 29: the abstract writes "patients aged 80 years or older", never "octogenarians". With the question's
    closeness and the contrast test set out of play, the scorer's verdict that the one abstract answers the question
    (one_document_confident_evidence) is what keeps "octogenarians" off the list of what the sources leave open;
    "amyloidosis", a condition it never names, is listed either way."""
    compose = {"one_document_similarity": 1.0, **({} if bar is None else {"one_document_confident_evidence": bar})}
    alone = alone_with(tmp_path, embedder, {"redo.txt": REDO_ABSTRACT}, compose=compose, retrieve={"one_document_rewording": 1.0})
    answer = alone.ask("Do cardiac reoperations improve physical functioning and survival in octogenarians with amyloidosis?")
    assert not answer.abstained
    listed = next(line for line in answer.text.splitlines() if line.startswith("- No indexed passage mentions:"))
    assert "“amyloidosis”" in listed
    assert ("“octogenarians”" in listed) is octogenarians_named


CLADE_ABSTRACT = (
    "The novel coronavirus was isolated from patients with pneumonia in Wuhan.\n\n"
    "Phylogenetic analysis of the full genome shows that the virus forms a clade within the subgenus sarbecovirus, "
    "closest to bat coronaviruses sampled in Yunnan.\n\n"
    "Its receptor-binding domain binds the human ACE2 receptor.\n"
)


def test_within_one_abstract_an_uncommon_word_it_never_writes_does_not_floor_a_question_on_its_own_rare_word(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: "clade" is the abstract's word and rare in English; "belong", which it never writes, is uncommon
    (Zipf 4.4) but not rare. With a similarity floor no passage clears, the question is still about the abstract; one
    with a rare word it never writes ("zoster"), or in everyday words it never uses, is not covered."""
    alone = alone_with(tmp_path, embedder, {"virus.txt": CLADE_ABSTRACT}, retrieve={"min_similarity": 0.99})
    answer = alone.ask("Which clade does the virus belong to?")
    assert not answer.abstained
    assert any("forms a clade within the subgenus sarbecovirus" in c.quote for c in answer.citations if c.number in answer.bottom_line)
    assert "close enough in meaning" in alone.ask("Which clade does zoster belong to?").text
    assert alone.ask("What is the capital of France?").abstained


def test_a_not_covered_over_a_lay_word_points_to_the_word_the_sources_use(assistant: Assistant) -> None:
    """The seed's failure in small: "pimples" is in no source, "severe facial acne" is in the case series. The answer
    still says it is not covered (a hint is no evidence), and names "acne" so the reader can ask again; an unrelated
    disease gets no such hint, and asking again with the hint is answered from the acne finding."""
    answer = assistant.ask("Does Rinvoq cause pimples in dermatomyositis?")
    assert answer.abstained and "never mention: pimples (nearest word they use: “acne”)" in answer.text
    unrelated = assistant.ask("What is the treatment for glaucoma?")
    assert unrelated.abstained and "nearest word" not in unrelated.text
    again = assistant.ask("Does Rinvoq cause acne in dermatomyositis?")
    assert not again.abstained and any("acne" in c.quote for c in again.citations if c.number in again.bottom_line)
    assert answer.search_report.nearest == {"pimples": "acne"}
    turn = assistant.conversation().ask("Does Rinvoq cause pimples in dermatomyositis?")
    assert turn.abstained and turn.suggestions == ["Does Rinvoq cause acne in dermatomyositis?"], "offered, checked answerable"
    assert assistant.conversation().ask("What is the treatment for glaucoma?").suggestions == []


def test_an_english_word_the_corpus_lacks_is_no_misspelling_of_a_short_stem(assistant: Assistant) -> None:
    """"tiredness" stems to "tired", two edits from the series' "time": it was searched as "time", and the series
    "supported" that Rinvoq causes tiredness. Two edits are for long words English does not know ("dermatomiosits")."""
    answer = assistant.ask("Does Rinvoq cause tiredness in dermatomyositis?")
    assert "you wrote “tiredness”" not in answer.text
    assert answer.abstained or answer.synthesis is None or {v.stance for v in answer.synthesis.sources} <= {"reports", "lacking"}
    spelt = assistant.ask("Can Rinvok help dermatomiosits?")
    assert "“dermatomyositis” (you wrote “dermatomiosits”)" in spelt.text and not spelt.abstained
    typo = assistant.ask("What were the limtations of the case series?")  # no word: two edits from its stem "limit"
    assert "(you wrote “limtations”)" in typo.text


@pytest.mark.parametrize(
    "question",
    [
        "Does Rinvoq cause muscle weakness in dermatomyositis?",
        "Can Rinvoq trigger a flare of dermatomyositis?",
        "Does Rinvoq cause skin eruptions in dermatomyositis?",
    ],
)
def test_a_report_of_benefit_takes_no_side_on_a_harm(assistant: Assistant, question: str) -> None:
    """The series reports that muscle weakness and skin disease improved on Rinvoq; that "supported" the claim that
    Rinvoq causes muscle weakness, triggers flares, causes skin eruptions (cue rules and the learned verdict alike
    read benefit as yes). Asked the other way round, the same finding still supports it."""
    answer = assistant.ask(question)
    assert not answer.abstained and answer.synthesis is not None
    assert {v.stance for v in answer.synthesis.sources} <= {"reports", "lacking"} and "supports it" not in answer.synthesis.line
    helps = assistant.ask("Does Rinvoq help muscle weakness in dermatomyositis?")
    assert helps.synthesis is not None and "supports it" in helps.synthesis.line


@pytest.mark.parametrize(
    ("question", "population"),
    [("Can I take Rinvoq while pregnant?", "pregnant"), ("Can children with dermatomyositis take Rinvoq?", "children")],
)
def test_no_source_takes_a_side_for_a_population_none_names(assistant: Assistant, question: str, population: str) -> None:
    """A series of ten adults says nothing about pregnancy or children: "Can I take Rinvoq while pregnant?" was
    "1 peer-reviewed case series supports it", quoting "no reported side effects". Everyday words, so the rules for
    rare missing words never saw them; the population's other words (pregnancy, paediatric …) are looked for too."""
    answer = assistant.ask(question)
    assert not answer.abstained and answer.synthesis is not None
    assert answer.synthesis.unnamed == (population,) and f"no source names “{population}”" in answer.synthesis.line
    assert {v.stance for v in answer.synthesis.sources} <= {"reports", "lacking"}
    adults = assistant.ask("Does Rinvoq help adults with dermatomyositis?")
    assert adults.synthesis is not None and "supports it" in adults.synthesis.line and not adults.synthesis.unnamed


def test_findings_of_benefit_take_no_side_on_approval(assistant: Assistant) -> None:
    """"Is Rinvoq approved for dermatomyositis?" was "supported" by the series' cutaneous improvement."""
    answer = assistant.ask("Is Rinvoq approved for dermatomyositis?")
    assert answer.synthesis is not None and "supports it" not in answer.synthesis.line


def test_a_claim_of_cure_is_answered_without_a_side_when_no_source_names_it(assistant: Assistant) -> None:
    """"Does Rinvoq cure dermatomyositis?" was "not covered: never mention: cure" of the series that reports
    improvement (the seed's failure, over a verb); a verb of benefit names no topic. Findings of improvement do not
    support a cure, so no source takes a side and the opening line says no source names it."""
    answer = assistant.ask("Does Rinvoq cure dermatomyositis?")
    assert not answer.abstained and answer.synthesis is not None
    assert answer.synthesis.unnamed == ("cure",) and {v.stance for v in answer.synthesis.sources} <= {"reports", "lacking"}
