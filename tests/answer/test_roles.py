"""Sentence roles (issue 28 item 2): the apparatus rules (assistant/answer/apparatus.py) on apparatus collected by hand
and on findings that merely cite a table; the learned role model (assistant/answer/roles.py) with its shipped weights
and the real embedding model on the seed case series; and the loader's refusals.

The hand lists below were collected by reading documents, not from the rules: APPARATUS from corpus/*.md, the documents
of tests/samples.py and tests/documents/test_formats.py, and COVID-QA dev papers 1557, 1569, 1588, 1593 and others of
the dev split, while the rules were written; HELD_OUT from six COVID-QA test papers (2463, 1620, 1552, 1576, 1567,
2522) after the rules were written. The rules first caught 19 of the 24 held-out items; three rules were then
widened for what they missed ("Supplementary Materials:", "The authors declare no conflict of interest.", "… were
listed in Table 6"), so HELD_OUT now measures them less independently (22 of 24). On PubMedQA's test split the rules
flag 2 of 2,968 result and conclusion sentences, both true apparatus (a citation line and a video link; see the card
in assistant/answer/models/roles/).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from samples import CORPUS

from assistant import Assistant, ModelError
from assistant.answer.apparatus import (
    Place,
    apparatus_reason,
    apparatus_reasons,
    is_affiliation,
    is_byline,
    is_caption,
    is_metadata,
    is_question,
    place_of,
)
from assistant.answer.roles import (
    CLASSES, CUES, MODEL_DIR, PLACE, RETRAIN, RoleModel, cues, section_positions, section_role, sentence_roles,
)
from assistant.documents.ingest import load_document
from assistant.schema import Block, Document

CASE_SERIES = "beckett-2024-upadacitinib-myositis-case-series"

APPARATUS = [
    # corpus/beckett-2024-upadacitinib-myositis-case-series.md
    "Madelaine Beckett (1), Jan Dutz (2, 3, 4), Kun Huang (3, 4, 5, 6)",
    "Madelaine Beckett, Jan Dutz, Kun Huang",
    "To cite: Beckett M, Dutz J, Huang K. Upadacitinib therapy in refractory inflammatory myositis: a case series of 10 patients.",
    "RMD Open 2024;10:e003837. doi:10.1136/rmdopen-2023-003837",
    "Additional supplemental material is published online only.",
    "To view, please visit the journal online (http://dx.doi.org/10.1136/rmdopen-2023-003837).",
    "Received 22 October 2023",
    "Accepted 3 January 2024",
    "© Author(s) (or their employer(s)) 2024.",
    "Re-use permitted under CC BY-NC.",
    "No commercial re-use.",
    "See rights and permissions.",
    "Published by BMJ.",
    "Internal Medicine, The University of British Columbia Faculty of Medicine, Vancouver, British Columbia, Canada",
    "Vancouver General Hospital, Vancouver, British Columbia, Canada",
    "Arthritis Research Canada, Vancouver, British Columbia, Canada",
    "Correspondence to: Dr Kun Huang; kun.huang@ubc.ca",
    "Table 1.",
    "Note: * denotes active medication regimen at start of upadacitinib trial.",
    "†At time of final follow-up or discontinuation of treatment.",
    "Figure 1.",
    "The improvement in cutaneous disease activity in a dermatomyositis patient who transitioned to upadacitinib after failing tofacitinib, including photos at assessment pre tofacitinib (A), post tofacitinib (B) and post upadacitinib (C).",
    "Figure 1 demonstrates the improvement in cutaneous disease activity in a DM patient who transitioned to upadacitinib after failing tofacitinib.",
    "Table 2 summarised quantitative analysis of the overall response to upadacitinib in patients with cutaneous and muscular manifestations of disease.",
    "The disease profiles and response of individual patients is shown in table 1.",
    'Their baseline clinical and serological characteristics, treatments, as well as responses in CDASI and MMT-8 are detailed in table 1 and online supplemental table 1.',
    "Acknowledgements: We thank Mr. Anthony Obrzut's assistance in the statistical analysis.",
    "Funding: The authors have not declared a specific grant for this research from any funding agency in the public, commercial or not-for-profit sectors.",
    "Provenance and peer review: Not commissioned; externally peer reviewed.",
    "Madelaine Beckett http://orcid.org/0000-0002-3050-9292",
    "Rheumatology (Oxford) 2021;60:e387–8.",
    "Paik JJ, Casciola-Rosen L, Shin JY, et al. Study of tofacitinib in refractory dermatomyositis: an open-label pilot study of ten patients.",
    # corpus/dr-oracle-rinvoq-dermatomyositis-ivig.md
    "Can Rinvoq (upadacitinib) help a patient with dermatomyositis who is already taking IVIG (Intravenous Immunoglobulin)?",
    "Educational purpose only.",
    "Last updated: September 23, 2025",
    # tests/samples.py and tests/documents/test_formats.py
    "By A. Author",
    "Table 1. MACE at 3 years",
    "Table 2. Outcomes at week 12",
    "Table 3. Doses",
    "J Rheumatol 2024;51:1-9",
    "Page 3 of 3",
    # COVID-QA dev papers (covidqa_dev.json, dev split)
    "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC3890533/",
    "SHA: eef61bdfa49b8652fd660b5b8b7e74cf51922505",
    "Authors: Boonyaratanakornkit, Jim; Taylor, Justin J. Date: 2019-07-24 DOI: 10.3389/fimmu.2019.01694 License: cc-by",
    "Table 1 .",
    "Figure 2.",
    "Figure S2 : Apoptosis analysis of ORF9 proteins of BtCoV/Rh/YN2012.",
    "Table S2 : Primers for the detection of viral sugbenomic mRNAs.",
    "Figure 9: Rhat statistics - values close to 1 indicate MCMC convergence.",
    "Figure l: Intervention timings for the 11 European countries included in the analysis.",
    "Figure 18: Our estimated R0 (black) versus theoretically derived Ru(red) from a log-linear regression fit.",
    "(B) ORF3a protein activate NF-κB.",
    "Table 5 Summary of correlation analysis between the A, U, C, G contents and A 3 , U 3 , C 3 , G 3 contents in all selected samples",
    "Keywords: Coronavirus, COVID-19, novel coronavirus pneumonia, infection control",
    "Page 28 of 35",
    "DOI: https://doi.org/10.25561/77731",
    "Original Publication Date: 3/24/2020",
    "Updated March 21, 2020",
    "Accessed March 11, 2020.",
    "Retrieved from http://www.nhc.gov.cn/wjw/s9496/201204/54510.shtml.",
    "J Infect Dis 1998;178:53–60.",
    "Patterson KD, Pyle GF.",
    "301-295-9507; email: taubenberger@afip.osd.mil",
    "Acknowledgments We thank Pamela Martinez, Nicholas Jewel, and Stephen Kissler for valuable feedback.",
    "Ethics approval and consent to participate Not applicable.",
    "Is there a limit?",
    "Does the patient reside in an area where there has been community spread of COVID-19?",
    "Validation measures.",
    "Case Studies.",
    "The PLPIHS method.",
    "Time-of-addition experiment.",
    "Validation of hit drugs.",
    "Data availability.",
    "Nucleotide sequence accession number.",
    "8.2 Infection model",
    "3 Discussion",
    "SUGGESTED CITATION",
    "Take-home points",
    "Figures Figure 1.",
    "Figure 4 -B shows the results of the western blot for the co-immunoprecipitation of the wild-type and the IFITM5 mutants with FKBP11.",
    "Figure 1 and Table 3 display the interventions by the 11 countries in our study and the dates these interventions became effective.",
    "Figure 16 and Figure 17 are examples for results for the UK, leaving out Italy and Spain.",
    "The results are shown in Fig. 4 .",
    "An example of HeteSim score is illustrated in (Fig. 1 ).",
    "The PLPIHS framework is illustrated in Fig. 2 .",
]

NOT_APPARATUS = [
    # protein names with their one-letter abbreviations are not a legend's panels (A), (B) …
    "The ORF encodes three structural proteins, including the capsid (C), membrane (premembrane [prM] and membrane [M] ), and envelope (E), and seven nonstructural proteins.",
    'Aggregate analysis of the classic DM and ADM subgroups revealed statistically significant improvement in CDASI score from median of 10.5 (IQR 7.8–12.2) to 2.5 (IQR 0.75–5.5) (p value = 0.014) (table 2).',
    'Large declines were observed in males between 40 and 65 years old, and in females over 60 years old ( Figure 2) .',
    "Significant differences regarding adjusted TB prevalence rates were observed between males and females, over 65's and 15 to 64 years old, in rural and urban areas ( Table 2 , P < 0.001).",
    'Table 2 shows that β has tiny impact on the final results and β = 0.2, 0.4 and 0.7 achieved the best AUC score and the others are not far behind yet.',
    'The independent test results are shown in Fig. 6 , an AUC score of 0.879 is achieved by PLPIHS, illustrating the effectiveness and advantage of the proposed approach.',
    'Of the 512 suspected cases that completed the additional questionnaire, 42% were farmers and 31% were current smokers (Table 1) .',
    'Three (30.0%) patients had undergone prior JAK inhibitor therapy with tofacitinib.',
    'One patient discontinued upadacitinib due to severe facial acne.',
    'Of the two patients reliant on intravenous IG therapy at baseline, one was able to discontinue intravenous IG after starting upadacitinib.',
    'Serious adverse events occurred in 4% of patients.',
    'Colchicine 0.5 mg once daily led to a significantly lower risk of ischaemic cardiovascular events than placebo (hazard ratio 0.77; 95% CI 0.61 to 0.96).',
    'By multivariate analysis, stent diameter, stent length,>10% residual stenosis, and smoking history were predictive of restenosis.',
    'By contrast, gradients among Asian and Pacific peoples are shallower than those of their European counterparts.',
    "Authors were asked to add a citation to the reviewer's work in 28 reviews (3%) but to others' work in 98 (10%).",
    'Adverse events were mild.',
    'eGFR was stable.',
    'Mortality fell.',
    'Pain fell by 2.1 points with drug X and by 0.9 points with placebo at the 12-week follow-up visit.',
    'Patients were identified through the tertiary myositis rheumatology and dermatology clinics at Vancouver General Hospital, British Columbia, Canada, from September 2020 to January 2023.',
    'Upadacitinib appears to be effective in targeting cutaneous manifestations of refractory inflammatory DM.',
    'Funding was provided by the National Institutes of Health.',
    'Ethics committee approval was obtained.',
    'Table 1 — Outcome: MACE; Hazard ratio (95% CI): 0.77; Hazard ratio (95% CI): 0.61 to 0.97',
    'Table 2 — Group: Aggregate classic DM and ADM; Measure: CDASI, median (IQR) (n=8); Pre upadacitinib: 10.5 (7.8–12.2); Current: 2.5 (0.75–5.5); P value: 0.014',
    'Note that the effect was smaller in women.',
    'Updated guidelines were published in 2019.',
    'Received doses were lower in the elderly.',
]

HELD_OUT = [
    'https://www.ncbi.nlm.nih.gov/pmc/articles/PMC7026896/',
    'SHA: 5d254ed178c092d3639ce70ae9653593acc471f9',
    'Authors: McCloskey, Brian; Heymann, David L. Date: 2020-02-05 DOI: 10.1017/s0950268820000254 License: cc-by',
    'Authors: Chen, Pei-Jer; Wu, T-C Date: 2013-01-11 DOI: 10.1186/2045-3701-3-2 License: cc-by',
    'https://doi.org/10.1017/ice.2020.61',
    'This response is one of the swiftest, coordinated global responses to an emerging infectious disease the world has seen in modern times, but is it the appropriate response, will it be effective and is it sustainable?',
    'Would other countries accept the self-imposed economic damage that China has accepted to try and contain this outbreak?',
    'Is it reasonable to consider that national governments would close down public transport into and out of London, New York or Paris in the week before Christmas even if it were shown to be an effective control measure?',
    '15 Behavioural phenotyping Spontaneous alternation.',
    'Open field behaviour.',
    'Data and cohort details are given in Supplementary Table S1 .',
    'A detailed summary of electroencephalography analysis is given in Supplementary Table S1.',
    'The authors declare no conflict of interest.',
    'Supplementary Materials: The following are available online at http://www.mdpi.com/1999-4915/11/4/379/s1, Figure S1 : western blot analysis of the expression of accessory proteins.',
    'Figure S4 : Functional analysis of ORF3b, ORF4a, ORF4b, ORF8 and ORF9 proteins on the production of NF-κB.',
    'Figure S5 : Characteristic of BtCoV/Rh/YN2012 spike mediated pseudovirus.',
    'Table S1 : General primers for AlphaCoVs genome sequencing.',
    'Table S3',
    'The serial number (SN), collection dates, isolated areas and GenBank accession numbers are listed in Table 1 .',
    'The coordinate of the complete coding region of each ORF was plotted in Figure 1 defining by the first and second principal axes.',
    "Details of correlation analysis between the first two principle axes (f' 1 and f' 2 ) of each RHDV genome in COA and nucleotide contents were listed in Table 6 .",
    'Figure 1 A plot of value of the first and second axis of RHDV genome in COA.',
    'Table 1 is inserted here.',
    'Figure 1 summarizes the outcomes of data collection and identification of possible cases.',
]

HELD_OUT_FINDINGS = [
    'Volumetric analysis revealed that Katnal1 1H/1H mice had substantially larger ventricles than wild types (Figure 3q ).',
    'CoVs were detected in 209 of these samples ( Figure 1B and Table 1 ).',
    'Other accessory proteins showed no effect on IFN production ( Figure S3 ).',
    'In total, 2061 fecal samples were collected from at least 12 Rhinolophus bat species ( Figure 1A ).',
    'All of the spots lie below the curve of the predicted values, as shown in Figure 2 , suggesting that the codon usage bias in all these 30 RHDV genomes is principally influenced by the mutational bias.',
    'The 7 concatenated domains of polyprotein 1 shared <90% aa sequence identity with those of other known alpha-CoVs ( Table 2 ), suggesting that these viruses represent a novel CoV species within the alpha-CoV.',
    'A total of 11 human cell lines, 8 bat cells, and 9 other mammal cell lines were tested, and no strong positive was found (Table S2) .',
    'We found that the ciliary beat frequency (CBF) of Katnal1 1H/1H animals was significantly attenuated compared to wild-type (CBF: wildtype = 22.39 ± 0.94 Hz, Katnal1 1H/1H = 14.25 ± 0.92 Hz, P = 0.0001; Figure 5a , Supplementary Movies S1).',
    "Compared to wildtype littermates, the non-REM delta power of Katnal1 1H/1H mice was higher in the dark phase of baseline sleep (mixed ANOVA, interaction factors 'genotype X time, F(1,88) = 8.91, P = 0.0175) ( Figure 1f ) and in both the light and dark phases of recovery sleep (mixed ANOVA, interaction factors 'genotype X time', F(1,136) = 11.93, P = 0.0086; Figure 1g ).",
    'After the correlation analysis of ENC values between ORF1 and ORF2 (Table 7) , the related coefficient of ENC values of two ORFs is 0.230, and p value is 0.222 more than 0.05.',
]


def _misses(sentences: list[str]) -> list[str]:
    return [s for s in sentences if apparatus_reason(s) is None]


def test_hand_collected_apparatus_is_flagged() -> None:
    """Recall on APPARATUS: 83 of 84 when written (the miss: "Take-home points", a heading without a stop)."""
    missed = _misses(APPARATUS)
    assert 1 - len(missed) / len(APPARATUS) >= 0.97, f"apparatus the rules let through: {missed}"


def test_apparatus_collected_after_the_rules_is_flagged() -> None:
    """Recall on HELD_OUT (see the module docstring): 22 of 24."""
    missed = _misses(HELD_OUT)
    assert 1 - len(missed) / len(HELD_OUT) >= 0.9, f"apparatus the rules let through: {missed}"


@pytest.mark.parametrize("sentence", NOT_APPARATUS + HELD_OUT_FINDINGS)
def test_findings_and_prose_are_not_apparatus(sentence: str) -> None:
    """Results that cite a table or figure ("… (p value = 0.014) (table 2).", "Table 2 shows that …"), table rows,
    short findings, sentences that open with "By", "Authors" or "Received" as words of prose."""
    assert apparatus_reason(sentence) is None


@pytest.mark.parametrize(
    ("sentence", "title"),
    [
        ("Upadacitinib therapy in refractory inflammatory myositis: a case series of 10 patients", "Upadacitinib therapy in refractory inflammatory myositis: a case series of 10 patients"),
        ("Colchicine after myocardial infarction", "Colchicine after Myocardial Infarction."),
    ],
)
def test_the_title_restated_is_a_heading(sentence: str, title: str) -> None:
    assert apparatus_reason(sentence, title=title) == "heading"
    assert apparatus_reason(sentence, title="Another document") is None, "a sentence of its words is prose elsewhere"


def test_where_a_sentence_sits_can_make_it_apparatus() -> None:
    assert apparatus_reason("Rituximab for refractory disease", block_kind="heading") == "heading"
    assert apparatus_reason("Patient baseline characteristics", block_kind="caption") == "caption"
    assert apparatus_reason("KH designed the study.", section=("Article information",)) == "declarations"
    assert apparatus_reason("Validation measures.") == "heading", "a run-in heading of a plain-text paper"
    assert apparatus_reason("Validation measures.", block_kind="list_item") is None, "a list item is not a heading"
    table_row = "Table 1 — Outcome: MACE; Hazard ratio (95% CI): 0.77"
    assert apparatus_reason(table_row, block_kind="table_row") is None, "a table row is data"
    assert apparatus_reason("Table 1 — Patient baseline characteristics", block_kind="paragraph") == "caption"


def _seed() -> Document:
    return load_document(CORPUS / f"{CASE_SERIES}.md").document


def _offset(document: Document, sentence: str) -> int:
    offset = document.text.find(sentence)
    assert offset >= 0, f"not in the seed document: {sentence}"
    return offset


def test_place_of_reads_captions_sections_and_run_in_labels() -> None:
    document = _seed()
    caption = "The improvement in cutaneous disease activity in a dermatomyositis patient who transitioned"
    assert place_of(document, _offset(document, caption)).kind == "caption", "a caption's second sentence has no label"
    assert place_of(document, _offset(document, "Patient baseline characteristics, treatments")).kind == "caption"
    assert place_of(document, _offset(document, "The patients failed an average of four")).label == "Results"
    assert place_of(document, _offset(document, "Further research is still needed")).label == "Conclusion"
    results = place_of(document, _offset(document, "Of the two patients reliant on intravenous IG"))
    assert results == Place("paragraph", ("Results",), ""), "sections without the title that heads them all"
    assert place_of(document, len(document.text) + 5) == Place()
    between = document.text.find("\n\n")
    assert place_of(document, between) == Place(), "the gap between blocks is in no block"


def test_one_scan_over_many_sentences_agrees_with_each_rule_alone() -> None:
    """apparatus_reasons scans all sentences joined (Joined) and checks only those a cheap superset admits; every
    rule applied to every sentence on its own must find nothing more."""
    sentences = [*APPARATUS, *NOT_APPARATUS, *HELD_OUT, *HELD_OUT_FINDINGS, "line\nbreak ending in Figure 2.", "nul\0 here?"]
    rules = (("question", is_question), ("caption", is_caption), ("byline", is_byline), ("affiliation", is_affiliation), ("metadata", is_metadata))
    alone = [next((name for name, rule in rules if rule(" ".join(s.replace("\0", " ").split()))), None) for s in sentences]
    batch = apparatus_reasons(sentences, [Place("paragraph")] * len(sentences), [""] * len(sentences))
    headings = {i for i, reason in enumerate(batch) if reason == "heading"}
    assert [r for i, r in enumerate(batch) if i not in headings] == [r for i, r in enumerate(alone) if i not in headings]


def _document(text: str, blocks: list[tuple[int, int, tuple[str, ...]]]) -> Document:
    return Document("d", "Title", text, tuple(Block("paragraph", a, b, section) for a, b, section in blocks), {}, "d.md", "x")


def test_a_sentence_is_placed_within_its_abstract() -> None:
    abstract = "x" * 1000
    assert section_positions(_document(abstract, [(0, 400, ()), (402, 1000, ())]), [0, 500, 999]) == [0.0, 0.5, 0.999], "no headings"
    assert section_positions(_document(abstract, [(0, 1000, ("Title",))]), [250]) == [0.25], "under its title alone"
    assert section_positions(_document(abstract, []), [250]) == [0.25], "no blocks: the whole text"
    note = "It is treated with snorfacitinib 2 mg. Glorbitis is rare."
    assert section_positions(_document(note, [(0, len(note), ())]), [0]) == [None], "a note of a few lines has no parts"
    paper = "x" * 9000
    headed = [(0, 500, ("Title", "Abstract")), (500, 1000, ("Title", "Abstract")), (1000, 2000, ("Title", "Introduction")), (2000, 9000, ("Title", "Summary"))]
    assert section_positions(_document(paper, headed), [500, 1500, 3000]) == [0.5, None, None], "the abstract; no introduction; a summary too long"
    assert section_positions(_document(paper, [(0, 9000, ())]), [100]) == [None], "a whole paper without headings is no abstract"
    row = cues(["Mortality fell."], positions=[0.5])[0]
    assert list(row[[CUES.index(c) for c in PLACE]]) == [1.0, 0.5, 0.25, 0.125]
    assert not cues(["Mortality fell."])[0][[CUES.index(c) for c in PLACE]].any(), "unplaced: zeros"


def test_cues_read_each_sentence_on_its_own() -> None:
    sentences = [*APPARATUS[:20], *NOT_APPARATUS, "In conclusion, we may use it (OR 1.2; p = 0.01)?", "or SD-like words: orchid, USD"]
    together = cues(sentences)
    assert np.array_equal(together, np.vstack([cues([s]) for s in sentences])), "a cue must not see the next sentence"
    row = dict(zip(CUES, cues(["In conclusion, we may use it (OR 1.2; p = 0.01)?"])[0], strict=True))
    assert row["concluding"] and row["we"] and row["hedge"] and row["ratio"] and row["p_value"] and row["question"]
    assert not any(cues(["or SD-like words: orchid, USD"])[0][[CUES.index("ratio"), CUES.index("we")]])


@pytest.mark.parametrize(
    ("label", "role"),
    [
        ("RESULTS", "finding"), ("PATIENTS AND METHODS", "method"), ("DESIGN, SETTING, AND PARTICIPANTS", "method"),
        ("MAIN OUTCOME MEASURES", "method"), ("BACKGROUND AND AIM OF THE STUDY", "background"), ("Conclusion", "finding"),
        ("Study population", "method"), ("METHODS AND RESULTS", None), ("DISCUSSION", None), ("OUTCOME", None),
        ("Management Recommendations for Patients on IVIG for Dermatomyositis", None),
    ],
)
def test_section_labels_name_roles_by_their_words(label: str, role: str | None) -> None:
    assert section_role(label) == role


# ---------------------------------------------------------------- the model, on the seed case series


Row = tuple[str, np.ndarray, Place, float | None]


def _sections(assistant: Assistant) -> dict[str, list[Row]]:
    """The case series' sentences as the composer sees them (text, the index's vector, place, position in the
    document), by innermost heading."""
    index = assistant.index
    document = index.documents[CASE_SERIES]
    found: dict[str, list[Row]] = {}
    for chunk in (c for c in index.chunks if c.doc_id == CASE_SERIES and c.kind != "apparatus"):
        for (start, end), vector in zip(chunk.sentences, index.sentence_vectors(chunk), strict=True):
            place = place_of(document, start)
            row = (document.text[start:end], vector, place, section_positions(document, [start])[0])
            found.setdefault(place.section[-1] if place.section else "", []).append(row)
    return found


def _model_roles(rows: list[Row], *, placed: bool = True) -> list[str]:
    """The model's roles for the rows' prose, each read where it sits in its section (`placed`, as the composer reads
    it) or alone."""
    prose = [(t, v, at if placed else None) for t, v, p, at in rows if apparatus_reason(t, block_kind=p.kind, section=p.section) is None]
    probabilities = RoleModel().predict([t for t, _, _ in prose], np.vstack([v for _, v, _ in prose]), [at for _, _, at in prose])
    return [CLASSES[i] for i in probabilities.argmax(axis=1)]


def test_the_model_reads_the_case_series_abstract_by_where_each_sentence_sits(assistant: Assistant) -> None:
    """The "Abstract" heading names no role, so the model reads the abstract, placed as PubMedQA's abstracts are: its
    objective as background, its methods as methods, its closing findings and conclusion as findings. Unplaced, the
    same sentences read 4 background, 6 method, 2 finding: the acne and the conclusion as background."""
    rows = _sections(assistant)["Abstract"]
    assert all(at is not None for *_, at in rows), "an abstract's length is placed"
    roles = dict(zip([t for t, *_ in rows], _model_roles(rows), strict=True))
    by_start = {start: next(role for t, role in roles.items() if t.startswith(start)) for start in (
        "Objectives: To evaluate", "The medical records of these patients", "One patient discontinued upadacitinib due to severe facial acne",
        "Conclusion: Upadacitinib appears to be effective", "Nine patients remained on upadacitinib",
    )}
    assert list(by_start.values()) == ["background", "method", "finding", "finding", "finding"], by_start


def test_the_model_alone_reads_the_case_series_sections(assistant: Assistant) -> None:
    """Without the document's headings (a paper of 25,000 characters in one section is too long to be placed): the
    introduction reads as background (6 of 7 when trained), the methods as methods (9 of 11), the results as findings
    more often than as background (10 and 5 of 27, and 12 as methods: a case series' results describe patients in a
    method's words; sentence_roles reads the "Results" heading)."""
    sections = _sections(assistant)
    introduction = _model_roles(sections["Introduction"], placed=False)
    methods = _model_roles(sections["Study population"] + sections["Data collection"], placed=False)
    results = _model_roles(sections["Results"], placed=False)
    assert introduction.count("background") / len(introduction) >= 0.7, introduction
    assert methods.count("method") / len(methods) >= 0.7, methods
    assert results.count("finding") > results.count("background") and results.count("finding") / len(results) >= 0.35, results


def test_the_model_calls_the_case_series_key_results_findings(assistant: Assistant) -> None:
    rows = {row[0]: row for section in _sections(assistant).values() for row in section}
    key = [
        t for t in rows
        if t.startswith(("Aggregate analysis of the classic DM", "After switching to upadacitinib", "One patient with anti-MDA5 classic DM discontinued"))
    ]
    assert len(key) == 3
    assert _model_roles([rows[t] for t in key]) == ["finding"] * 3


def test_sentence_roles_quote_findings_never_apparatus(assistant: Assistant) -> None:
    """The composer's call: apparatus by the rules, the document's own labels where it has them, the model elsewhere."""
    rows = [row for section in _sections(assistant).values() for row in section]
    title = assistant.index.documents[CASE_SERIES].title
    roles = sentence_roles(
        [t for t, *_ in rows], np.vstack([v for _, v, *_ in rows]), [p for _, _, p, _ in rows], [title] * len(rows), positions=[at for *_, at in rows]
    )
    by_text = {t: (role, label) for (t, *_), role, label in zip(rows, roles.roles, roles.labels, strict=True)}
    caption = next(t for t in by_text if t.startswith("The improvement in cutaneous disease activity in a dermatomyositis"))
    ivig = next(t for t in by_text if t.startswith("Of the two patients reliant on intravenous IG"))
    conclusion = next(t for t in by_text if t.startswith("Conclusion: Upadacitinib appears to be effective"))
    assert by_text[caption][0] == "apparatus"
    assert by_text["Madelaine Beckett (1), Jan Dutz (2, 3, 4), Kun Huang (3, 4, 5, 6)"][0] == "apparatus"
    assert by_text[ivig] == ("finding", "Results") and by_text[conclusion] == ("finding", "Conclusion")
    assert all(role in ("finding", "apparatus") for t, (role, label) in by_text.items() if label == "Results")
    finding = roles.finding
    assert all(finding[i] == 0 for i, role in enumerate(roles.roles) if role == "apparatus")
    assert all(finding[i] == 1 for i, label in enumerate(roles.labels) if roles.roles[i] == "finding" and label)
    unlabelled = [i for i, label in enumerate(roles.labels) if not label and roles.roles[i] != "apparatus"]
    assert unlabelled and all(0 < finding[i] < 1 for i in unlabelled), "the Discussion's roles are the model's"


# ---------------------------------------------------------------- the shipped weights and the loader


def test_the_shipped_model_matches_this_code() -> None:
    meta = json.loads((MODEL_DIR / "meta.json").read_text())
    assert meta["cues"] == list(CUES) and meta["classes"] == list(CLASSES), f"retrain: {RETRAIN}"
    assert (MODEL_DIR / "CARD.md").is_file()
    assert sum(p.stat().st_size for p in MODEL_DIR.iterdir()) < 1_000_000, "the role model stays under 1 MB"
    probabilities = RoleModel().predict(["Mortality fell by 20% (p = 0.01)."], np.zeros((1, meta["vector_dim"])))
    assert probabilities.shape == (1, 3) and np.isclose(probabilities.sum(), 1)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "roles"
    shutil.copytree(MODEL_DIR, target)
    return target


def _predict(folder: Path) -> np.ndarray:
    return RoleModel(folder).predict(["One patient stopped the drug."], np.zeros((1, 384), np.float32))


def test_a_missing_or_damaged_model_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="eval.training.train_roles"):
        _predict(tmp_path / "nothing")
    truncated = _copy(tmp_path / "a")
    (truncated / "weights.npz").write_bytes((truncated / "weights.npz").read_bytes()[:100])
    with pytest.raises(ModelError, match="missing or damaged.*eval.training.train_roles"):
        _predict(truncated)
    altered = _copy(tmp_path / "b")
    with np.load(altered / "weights.npz") as f:
        weights, bias = f["W"], f["b"]
    np.savez(altered / "weights.npz", W=weights * 2, b=bias)
    with pytest.raises(ModelError, match="not the ones meta.json's version names"):
        _predict(altered)
    stale = _copy(tmp_path / "c")
    meta = json.loads((stale / "meta.json").read_text())
    (stale / "meta.json").write_text(json.dumps({**meta, "cues": meta["cues"][:-1]}))
    with pytest.raises(ModelError, match="other cues"):
        _predict(stale)


def test_the_loader_refuses_pickles(tmp_path: Path) -> None:
    """An .npz holding a pickled object array is refused before anything is unpickled."""
    pickled = _copy(tmp_path)
    with np.load(pickled / "weights.npz") as f:
        bias = f["b"]
    np.savez(pickled / "weights.npz", W=np.array([{"not": "weights"}], dtype=object), b=bias)
    with pytest.raises(ModelError, match="allow_pickle"):
        _predict(pickled)


def test_vectors_of_another_model_are_refused() -> None:
    with pytest.raises(ModelError, match="384-d"):
        RoleModel().predict(["One patient stopped the drug."], np.zeros((1, 256), np.float32))
