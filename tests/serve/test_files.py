"""Issue 30, item 1: documents are served by id, never by folder. A real server (the app `assistant serve` runs) over
a temporary corpus: only the original file of an indexed document is served, through /v1/documents/{id}/file, behind
the same sign-in as the rest; nothing else under the corpus folder (or the index folder) is reachable."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from samples import copy_corpus, trial_pdf

from assistant import Assistant, Settings
from assistant.serve.ui import server_app
from assistant.settings import ServiceSettings

TOKEN = "files-token-51c2"
SECRET = "Draft: do not share. Patient 7 asked about the trial.\n"


@dataclass
class Site:
    url: str
    assistant: Assistant
    settings: Settings


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedder, serve_app: Callable[[object], str]) -> Site:  # type: ignore[no-untyped-def]
    """An index of the seed corpus, a PDF, and a PDF that is a symlink out of the folder; then files dropped in later."""
    root = tmp_path_factory.mktemp("files")
    corpus = copy_corpus(root / "corpus")
    (corpus / "trial.pdf").write_bytes(trial_pdf().data)
    (root / "elsewhere").mkdir()
    (root / "elsewhere" / "outside.pdf").write_bytes(trial_pdf(header=False).data)
    (corpus / "linked.pdf").symlink_to(root / "elsewhere" / "outside.pdf")
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    assistant = Assistant.build(corpus, root / "index", settings, embedder=embedder)
    assert {"trial", "linked"} <= set(assistant.index.documents), "both PDFs are indexed"
    (corpus / "secret-notes.txt").write_text(SECRET, encoding="utf-8")  # a draft dropped in after the ingest
    (corpus / ".private").mkdir()
    (corpus / ".private" / "keys.txt").write_text("api-key: 123\n", encoding="utf-8")
    return Site(serve_app(server_app(assistant, settings)), assistant, settings)


def test_an_indexed_pdf_is_served_by_its_id(site: Site) -> None:
    response = httpx.get(f"{site.url}/v1/documents/trial/file", timeout=30)
    assert response.status_code == 200
    assert response.content == (site.settings.corpus_dir / "trial.pdf").read_bytes()
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("inline"), "opens in the browser, at #page=N"


def test_an_indexed_markdown_file_is_downloaded_never_rendered(site: Site) -> None:
    doc_id = next(d for d, doc in site.assistant.index.documents.items() if doc.source_path.endswith(".md"))
    response = httpx.get(f"{site.url}/v1/documents/{doc_id}/file", timeout=30)
    assert response.status_code == 200 and response.content == Path(site.assistant.index.documents[doc_id].source_path).read_bytes()
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["content-security-policy"] == "sandbox"


@pytest.mark.parametrize(
    "doc_id",
    ["secret-notes", "secret-notes.txt", ".private", "keys", "linked", "no-such-document", "..", "%2e%2e",
     quote("../../etc/passwd", safe=""), quote("/etc/passwd", safe=""), quote("trial/../secret-notes", safe="")],
)
def test_nothing_but_an_indexed_document_inside_the_corpus_is_served(site: Site, doc_id: str) -> None:
    response = httpx.get(f"{site.url}/v1/documents/{doc_id}/file", timeout=30)
    assert response.status_code == 404, f"{doc_id}: {response.status_code}"
    assert SECRET not in response.text and "api-key" not in response.text


def test_gradio_serves_nothing_from_the_corpus_or_the_index(site: Site) -> None:
    corpus, index = site.settings.corpus_dir.resolve(), site.settings.index_dir.resolve()
    paths = [
        corpus / "secret-notes.txt", corpus / ".private" / "keys.txt", corpus / "trial.pdf", corpus / "linked.pdf",
        next(corpus.glob("*.md")), index / "CURRENT", index / "versions" / site.assistant.index.folder.name / "documents.json",
    ]
    forms = [str(p) for p in paths] + [f"{corpus}/../{corpus.name}/secret-notes.txt", f"{corpus}/.private/../secret-notes.txt"]
    for form in forms:
        for url in (f"{site.url}/gradio_api/file={form}", f"{site.url}/gradio_api/file={quote(form)}"):
            response = httpx.get(url, timeout=30)
            assert response.status_code in (403, 404), f"{form}: {response.status_code}"
            assert SECRET not in response.text and "api-key" not in response.text


def test_a_replaced_or_removed_document_is_no_longer_served(site: Site) -> None:
    extra = site.settings.corpus_dir / "glimmerase.md"
    extra.write_text("# Glimmerase in sunburn\n\nIn 12 patients, glimmerase cream halved peeling within 3 days.\n", encoding="utf-8")
    site.assistant.ingest([extra])
    assert httpx.get(f"{site.url}/v1/documents/glimmerase/file", timeout=30).status_code == 200
    original = extra.read_bytes()
    extra.unlink()
    extra.symlink_to(site.settings.corpus_dir / "secret-notes.txt")  # swapped for a link to another file: not the indexed bytes
    assert httpx.get(f"{site.url}/v1/documents/glimmerase/file", timeout=30).status_code == 404
    extra.unlink()
    extra.write_bytes(original)
    site.assistant.remove(["glimmerase"])
    assert httpx.get(f"{site.url}/v1/documents/glimmerase/file", timeout=30).status_code == 404


def test_with_sign_in_a_file_needs_the_token_or_a_signed_in_page(site: Site, serve_app: Callable[[object], str]) -> None:
    settings = site.settings.model_copy(update={"service": ServiceSettings(api_token=TOKEN, users={"ana": "pw-9"})})
    url = serve_app(server_app(site.assistant, settings))
    target = f"{url}/v1/documents/trial/file"
    assert httpx.get(target, timeout=30).status_code == 401
    assert httpx.get(target, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
    assert httpx.get(target, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30).status_code == 200
    assert httpx.get(target, cookies={"access-token-x": "forged"}, timeout=30).status_code == 401
    with httpx.Client(base_url=url, timeout=30) as browser:
        assert browser.post("/login", data={"username": "ana", "password": "wrong"}).status_code == 400
        assert browser.get("/v1/documents/trial/file").status_code == 401
        assert browser.post("/login", data={"username": "ana", "password": "pw-9"}).status_code == 200
        signed_in = browser.get("/v1/documents/trial/file")
        assert signed_in.status_code == 200 and signed_in.content == (site.settings.corpus_dir / "trial.pdf").read_bytes()
        secret = site.settings.corpus_dir.resolve() / "secret-notes.txt"
        assert browser.get(f"/gradio_api/file={secret}").status_code in (403, 404), "signed in, still nothing by folder"
