"""What the chat UI shows (assistant/serve/present.py), checked on real answers from real indexes."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from markdown_it import MarkdownIt
from samples import XSS_QUESTION

from assistant import Assistant
from assistant.answer.synthesis import STANCE_WORDS
from assistant.errors import ConfigError
from assistant.serve.present import (
    DISCLAIMER,
    PATIENT_DISCLAIMER,
    PATIENT_NOTICE,
    ChatSession,
    abbreviations_in,
    audience,
    escape_markdown,
    evidence_bar_html,
    glossary_markdown,
    header_html,
    message_markdown,
    passage_html,
    segment_label,
    transcript_markdown,
    version_markdown,
)

SEED = "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?"
FOLLOW_UP = "What side effects were seen with it?"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(markup: str) -> str:
    """What a reader sees in an HTML fragment, whitespace squashed."""
    parser = _Text()
    parser.feed(markup)
    return squash("".join(parser.parts))


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def rendered(markdown: str) -> str:
    """CommonMark with raw HTML allowed: the most permissive renderer a message could meet."""
    return MarkdownIt("commonmark").render(markdown)


@pytest.fixture(scope="module")
def seed_session(seed_assistant, tmp_path_factory) -> ChatSession:
    session = ChatSession(seed_assistant.conversation(), tmp_path_factory.mktemp("export") / "c.md")
    session.ask(SEED)
    session.ask(FOLLOW_UP)
    return session


@pytest.fixture(scope="module")
def xss_answer(xss_assistant):
    return xss_assistant.conversation().ask(XSS_QUESTION)


def test_message_quotes_stay_verbatim_and_markers_link_to_passages(seed_assistant, seed_session):
    answer = seed_session.answers[0]
    assert answer.citations, "the seed question is answered from the corpus"
    markup = rendered(message_markdown(answer, "clinician", seed_assistant.index.aliases.glossary))
    text = text_of(markup)
    for citation in answer.citations:
        assert squash(citation.quote) in text
        assert f'href="#cite-{citation.number}"' in markup
    for source in answer.sources:
        if any(c.doc_id == source.doc_id for c in answer.citations):
            assert squash(source.title) in text and source.profile.label() in text
    assert set(map(int, re.findall(r'href="#cite-(\d+)"', markup))) == {c.number for c in answer.citations}


def test_document_html_and_links_render_as_text(xss_assistant, xss_answer):
    quoted = " ".join(c.quote for c in xss_answer.citations)
    assert all(token in quoted for token in ("<script>", "<img", "javascript:")), "the hostile sentences are quoted"
    markup = rendered(message_markdown(xss_answer, "clinician", xss_assistant.index.aliases.glossary))
    assert "<script" not in markup and "<img" not in markup
    assert not any("javascript:" in href for href in re.findall(r'href="([^"]*)"', markup))
    text = text_of(markup)
    for citation in xss_answer.citations:
        assert squash(citation.quote) in text
    assert squash(xss_answer.sources[0].title) in text


def test_marker_inside_a_quote_is_not_a_link(xss_answer, xss_assistant):
    quoted = next(c for c in xss_answer.citations if "[2]" in c.quote)
    markup = rendered(message_markdown(xss_answer, "clinician", xss_assistant.index.aliases.glossary))
    before_marker = quoted.quote.split("[2]")[0].rstrip().rsplit(" ", 1)[-1]
    assert f"{before_marker} [2]" in markup, "the [2] written in the document stays plain text"


def test_passage_highlights_the_quote_inside_its_chunk(seed_assistant, seed_session):
    index = seed_assistant.index
    chunks = {c.chunk_id: c for c in index.chunks}
    for answer in seed_session.answers:
        for citation in answer.citations:
            source = next(s for s in answer.sources if s.doc_id == citation.doc_id)
            markup = passage_html(index, citation, source, "clinician")
            document = index.documents[citation.doc_id].text
            marked = re.search(r"<mark>(.*?)</mark>", markup, re.S)
            assert marked and html.unescape(marked.group(1)) == citation.quote == document[citation.start : citation.end]
            chunk = chunks[citation.chunk_id]
            shown = re.search(r'<blockquote class="passage-text">(.*?)</blockquote>', markup, re.S)
            assert shown and text_of(shown.group(1)) == squash(document[min(chunk.start, citation.start) : max(chunk.end, citation.end)])
            assert html.escape(citation.title) in markup and html.escape(source.profile.label()) in markup
            assert html.escape(citation.section) in markup


def test_passage_of_a_hostile_document_is_escaped(xss_assistant, xss_answer):
    for citation in xss_answer.citations:
        markup = passage_html(xss_assistant.index, citation, xss_answer.sources[0], "patient")
        assert "<script" not in markup and "<img" not in markup
        assert html.escape(citation.quote) in markup


def test_patient_view_adds_only_the_notice_and_the_glossary(seed_assistant, seed_session):
    glossary = seed_assistant.index.aliases.glossary
    answer = seed_session.answers[0]
    clinician = message_markdown(answer, "clinician", glossary).split("\n\n")
    patient = message_markdown(answer, "patient", glossary).split("\n\n")
    pairs = abbreviations_in([answer.text], glossary)
    assert pairs, "the seed answer uses abbreviations mined from the corpus"
    added = [f"> {escape_markdown(PATIENT_NOTICE)}", glossary_markdown(pairs)]
    assert all(part in patient for part in added)
    assert [p for p in patient if p not in added] == clinician
    for short, long in pairs:
        assert glossary[short] == long and re.search(rf"(?<![\w-]){re.escape(short)}(?![\w-])", answer.text)


def test_abbreviations_match_whole_words_in_exact_case():
    glossary = {"DM": "dermatomyositis", "ADM": "amyopathic DM", "M": "male", "ILD": "interstitial lung disease"}
    found = abbreviations_in(["Two ADM patients; no ild; M sex", "anti-DM-like"], glossary)
    assert found == [("ADM", "amyopathic DM")]


def test_unknown_audience_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="clinician, patient"):
        audience("nurse")


def test_follow_up_shows_what_was_searched(seed_assistant, seed_session):
    follow_up = seed_session.answers[1]
    assert follow_up.metadata.follow_up is True
    message = message_markdown(follow_up, "clinician", seed_assistant.index.aliases.glossary)
    assert squash(follow_up.metadata.resolved_question) in text_of(rendered(message))


def test_session_finds_citations_by_their_stable_number(seed_session):
    shown = {c.number: c for a in seed_session.answers for c in a.citations}
    for number, citation in shown.items():
        found = seed_session.citation(number)
        assert found is not None and found[0] == citation and found[1] is not None and found[1].doc_id == citation.doc_id
    assert seed_session.citation(max(shown, default=0) + 1) is None


def test_transcript_holds_every_question_and_quote(seed_session):
    transcript = transcript_markdown(seed_session.answers)
    for answer in seed_session.answers:
        assert answer.question in transcript
        assert all(c.quote in transcript for c in answer.citations)


def test_ending_a_session_deletes_its_export(seed_assistant, tmp_path):
    session = ChatSession(seed_assistant.conversation(), tmp_path / "session" / "conversation.md")
    session.export_path.parent.mkdir()
    session.export_path.write_text("exported", encoding="utf-8")
    session.discard()
    assert not session.export_path.parent.exists()


def test_suggestions_come_after_the_answer_and_match_the_conversations(seed_assistant, tmp_path):
    session = ChatSession(seed_assistant.conversation(), tmp_path / "s" / "conversation.md")
    answer = session.ask(SEED)
    assert answer.suggestions == []
    assert session.suggest() == answer.suggestions == seed_assistant.conversation().ask(SEED).suggestions


def test_sources_list_renders_one_paragraph_and_one_quote_per_citation(seed_session):
    """`assistant ask` and the markdown export: each source its own paragraph, its quote a block quote of its own."""
    for answer in seed_session.answers:
        page = rendered(transcript_markdown([answer]))
        sources = page[page.index("<strong>Sources</strong>") :]
        entries = re.findall(r"<p>\[(\d+)\] (.*?)</p>\s*<blockquote>\s*<p>(.*?)</p>\s*</blockquote>", sources, re.S)
        assert [int(n) for n, _, _ in entries] == [c.number for c in answer.citations]
        for (_, head, quote), citation in zip(entries, answer.citations, strict=True):
            assert "[" not in head, "one citation per paragraph"
            assert html.unescape(quote) == citation.quote


def test_the_header_speaks_to_its_audience(assistant) -> None:  # type: ignore[no-untyped-def]
    """Issue 30: patient mode no longer says 'Information for health professionals'; the version line names the live
    index version and its documents."""
    assert DISCLAIMER in header_html("T <x>", "clinician") and "T &lt;x&gt;" in header_html("T <x>", "clinician")
    patient = header_html("T", "patient")
    assert PATIENT_DISCLAIMER in patient and "Information for health professionals" not in patient
    line = version_markdown(assistant.index)
    assert assistant.index.folder.name in line and f"{len(assistant.index.documents)} documents" in line


# ---------------------------------------------------------------- grades and the evidence bar (issue 28)


def bar_segments(markup: str) -> list[tuple[str, str, str]]:
    """(class, href, visible text) of each evidence-bar segment in a rendered message, in order."""
    bar = re.search(r'<div class="evidence-bar">(.*?)</div>', markup, re.S)
    if bar is None:
        return []
    found = re.findall(r'<(a|span) class="(evidence-seg[^"]*)"(?: href="([^"]*)")?[^>]*>(.*?)</\1>', bar.group(1), re.S)
    return [(classes, href, text_of(body)) for _, classes, href, body in found]


def test_evidence_bar_has_a_segment_per_weighed_source_linking_its_first_finding(seed_assistant, seed_session):
    answer = seed_session.answers[0]
    assert answer.synthesis is not None
    markup = rendered(message_markdown(answer, "clinician", seed_assistant.index.aliases.glossary))
    assert markup.index('class="evidence-bar"') < markup.index("Bottom line"), "the bar stands above the answer"
    segments = bar_segments(markup)
    verdicts = answer.synthesis.sources
    assert len(segments) == len(verdicts) == 2, "the seed answer weighs the case series and the AI page"
    refuted = {c.doc_id: c.evidence for c in answer.synthesis.contradicted}
    for (classes, href, text), verdict in zip(segments, verdicts, strict=True):
        assert href == f"#cite-{verdict.findings[0]}", "a segment opens its source's first finding"
        assert next(c for c in answer.citations if c.number == verdict.findings[0]).doc_id == verdict.doc_id
        assert f"stance-{verdict.stance.replace(' ', '-')}" in classes and f"grade-{verdict.grade.level}" in classes
        assert text == squash(" ".join(segment_label(verdict, refuted.get(verdict.doc_id, ()), verdict.findings[0])))
        assert verdict.grade.badge() in text and STANCE_WORDS[verdict.stance][0] in text
    first, second = verdicts
    assert "case series" in first.grade.kind and first.stance == "supports", "the case series leads the bar"
    assert "AI-generated" in second.grade.kind and "contradicted" in segments[1][2] and "contradicted" in segments[1][0]
    assert "contradicted" not in segments[0][2]


def test_the_bar_is_the_same_for_patients_and_absent_from_an_abstention(seed_assistant, seed_session):
    glossary = seed_assistant.index.aliases.glossary
    answer = seed_session.answers[0]
    bar = evidence_bar_html(answer)
    assert bar and bar in message_markdown(answer, "patient", glossary).split("\n\n")
    abstained = seed_assistant.conversation().ask("What is the capital of France?")
    assert abstained.abstained and abstained.synthesis is None
    assert evidence_bar_html(abstained) == "" and "evidence-bar" not in message_markdown(abstained, "patient", glossary)


def test_the_bar_of_a_hostile_document_holds_only_our_words(xss_assistant, xss_answer):
    assert xss_answer.synthesis is not None
    bar = evidence_bar_html(xss_answer)
    tags = set(re.findall(r"</?([a-z]+)", bar))
    assert tags == {"div", "span", "a"}, "only the bar's own elements"
    assert not re.search(r"quixotinib|script|img|javascript", bar, re.I), "no document text enters the bar"


def test_a_source_without_a_citation_gets_an_unlinked_segment(seed_session):
    answer = seed_session.answers[0]
    verdict = replace(answer.synthesis.sources[0], doc_id="not-cited", findings=())
    lonely = replace(answer, synthesis=replace(answer.synthesis, sources=(verdict,), contradicted=()))
    (segment,) = bar_segments(evidence_bar_html(lonely))
    assert segment[1] == "" and not segment[2].startswith("["), "nothing to open: a segment, not a link"


def test_every_source_shows_its_grade_in_the_sources_list_passage_and_export(seed_assistant, seed_session):
    index = seed_assistant.index
    for answer in seed_session.answers:
        text = text_of(rendered(message_markdown(answer, "clinician", index.aliases.glossary)))
        sources = text[text.rindex("Sources") :]
        transcript = transcript_markdown([answer])
        for source in answer.sources:
            assert source.grade.badge() in sources
            for citation in (c for c in answer.citations if c.doc_id == source.doc_id):
                markup = passage_html(index, citation, source, "clinician")
                assert f'<span class="grade-badge grade-{source.grade.level}">{html.escape(source.grade.badge())}</span>' in markup
                assert f"[{citation.number}] *{citation.title}* — {source.profile.label()}; {source.grade.badge()}. " in transcript


@pytest.mark.parametrize(
    ("front", "shown"),
    [
        ("---\ndoc_type: AI-generated answer\npeer_reviewed: true\n---\n\n", "declared peer-reviewed, but it is an unreviewed"),
        ("", ", kind inferred"),
    ],
)
def test_passage_view_says_how_a_source_was_graded(tmp_path, embedder, front, shown):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text(front + "Wibblomab reduced flare frequency by half in 40 patients with glorbitis.\n", encoding="utf-8")
    assistant = Assistant.build(corpus, tmp_path / "index", embedder=embedder)
    answer = assistant.ask("Does wibblomab reduce flares in glorbitis?")
    (source,) = answer.sources
    markup = passage_html(assistant.index, answer.citations[0], source, "clinician")
    assert shown in text_of(markup) and source.grade.badge() in text_of(markup)
