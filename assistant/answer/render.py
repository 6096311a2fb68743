"""Plain renderings of answers and reports: markdown references for export, rich output for the terminal."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.markup import escape

from ..index.build import IngestReport
from ..schema import Answer


def references_markdown(answer: Answer) -> str:
    """The numbered sources, each a paragraph of its own (document, its evidence type and grade, section, page,
    character offsets) followed by its exact quote as a block quote."""
    profiles = {s.doc_id: s for s in answer.sources}
    entries = []
    for c in answer.citations:
        source = profiles.get(c.doc_id)
        label = f" — {source.profile.label()}; {source.grade.badge()}" if source else ""
        page = f"; p. {c.page}" if c.page is not None else ""
        entries.append(
            f"[{c.number}] *{c.title}*{label}. Section: {c.section or '(top)'}{page}; characters {c.start}–{c.end}.\n\n"
            f"> {c.quote}"
        )
    return "\n\n".join(entries)


def answer_markdown(answer: Answer) -> str:
    """The answer followed by its numbered sources, as one markdown document."""
    parts = [f"**Question:** {answer.question}", "", answer.text]
    if answer.citations:
        parts += ["", "**Sources**", "", references_markdown(answer)]
    if answer.notices:
        parts += ["", *[f"_Note: {n}_" for n in answer.notices]]
    return "\n".join(parts)


def print_answer(answer: Answer, console: Console | None = None) -> None:
    (console or Console()).print(Markdown(answer_markdown(answer)))


def print_report(report: IngestReport, console: Console | None = None) -> None:
    console = console or Console()
    console.print(
        f"Indexed {report.total_chunks} chunks: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; {report.embedded_chunks} chunks embedded."
    )
    for warning in report.warnings:  # escaped: file names like "notes[x].md" are not markup; one line each
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}", soft_wrap=True)
    for error in report.errors:
        console.print(f"[red]error:[/red] {escape(error)}", soft_wrap=True)
