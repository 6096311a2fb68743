"""Issue 29, scoping in Python: ask, search, conversations and the LangChain faces limited to chosen documents or to a
filter on their evidence, with one meaning everywhere. Real model, real seed index (a peer-reviewed case series and an
unreviewed AI-generated page); expected values come from the index itself, never hard-coded answers."""

from __future__ import annotations

import json

import numpy as np
import pytest
from samples import SEED_QUESTION

from assistant import Answer, Assistant, Settings
from assistant.errors import ScopeError
from assistant.schema import Scope

CASE_SERIES = "beckett-2024-upadacitinib-myositis-case-series"
AI_PAGE = "dr-oracle-rinvoq-dermatomyositis-ivig"
ONLY_ON_THE_AI_PAGE = "Was infliximab tried for dermatomyositis?"  # "infliximab": a word of the AI page alone


def _without_scope_line(answer: Answer) -> str:
    assert answer.search_report.scope is not None
    return answer.text.removeprefix(answer.search_report.scope.line + "\n\n")


def test_an_answer_limited_to_one_source_cites_only_it_and_says_so(assistant: Assistant) -> None:
    for doc_id in (CASE_SERIES, AI_PAGE):
        answer = assistant.ask(SEED_QUESTION, sources=[doc_id])
        assert not answer.abstained and answer.citations
        assert {c.doc_id for c in answer.citations} == {s.doc_id for s in answer.sources} == {doc_id}
        scope = answer.search_report.scope
        assert scope is not None and scope.documents == (doc_id,) and scope.scope == Scope(sources=(doc_id,))
        assert answer.text.startswith(scope.line + "\n\n"), "the answer opens with what it was limited to"
        assert assistant.index.documents[doc_id].title in scope.line and scope.titles == (assistant.index.documents[doc_id].title,)
        assert answer.search_report.documents_checked == 1
    whole = assistant.ask(SEED_QUESTION)
    assert whole.search_report.scope is None and "**Scope.**" not in whole.text
    assert {c.doc_id for c in whole.citations} == {CASE_SERIES, AI_PAGE}


def test_a_filter_on_the_evidence_means_the_documents_it_admits(assistant: Assistant) -> None:
    """'peer_reviewed' admits the case series alone: the same answer as naming it, but for the line saying why."""
    named = assistant.ask(SEED_QUESTION, sources=[CASE_SERIES])
    for where in ("peer_reviewed", "level<=5", "type=case series and date<=2024", Scope(peer_reviewed=True)):
        filtered = assistant.ask(SEED_QUESTION, where=where)
        assert filtered.search_report.scope.documents == (CASE_SERIES,), where
        assert _without_scope_line(filtered) == _without_scope_line(named), where
        assert "1 of 2 documents" in filtered.search_report.scope.line
    unreviewed = assistant.ask(SEED_QUESTION, where="not peer_reviewed and date>=2025")
    assert {c.doc_id for c in unreviewed.citations} == {AI_PAGE}
    both = assistant.ask(SEED_QUESTION, sources=[CASE_SERIES, AI_PAGE], where="level>=8")
    assert both.search_report.scope.documents == (AI_PAGE,) and "1 of the 2 chosen sources" in both.text


def test_a_scope_of_every_document_is_the_whole_library(assistant: Assistant) -> None:
    every = sorted(assistant.index.documents)
    for question in (SEED_QUESTION, "What side effects did upadacitinib cause?", "methotrexate dose", ONLY_ON_THE_AI_PAGE):
        whole = [(h.chunk_id, h.score, h.similarity) for h in assistant.search(question, k=10)]
        assert [(h.chunk_id, h.score, h.similarity) for h in assistant.search(question, k=10, sources=every)] == whole, question
        assert _without_scope_line(assistant.ask(question, sources=every)) == assistant.ask(question).text, question


def test_a_scoped_search_ranks_within_the_scope_never_a_filtered_top_k(assistant: Assistant) -> None:
    """The whole library's top 10 holds few passages of the AI page; limited to it, all 10 are its own."""
    k = 10
    whole = assistant.search(SEED_QUESTION, k=k)
    scoped = assistant.search(SEED_QUESTION, k=k, sources=[AI_PAGE])
    assert sum(h.doc_id == AI_PAGE for h in whole) < k
    assert len(scoped) == k and {h.doc_id for h in scoped} == {AI_PAGE}


@pytest.mark.parametrize("gather_share", [0.0, 1.0])
def test_the_local_store_scores_the_scope_as_it_scores_the_whole_index(assistant: Assistant, gather_share: float) -> None:
    """Both ways of scoring a scope (the scope's vectors gathered, or all scored and the rest masked) give the whole
    index's numbers on the scope's chunks, and nothing elsewhere."""
    searcher, store = assistant.searcher, assistant.index.store
    within = searcher.resolve(Scope(sources=(AI_PAGE,))).within
    plan = searcher.planner.plan(SEED_QUESTION)
    vectors = assistant.embedder.embed([SEED_QUESTION, plan.rewritten])
    keywords = searcher._lexical_query(plan)
    whole = store.score(vectors, keywords, 200)
    store.gather_share, kept = gather_share, store.gather_share
    try:
        scoped = store.score(vectors, keywords, 200, within)
    finally:
        store.gather_share = kept
    np.testing.assert_allclose(scoped.dense[within.rows], whole.dense[within.rows], atol=1e-6)
    assert np.isneginf(scoped.dense[~within.mask]).all() and not scoped.lexical[~within.mask].any()
    assert np.array_equal(scoped.lexical[within.rows], whole.lexical[within.rows])


def test_not_covered_within_a_scope_says_it_searched_the_scope(assistant: Assistant) -> None:
    """'infliximab' is on the AI page only: the case series alone never mentions it, and the audit checked its passages."""
    whole = assistant.ask(ONLY_ON_THE_AI_PAGE)
    assert "never mention: infliximab" not in whole.text
    answer = assistant.ask(ONLY_ON_THE_AI_PAGE, sources=[CASE_SERIES])
    chunks = sum(c.doc_id == CASE_SERIES for c in assistant.index.chunks)
    assert answer.abstained and not answer.citations
    assert "**Not covered by the chosen sources.**" in answer.text and "The chosen sources never mention: infliximab." in answer.text
    assert f"Checked {chunks} passages in 1 document by meaning" in answer.text
    audit = answer.search_report.absence_audit
    assert audit is not None and (audit.passages_checked, audit.documents_checked) == (chunks, 1)
    assert answer.text.startswith(answer.search_report.scope.line)


def test_an_unknown_id_names_the_valid_ones_and_the_closest(assistant: Assistant) -> None:
    with pytest.raises(ScopeError, match=f"has the id 'beckett-2024'.*Did you mean '{CASE_SERIES}'.*{CASE_SERIES}, {AI_PAGE}"):
        assistant.ask(SEED_QUESTION, sources=["beckett-2024"])
    with pytest.raises(ScopeError, match="has the id 'nope'"):
        assistant.search("ivig", sources=[CASE_SERIES, "nope"])


def test_a_filter_matching_nothing_says_how_many_pass_each_clause(assistant: Assistant) -> None:
    with pytest.raises(ScopeError, match=r"No document is peer-reviewed, dated 2025 or later: of the 2 indexed documents, "
                                         r"1 peer-reviewed; 1 dated 2025 or later\. Widen the filter"):
        assistant.ask(SEED_QUESTION, where="peer_reviewed and date>=2025")
    with pytest.raises(ScopeError, match="of the 1 chosen document, 0 at evidence level 1–3"):
        assistant.ask(SEED_QUESTION, sources=[AI_PAGE], where="level<=3")


def test_every_face_refuses_a_bad_scope_when_it_is_made(assistant: Assistant) -> None:
    for make in (
        lambda: assistant.conversation(sources=["nope"]),
        lambda: assistant.retriever(sources=["nope"]),
        lambda: assistant.as_runnable(where="level<=1"),
        lambda: assistant.ask(SEED_QUESTION, sources=[]),
    ):
        with pytest.raises(ScopeError):
            make()


def test_a_conversation_keeps_its_scope_and_a_turn_may_choose_its_own(assistant: Assistant) -> None:
    conversation = assistant.conversation(sources=[CASE_SERIES])
    first = conversation.ask(SEED_QUESTION, suggest=False)
    follow = conversation.ask("What side effects were seen with it?", suggest=False)
    assert follow.metadata.follow_up
    for answer in (first, follow):
        assert answer.citations and {c.doc_id for c in answer.citations} == {CASE_SERIES}
    other = conversation.ask(SEED_QUESTION, suggest=False, sources=[AI_PAGE])
    assert {c.doc_id for c in other.citations} == {AI_PAGE}
    again = conversation.ask("Was it well tolerated?", suggest=False)
    assert again.search_report.scope.documents == (CASE_SERIES,), "the turn's own scope was for that turn"


def test_suggested_follow_ups_are_answerable_within_the_scope(assistant: Assistant) -> None:
    answer = assistant.conversation(sources=[AI_PAGE]).ask(SEED_QUESTION)
    for question in answer.suggestions:
        assert not assistant.ask(question, sources=[AI_PAGE]).abstained, question


def test_the_langchain_faces_take_the_same_scope(assistant: Assistant) -> None:
    documents = assistant.retriever(k=5, sources=[AI_PAGE]).invoke("upadacitinib dermatomyositis IVIG")
    assert len(documents) == 5 and {d.metadata["doc_id"] for d in documents} == {AI_PAGE}
    answer = assistant.as_runnable(where="level>=8").invoke(SEED_QUESTION)
    assert isinstance(answer, Answer) and answer.search_report.scope.documents == (AI_PAGE,)
    assert {c.doc_id for c in answer.citations} == {AI_PAGE}


def test_what_a_scope_covers_can_be_asked_before_asking(assistant: Assistant) -> None:
    assert assistant.scope() is None
    report = assistant.scope(where="peer_reviewed")
    assert report is not None and report.documents == (CASE_SERIES,)
    library = assistant.library()
    assert {s.doc_id for s in library} == set(assistant.index.documents)
    grades = {s.doc_id: s.grade.level for s in library}
    assert grades[CASE_SERIES] == 5 and grades[AI_PAGE] == 9


def test_the_cli_asks_within_sources_and_a_filter(cli, assistant: Assistant) -> None:  # type: ignore[no-untyped-def]
    settings = assistant.settings
    base = ["ask", "--corpus", settings.corpus_dir, "--index", settings.index_dir]
    result = cli(*base, "--json", "--source", AI_PAGE, "--source", CASE_SERIES, "--where", "level>=8", SEED_QUESTION)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = assistant.ask(SEED_QUESTION, sources=[AI_PAGE, CASE_SERIES], where="level>=8")
    assert data["text"] == expected.text and data["search_report"]["scope"]["documents"] == [AI_PAGE]
    shown = cli(*base, "--source", CASE_SERIES, SEED_QUESTION)
    assert shown.exit_code == 0 and "Scope. Searched only the chosen source" in " ".join(shown.stdout.split())
    for flags, says in ((["--source", "nope"], "has the id 'nope'"), (["--where", "date>2020"], "dates take >= (on or after)")):
        refused = cli(*base, *flags, SEED_QUESTION)
        assert refused.exit_code == 2 and says in refused.output and "Traceback" not in refused.output
        assert refused.output.count("\n") == 1, "one line"


def test_within_one_source_a_question_in_its_own_words_is_about_it(assistant: Assistant) -> None:
    """Issue 29: every word of "What is summarized?" is the case series' own, so within it the question is about it
    and no similarity floor turns it away; over the whole library it names nothing and is not covered."""
    scoped = assistant.ask("What is summarized?", sources=[CASE_SERIES])
    assert not scoped.abstained and {c.doc_id for c in scoped.citations} == {CASE_SERIES}
    assert assistant.ask("What is summarized?").abstained


def test_within_one_source_words_that_only_frame_the_question_decide_nothing(corpus_copy, seed_index, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: "What is highlighted regarding upadacitinib?" asks about a word the case series uses; "highlighted" and
    "regarding" only frame it. With a similarity floor no passage clears, the question is still about the one source
    it is asked of, and so is one whose only specific word ("tofacitinib") is the source's own, while one in words the
    source never uses is not covered."""
    strict = Settings(corpus_dir=corpus_copy, index_dir=seed_index).model_copy(
        update={"retrieve": Settings().retrieve.model_copy(update={"min_similarity": 0.99})}
    )
    floored = Assistant.load(strict, embedder=embedder, refresh=False)
    framed = floored.ask("What is highlighted regarding upadacitinib?", sources=[CASE_SERIES])
    assert not framed.abstained and {c.doc_id for c in framed.citations} == {CASE_SERIES}
    assert floored.ask("What is highlighted regarding upadacitinib?").abstained, "over the library the floor holds"
    assert floored.ask("What is the capital of France?", sources=[CASE_SERIES]).abstained
    own = floored.ask("Where does tofacitinib come in?", sources=[CASE_SERIES])
    assert not own.abstained and {c.doc_id for c in own.citations} == {CASE_SERIES}, "its one specific word is the source's own"



def test_within_one_source_a_word_it_writes_otherwise_is_searched_in_its_form(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: asked of one paper in a library, a word only the other papers write ("CoV", in "SARS-CoV") is one the
    paper lacks, and the paper's own form of it ("2019-nCoV") is searched as it is when the paper is indexed alone;
    before, the library's "CoV" hid that form (on COVID-QA's test papers, asked so, "not covered")."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ncov.md").write_text(
        "# A novel coronavirus\n\nThe 2019-nCoV outbreak originated in Wuhan City, China, in December 2019.\n"
        "Early cases were linked to a seafood market.\n", encoding="utf-8")
    (corpus / "sars.md").write_text(
        "# SARS in 2003\n\nSARS-CoV spread from Guangdong to 29 countries in 2003.\nCivet cats carried the virus.\n", encoding="utf-8")
    library = Assistant.build(corpus, tmp_path / "index", embedder=embedder)
    question = "Where did the SARS-CoV-2 outbreak originate?"
    scoped = library.ask(question, sources=["ncov"])
    assert not scoped.abstained and {c.doc_id for c in scoped.citations} == {"ncov"}
    assert "never mention" not in scoped.text and "No indexed passage mentions" not in scoped.text
    assert scoped.search_report.variants.get("CoV") == ["ncov"], "searched in the paper's own form"
    assert "CoV" not in library.ask(question).search_report.variants, "the library writes it: no other form is searched"


def test_within_one_source_a_misspelt_word_is_read_as_the_source_spells_it(tmp_path, embedder) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: a misspelling is matched to the nearest word of the documents asked about: "quuxxamib" is one edit
    from the library's "quuxamib" (another paper's drug) and two from "quuxamab", the one the chosen paper writes;
    read as "quuxamib", the paper "never mentions" it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "quuxamab.md").write_text("# Quuxamab for glorbitis\n\nQuuxamab improved the rash in 9 of 10 patients with glorbitis.\n", encoding="utf-8")
    (corpus / "quuxamib.md").write_text("# Quuxamib for frobnosis\n\nQuuxamib failed to improve hearing in frobnosis.\n", encoding="utf-8")
    library = Assistant.build(corpus, tmp_path / "index", embedder=embedder)
    question = "Did quuxxamib improve the rash?"
    assert library.ask(question).search_report.corrections == {"quuxxamib": "quuxamib"}, "over the library: its nearest word"
    scoped = library.ask(question, sources=["quuxamab"])
    assert scoped.search_report.corrections == {"quuxxamib": "quuxamab"}
    assert not scoped.abstained and {c.doc_id for c in scoped.citations} == {"quuxamab"} and "never mention" not in scoped.text
