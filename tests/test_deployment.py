"""Issue 17, running it as a service: settings from flags, environment and a TOML file (in that order), `assistant
config` with secrets masked, --version, status, listing and removing documents, ingest's exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from samples import SEED_QUESTION, copy_corpus

from assistant import Assistant, Settings
from assistant.errors import ConfigError
from assistant.index.build import document_listing
from assistant.index.load import current_version, load_index
from assistant.settings import load_settings

CASE_SERIES = "beckett-2024-upadacitinib-myositis-case-series"


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_flags_beat_the_environment_which_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _toml(tmp_path, 'max_file_mb = 7\n[retrieve]\nk = 11\ncandidates = 33\n[store]\ncollection = "from-file"\n')
    assert load_settings(config).retrieve.k == 11
    monkeypatch.setenv("ASSISTANT_RETRIEVE__K", "22")
    settings = load_settings(config)
    assert (settings.retrieve.k, settings.retrieve.candidates, settings.max_file_mb) == (22, 33, 7), "env over file, fields merged"
    flagged = load_settings(config, retrieve={"k": 5}, store={"kind": "qdrant", "qdrant_path": tmp_path / "q"})
    assert (flagged.retrieve.k, flagged.retrieve.candidates) == (5, 33), "a flag over both, the file's other fields kept"
    assert (flagged.store.kind, flagged.store.collection) == ("qdrant", "from-file")
    monkeypatch.delenv("ASSISTANT_RETRIEVE__K")
    assert load_settings().retrieve.k == Settings().retrieve.k, "no file, no environment: the defaults"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[retrieve]\nk = 0\n", "retrieve.k: Input should be greater than or equal to 1"),
        ("[retreive]\nk = 3\n", "retreive: Extra inputs are not permitted"),
        ("k = = 3\n", "is not valid TOML"),
    ],
)
def test_a_bad_config_file_is_named_with_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(_toml(tmp_path, text))
    with pytest.raises(ConfigError, match="No config file at"):
        load_settings(tmp_path / "missing.toml")


def test_the_user_config_folder_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "medevidence-assistant").mkdir()
    (tmp_path / "medevidence-assistant" / "config.toml").write_text("[retrieve]\nk = 17\n")
    assert load_settings().retrieve.k == 17


def test_config_command_masks_secrets_and_names_the_file(cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    config = _toml(tmp_path, '[service]\napi_token = "file-token-123"\n[llm]\nmodel = "qwen"\n')
    monkeypatch.setenv("ASSISTANT_SERVICE__USERS", '{"ana": "pw-456"}')
    result = cli("--config", config, "config")
    assert result.exit_code == 0, result.output
    assert f"config file: {config}" in result.output
    shown = json.loads(result.output.split("\n", 1)[1])
    assert shown["llm"]["model"] == "qwen" and shown["service"]["api_token"] == "**********"
    assert "file-token-123" not in result.output and "pw-456" not in result.output


def test_version_is_printed(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("--version")
    assert result.exit_code == 0 and result.output.startswith("medevidence-assistant ")


def test_status_and_docs_list_describe_the_index(cli, seed_index: Path, assistant: Assistant) -> None:  # type: ignore[no-untyped-def]
    status = json.loads(cli("status", "--index", seed_index, "--json").output)
    assert status["version"] == assistant.index.folder.name and status["chunks"] == len(assistant.index.chunks)
    assert status["documents"] == len(assistant.index.documents) and status["model"] == assistant.embedder.model_id
    listed = json.loads(cli("docs", "list", "--index", seed_index, "--json").output)
    assert {row["doc_id"] for row in listed} == set(assistant.index.documents)
    for row in listed:
        assert row["chunks"] == sum(c.doc_id == row["doc_id"] for c in assistant.index.chunks)


def test_removing_a_document_removes_its_chunks_and_its_answers(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = copy_corpus(tmp_path / "corpus")
    settings = Settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    assistant = Assistant.load(settings, embedder=embedder)
    assert CASE_SERIES in {c.doc_id for c in assistant.ask(SEED_QUESTION).citations}
    before = current_version(settings.index_dir).name
    report = assistant.remove([CASE_SERIES])
    assert report.removed == [CASE_SERIES] and report.version != before
    assert CASE_SERIES not in assistant.index.documents and all(c.doc_id != CASE_SERIES for c in assistant.index.chunks)
    assert CASE_SERIES not in {c.doc_id for c in assistant.ask(SEED_QUESTION).citations}
    assert not (corpus / f"{CASE_SERIES}.md").exists(), "its file left the corpus, so a sync does not bring it back"
    assert Assistant.load(settings, embedder=embedder).index.documents.keys() == assistant.index.documents.keys()
    assert [row["doc_id"] for row in document_listing(settings)] == sorted(assistant.index.documents)
    reused = load_index(settings.index_dir, embedder, settings)
    assert reused.all_vectors().shape[0] == len(reused.chunks)


def test_removing_an_unknown_document_changes_nothing(cli, index_copy: Path) -> None:  # type: ignore[no-untyped-def]
    before = current_version(index_copy).name
    result = cli("docs", "remove", "no-such-doc", "--index", index_copy)
    assert result.exit_code == 2 and "No indexed document with id 'no-such-doc'" in result.output
    assert "assistant docs list" in result.output and current_version(index_copy).name == before


def test_ingest_exits_non_zero_when_a_file_failed_after_indexing_the_rest(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    corpus = copy_corpus(tmp_path / "corpus")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    result = cli("ingest", "--corpus", corpus, "--index", tmp_path / "index")
    assert result.exit_code == 1 and "broken.pdf" in result.output
    assert {row["doc_id"] for row in document_listing(Settings(corpus_dir=corpus, index_dir=tmp_path / "index"))} >= {CASE_SERIES}


def test_an_installed_package_keeps_its_data_in_the_user_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    import assistant.settings as settings_module

    monkeypatch.setattr(settings_module, "in_checkout", lambda: False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    settings = Settings()
    assert settings.corpus_dir == tmp_path / "data" / "medevidence-assistant" / "corpus"
    assert settings.index_dir == tmp_path / "data" / "medevidence-assistant" / "index"
    assert settings.embed.cache_dir == tmp_path / "cache" / "medevidence-assistant"
    assert settings.embed.threads == os.cpu_count()
    monkeypatch.setattr(settings_module, "in_checkout", lambda: True)
    assert Settings().index_dir == settings_module.PROJECT_ROOT / ".index", "a checkout keeps .index/ for make serve"
