"""The chat UI in a real Chromium (Playwright), served as `assistant serve` serves it (the UI on the HTTP API, one port)
in-process on 127.0.0.1 over a temporary corpus and index.

Expected values come from the same assistant in-process (same index, same questions), never hard-coded answers.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
from samples import XSS_HTML, XSS_QUESTION, copy_corpus, trial_pdf

from assistant import Answer, Assistant, Settings
from assistant.chat.audit import read_log
from assistant.serve.present import DISCLAIMER, PATIENT_DISCLAIMER, PATIENT_NOTICE, abbreviations_in, passage_context
from assistant.serve.ui import server_app
from assistant.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser

SEED = "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?"
FOLLOW_UP = "What side effects were seen with it?"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
ANSWER_TIMEOUT_MS = 180_000
ZORBLAX = (
    '---\ntitle: "Zorblax for chronic hiccups: a pilot study"\ndoc_type: "pilot study"\ndate: "2023-05-01"\n'
    'date_kind: "published"\n---\n# Zorblax for chronic hiccups\n\n'
    "Zorblax stopped chronic hiccups in 7 of 9 patients within two days of the first dose.\n"
)


@dataclass
class Live:
    url: str
    assistant: Assistant
    settings: Settings


@pytest.fixture(scope="module")
def live(tmp_path_factory, embedder, serve_app: Callable[[object], str]) -> Live:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("ui")
    corpus = copy_corpus(root / "corpus", {"quixotinib-safety.html": XSS_HTML})
    (corpus / "trial.pdf").write_bytes(trial_pdf().data)
    settings = Settings(corpus_dir=corpus, index_dir=root / "idx")
    assistant = Assistant.build(corpus, root / "idx", settings, embedder=embedder)
    assistant.follow(0.5)  # as `assistant serve` does: versions written by other processes go live
    return Live(serve_app(server_app(assistant, settings)) + "/", assistant, settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_page(browser: Browser, live: Live) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 950}, accept_downloads=True)
    page = context.new_page()
    page.goto(live.url)
    page.wait_for_selector("#question textarea")
    return page


@pytest.fixture()
def page(browser: Browser, live: Live) -> Iterator[Page]:
    page = open_page(browser, live)
    yield page
    page.context.close()


def bot(page: Page, turn: int) -> Locator:
    return page.locator("#chat .message-row.bot-row").nth(turn)


def ask(page: Page, question: str, turns: int) -> Locator:
    """Type and send a question; wait until the chat holds `turns` answers; the latest answer's bubble."""
    page.fill("#question textarea", question)
    page.click("#ask")
    expect(page.locator("#chat .message-row.bot-row")).to_have_count(turns, timeout=ANSWER_TIMEOUT_MS)
    return bot(page, turns - 1)


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def shows_quotes(bubble: Locator, answer: Answer) -> None:
    text = squash(bubble.inner_text())
    for citation in answer.citations:
        assert squash(citation.quote) in text


def cited_numbers(bubble: Locator) -> set[int]:
    hrefs = bubble.locator('a[href^="#cite-"]').evaluate_all("links => links.map(a => a.getAttribute('href'))")
    return {int(h.removeprefix("#cite-")) for h in hrefs}


def open_citation(page: Page, number: int) -> Locator:
    page.locator(f'#chat a[href="#cite-{number}"]').first.click()
    expect(page.locator("#passage .passage-num")).to_have_text(f"[{number}]")
    return page.locator("#passage")


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.wait_for_timeout(700)  # let the chat finish scrolling: the picture is for people, not an assertion
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_seed_question_cites_and_opens_the_highlighted_passage(page: Page, live: Live) -> None:
    expected = live.assistant.conversation().ask(SEED)
    assert expected.citations
    bubble = ask(page, SEED, 1)
    expect(page.locator("#chat .message-row.user-row").last).to_be_in_viewport()  # the answer opens at its start
    assert cited_numbers(bubble) == {c.number for c in expected.citations}
    shows_quotes(bubble, expected)
    for source in expected.sources:
        expect(bubble).to_contain_text(source.profile.label())
    shot(page, "ui-1-answer")
    for citation in (expected.citations[0], expected.citations[-1]):
        panel = open_citation(page, citation.number)
        expect(panel.locator("mark")).to_have_text(citation.quote)
        before, quote, after = passage_context(live.assistant.index, citation)
        expect(panel.locator(".passage-text")).to_have_text(before + quote + after)
        source = next(s for s in expected.sources if s.doc_id == citation.doc_id)
        for detail in (citation.title, source.profile.label(), citation.section):
            expect(panel).to_contain_text(detail)
    shot(page, "ui-2-passage")
    live.assistant.audit.flush()  # type: ignore[union-attr]
    logged = [r for r in read_log(live.settings.audit_path()) if r["channel"] == "ui" and r["question"] == SEED]
    assert logged and logged[-1]["user"] == "anonymous" and len(logged[-1]["citations"]) == len(expected.citations)


def test_suggestions_follow_up_and_new_conversation(page: Page, live: Live) -> None:
    conversation = live.assistant.conversation()
    first = conversation.ask(SEED)
    ask(page, SEED, 1)
    buttons = page.locator("#suggestions button")
    if first.suggestions:
        expect(buttons.filter(visible=True)).to_have_text(first.suggestions, timeout=ANSWER_TIMEOUT_MS)
        suggestion = first.suggestions[0]
        second = conversation.ask(suggestion)
        buttons.first.click()
        expect(page.locator("#chat .message-row.bot-row")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
        expect(page.locator("#chat .message-row.user-row").nth(1)).to_have_text(suggestion)
        shows_quotes(bot(page, 1), second)
    else:
        expect(page.locator("#suggestions")).to_be_hidden()
    follow = conversation.ask(FOLLOW_UP)
    assert follow.metadata.follow_up, "the follow-up leans on the earlier turns"
    bubble = ask(page, FOLLOW_UP, len(conversation.turns))
    expect(page.locator("#chat .message-row.user-row").last).to_be_in_viewport()
    expect(bubble).to_contain_text(f"Searched for: {follow.metadata.resolved_question}")
    shows_quotes(bubble, follow)
    shot(page, "ui-3-follow-up")

    page.click("#new-conversation")
    expect(page.locator("#chat .message-row")).to_have_count(0)
    expect(page.locator("#passage .passage-empty")).to_be_visible()
    fresh = ask(page, FOLLOW_UP, 1)
    expect(fresh).not_to_contain_text("Searched for:")


def test_sessions_do_not_share_a_conversation(browser: Browser, live: Live) -> None:
    first, second = open_page(browser, live), open_page(browser, live)
    try:
        ask(first, SEED, 1)
        alone = ask(second, FOLLOW_UP, 1)
        expect(alone).not_to_contain_text("Searched for:")
        expect(second.locator("#chat .message-row.user-row")).to_have_count(1)
        expect(first.locator("#chat .message-row.user-row")).to_have_count(1)
    finally:
        first.context.close()
        second.context.close()


def test_audience_switch_adds_glossary_and_notice_only_for_patients(page: Page, live: Live) -> None:
    expected = live.assistant.conversation().ask(SEED)
    glossary = live.assistant.index.aliases.glossary
    pairs = abbreviations_in([expected.text], glossary)
    assert pairs, "the seed answer uses abbreviations"
    line = "Abbreviations: " + " · ".join(f"{short} ({long})" for short, long in pairs)
    bubble = ask(page, SEED, 1)
    expect(bubble).not_to_contain_text("Abbreviations:")
    expect(page.locator("#app-header .disclaimer")).to_have_text(DISCLAIMER)
    page.get_by_label("Patient or carer").check()
    expect(page.locator("#app-header .disclaimer")).to_have_text(PATIENT_DISCLAIMER)
    expect(page.locator("#app-header")).not_to_contain_text("for health professionals,")
    expect(bubble).to_contain_text(PATIENT_NOTICE)
    expect(bubble).to_contain_text(line)
    shows_quotes(bubble, expected)
    citation = next(c for c in expected.citations if abbreviations_in(passage_context(live.assistant.index, c), glossary))
    panel = open_citation(page, citation.number)
    expect(panel.locator(".passage-glossary")).to_be_visible()
    expect(panel.locator("mark")).to_have_text(citation.quote)
    shot(page, "ui-4-patient")
    page.get_by_label("Clinician").check()
    expect(page.locator("#app-header .disclaimer")).to_have_text(DISCLAIMER)
    expect(bubble).not_to_contain_text("Abbreviations:")
    expect(bubble).not_to_contain_text(PATIENT_NOTICE)
    expect(panel.locator(".passage-glossary")).to_have_count(0)


def test_uploaded_document_is_answerable_at_once(page: Page, live: Live, tmp_path: Path) -> None:
    good, bad = tmp_path / "zorblax.md", tmp_path / "broken.pdf"
    good.write_text(ZORBLAX, encoding="utf-8")
    bad.write_bytes(b"%PDF-1.4 this is not a pdf")
    page.get_by_text("Library and uploads").click()
    page.set_input_files("#upload input[type=file]", [str(good), str(bad)])
    expect(page.locator("#upload").get_by_role("row")).to_have_count(2)  # both files uploaded
    page.click("#add-documents")
    status = page.locator("#upload-status")
    expect(status).to_contain_text("Added Zorblax for chronic hiccups: a pilot study", timeout=ANSWER_TIMEOUT_MS)
    expect(status).to_contain_text("broken.pdf:")
    expect(page.locator("#library")).to_contain_text("Zorblax for chronic hiccups: a pilot study")
    assert (live.settings.corpus_dir / "zorblax.md").read_text(encoding="utf-8") == ZORBLAX
    assert not (live.settings.corpus_dir / "broken.pdf").exists()
    shot(page, "ui-5-upload")

    question = "Does zorblax stop chronic hiccups?"
    expected = live.assistant.conversation().ask(question)
    assert any(c.doc_id == "zorblax" for c in expected.citations), "the new document answers the question"
    bubble = ask(page, question, 1)
    shows_quotes(bubble, expected)
    expect(bubble).to_contain_text("Zorblax for chronic hiccups: a pilot study")


def test_a_document_removed_in_the_library_stops_answering(browser: Browser, live: Live) -> None:
    note = live.settings.corpus_dir / "glimmerase.md"
    note.write_text("# Glimmerase in sunburn\n\nIn 12 patients with sunburn, glimmerase cream halved peeling within 3 days.\n", encoding="utf-8")
    live.assistant.ingest([note])
    question = "Does glimmerase help sunburn?"
    assert any(c.doc_id == "glimmerase" for c in live.assistant.ask(question).citations)
    page = open_page(browser, live)  # the remove list is filled when the page loads
    try:
        page.get_by_text("Library and uploads").click()
        expect(page.locator("#library-list")).to_contain_text("Glimmerase in sunburn")
        page.locator("#remove-choice input").fill("Glimmerase")
        page.get_by_role("option", name="Glimmerase in sunburn").click()
        page.click("#remove-document")
        confirm = page.locator("#confirm-remove-row")
        expect(confirm).to_be_visible()
        expect(confirm).to_contain_text("Remove Glimmerase in sunburn? This takes it out of the index and deletes its file")
        page.click("#cancel-remove")
        expect(confirm).to_be_hidden()
        assert "glimmerase" in live.assistant.index.documents and note.exists(), "nothing is removed without the second click"
        page.click("#remove-document")
        page.click("#confirm-remove")
        expect(page.locator("#upload-status")).to_contain_text("Removed Glimmerase in sunburn.", timeout=ANSWER_TIMEOUT_MS)
        expect(confirm).to_be_hidden()
        expect(page.locator("#index-version")).to_contain_text(live.assistant.index.folder.name)
        expect(page.locator("#library-list")).not_to_contain_text("Glimmerase in sunburn")
        assert "glimmerase" not in live.assistant.index.documents and not note.exists()
        bubble = ask(page, question, 1)
        expect(bubble).not_to_contain_text("Glimmerase in sunburn")
        assert all(c.doc_id != "glimmerase" for c in live.assistant.ask(question).citations)
        shot(page, "ui-8-remove")
    finally:
        page.context.close()


def test_a_version_ingested_by_another_process_goes_live_in_the_page(page: Page, live: Live, other_process) -> None:  # type: ignore[no-untyped-def]
    line = page.locator("#index-version")
    before = live.assistant.index
    expect(line).to_have_text(f"Answering from index version {before.folder.name} · {len(before.documents)} documents")
    note = live.settings.corpus_dir / "quenchol.md"
    note.write_text("# Quenchol for night sweats\n\nQuenchol reduced night sweats in 9 of 10 patients in a pilot study.\n", encoding="utf-8")
    other_process(live.settings.corpus_dir, live.settings.index_dir, note)
    expect(line).to_contain_text(f"· {len(before.documents) + 1} documents", timeout=30_000)  # the page re-reads it
    now = live.assistant.index.folder.name
    assert now != before.folder.name
    expect(line).to_contain_text(now)
    bubble = ask(page, "Does quenchol reduce night sweats?", 1)
    expect(bubble).to_contain_text("Quenchol for night sweats")
    shot(page, "ui-9-live-version")


def test_hostile_document_renders_as_inert_text(page: Page, live: Live) -> None:
    expected = live.assistant.conversation().ask(XSS_QUESTION)
    hostile = [c for c in expected.citations if re.search(r"<script>|<img|javascript:", c.quote)]
    assert hostile, "the hostile sentences are quoted"
    bubble = ask(page, XSS_QUESTION, 1)
    shows_quotes(bubble, expected)
    expect(bubble).to_contain_text("<script>window.__xss=1</script>")
    expect(bubble).to_contain_text('<img src=x onerror="window.__xss=1">')
    for citation in hostile:
        panel = open_citation(page, citation.number)
        expect(panel.locator("mark")).to_have_text(citation.quote)
    page.get_by_text("Library and uploads").click()
    expect(page.locator("#library")).to_contain_text('Quixotinib safety notes <img src=x onerror="window.__xss=1">')
    shot(page, "ui-6-hostile-document")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("#chat script, #passage script, #library script").count() == 0
    assert page.locator("img[onerror], a[href^='javascript:']").count() == 0


def test_pdf_citation_shows_its_page_and_opens_the_pdf_there(page: Page, live: Live) -> None:
    question = "Was eGFR stable with drug X?"
    expected = live.assistant.conversation().ask(question)
    cited = next(c for c in expected.citations if c.doc_id == "trial")
    ask(page, question, 1)
    link = open_citation(page, cited.number).locator(".passage-page a")
    expect(link).to_have_text(f"p. {cited.page}")
    href = link.get_attribute("href") or ""
    assert href == f"/v1/documents/trial/file#page={cited.page}", "served by document id, opened at the cited page"
    served = page.request.get(live.url.rstrip("/") + href.split("#")[0])
    assert served.ok and served.body() == (live.settings.corpus_dir / "trial.pdf").read_bytes(), "the link serves the PDF"
    assert served.headers["content-type"] == "application/pdf"
    shot(page, "ui-7-pdf-page")


def test_export_downloads_the_conversation_with_its_citations(page: Page, live: Live) -> None:
    expected = live.assistant.conversation().ask(SEED)
    ask(page, SEED, 1)
    expect(page.locator("#export")).to_be_enabled()
    with page.expect_download() as download:
        page.click("#export")
    assert download.value.suggested_filename == "conversation.md"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert SEED in text
    for citation in expected.citations:
        assert f"[{citation.number}] *{citation.title}*" in text and citation.quote in text


def test_gradio_client_calls_the_ask_endpoint(live: Live) -> None:
    from gradio_client import Client

    client = Client(live.url, verbose=False, analytics_enabled=False, download_files=False)
    assert set(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == {"/ask"}
    result = client.predict(SEED, api_name="/ask")
    expected = live.assistant.ask(SEED)
    assert result["text"] == expected.text
    assert [c["number"] for c in result["citations"]] == [c.number for c in expected.citations]
    for citation in result["citations"]:
        assert live.assistant.index.documents[citation["doc_id"]].text[citation["start"] : citation["end"]] == citation["quote"]


def test_twenty_concurrent_api_clients_get_the_serial_answers(live: Live) -> None:
    """Issue 8: 20 gradio_client clients at once on 127.0.0.1, every answer identical to the serial one."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    questions = [SEED, "What side effects were reported with upadacitinib?", "How is IVIG dosed?", "What is the capital of France?"]
    expected = {q: live.assistant.ask(q).to_dict() for q in questions}

    def one(i: int) -> tuple[str, dict]:  # type: ignore[type-arg]
        question = questions[i % len(questions)]
        client = Client(live.url, verbose=False, analytics_enabled=False, download_files=False)
        return question, client.predict(question, api_name="/ask")

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(one, range(20)))
    assert len(results) == 20
    for question, result in results:
        assert result["text"] == expected[question]["text"]
        assert result["citations"] == expected[question]["citations"]


def test_evidence_bar_opens_each_source_and_is_absent_from_an_abstention(page: Page, live: Live) -> None:
    """Issue 28: one segment per weighed source above the answer, by stance and grade, each opening its first finding."""
    expected = live.assistant.conversation().ask(SEED)
    assert expected.synthesis is not None
    case_series, ai_page = expected.synthesis.sources
    assert "case series" in case_series.grade.kind and "AI-generated" in ai_page.grade.kind, "the case series leads"
    bubble = ask(page, SEED, 1)
    segments = bubble.locator(".evidence-bar .evidence-seg")
    expect(segments).to_have_count(2)
    gap = bubble.evaluate(  # both boxes read in one frame: the chat may scroll between two separate reads
        """el => { const bar = el.querySelector('.evidence-bar').getBoundingClientRect();
                  const opening = [...el.querySelectorAll('strong')].find(s => s.textContent.trim() === 'Bottom line.');
                  return opening.getBoundingClientRect().top - bar.bottom; }"""
    )
    assert gap >= 0, "the bar stands above the answer"
    for segment, verdict in zip((segments.nth(0), segments.nth(1)), (case_series, ai_page), strict=True):
        expect(segment).to_have_attribute("href", f"#cite-{verdict.findings[0]}")
        expect(segment).to_contain_text(verdict.grade.badge())
    styles = [s.evaluate("el => [getComputedStyle(el).getPropertyValue('--depth'), getComputedStyle(el).borderLeftColor]")
              for s in (segments.nth(0), segments.nth(1))]
    assert float(styles[0][0].strip("% ")) > float(styles[1][0].strip("% ")), "the page's CSS shades level 5 deeper than 9"
    assert styles[0][1] != styles[1][1], "supports and 'evidence is lacking' have their own colours"
    expect(bubble.get_by_role("link", name=re.compile(r"says evidence is lacking.*contradicted by"))).to_have_count(1)
    expect(segments.nth(0)).not_to_contain_text("contradicted")
    first = next(c for c in expected.citations if c.number == case_series.findings[0])
    segments.nth(0).click()
    expect(page.locator("#passage .passage-num")).to_have_text(f"[{first.number}]")
    expect(page.locator("#passage .passage-title")).to_have_text(first.title)
    expect(page.locator("#passage mark")).to_have_text(first.quote)
    expect(page.locator("#passage .grade-badge")).to_have_text(case_series.grade.badge())
    shot(page, "ui-10-evidence-bar")
    bubble.locator(".evidence-bar").screenshot(path=str(ARTIFACTS / "ui-10-evidence-bar-closeup.png"))

    page.get_by_label("Patient or carer").check()
    expect(bubble).to_contain_text(PATIENT_NOTICE)
    expect(segments).to_have_count(2)
    claim = next(c for c in expected.citations if c.number == ai_page.findings[0])
    segments.nth(1).click()
    expect(page.locator("#passage .passage-num")).to_have_text(f"[{claim.number}]")
    expect(page.locator("#passage mark")).to_have_text(claim.quote)
    shot(page, "ui-11-evidence-bar-patient")

    question = "What is the capital of France?"
    assert live.assistant.conversation().ask(question).abstained
    page.click("#new-conversation")
    expect(page.locator("#chat .message-row")).to_have_count(0)
    abstention = ask(page, question, 1)
    expect(abstention).to_contain_text("Not covered")
    expect(abstention.locator(".evidence-bar")).to_have_count(0)


AI_PAGE = "dr-oracle-rinvoq-dermatomyositis-ivig"
GLORBAMINE = "# Glorbamine in chronic hiccups\n\nGlorbamine stopped chronic hiccups in 5 of 6 patients within a week.\n"


def tick(page: Page, title: str, on: bool = True) -> None:
    box = page.locator("#scope-choice").get_by_label(title, exact=True)
    box.check() if on else box.uncheck()


def test_ticked_documents_limit_the_answers_and_the_answer_says_so(page: Page, live: Live) -> None:
    """Issue 29: the library's ticks are the conversation's scope; untick them all and answers search everything."""
    status = page.locator("#scope-status")
    expect(status).to_contain_text("Answers search the whole library")
    page.get_by_text("Library and uploads").click()
    title = live.assistant.index.documents[AI_PAGE].title
    tick(page, title)
    expect(status).to_contain_text("Answers search only the 1 ticked document")
    expected = live.assistant.conversation().ask(SEED, sources=[AI_PAGE])
    assert {c.doc_id for c in expected.citations} == {AI_PAGE}
    bubble = ask(page, SEED, 1)
    expect(bubble).to_contain_text(f"Scope. Searched only the chosen source “{title}”.")
    shows_quotes(bubble, expected)
    assert cited_numbers(bubble) == {c.number for c in expected.citations if f"[{c.number}]" in expected.text}
    shot(page, "ui-12-scope")
    tick(page, title, on=False)
    expect(status).to_contain_text("Answers search the whole library")
    whole = ask(page, SEED, 2)
    expect(whole).not_to_contain_text("Searched only")
    expect(whole).to_contain_text(live.assistant.index.documents["beckett-2024-upadacitinib-myositis-case-series"].title)


def test_an_upload_can_be_asked_alone(page: Page, live: Live, tmp_path: Path) -> None:
    note = tmp_path / "glorbamine.md"
    note.write_text(GLORBAMINE, encoding="utf-8")
    page.get_by_text("Library and uploads").click()
    page.set_input_files("#upload input[type=file]", [str(note)])
    expect(page.locator("#upload").get_by_role("row")).to_have_count(1)
    page.locator("#scope-upload input").check()
    page.click("#add-documents")
    expect(page.locator("#upload-status")).to_contain_text("Added Glorbamine in chronic hiccups", timeout=ANSWER_TIMEOUT_MS)
    ticked = page.locator("#scope-choice input:checked")
    expect(ticked).to_have_count(1)
    expect(page.locator("#scope-choice label", has=page.locator("input:checked"))).to_have_text("Glorbamine in chronic hiccups")
    expect(page.locator("#scope-status")).to_contain_text("only the 1 ticked document")
    question = "What helps chronic hiccups?"
    expected = live.assistant.ask(question, sources=["glorbamine"])
    bubble = ask(page, question, 1)
    expect(bubble).to_contain_text("Scope. Searched only the chosen source “Glorbamine in chronic hiccups”.")
    shows_quotes(bubble, expected)
    expect(bubble).not_to_contain_text("Zorblax")


def test_a_hostile_title_in_the_scope_line_stays_text(page: Page, live: Live) -> None:
    hostile = next(d for d in live.assistant.index.documents.values() if "<img" in d.title)
    page.get_by_text("Library and uploads").click()
    tick(page, hostile.title)
    bubble = ask(page, XSS_QUESTION, 1)
    expect(bubble).to_contain_text(f"Searched only the chosen source “{hostile.title}”")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[onerror], #chat script, #library script").count() == 0

