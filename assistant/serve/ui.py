"""The chat UI in the browser (Gradio): wiring only; what is shown is built by present.py, uploads by upload.py."""

from __future__ import annotations

import atexit
import shutil
import socket
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from starlette.routing import Mount

from ..api import Assistant
from ..chat.audit import caller
from ..documents.ingest import LOADERS
from ..errors import AssistantError
from ..settings import Settings
from .files import pdf_url
from .present import (
    AUDIENCES,
    PASSAGE_PLACEHOLDER,
    ChatSession,
    escape_markdown,
    header_html,
    message_markdown,
    passage_html,
    transcript_markdown,
    version_markdown,
)
from .service import create_api
from .signin import check_sign_in
from .upload import add_to_library
from .workers import Workers

TITLE = "Medical evidence assistant"
MAX_SUGGESTIONS = 3  # buttons laid out under an answer: the page's layout, not a setting
LIBRARY_LISTED = 50  # titles listed under "Library and uploads" (layout, not a setting)
VERSION_CHECK_S = 5  # how often an open page re-reads which index version answers (a line of text, no answer)
SEED_EXAMPLE = "Can Rinvoq help a patient with dermatomyositis who is already taking IVIG?"

# Clicks on [n] markers anywhere in the page open passage n: one capturing listener, bound once.
CITE_CLICK_JS = """
window.__citeTrigger = trigger;
if (!window.__citeListening) {
  window.__citeListening = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    window.__citeTrigger('click', {cite: Number(link.getAttribute('href').slice(6))});
    document.getElementById('passage')?.scrollIntoView({block: 'nearest'});
  }, true);
}
"""

# After a question or answer, scroll the chat so the latest question sits at the top, its answer below it.
SCROLL_TO_LATEST_JS = """
() => [100, 500].forEach((delay) => setTimeout(() => {
  const log = document.querySelector('#chat [role=log]');
  const rows = document.querySelectorAll('#chat .message-row.user-row');
  const row = rows[rows.length - 1];
  if (log && row) log.scrollTop += row.getBoundingClientRect().top - log.getBoundingClientRect().top - 8;
}, delay))
"""

CSS = """
.gradio-container { max-width: 1400px !important; }
#app-header h1 { margin: 0 0 2px 0; font-size: 1.4rem; }
#app-header-block { margin-bottom: -6px; }
#app-header .disclaimer { font-size: 0.85rem; margin: 4px 0 0 0; padding: 6px 10px; border-radius: 6px;
  border-left: 3px solid var(--color-accent); background: var(--background-fill-secondary); }
#chat a[href^="#cite-"] { text-decoration: none; font-weight: 600; color: var(--color-accent); cursor: pointer;
  padding: 0 1px; border-radius: 3px; }
#chat a[href^="#cite-"]:hover { background: var(--color-accent-soft); }
#chat blockquote { border-left: 3px solid var(--color-accent); margin: 0 0 0.6em 0; padding: 0.2em 0.8em;
  font-size: 0.9rem; }
#passage .passage { padding: 12px 14px; border: 1px solid var(--border-color-primary); border-radius: 8px;
  background: var(--background-fill-secondary); line-height: 1.5; }
#passage .passage-empty { color: var(--body-text-color-subdued); }
#passage .passage-head { font-weight: 600; font-size: 1rem; }
#passage .passage-num { color: var(--color-accent); }
#passage .passage-meta { margin-top: 4px; font-size: 0.85rem; }
#passage .passage-section, #passage .passage-page, #passage .passage-offsets, #passage .passage-note {
  font-size: 0.8rem; color: var(--body-text-color-subdued); margin-top: 2px; }
#passage .passage-text { margin: 10px 0 6px 0; padding: 8px 12px; border-left: 3px solid var(--border-color-accent);
  background: var(--background-fill-primary); white-space: pre-wrap; max-height: 420px; overflow-y: auto; }
#passage mark { background: #fde68a; color: inherit; padding: 1px 0; }
#passage .passage-glossary { font-size: 0.85rem; margin-top: 6px; }
#suggestions { align-items: center; gap: 6px; }
#suggestions-label { flex: 0 0 auto !important; min-width: 0 !important; font-size: 0.85rem;
  color: var(--body-text-color-subdued); }
#suggestions button { font-size: 0.85rem; flex: 1 1 0; }
#side { position: sticky; top: 8px; align-self: flex-start; }
#passage-label h4 { margin: 4px 0 0 0; }
#toolbar { align-items: center; }
#chat .placeholder { text-align: center; padding: 0 15%; color: var(--body-text-color-subdued); }
.evidence-bar { display: flex; gap: 3px; align-items: stretch; margin: 0 0 10px 0; font-size: 0.78rem; line-height: 1.45; }
.evidence-bar-label { flex: 0 0 auto; align-self: center; padding-right: 4px; color: var(--body-text-color-subdued); cursor: help; }
#chat .evidence-bar .evidence-seg, #chat .evidence-bar a.evidence-seg:hover { flex: 1 1 0; min-width: 0; padding: 1px 7px;
  border-radius: 4px; border-left: 4px solid var(--stance); color: #111827; font-weight: 400; text-decoration: none;
  background-color: color-mix(in srgb, var(--stance) var(--depth), #ffffff); }
.evidence-seg .seg-stance, .evidence-seg .seg-grade { display: block; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.evidence-seg .seg-stance { font-weight: 600; }
.evidence-seg .seg-grade { font-size: 0.72rem; }
#chat .evidence-bar a.evidence-seg:hover { filter: brightness(0.92); }
#chat .evidence-bar .evidence-seg.contradicted { background-image: repeating-linear-gradient(135deg, transparent 0 6px, rgba(17, 24, 39, 0.14) 6px 8px); }
.stance-supports { --stance: #16a34a; } .stance-refutes { --stance: #dc2626; } .stance-no-effect { --stance: #64748b; }
.stance-mixed { --stance: #d97706; } .stance-lacking { --stance: #9333ea; } .stance-reports { --stance: #2563eb; }
.grade-1 { --depth: 64%; } .grade-2 { --depth: 58%; } .grade-3 { --depth: 52%; } .grade-4 { --depth: 45%; } .grade-5 { --depth: 38%; }
.grade-6 { --depth: 31%; } .grade-7 { --depth: 25%; } .grade-8 { --depth: 19%; } .grade-9 { --depth: 13%; }
.grade-badge { display: inline-block; padding: 0 6px; border-radius: 4px; font-size: 0.78rem; color: #111827;
  background-color: color-mix(in srgb, #0f766e var(--depth), #ffffff); }
#passage .passage-grade { margin-top: 4px; }
"""


def build_app(assistant: Assistant, settings: Settings, *, file_links: bool = True) -> gr.Blocks:
    """The chat page over one assistant; each browser session gets its own conversation. `file_links`: cited PDF
    pages link to the file the HTTP API serves (server_app), which a UI served alone (a share link) lacks."""
    page = _Handlers(assistant, settings, file_links)
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=(3600, 86400)) as app:
        widgets = _layout(page)
        _wire(app, page, widgets)
        gr.api(page.ask_api, api_name="ask", concurrency_limit=API_CONCURRENCY)
    return app


class _Handlers:
    """The page's event handlers over one assistant; a browser session's ChatSession lives in its gr.State."""

    def __init__(self, assistant: Assistant, settings: Settings, file_links: bool) -> None:
        self.assistant = assistant
        self.settings = settings
        self.file_links = file_links
        self.exports = Path(tempfile.mkdtemp(prefix="assistant-exports-"))
        atexit.register(shutil.rmtree, self.exports, ignore_errors=True)

    # ------------------------------------------------------------ views

    def session_of(self, session: ChatSession | None) -> ChatSession:
        return session or ChatSession(self.assistant.conversation(), self.exports / uuid.uuid4().hex / "conversation.md")

    def chat_messages(self, session: ChatSession | None, audience: str) -> list[dict[str, str]]:
        messages: list[dict[str, str]] = []
        for answer in session.answers if session else []:
            messages.append({"role": "user", "content": escape_markdown(answer.question)})
            messages.append({"role": "assistant", "content": message_markdown(answer, audience, self.assistant.index.aliases.glossary)})
        return messages

    @staticmethod
    def suggestion_updates(session: ChatSession | None) -> list[Any]:
        """The follow-up row's visibility, then one update per button."""
        suggestions = session.answers[-1].suggestions[:MAX_SUGGESTIONS] if session and session.answers else []
        buttons = [gr.update(value=text, visible=True) for text in suggestions]
        buttons += [gr.update(value="", visible=False)] * (MAX_SUGGESTIONS - len(suggestions))
        return [gr.update(visible=bool(suggestions)), *buttons]

    @staticmethod
    def export_update(session: ChatSession | None) -> Any:
        if not session or not session.answers:
            return gr.update(value=None, interactive=False)
        session.export_path.parent.mkdir(exist_ok=True)
        session.export_path.write_text(transcript_markdown(session.answers), encoding="utf-8")
        return gr.update(value=str(session.export_path), interactive=True)

    def panel(self, session: ChatSession | None, audience: str) -> str:
        found = session.citation(session.shown) if session and session.shown else None
        if not found:
            return PASSAGE_PLACEHOLDER
        document = self.assistant.index.documents.get(found[0].doc_id)
        url = pdf_url(document, self.settings.corpus_dir) if document and self.file_links else None
        return passage_html(self.assistant.index, *found, audience, file_url=url)

    def library_markdown(self) -> str:
        titles = sorted((d.title for d in self.assistant.index.documents.values()), key=str.lower)
        lines = [f"- {escape_markdown(t)}" for t in titles[:LIBRARY_LISTED]]
        if len(titles) > LIBRARY_LISTED:
            lines.append(f"- … and {len(titles) - LIBRARY_LISTED} more")
        return f"**Library: {len(titles)} documents**\n\n" + "\n".join(lines)

    def removable(self) -> Any:
        """The remove list: every document by title (the value is its id)."""
        return gr.update(choices=self.titled(), value=None)

    def titled(self) -> list[tuple[str, str]]:
        """Every document as (title, id), by title: the choices of the remove list and the scope ticks."""
        documents = sorted(self.assistant.index.documents.values(), key=lambda d: d.title.lower())
        return [(d.title, d.doc_id) for d in documents]


    @staticmethod
    def scope_status(chosen: list[str] | None) -> str:
        """Under the question box: what the next answer searches."""
        if not chosen:
            return "Answers search the whole library; tick documents in the library to ask only them."
        return f"Answers search only the {len(chosen)} ticked document{'s' * (len(chosen) > 1)} (untick them for the whole library)."

    # ------------------------------------------------------------ events

    @staticmethod
    def pose(question: str, chat: list[dict[str, str]]) -> tuple[str, str, list[dict[str, str]]]:
        """Show the question at once and clear the box; the answer follows."""
        if not question.strip():
            return "", "", chat
        return question, "", [*chat, {"role": "user", "content": escape_markdown(question)}]

    def answer(
        self, pending: str, session: ChatSession | None, audience: str, chosen: list[str] | None, request: gr.Request
    ) -> tuple[Any, ...]:
        session = self.session_of(session)
        if pending.strip():
            try:
                with caller("ui", getattr(request, "username", None) or "anonymous"):
                    session.ask(pending, sources=chosen or None)
            except AssistantError as exc:
                gr.Warning(str(exc))
        return (session, self.chat_messages(session, audience), *self.suggestion_updates(session), self.export_update(session),
                self.version_line())

    def suggest(self, session: ChatSession | None) -> list[Any]:
        if session and session.answers:
            session.suggest()
        return self.suggestion_updates(session)

    def show_passage(self, session: ChatSession | None, audience: str, event: gr.EventData) -> tuple[Any, str]:
        number = getattr(event, "cite", None)  # sent by CITE_CLICK_JS
        if session and isinstance(number, int) and session.citation(number):
            session.shown = number
        return session, self.panel(session, audience)

    def switch_audience(self, session: ChatSession | None, audience: str) -> tuple[list[dict[str, str]], str, str]:
        return self.chat_messages(session, audience), self.panel(session, audience), header_html(TITLE, audience)

    def new_conversation(self, session: ChatSession | None) -> tuple[Any, ...]:
        if session:
            session.discard()
        return (None, [], PASSAGE_PLACEHOLDER, *self.suggestion_updates(None), self.export_update(None))

    def add_documents(
        self, paths: list[str] | None, only_added: bool, chosen: list[str] | None, progress: gr.Progress = gr.Progress()
    ) -> tuple[Any, ...]:
        """Index the uploads; with `only_added`, tick them alone, so the next answers search only them."""
        def indexing(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=f"Indexing: {stage}")

        added = add_to_library(self.assistant, [Path(p) for p in paths or []], indexing)
        status = "\n\n".join(escape_markdown(line) for line in added.lines) or "Choose one or more files first."
        chosen = added.doc_ids if only_added and added.doc_ids else chosen
        return None, status, *self.library_view(chosen)

    def ask_to_remove(self, doc_id: str | None) -> tuple[Any, str, str, str | None]:
        """The first click on Remove: name the document and what removing it does, and hold it for the second click
        (which removes the document named, whatever is chosen meanwhile)."""
        documents = self.assistant.index.documents
        if not doc_id or doc_id not in documents:
            return gr.update(visible=False), "", "Choose a document to remove first.", None
        document = documents[doc_id]
        where = " and deletes its file from the corpus folder" if self.settings.corpus_dir.resolve() in Path(document.source_path).resolve().parents else ""
        prompt = f"Remove **{escape_markdown(document.title)}**? This takes it out of the index{where}; it cannot be undone here."
        return gr.update(visible=True), prompt, "", doc_id

    def remove_document(self, doc_id: str | None, chosen: list[str] | None) -> tuple[Any, ...]:
        hidden = gr.update(visible=False)
        if not doc_id:
            return hidden, "Choose a document to remove first.", *self.library_view(chosen)
        documents = self.assistant.index.documents
        title = documents[doc_id].title if doc_id in documents else doc_id
        try:
            self.assistant.remove([doc_id])
        except AssistantError as exc:
            return hidden, escape_markdown(str(exc)), *self.library_view(chosen)
        return hidden, f"Removed {escape_markdown(title)}.", *self.library_view(chosen)

    def library_view(self, chosen: list[str] | None = None) -> tuple[Any, ...]:
        """The library's parts: its list, the remove choices, the version line, and the documents a conversation can be
        limited to, by title (those ticked that are still indexed stay ticked) with the line saying what is searched."""
        ticked = [d for d in chosen or [] if d in self.assistant.index.documents]
        ticks = gr.update(choices=self.titled(), value=ticked)
        return self.library_markdown(), self.removable(), self.version_line(), ticks, self.scope_status(ticked)

    def version_line(self) -> str:
        return version_markdown(self.assistant.index)

    def ask_api(self, question: str) -> dict[str, Any]:
        """One question, one cited answer: Answer.to_dict() (text with [n] markers, citations, sources, …)."""
        try:
            with caller("ui", "gradio-api"):
                return self.assistant.ask(question).to_dict()
        except AssistantError as exc:
            raise gr.Error(str(exc)) from exc


@dataclass(frozen=True)
class _Widgets:
    """The page's components that events read or write."""

    session: gr.State
    pending: gr.State
    audience: gr.Radio
    new: gr.Button
    export: gr.DownloadButton
    chat: gr.Chatbot
    suggestion_row: gr.Row
    suggestions: list[gr.Button]
    question: gr.Textbox
    ask: gr.Button
    scope_status: gr.Markdown  # what the next answer searches
    passage: gr.HTML
    library: gr.Markdown
    files: gr.File
    add: gr.Button
    upload_status: gr.Markdown
    scope_choice: gr.CheckboxGroup  # the documents a conversation's answers may draw on (none: all)
    scope_upload: gr.Checkbox  # tick what is added, alone
    to_remove: gr.Dropdown
    remove: gr.Button
    confirm_row: gr.Row
    removing: gr.State  # the document the confirmation names
    confirm_text: gr.Markdown
    confirm: gr.Button
    cancel: gr.Button
    header: gr.HTML
    version: gr.Markdown


def _layout(page: _Handlers) -> _Widgets:
    """The header, the conversation column and the side column (cited passage, library)."""
    session = gr.State(None, delete_callback=lambda ended: ended.discard() if ended else None)
    pending = gr.State("")
    header = gr.HTML(header_html(TITLE, "clinician"), elem_id="app-header-block")
    version = gr.Markdown(version_markdown(page.assistant.index), elem_id="index-version", latex_delimiters=[])
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=480):
            conversation = _conversation_column()
        with gr.Column(scale=2, min_width=360, elem_id="side"):
            side = _side_column(page)
    return _Widgets(session=session, pending=pending, header=header, version=version, **conversation, **side)


def _conversation_column() -> dict[str, Any]:
    with gr.Row(equal_height=True, elem_id="toolbar"):
        audience = gr.Radio(
            [(a.label, name) for name, a in AUDIENCES.items()], value="clinician", label="Which best describes you?",
            elem_id="audience", scale=3, min_width=270,
        )
        new = gr.Button("New conversation", elem_id="new-conversation", scale=1, size="md", min_width=170)
        export = gr.DownloadButton("Export (.md)", elem_id="export", scale=1, size="md", interactive=False, min_width=120)
    chat = gr.Chatbot(
        elem_id="chat", label="Conversation", show_label=False, height=560, latex_delimiters=[],
        sanitize_html=True, feedback_options=None, buttons=["copy"], autoscroll=False,
        placeholder=f"Ask about the evidence in the library, for example: *{SEED_EXAMPLE}*",
    )
    with gr.Row(elem_id="suggestions", visible=False) as suggestion_row:
        gr.Markdown("Suggested follow-ups:", elem_id="suggestions-label", min_height=0)
        suggestions = [gr.Button(size="sm", variant="secondary", min_width=120) for _ in range(MAX_SUGGESTIONS)]
    with gr.Row(equal_height=True):
        question = gr.Textbox(
            elem_id="question", show_label=False, placeholder="Ask a question…", scale=6, lines=1, max_lines=4, autofocus=True,
        )
        ask = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="ask")
    scope_status = gr.Markdown(_Handlers.scope_status(None), elem_id="scope-status", latex_delimiters=[])
    return {
        "audience": audience, "new": new, "export": export, "chat": chat, "suggestion_row": suggestion_row,
        "suggestions": suggestions, "question": question, "ask": ask, "scope_status": scope_status,
    }


def _side_column(page: _Handlers) -> dict[str, Any]:
    gr.Markdown("#### Cited passage", elem_id="passage-label")
    passage = gr.HTML(PASSAGE_PLACEHOLDER, js_on_load=CITE_CLICK_JS, elem_id="passage")
    with gr.Accordion("Library and uploads", open=False, elem_id="library"):
        library = gr.Markdown(page.library_markdown(), latex_delimiters=[], elem_id="library-list")
        # The ticks are filled when the page loads (library_view): choices made here go stale, and a tick made on them
        # before the load's update arrives was read as another document's.
        scope_choice = gr.CheckboxGroup(label="Ask only these documents (none ticked: the whole library)", elem_id="scope-choice")
        files = gr.File(
            file_count="multiple", file_types=sorted(LOADERS), label="Add documents (pdf, docx, md, txt, html)",
            elem_id="upload", height=130,
        )
        with gr.Row(equal_height=True):
            add = gr.Button("Add to library", elem_id="add-documents", size="sm", scale=1)
            scope_upload = gr.Checkbox(label="then ask only about them", elem_id="scope-upload", scale=1)
        upload_status = gr.Markdown(elem_id="upload-status", latex_delimiters=[])
        with gr.Row(equal_height=True):
            to_remove = gr.Dropdown(label="Remove a document", elem_id="remove-choice", scale=3, filterable=True)
            remove = gr.Button("Remove…", elem_id="remove-document", size="sm", variant="secondary", scale=1, min_width=90)
        removing = gr.State(None)
        with gr.Row(equal_height=True, visible=False, elem_id="confirm-remove-row") as confirm_row:
            confirm_text = gr.Markdown(elem_id="confirm-remove-text", latex_delimiters=[])
            confirm = gr.Button("Yes, remove it", elem_id="confirm-remove", size="sm", variant="stop", min_width=90)
            cancel = gr.Button("Cancel", elem_id="cancel-remove", size="sm", min_width=90)
    return {
        "passage": passage, "library": library, "files": files, "add": add, "upload_status": upload_status,
        "scope_choice": scope_choice, "scope_upload": scope_upload,
        "to_remove": to_remove, "remove": remove, "confirm_row": confirm_row, "removing": removing, "confirm_text": confirm_text,
        "confirm": confirm, "cancel": cancel,
    }


def _wire(app: gr.Blocks, page: _Handlers, w: _Widgets) -> None:
    """Every event: asking (the box, the button, a suggested follow-up), citations, audience, library."""
    answered = [w.session, w.chat, w.suggestion_row, *w.suggestions, w.export, w.version]
    hidden = {"api_visibility": "private"}  # page events; the one public endpoint is /ask (build_app)
    asks = [(w.question.submit, w.question), (w.ask.click, w.question)] + [(b.click, b) for b in w.suggestions]
    for trigger, text in asks:  # a suggestion button's value is its question
        trigger(page.pose, [text, w.chat], [w.pending, w.question, w.chat], queue=False, **hidden).then(
            None, js=SCROLL_TO_LATEST_JS
        ).then(page.answer, [w.pending, w.session, w.audience, w.scope_choice], answered, show_progress_on=w.chat, **hidden).then(
            None, js=SCROLL_TO_LATEST_JS
        ).then(page.suggest, w.session, [w.suggestion_row, *w.suggestions], show_progress="hidden", **hidden)
    w.passage.click(page.show_passage, [w.session, w.audience], [w.session, w.passage], **hidden)
    w.audience.change(page.switch_audience, [w.session, w.audience], [w.chat, w.passage, w.header], **hidden)
    new_outputs = [w.session, w.chat, w.passage, w.suggestion_row, *w.suggestions, w.export]
    w.new.click(page.new_conversation, w.session, new_outputs, **hidden)
    library = [w.library, w.to_remove, w.version, w.scope_choice, w.scope_status]
    adding = [w.files, w.scope_upload, w.scope_choice]
    w.add.click(page.add_documents, adding, [w.files, w.upload_status, *library], show_progress_on=w.upload_status, **hidden)
    w.scope_choice.change(page.scope_status, w.scope_choice, w.scope_status, **hidden)
    w.remove.click(page.ask_to_remove, w.to_remove, [w.confirm_row, w.confirm_text, w.upload_status, w.removing], **hidden)
    w.cancel.click(lambda: (gr.update(visible=False), None), None, [w.confirm_row, w.removing], **hidden)
    w.confirm.click(page.remove_document, [w.removing, w.scope_choice], [w.confirm_row, w.upload_status, *library], **hidden)
    app.load(page.library_view, None, library, **hidden)
    gr.Timer(VERSION_CHECK_S).tick(page.version_line, None, w.version, show_progress="hidden", **hidden)


API_CONCURRENCY = 4  # the Assistant is thread-safe; more workers than this only queue on 2 cores


def launch(app: gr.Blocks, settings: Settings, *, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
           block: bool = True, auth: list[tuple[str, str]] | None = None) -> None:
    """Serve the UI alone on host:port (a share link); `block=False` returns once it is up. No folder is served:
    the corpus and index folders are blocked outright (documents are served by id, through server_app)."""
    _queued(app, settings).launch(
        server_name=host, server_port=port, share=share, auth=auth, css=CSS, max_file_size=int(settings.max_file_mb * 1024 * 1024),
        blocked_paths=_private_folders(settings), prevent_thread_lock=not block, quiet=not block, footer_links=["api"],
        show_error=True,
    )


def _queued(blocks: gr.Blocks, settings: Settings) -> gr.Blocks:
    """The page's events answer service.answer_threads people at once (Gradio's default is one at a time)."""
    return blocks.queue(default_concurrency_limit=settings.service.answer_threads)


def _private_folders(settings: Settings) -> list[str]:
    """Folders Gradio must never serve from, whatever else it allows: the corpus (drafts and notes live there) and the
    index (every document's text, the audit log)."""
    return [str(settings.corpus_dir.resolve()), str(settings.index_dir.resolve())]


class _UiSessions:
    """Whether a request carries a signed-in session of the mounted Gradio UI (its cookie), so that what the page links
    to (a document's file) opens for its users without the API token. Everyone is signed in to a UI without users."""

    def __init__(self) -> None:
        self.ui: Any = None  # gradio.routes.App, set once mounted

    def __call__(self, request: Request) -> bool:
        ui = self.ui
        if ui is None:
            return False
        if ui.auth is None:
            return True
        cookie = request.cookies.get(f"access-token-{ui.cookie_id}") or request.cookies.get(f"access-token-unsecure-{ui.cookie_id}")
        return cookie is not None and cookie in ui.tokens


def server_app(assistant: Assistant, settings: Settings, workers: Workers | None = None) -> FastAPI:
    """The chat UI mounted on the HTTP API: one app on one port, what `assistant serve` runs (answering API requests
    handed to `workers`, if any)."""
    blocks = build_app(assistant, settings)
    sessions = _UiSessions()
    api = create_api(assistant, settings.service, ui_session=sessions, workers=workers)
    app = gr.mount_gradio_app(
        api, _queued(blocks, settings), path="/", auth=_users(settings),
        css=CSS, footer_links=["api"], max_file_size=int(settings.max_file_mb * 1024 * 1024),
        blocked_paths=_private_folders(settings), show_error=True,
    )
    sessions.ui = next(route.app for route in app.routes if isinstance(route, Mount) and isinstance(route.app, gr.routes.App))
    return app


def _users(settings: Settings) -> list[tuple[str, str]] | None:
    return [(name, password.get_secret_value()) for name, password in settings.service.users.items()] or None


def serving(settings: Settings) -> Settings:
    """The settings a server process runs with: its embedder on service.embed_threads (see that field)."""
    return settings.with_overrides(embed={**settings.embed.model_dump(), "threads": settings.service.embed_threads})


def address(host: str, port: int) -> str:
    """The URL to open for a server bound to host:port (any interface: this machine's name)."""
    shown = socket.gethostname() if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
          announce: Callable[[str], None] = print) -> None:
    """Open the assistant (building or refreshing its index) and serve the chat UI and the HTTP API (/v1, /docs) on
    one port until stopped, switching to any index version another process writes (Assistant.follow). Sign-in is
    checked before anything loads (signin.check_sign_in)."""
    check_sign_in(settings.service, host, share)
    settings = serving(settings)
    assistant = Assistant.load(settings)
    assistant.follow(settings.service.reload_seconds)
    index = assistant.index
    if share:  # Gradio's share tunnel serves the UI only; the API stays on host:port
        launch(build_app(assistant, settings, file_links=False), settings, host=host, port=port, share=True, auth=_users(settings))
        return
    import uvicorn

    workers = Workers(settings, settings.service.workers) if settings.service.workers > 1 else None
    if workers is not None:
        workers.wait_ready()
    app = server_app(assistant, settings, workers)
    url = address(host, port)
    announce(f"Serving {len(index.documents)} documents (index version {index.folder.name}) on {url} with "
             f"{settings.service.workers} answering process(es): the chat UI at /, the API at /v1, its docs at {url}docs. "
             "Ctrl+C stops it.")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        if workers is not None:
            workers.stop()


def serve_worker(settings: Settings, port: int, number: int) -> None:
    """One worker process of a server (serve/workers.py): the API alone on 127.0.0.1:port over its own assistant; the
    server built or refreshed the index before starting it."""
    import uvicorn

    assistant = Assistant.load(settings, refresh=False)
    assistant.follow(settings.service.reload_seconds)
    uvicorn.run(create_api(assistant, settings.service, worker=number), host="127.0.0.1", port=port, log_level="warning")
