"""Issue 29, scoping: a caller's `sources` and `where` become one Scope (documents/scope.py), and a Scope admits a
document by its evidence profile and grade. Pure functions: no model, no index."""

from __future__ import annotations

import re

import pytest

from assistant.documents.grade import KIND_NAMES, grade_of
from assistant.documents.scope import admits, describe, kind_name, narrow, parse_where, scope_of
from assistant.errors import QuestionError, ScopeError
from assistant.schema import EvidenceProfile, Scope


def profile(doc_type: str = "document", peer: bool | None = None, date: str | None = None, design: str | None = None) -> EvidenceProfile:
    return EvidenceProfile(doc_type, peer, date, None, None, design, None, None)


CASE_SERIES = profile("peer-reviewed retrospective case series", True, "2024-01-03")
AI_PAGE = profile("AI-generated clinical answer pending human review", False, "2025-09-23")
TRIAL = profile("randomised controlled trial", True, "2019")
UNDATED_REVIEW = profile("systematic review", True, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("peer_reviewed", Scope(peer_reviewed=True)),
        ("Peer-reviewed", Scope(peer_reviewed=True)),
        ("not peer_reviewed", Scope(peer_reviewed=False)),
        ("peer_reviewed = false", Scope(peer_reviewed=False)),
        ("level<=4", Scope(levels=(1, 2, 3, 4))),
        ("level < 3", Scope(levels=(1, 2))),
        ("level>7", Scope(levels=(8, 9))),
        ("level=2..4", Scope(levels=(2, 3, 4))),
        ("level=1|5", Scope(levels=(1, 5))),
        ("level>=2 and level<=4", Scope(levels=(2, 3, 4))),
        ("type=case series|case report", Scope(kinds=("case series", "case report"))),
        ("type: RCT", Scope(kinds=("randomised trial",))),
        ("kind=cohort studies or case reports", Scope(kinds=("cohort study", "case report"))),
        ("type=unknown", Scope(kinds=("document of unknown type",))),
        ("date>=2020", Scope(since="2020")),
        ("date<=2023-06", Scope(until="2023-06")),
        ("date=2019..2021-03-31", Scope(since="2019", until="2021-03-31")),
        ("date=2024", Scope(since="2024", until="2024")),
        ("date>=2020 and date<=2023; peer_reviewed", Scope(peer_reviewed=True, since="2020", until="2023")),
    ],
)
def test_a_where_expression_reads_into_one_scope(text: str, expected: Scope) -> None:
    assert parse_where(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("levle<=3", "each clause names one of peer_reviewed, type, level, date"),
        ("level<=ten", "a level is a whole number from 1"),
        ("level>9", "names no level from 1"),
        ("type=poem", "Unknown evidence type 'poem'"),
        ("date>2020", "dates take >= (on or after)"),
        ("date>=20-01", "write 2020, 2020-06 or 2020-06-30"),
        ("date>=2020-13", "write 2020, 2020-06 or 2020-06-30"),
        ("date>=2024 and date<=2020", "The date range 2024..2020 is empty"),
        ("peer_reviewed and not peer_reviewed", "both peer-reviewed and not"),
        ("level<=2 and level>=5", "No level is in both clauses"),
        ("peer_reviewed and", "empty clause"),
        ("and level<=3", "empty clause"),
        ("peer_reviewed=maybe", "write peer_reviewed, peer_reviewed=false"),
    ],
)
def test_an_unreadable_filter_says_what_to_write(text: str, says: str) -> None:
    with pytest.raises(ScopeError, match=re.escape(says)):
        parse_where(text)


def test_a_scope_error_is_a_question_error_so_the_api_answers_400() -> None:
    assert issubclass(ScopeError, QuestionError)


def test_sources_and_where_make_one_scope_and_nothing_given_is_the_whole_library() -> None:
    assert scope_of(None, None) is None
    assert scope_of(None, "  ") is None, "an empty filter (a blank form field) limits nothing"
    assert scope_of("a", None) == Scope(sources=("a",)), "one id alone is one document"
    assert scope_of(["a", " b ", "a"], None) == Scope(sources=("a", "b"))
    assert scope_of(["a"], "peer_reviewed") == Scope(sources=("a",), peer_reviewed=True)
    made = Scope(sources=("a", "b"), levels=(5,))
    assert scope_of(["b", "c"], made) == Scope(sources=("b",), levels=(5,)), "sources narrow a Scope's own sources"


@pytest.mark.parametrize(("sources", "where", "says"), [
    ([], None, "names no document"),
    (["  "], None, "names no document"),
    ([3], None, "must be document ids"),
    (["a"], 7, "must be an expression"),
    (["a"], Scope(sources=("b",)), "have nothing in common"),
])
def test_an_empty_or_mistyped_scope_is_refused_never_read_as_everything(sources: object, where: object, says: str) -> None:
    with pytest.raises(ScopeError, match=says):
        scope_of(sources, where)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("where", "admitted"),
    [
        ("peer_reviewed", {"case series", "trial", "review"}),
        ("not peer_reviewed", {"ai page"}),
        ("level<=3", {"trial", "review"}),
        ("level>=8", {"ai page"}),
        ("type=case series", {"case series"}),
        ("type=randomised trial|systematic review", {"trial", "review"}),
        ("date>=2024", {"case series", "ai page"}),
        ("date<=2024-01", {"case series", "trial"}),
        ("date=2019..2023", {"trial"}),
        ("peer_reviewed and date>=2020", {"case series"}),
    ],
)
def test_a_scope_admits_documents_by_their_evidence(where: str, admitted: set[str]) -> None:
    documents = {"case series": CASE_SERIES, "ai page": AI_PAGE, "trial": TRIAL, "review": UNDATED_REVIEW}
    scope = parse_where(where)
    assert {name for name, p in documents.items() if admits(scope, p, grade_of(p))} == admitted


def test_a_page_declared_peer_reviewed_but_graded_unreviewed_is_not_peer_reviewed() -> None:
    claims = profile("AI-generated answer", True, "2025-01-01")
    assert grade_of(claims).conflicts, "the grade keeps the weaker reading"
    assert not admits(Scope(peer_reviewed=True), claims, grade_of(claims))


def test_every_kind_name_reads_as_itself() -> None:
    assert all(kind_name(name) == name for name in KIND_NAMES)
    assert kind_name("randomized controlled trials") == "randomised trial" and kind_name("poem") is None


def test_the_filters_read_as_words() -> None:
    assert describe(parse_where("peer_reviewed and level<=4 and date>=2020")) == "peer-reviewed, at evidence level 1–4, dated 2020 or later"
    assert describe(parse_where("type=case series|case report and level=1|3 and date=2019..2021")) == (
        "of type case series or case report, at evidence level 1, 3, dated 2019 to 2021"
    )
    assert describe(Scope(sources=("a",))) == ""


def test_narrowing_keeps_what_both_admit() -> None:
    both = narrow(Scope(levels=(1, 2, 3), since="2019"), Scope(levels=(2, 3, 4), since="2021", until="2024"))
    assert both == Scope(levels=(2, 3), since="2021", until="2024")
