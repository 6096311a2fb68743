"""External datasets: PubMedQA (Jin et al., EMNLP 2019), MedQuAD (Ben Abacha & Demner-Fushman, 2019) and COVID-QA
(Möller et al., 2020).

Each loader pools passages into one corpus and pairs every question with the passage it came from, its gold answer
text and the key it is split by (eval/training/splits.py). Data lives outside the repository; nothing is read at import time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from assistant.errors import ConfigError

PUBMEDQA_FILE = Path("pubmedqa") / "ori_pqal.json"
MEDQUAD_FILE = Path("medquad") / "medquad.jsonl"
COVIDQA_FILE = Path("covidqa") / "covidqa_dev.json"


@dataclass(frozen=True, slots=True)
class Query:
    """A question and the ids of what it should retrieve: documents, and chunks where they are known
    (None: not scored by chunk; empty: no chunk holds the answer, so every ranking misses). `answer`: the gold
    answer text (COVID-QA's span, PubMedQA's LONG_ANSWER, MedQuAD's passage); `group`: what the dataset is split
    by (paper, PMID, focus)."""

    id: str
    text: str
    relevant_docs: frozenset[str]
    relevant_chunks: frozenset[str] | None = None
    answer: str = ""
    group: str = ""
    verdict: str = ""  # PubMedQA's final_decision (yes / no / maybe): the own document's expected stance


@dataclass(frozen=True, slots=True)
class RetrievalSet:
    """A pooled corpus (doc_id → file content) and its queries; `key` names the data version and slice; files are
    written with `suffix` (.md where the content starts with front matter)."""

    name: str
    passages: dict[str, str]
    queries: list[Query]
    key: str
    suffix: str = ".txt"


def data_file(data_dir: Path, relative: Path) -> Path:
    path = data_dir / relative
    if not path.is_file():
        raise ConfigError(
            f"{path} not found. Pass --data PATH pointing at the folder that holds "
            f"{relative.parts[0]}/ (the project keeps it in shared/data, see its README)."
        )
    return path


def _checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def _key(name: str, checksum: str, passages: dict[str, str]) -> str:
    """Cache key: data version and slice size (so --limit 1000 and the full 1000 share one index)."""
    return f"{name}-{checksum}-{len(passages)}"


def pubmedqa_records(data_dir: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    """PubMedQA's labelled items by PMID (QUESTION, CONTEXTS, LABELS, YEAR, final_decision, LONG_ANSWER)."""
    return json.loads(data_file(data_dir, PUBMEDQA_FILE).read_text(encoding="utf-8"))  # type: ignore[no-any-return]


CONTEXT_BREAK = "\n\n"  # between an abstract's CONTEXTS sections as indexed (train_roles places sentences by it)


def load_pubmedqa(data_dir: Path, limit: int | None = None) -> RetrievalSet:
    """The first `limit` PMIDs (sorted): each abstract's CONTEXTS joined, title-less; doc_id = PMID."""
    path = data_file(data_dir, PUBMEDQA_FILE)
    records = pubmedqa_records(data_dir)
    pmids = sorted(records)[:limit] if limit is not None else sorted(records)
    passages = {pmid: CONTEXT_BREAK.join(records[pmid]["CONTEXTS"]) for pmid in pmids}
    queries = [
        Query(pmid, records[pmid]["QUESTION"], frozenset({pmid}), answer=records[pmid]["LONG_ANSWER"], group=pmid, verdict=records[pmid].get("final_decision", ""))
        for pmid in pmids
    ]
    return RetrievalSet("pubmedqa", passages, queries, _key("pubmedqa", _checksum(path), passages))


def load_medquad(data_dir: Path, limit: int | None = None) -> RetrievalSet:
    """Distinct answer passages (a fixed, collection-spanning slice: the first `limit` by content hash),
    and every question whose answer is among them."""
    path = data_file(data_dir, MEDQUAD_FILE)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_text = {row["answer"].strip(): "mq-" + hashlib.sha256(row["answer"].strip().encode()).hexdigest()[:16] for row in rows}
    chosen = sorted(by_text.items(), key=lambda item: item[1])
    if limit is not None:
        chosen = chosen[:limit]
    passages = {doc_id: text for text, doc_id in chosen}
    queries = [
        Query(row["id"], row["question"], frozenset({by_text[row["answer"].strip()]}), answer=row["answer"], group=row["focus"])
        for row in rows
        if by_text[row["answer"].strip()] in passages
    ]
    return RetrievalSet("medquad", passages, queries, _key("medquad", _checksum(path), passages))


def load_covidqa(data_dir: Path, limit: int | None = None) -> RetrievalSet:
    """Every paper (the first `limit` by id) as Markdown with its title in front matter, and every question on it with
    its gold span. doc_id = "covidqa-<document_id>"."""
    path = data_file(data_dir, COVIDQA_FILE)
    papers = sorted(
        (p for entry in json.loads(path.read_text(encoding="utf-8"))["data"] for p in entry["paragraphs"]),
        key=lambda p: int(p["document_id"]),
    )[:limit]
    passages: dict[str, str] = {}
    queries: list[Query] = []
    for paper in papers:
        doc_id = f"covidqa-{paper['document_id']}"
        title, _, body = paper["context"].partition("\n")
        front = yaml.safe_dump({"id": doc_id, "title": title.strip()}, allow_unicode=True, width=10_000)
        passages[doc_id] = f"---\n{front}---\n\n{body.strip()}\n"
        queries += [
            Query(f"covidqa-{qa['id']}", qa["question"], frozenset({doc_id}), answer=qa["answers"][0]["text"], group=str(paper["document_id"]))
            for qa in paper["qas"]
            if qa["answers"]
        ]
    return RetrievalSet("covidqa", passages, queries, _key("covidqa", _checksum(path), passages), suffix=".md")


def write_corpus(passages: dict[str, str], folder: Path, suffix: str = ".txt") -> None:
    """One <doc_id><suffix> per passage; files already holding the same text are left alone (the index is incremental)."""
    folder.mkdir(parents=True, exist_ok=True)
    for doc_id, text in passages.items():
        target = folder / f"{doc_id}{suffix}"
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
