"""Command line: `assistant ingest`, `assistant ask`, `assistant serve`, `assistant eval`. Thin: no logic here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .errors import AssistantError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Cited answers over medical evidence.")

IndexOpt = Annotated[Optional[Path], typer.Option("--index", help="Index folder (default: .index/ in the project).")]
CorpusOpt = Annotated[Optional[Path], typer.Option("--corpus", help="Corpus folder (default: corpus/ in the project).")]
StoreOpt = Annotated[Optional[str], typer.Option("--store", help="Where chunks are searched: local (default) or qdrant.")]
QdrantUrlOpt = Annotated[Optional[str], typer.Option("--qdrant-url", help="Qdrant server, e.g. http://localhost:6333 (implies --store qdrant).")]
QdrantPathOpt = Annotated[Optional[Path], typer.Option("--qdrant-path", help="Embedded Qdrant folder (implies --store qdrant).")]


_CONFIG: dict[str, Path | None] = {"file": None}  # --config, set by the callback of each invocation


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"medevidence-assistant {version('medevidence-assistant')}")
        raise typer.Exit()


@app.callback()
def main(
    config: Annotated[
        Optional[Path], typer.Option("--config", help="TOML settings file (default: config.toml in your config folder, if any).")
    ] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Cited answers over medical evidence. Settings: flags > ASSISTANT_* environment > config file > defaults."""
    _CONFIG["file"] = config


def _settings(  # type: ignore[no-untyped-def]
    corpus: Path | None,
    index: Path | None,
    store: tuple[str | None, str | None, Path | None] = (None, None, None),
    ingest: dict[str, object] | None = None,
    device: str | None = None,
    service: dict[str, object] | None = None,
    **llm: str | None,
):
    """The effective settings: this command's flags over the environment, the config file and the defaults."""
    from .settings import load_settings

    kind, url, path = store
    flags: dict[str, object] = {k: v for k, v in {"corpus_dir": corpus, "index_dir": index}.items() if v is not None}
    if kind or url or path:  # a place given on the command line replaces the other one
        flags["store"] = {"kind": kind or "qdrant", "qdrant_url": url, "qdrant_path": path}
    sections = {"ingest": ingest or {}, "embed": {"device": device}, "llm": llm, "service": service or {}}
    flags.update({name: given for name, values in sections.items() if (given := {k: v for k, v in values.items() if v is not None})})
    return load_settings(_CONFIG["file"], **flags)


def _fail(exc: AssistantError) -> None:
    """One line on stderr (library messages can hold newlines), exit status 2."""
    typer.secho("Error: " + " ".join(str(exc).split()), fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def ingest(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Files or folders (default: the corpus folder).")] = None,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Re-embed everything from scratch.")] = False,
    engine: Annotated[Optional[str], typer.Option("--engine", help="local (default) or ray: chunk and embed on Ray Data.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", help="Ray embedding actors (with --engine ray).")] = None,
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="Ray cluster (default: $RAY_ADDRESS or a local Ray).")] = None,
    device: Annotated[Optional[str], typer.Option("--device", help="Embed on cpu (default), cuda (float16) or auto.")] = None,
    store: StoreOpt = None,
    qdrant_url: QdrantUrlOpt = None,
    qdrant_path: QdrantPathOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Index documents; only new or changed files are re-embedded."""
    from rich.progress import Progress

    from .index.build import build_index
    from .index.embed import default_embedder

    try:
        settings = _settings(
            corpus, index, (store, qdrant_url, qdrant_path), {"engine": engine, "workers": workers, "ray_address": ray_address}, device
        )
        targets = paths or [settings.corpus_dir]
        embedder = default_embedder(settings.embed)
        with Progress(transient=True) as bar:
            task = bar.add_task("embedding", total=None)
            report = build_index(
                targets, settings, embedder, sync=not paths, rebuild=rebuild,
                progress=lambda stage, done, total: bar.update(task, description=stage, completed=done, total=total),
            )
    except AssistantError as exc:
        _fail(exc)
    from .answer.render import print_report

    print_report(report)
    if report.errors:  # the other files went in; the exit status still says that some did not
        raise typer.Exit(1)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="Your question.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print Answer.to_dict() as JSON.")] = False,
    k: Annotated[Optional[int], typer.Option("-k", help="Passages handed to the answer writer.")] = None,
    backend: Annotated[
        Optional[str], typer.Option("--backend", help="Answer writer: extractive (default), openai or ollama.")
    ] = None,
    base_url: Annotated[
        Optional[str], typer.Option("--base-url", help="LLM endpoint, e.g. http://127.0.0.1:8080/v1 (key: $OPENAI_API_KEY).")
    ] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="LLM model name the endpoint serves.")] = None,
    source: Annotated[
        Optional[list[str]], typer.Option("--source", help="Search only this document (its id: `assistant docs list`); repeat for more.")
    ] = None,
    where: Annotated[
        Optional[str],
        typer.Option("--where", help="Search only documents whose evidence passes this filter, e.g. 'peer_reviewed and level<=4 and date>=2020' (fields: peer_reviewed, type, level, date)."),
    ] = None,
    store: StoreOpt = None,
    qdrant_url: QdrantUrlOpt = None,
    qdrant_path: QdrantPathOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Answer a question with numbered, verbatim citations (optionally written by an LLM, then verified), from the whole
    library or only the documents --source and --where choose."""
    from .answer.render import print_answer
    from .api import Assistant
    from .chat.audit import caller

    try:
        settings = _settings(corpus, index, (store, qdrant_url, qdrant_path), backend=backend, base_url=base_url, model=model)
        assistant = Assistant.load(settings)
        with caller("cli"):
            answer = assistant.ask(question, k=k, sources=source, where=where)
        if assistant.audit:
            assistant.audit.flush()
    except AssistantError as exc:
        _fail(exc)
    if as_json:
        sys.stdout.write(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        print_answer(answer)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default; beyond it sign-in is required).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 7860,
    share: Annotated[bool, typer.Option("--share", help="Create a public Gradio share link.")] = False,
    workers: Annotated[
        Optional[int], typer.Option("--workers", min=1, help="Processes answering the API (each loads the model and index).")
    ] = None,
    store: StoreOpt = None,
    qdrant_url: QdrantUrlOpt = None,
    qdrant_path: QdrantPathOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Serve the chat UI and the HTTP API on one port; prints the URL once the model and index are loaded."""
    from .serve.signin import check_sign_in

    try:
        settings = _settings(corpus, index, (store, qdrant_url, qdrant_path), service={"workers": workers})
        check_sign_in(settings.service, host, share)  # before the UI is imported or the model loaded: a refusal is quick
        from .serve.ui import serve as run_server

        run_server(settings, host=host, port=port, share=share, announce=typer.echo)
    except AssistantError as exc:
        _fail(exc)


@app.command(hidden=True)
def worker(
    port: Annotated[int, typer.Argument(help="Loopback port to answer on.")],
    number: Annotated[int, typer.Argument(help="This worker's number (1, 2, …).")],
) -> None:
    """One answering process of `assistant serve --workers N`, started by the server with its settings."""
    from .serve.ui import serve_worker
    from .serve.workers import worker_settings

    try:
        serve_worker(worker_settings(), port, number)
    except AssistantError as exc:
        _fail(exc)


@app.command("config")
def config_() -> None:
    """Print the effective settings (secrets masked) and where they came from."""
    from .settings import config_file, user_config_file

    try:
        settings = _settings(None, None)
    except AssistantError as exc:
        _fail(exc)
    used = config_file(_CONFIG["file"])
    typer.echo(f"# config file: {used or 'none'} (default location: {user_config_file()})")
    typer.echo(settings.model_dump_json(indent=2))


@app.command()
def logs(
    since: Annotated[Optional[str], typer.Option("--since", help="Only answers from this UTC date or time on (ISO, e.g. 2026-12-01).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON, with each citation's offsets and quote hash.")] = False,
    index: IndexOpt = None,
) -> None:
    """The audit log: time, channel and user, question, index version, what was cited."""
    from .chat.audit import format_rows, read_log

    try:
        settings = _settings(None, index)
    except AssistantError as exc:
        _fail(exc)
    typer.echo(format_rows(read_log(settings.audit_path(), since), as_json))


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Where the index is and what it holds: version, model, chunker, documents, chunks, last ingest, store."""
    from .index.build import index_status

    try:
        settings = _settings(corpus, index)
        facts = index_status(settings)
    except AssistantError as exc:
        _fail(exc)
    typer.echo(json.dumps(facts, indent=2) if as_json else "\n".join(f"{k}: {v}" for k, v in facts.items()))


docs = typer.Typer(no_args_is_help=True, help="List or remove indexed documents.")
app.add_typer(docs, name="docs")


@docs.command("list")
def docs_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Every indexed document: id, chunks, title, source file."""
    from .index.build import document_listing

    try:
        rows = document_listing(_settings(corpus, index))
    except AssistantError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for row in rows:
            typer.echo(f"{row['doc_id']}\t{row['chunks']} chunks\t{row['title']}\t{row['source_path']}")


@docs.command("remove")
def docs_remove(
    doc_ids: Annotated[list[str], typer.Argument(help="Document ids (see `assistant docs list`).")],
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
) -> None:
    """Remove documents from the index (a new version, switched atomically) and their files from the corpus folder."""
    from .answer.render import print_report
    from .index.build import remove_documents
    from .index.embed import default_embedder

    try:
        settings = _settings(corpus, index)
        report = remove_documents(doc_ids, settings, default_embedder(settings.embed))
    except AssistantError as exc:
        _fail(exc)
    print_report(report)


@app.command(
    "eval", add_help_option=False, context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def eval_(ctx: typer.Context) -> None:
    """Run the evaluation harness: the same options as `python -m eval` (try `assistant eval --help`)."""
    from eval.__main__ import app as eval_app

    eval_app(args=ctx.args, prog_name="assistant eval")


if __name__ == "__main__":
    app()
