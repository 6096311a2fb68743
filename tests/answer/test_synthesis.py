"""The synthesis core (assistant/answer/synthesis.py) on hand-built sources: order by grade among the comparably
relevant, a claim of missing evidence refuted by a stronger source, the bottom line's picks and its opening line."""

from __future__ import annotations

from dataclasses import dataclass, replace

from assistant.answer.stance import ABSENCE_CLAIM, source_stance
from assistant.answer.synthesis import Weighed, bottom_line, refutations, source_order, synthesis
from assistant.documents.grade import grade_of
from assistant.schema import EvidenceProfile, Source, SourceStance


@dataclass(frozen=True)
class Line:
    doc: str
    start: int
    text: str
    evidence: float
    role: str = "finding"
    matched: frozenset[str] = frozenset()
    about: bool = True

    @property
    def absence(self) -> bool:  # the cue rule's reading (the learned one needs the index's vectors)
        return bool(ABSENCE_CLAIM.search(self.text))

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.doc, self.start, self.start + len(self.text))


def source(doc_id: str, doc_type: str, peer: bool | None, date: str, sample: int | None = None) -> Source:
    profile = EvidenceProfile(doc_type, peer, date, "published", sample, None, None, None)
    return Source(doc_id, doc_id, profile, None, grade_of(profile))


def weighed(
    src: Source, *lines: tuple[str, float, str], stance: SourceStance | None = None, results_first: bool = False, position: int = 0,
    off_topic: tuple[int, ...] = (),
) -> Weighed:
    """A source quoting `lines` (text, evidence, role); those at `off_topic` (indexes) are about nothing asked."""
    sentences = tuple(Line(src.doc_id, i * 100, text, evidence, role, about=i not in off_topic) for i, (text, evidence, role) in enumerate(lines))
    ranked = tuple(sorted(sentences, key=lambda s: -s.evidence))
    said = [s for s in ranked if s.role != "apparatus"]
    return Weighed(src, ranked, stance or source_stance([s.text for s in said], [s.absence for s in said]), results_first, position)


SERIES = source("series", "peer-reviewed retrospective case series", True, "2024-01-03", 10)
PAGE = source("page", "AI-generated answer", False, "2025-09-23")
TRIAL = source("trial", "randomised controlled trial", True, "2021-11-15", 4745)
SMALL_TRIAL = source("small", "randomised controlled trial", True, "2023-02-01", 120)

CLAIM = ("There are no published clinical trials supporting the use of upadacitinib for dermatomyositis.", 0.9, "finding")
FINDING = ("Upadacitinib offered clinically and statistically significant cutaneous improvement.", 0.5, "finding")
CAPTION = ("Photos at assessment pre tofacitinib (A) and post upadacitinib (C).", 0.8, "apparatus")
IVIG = ("Of the two patients reliant on IVIG at baseline, one was able to discontinue IVIG.", 0.3, "finding")


def test_a_claim_of_missing_evidence_is_refuted_by_a_stronger_source_with_findings() -> None:
    page, series = weighed(PAGE, CLAIM), weighed(SERIES, FINDING, IVIG)
    assert page.stance == "lacking" and series.stance == "supports"
    assert refutations([page, series]) == {"page": ("series",)}
    blog = weighed(source("blog", "health blog post", False, "2020-01-01"), FINDING)
    assert refutations([weighed(PAGE, CLAIM), blog]) == {"page": ("blog",)}, "a source of the same grade with findings refutes"


def test_a_source_whose_findings_do_not_bear_on_the_question_refutes_no_claim() -> None:
    """Composer._bearing decides whether a source's findings are on the question; one that is not refutes nothing,
    however strong, and the claim stands; it still outranks the claim in the order (`bearing=False`)."""
    page, series = weighed(PAGE, CLAIM), weighed(SERIES, FINDING, IVIG)
    assert refutations([page, replace(series, bears=False)]) == {}
    blog = weighed(source("blog", "health blog post", False, "2020-01-01"), (FINDING[0], 0.3, "finding"), position=1)
    sources = [page, replace(blog, bears=False)]
    assert [w.source.doc_id for w in source_order(sources, 0.5, {})] == ["page", "blog"], "the claim far outscores it"
    outranked = refutations(sources, bearing=False)
    assert refutations(sources) == {} and outranked == {"page": ("blog",)}
    assert [w.source.doc_id for w in source_order(sources, 0.5, outranked)] == ["blog", "page"]
    assert refutations([page, replace(series, bears=False), weighed(TRIAL, FINDING)]) == {"page": ("trial",)}


def test_a_weaker_source_never_refutes_a_stronger_ones_claim() -> None:
    review = weighed(source("review", "systematic review", True, "2022-01-01"), CLAIM)
    assert refutations([review, weighed(SERIES, FINDING)]) == {}


def test_the_refuted_claim_never_leads_and_follows_its_evidence() -> None:
    page, series = weighed(PAGE, CLAIM), weighed(SERIES, FINDING, IVIG)
    refuted = refutations([page, series])
    order = source_order([page, series], lead_share=0.5, outranked=refuted)
    assert [w.source.doc_id for w in order] == ["series", "page"]
    picks = bottom_line(order, refuted, slots=3, per_source=3, share=0.3)
    assert [p.sentence.text for p in picks] == [FINDING[0], IVIG[0], CLAIM[0]]
    assert picks[-1].refuted_by == ("series",)


def test_apparatus_never_stands_in_the_bottom_line() -> None:
    series = weighed(SERIES, CAPTION, FINDING)
    picks = bottom_line([series], {}, slots=3, per_source=3, share=0.3)
    assert CAPTION[0] not in [p.sentence.text for p in picks] and picks[0].sentence.text == FINDING[0]


def test_among_comparably_relevant_sources_the_stronger_grade_leads() -> None:
    small = weighed(SMALL_TRIAL, ("The small trial found fewer events with colchicine.", 0.8, "finding"))
    large = weighed(TRIAL, ("The large trial found fewer events with colchicine.", 0.6, "finding"))
    assert [w.source.doc_id for w in source_order([small, large], 0.5, {})] == ["trial", "small"]
    assert [w.source.doc_id for w in source_order([small, large], 0.9, {})] == ["small", "trial"], "0.6 < 0.9 × 0.8: relevance decides"


UNTYPED = source("study", "document", None, "2019-01-01")  # a document that says nothing of what it is
ECHO = ("The medical literature has a glaring gap on whether headgear prevents concussion in rugby.", 0.9, "background")
DISCLAIMER = ("Please consult your doctor for advice about your own situation.", 0.15, "finding")
RESULT = ("Concussion rates did not differ between players with and without headgear (p = 0.4).", 0.6, "finding")


def test_a_source_that_reports_a_finding_leads_one_of_the_same_grade_that_only_restates_the_question() -> None:
    page = weighed(source("page", "document", None, "2024-01-01"), ECHO, DISCLAIMER, off_topic=(1,), results_first=True, position=0)
    study = weighed(UNTYPED, ("Players were randomised by club.", 0.7, "method"), RESULT, results_first=True, position=2)
    assert not page.reports and study.reports, "a conclusion about nothing asked reports nothing"
    assert page.only_discusses and not study.only_discusses
    assert [w.source.doc_id for w in source_order([page, study], 0.5, {}, findings=True)] == ["study", "page"]
    assert [w.source.doc_id for w in source_order([page, study], 0.5, {})] == ["page", "study"], "off: the fused order"
    asked = [  # "What is known about …?"
        weighed(page.source, ECHO, DISCLAIMER, off_topic=(1,), position=0),
        weighed(UNTYPED, ("Players were randomised by club.", 0.7, "method"), RESULT, position=2),
    ]
    assert [w.source.doc_id for w in source_order(asked, 0.5, {}, findings=True)] == ["page", "study"], "no verdict asked: background may answer"
    fact = weighed(source("leaflet", "document", None, "2020-01-01"), ("Headgear does not stop the brain moving inside the skull.", 0.9, "background"), results_first=True)
    assert source_order([fact, study], 0.5, {}, findings=True)[0] is fact, "a fact stated is no discussion of the evidence"
    trial = weighed(TRIAL, ("Players were randomised by club.", 0.7, "method"), position=1)
    assert source_order([study, trial], 0.5, {}, findings=True)[0] is trial, "grade first, findings within a grade"


def test_an_unreviewed_page_that_restates_the_question_sets_no_bar_for_the_reviewed_sources() -> None:
    page = weighed(PAGE, ECHO, position=0)
    series = weighed(SERIES, ("Cutaneous disease improved in 8 of 10 patients.", 0.4, "finding"), position=1)
    assert [w.source.doc_id for w in source_order([page, series], 0.5, {})] == ["series", "page"], "0.4 ≥ 0.5 × 0.4, not 0.5 × 0.9"
    blog = weighed(source("blog", "health blog post", False, "2020-01-01"), ("Headgear is uncomfortable.", 0.4, "finding"), position=1)
    assert [w.source.doc_id for w in source_order([page, blog], 0.5, {})] == ["page", "blog"], "among pages relevance decides"


def test_for_a_verdict_a_sources_results_come_before_its_background() -> None:
    study = weighed(UNTYPED, ("Headgear is often recommended in rugby.", 0.9, "background"), RESULT, results_first=True)
    assert study.findings[0].text == RESULT[0]
    assert weighed(UNTYPED, ("Headgear is often recommended in rugby.", 0.9, "background"), RESULT).findings[0].text != RESULT[0]


def test_a_text_that_says_a_machine_wrote_it_is_taken_at_its_word_but_inferred_upgrades_are_not() -> None:
    said = EvidenceProfile("AI-generated answer", None, "2024-01-01", None, None, None, None, None, extracted=("doc_type",))
    bot = weighed(Source("bot", "bot", said, None, grade_of(said)), ("Headgear prevents concussion.", 0.9, "finding"), position=0)
    study = weighed(UNTYPED, RESULT, position=1)
    assert [w.source.doc_id for w in source_order([bot, study], 0.5, {})] == ["study", "bot"]
    read = EvidenceProfile("randomised controlled trial", None, "2024-01-01", None, None, None, None, None, extracted=("doc_type",))
    inferred = weighed(Source("rct", "rct", read, None, grade_of(read)), RESULT, position=1)
    first = weighed(UNTYPED, RESULT, position=0)
    assert [w.source.doc_id for w in source_order([first, inferred], 0.5, {})] == ["study", "rct"], "a trial read from wording only suggests"
    assert [w.source.doc_id for w in source_order([first, inferred], 0.5, {}, extracted=True)] == ["rct", "study"]


def test_the_opening_line_counts_sources_by_stance_and_grade_and_names_the_contradiction() -> None:
    page, series = weighed(PAGE, CLAIM), weighed(SERIES, FINDING, IVIG)
    refuted = refutations([page, series])
    order = source_order([page, series], 0.5, refuted)
    picks = bottom_line(order, refuted, 3, 3, 0.3)
    numbers = {p.sentence.key: n for n, p in enumerate(picks, start=1)}
    summary = synthesis(order, picks, numbers, refuted)
    assert summary.line == (
        "1 peer-reviewed case series (10 patients, 2024) supports it; "
        "1 unreviewed AI-generated answer (2025) says evidence is lacking, contradicted by [1], [2]."
    )
    (claim,) = summary.contradicted
    assert (claim.claim, claim.evidence, claim.missed) == (3, (1, 2), True)
    assert "missed it" in claim.note and "newer" not in claim.note
    assert [v.findings for v in summary.sources] == [(1, 2), (3,)]


def test_sources_of_one_kind_and_stance_are_counted_together() -> None:
    one = weighed(TRIAL, ("Colchicine led to a significantly lower risk of events.", 0.6, "finding"))
    two = weighed(SMALL_TRIAL, ("Colchicine reduced the risk of events.", 0.5, "finding"))
    order = source_order([one, two], 0.5, {})
    picks = bottom_line(order, {}, 3, 3, 0.3)
    summary = synthesis(order, picks, {p.sentence.key: n for n, p in enumerate(picks, 1)}, {})
    assert summary.line == "2 peer-reviewed randomised trials support it."
