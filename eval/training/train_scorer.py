"""Train the evidence scorer (assistant/answer/scorer.py) on the train splits of the open data, and compare designs on dev.

    python -m eval.training.train_scorer --data ../shared/data      # → assistant/answer/models/evidence/ (model.txt, meta.json, CARD.md)

Seeded and deterministic on one machine. Each dataset's train-split documents are pooled into their own index (no dev
or test text is ever read for training), every train question is searched and its candidate sentences featurised
exactly as Assistant.ask does, and each sentence is labelled:
- COVID-QA: it holds >= 60% of the gold answer span's words;
- PubMedQA: it is one of the two sentences of the question's own abstract sharing most words with the conclusion
  (LONG_ANSWER, which the abstract's indexed text does not contain);
- MedQuAD: it is one of the first three sentences of the question's own answer passage.
Every other candidate (other documents, the rest of the own document) is a negative: hard negatives from our own
retriever. PubMedQA's and MedQuAD's train questions are also asked of the half of their train pool that lacks their
documents, where every candidate is a negative. Designs are compared on the dev split's questions asked of every
document of the dataset pooled.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from assistant import Assistant, Settings
from assistant.answer.scorer import (
    FEATURES,
    MODEL_DIR,
    Trees,
    features,
    fused_order,
    rule_scores,
)
from assistant.answer.sentences import Candidate
from assistant.index.build import build_index
from assistant.index.embed import Embedder, default_embedder
from assistant.index.load import load_index
from assistant.settings import ComposeSettings

from ..suites.answers import holds_span, word_recall
from ..suites.datasets import Query, RetrievalSet, load_covidqa, load_medquad, load_pubmedqa, write_corpus
from ..suites.harness import CACHE_DIR
from .splits import load_splits

SEED = 14
MEDQUAD_TRAIN_PASSAGES = 1500  # a pool the size of COVID-QA's in chunks; every passage of the train focuses would take an hour
DEV_LIMIT = {"medquad": 2000}  # dev questions are asked of the dataset pooled; MedQuAD whole would take 18 minutes to index
# Train questions of these datasets are also asked of the half of the train pool without their documents, every
# candidate labelled 0: the scorer learns what "nothing here answers" looks like (COVID-QA's papers overlap too much).
ABSENT = ("pubmedqa", "medquad")
ABSENT_SUFFIX = "-absent"
# Train questions are also asked of small pools (their own document among a few others): corpora of a handful of
# documents, where every word is rare or common at once, are what users index first (the seed corpus has two).
SMALL_POOL = {"covidqa": 4, "pubmedqa": 6, "medquad": 6}
SMALL_SUFFIX = "-small"
SMALL_MEDQUAD = 600  # passages of the MedQuAD train pool used in small pools
DATASETS: dict[str, Callable[[Path, int | None], RetrievalSet]] = {
    "covidqa": load_covidqa,
    "pubmedqa": load_pubmedqa,
    "medquad": load_medquad,
}


@dataclass(frozen=True, slots=True)
class Rows:
    """Featurised candidates: one row per sentence, `question` numbering the questions, `label` 1 for an answer,
    `own` 1 for a sentence of the question's own document."""

    X: np.ndarray
    label: np.ndarray
    question: np.ndarray
    own: np.ndarray
    dataset: np.ndarray

    @staticmethod
    def concat(parts: Sequence[Rows]) -> Rows:
        offsets = np.cumsum([0, *(int(p.question.max()) + 1 if len(p.question) else 0 for p in parts[:-1])])
        return Rows(
            np.vstack([p.X for p in parts]),
            np.concatenate([p.label for p in parts]),
            np.concatenate([p.question + o for p, o in zip(parts, offsets, strict=True)]),
            np.concatenate([p.own for p in parts]),
            np.concatenate([p.dataset for p in parts]),
        )


def label(dataset: str, query: Query, candidates: Sequence[Candidate]) -> np.ndarray:
    """1 for each candidate sentence that answers the query (see the module docstring)."""
    own = [c.hit.doc_id in query.relevant_docs for c in candidates]
    if dataset.endswith(ABSENT_SUFFIX):
        return np.zeros(len(candidates), np.int8)  # the question's own document is not in this pool
    dataset = dataset.removesuffix(SMALL_SUFFIX)
    if dataset == "covidqa":
        return np.array([holds_span(c.text, query.answer) for c in candidates], np.int8)
    out = np.zeros(len(candidates), np.int8)
    mine = [i for i, o in enumerate(own) if o]
    if dataset == "pubmedqa":
        best = sorted(mine, key=lambda i: -word_recall([candidates[i].text], query.answer))[:2]
    else:
        best = sorted(mine, key=lambda i: candidates[i].start)[:3]
    out[best] = 1
    return out


def extract(assistant: Assistant, dataset: str, queries: Sequence[Query]) -> Rows:
    parts_X, parts_y, parts_q, parts_own = [], [], [], []
    for n, query in enumerate(queries):
        result = assistant.searcher.search(query.text)
        candidates = assistant.composer.sentences.signals(result)
        if not candidates:
            continue
        parts_X.append(features(candidates, assistant.composer.sentences.evidence_context(result)))
        parts_y.append(label(dataset, query, candidates))
        parts_q.append(np.full(len(candidates), n))
        parts_own.append(np.array([c.hit.doc_id in query.relevant_docs for c in candidates], np.int8))
    rows = sum(len(x) for x in parts_X)
    return Rows(
        np.vstack(parts_X) if parts_X else np.zeros((0, len(FEATURES)), np.float32),
        np.concatenate(parts_y) if parts_y else np.zeros(0, np.int8),
        np.concatenate(parts_q) if parts_q else np.zeros(0, np.int64),
        np.concatenate(parts_own) if parts_own else np.zeros(0, np.int8),
        np.full(rows, dataset),
    )


def pooled(passages: dict[str, str], suffix: str, root: Path, settings: Settings, embedder: Embedder) -> Assistant:
    """An index of `passages` under `root` (incremental: a rerun reuses it), opened without loading the evidence
    scorer (training computes only its features)."""
    write_corpus(passages, root / "corpus", suffix)
    settings = settings.with_overrides(corpus_dir=root / "corpus", index_dir=root / "index")
    build_index([settings.corpus_dir], settings, embedder)
    return Assistant(load_index(settings.index_dir, embedder, settings), embedder, settings)


def _medquad_train_docs(data: RetrievalSet, keys: set[str]) -> set[str]:
    docs = sorted({d for q in data.queries if q.group in keys for d in q.relevant_docs})
    rng = np.random.default_rng(SEED)
    return set(rng.choice(docs, size=min(MEDQUAD_TRAIN_PASSAGES, len(docs)), replace=False).tolist())


def _cached(path: Path, make: Callable[[], Rows]) -> Rows:
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return Rows(f["X"], f["label"], f["question"], f["own"], f["dataset"])
    rows = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, X=rows.X, label=rows.label, question=rows.question, own=rows.own, dataset=rows.dataset)
    return rows


def training_rows(data_dir: Path, settings: Settings, embedder: Embedder, cache: Path, split: str) -> Rows:
    """Featurised candidates of every dataset's `split` questions: train questions over train-only pools (and, for
    ABSENT datasets, over the half of the train pool that lacks their documents: every candidate a negative); dev
    and test questions over the whole dataset pooled (as the eval asks them)."""
    splits = load_splits()
    what = settings.model_dump(mode="json", include={"chunk", "embed", "retrieve"})  # what the candidates depend on
    fingerprint = hashlib.sha256(json.dumps([FEATURES, what], sort_keys=True).encode()).hexdigest()[:10]
    parts = []
    for name, loader in DATASETS.items():
        data = loader(data_dir, DEV_LIMIT.get(name) if split != "train" else None)
        keys = splits.keys(name, split)  # type: ignore[arg-type]
        queries = [q for q in data.queries if q.group in keys]
        jobs: list[tuple[str, str, set[str], list[Query]]] = []  # (rows name, index folder, documents, questions)
        if split == "train":
            docs = _medquad_train_docs(data, keys) if name == "medquad" else {d for q in queries for d in q.relevant_docs}
            chosen = [q for q in queries if q.relevant_docs <= docs]
            jobs.append((name, f"{name}-train-{data.key}", docs, chosen))
            if name in ABSENT:
                halves = _halves(chosen)
                for i, (asked, other) in enumerate(((halves[0], halves[1]), (halves[1], halves[0]))):
                    pool = {d for q in other for d in q.relevant_docs}
                    jobs.append((f"{name}{ABSENT_SUFFIX}", f"{name}-train-half{1 - i}-{data.key}", pool, asked))
            for i, (pool, asked) in enumerate(_small_pools(chosen, SMALL_POOL[name], SMALL_MEDQUAD if name == "medquad" else None)):
                jobs.append((f"{name}{SMALL_SUFFIX}", f"{name}-train-small{i}-{data.key}", pool, asked))
        else:
            jobs.append((name, "", set(data.passages), queries))
        for rows_name, folder, docs, asked in jobs:

            def make(rows_name: str = rows_name, folder: str = folder, docs: set[str] = docs, asked: list[Query] = asked,
                     data: RetrievalSet = data) -> Rows:
                root = cache / folder if folder else CACHE_DIR / data.key
                assistant = pooled({d: t for d, t in data.passages.items() if d in docs}, data.suffix, root, settings, embedder)
                started = time.perf_counter()
                rows = extract(assistant, rows_name, asked)
                typer.echo(f"{rows_name} {split}: {len(asked)} questions, {len(rows.label)} candidates, {rows.label.sum()} "
                           f"positives ({time.perf_counter() - started:.0f} s)")
                return rows

            parts.append(_cached(cache / f"rows-{folder or rows_name}-{split}-{fingerprint}.npz", make))
    return Rows.concat(parts)


def _small_pools(queries: list[Query], size: int, most_docs: int | None) -> list[tuple[set[str], list[Query]]]:
    """The questions' documents in pools of `size` (documents of one group together), each with its questions."""
    groups: dict[str, set[str]] = {}
    for q in queries:
        groups.setdefault(q.group, set()).update(q.relevant_docs)
    order = sorted(groups, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
    pools: list[set[str]] = [set()]
    for group in order:
        if most_docs is not None and sum(map(len, pools)) >= most_docs:
            break
        if len(pools[-1]) >= size:
            pools.append(set())
        pools[-1] |= groups[group]
    return [(pool, [q for q in queries if q.relevant_docs <= pool]) for pool in pools if pool]


def _halves(queries: list[Query]) -> tuple[list[Query], list[Query]]:
    """The questions in two halves by what they are about (a focus's passages all on one side)."""
    side = [int(hashlib.sha256(q.group.encode()).hexdigest(), 16) % 2 for q in queries]
    return [q for q, s in zip(queries, side, strict=True) if s == 0], [q for q, s in zip(queries, side, strict=True) if s == 1]


# ---------------------------------------------------------------- models and their comparison

def ranking_metrics(rows: Rows, scores: np.ndarray) -> dict[str, float]:
    """Per question, ranking its candidates by `scores`: the best is an answer (p@1), an answer is in the top 3
    (hit@3), the best comes from the question's own document (own@1)."""
    order = np.lexsort((-scores, rows.question))
    q_sorted = rows.question[order]
    first = np.flatnonzero(np.r_[True, q_sorted[1:] != q_sorted[:-1]])
    bounds = np.r_[first, len(order)]
    p1 = hit3 = own1 = 0
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        top = order[a:b]
        p1 += int(rows.label[top[0]])
        hit3 += bool(rows.label[top[:3]].any())
        own1 += int(rows.own[top[0]])
    n = max(len(first), 1)
    return {"p@1": p1 / n, "hit@3": hit3 / n, "own@1": own1 / n}


# Each dataset's total weight, spread over its questions. MedQuAD's labels (a passage's first sentences) are the
# noisiest: at 0.3 they cost COVID-QA dev p@1 (0.573 against 0.598 at 0.1); at 0 MedQuAD dev p@1 falls to 0.602.
DATASET_WEIGHTS = {
    "covidqa": 1.0, "pubmedqa": 1.0, "medquad": 0.1, "pubmedqa-absent": 0.5, "medquad-absent": 0.1,
    "covidqa-small": 0.5, "pubmedqa-small": 0.5, "medquad-small": 0.1,
}
GBM_PARAMS: dict[str, object] = {
    "objective": "binary",
    "learning_rate": 0.02,  # with 600 rounds: COVID-QA dev p@1 0.650 against 0.598 at 0.05 × 300 (15 or 63 leaves: 0.610)
    "num_leaves": 31,
    "min_data_in_leaf": 40,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "seed": SEED,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 2,
    "verbose": -1,
}
ROUNDS = 600
# Evidence may only rise with these (LightGBM monotone constraints): a more similar or better covered sentence, chunk
# or document never scores lower, on any corpus; without them the trees learned dataset quirks (on a two-document
# corpus a sentence at cosine 0.73 that answers scored 0.008).
MONOTONE = ("dense", "coverage", "matched_share", "words_share", "bigram_share", "context_dense", "context_coverage",
            "chunk_similarity", "doc_coverage", "title_coverage", "doc_dense", "doc_lexical")
GBM_PARAMS["monotone_constraints"] = [int(name in MONOTONE) for name in FEATURES]
GBM_PARAMS["monotone_constraints_method"] = "advanced"


def weights(rows: Rows, shares: dict[str, float]) -> np.ndarray:
    """Per-row weights giving each dataset `shares[name]` in all, equally over its questions."""
    out = np.zeros(len(rows.label))
    for name, share in shares.items():
        mask = rows.dataset == name
        questions = len(np.unique(rows.question[mask]))
        if questions:
            out[mask] = share * 1000.0 / questions
    return out


def fit(rows: Rows, shares: dict[str, float] = DATASET_WEIGHTS):  # type: ignore[no-untyped-def]
    import lightgbm

    w = weights(rows, shares)
    keep = w > 0
    return lightgbm.train(GBM_PARAMS, lightgbm.Dataset(rows.X[keep], rows.label[keep], weight=w[keep], feature_name=list(FEATURES)), ROUNDS)


def per_dataset(rows: Rows, scores: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for name in DATASETS:
        mask = rows.dataset == name
        if mask.any():
            sub = Rows(rows.X[mask], rows.label[mask], rows.question[mask], rows.own[mask], rows.dataset[mask])
            out[name] = {k: round(v, 3) for k, v in ranking_metrics(sub, scores[mask]).items()}
    return out


def _shipped_ms(text: str, rows: Rows) -> float:
    """Mean ms per question of the numpy evaluator answering uses (evidence.Trees), one question's rows at a time."""
    trees = Trees(text)
    questions = np.unique(rows.question)
    started = time.perf_counter()
    for q in questions:
        trees.predict(rows.X[rows.question == q])
    return round(1000 * (time.perf_counter() - started) / max(len(questions), 1), 3)


def fused_scores(rows: Rows, scores: np.ndarray, compose: ComposeSettings) -> np.ndarray:
    """Per question, a score that orders its candidates as the composer does (evidence.fused_order)."""
    out = np.empty(len(scores))
    for q in np.unique(rows.question):
        members = np.flatnonzero(rows.question == q)
        order = fused_order(scores[members], rule_scores(rows.X[members], compose), compose.fusion_k)
        out[members[order]] = -np.arange(len(members), dtype=np.float64)
    return out


def write_model(model, folder: Path, meta: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    """The trees in LightGBM's text format, the metadata as JSON, and the card as Markdown."""
    folder.mkdir(parents=True, exist_ok=True)
    model.save_model(str(folder / "model.txt"))
    (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (folder / "CARD.md").write_text(card(meta), encoding="utf-8")


def card(meta: dict[str, object]) -> str:
    rows = meta["metrics"]  # type: ignore[index]
    kinds = ("scorer", "fused", "v1 rule")
    table = [
        "| split | data | " + " | ".join(f"{kind} {m}" for kind in kinds for m in ("p@1", "hit@3", "own@1")) + " |",
        "|---|---|" + "---:|" * 9,
    ]
    for split, by_data in rows.items():  # type: ignore[union-attr]
        for name in by_data["scorer"]:
            cells = [by_data[kind][name][m] for kind in kinds for m in ("p@1", "hit@3", "own@1")]
            table.append(f"| {split} | {name} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    return "\n".join(
        [
            "# Evidence scorer",
            "",
            f"Version {meta['version']}. LightGBM ({ROUNDS} trees, {GBM_PARAMS['num_leaves']} leaves, binary objective) over "
            f"{len(FEATURES)} signals the composer computes for every candidate sentence (assistant/answer/scorer.py: FEATURES). "
            "Output: the probability that the sentence answers the question. Trained by `python -m eval.training.train_scorer "
            "--data ../shared/data` (seed 14, deterministic).",
            "",
            "## Data (train splits only; eval/splits.json, split by document)",
            "",
            *[f"- {line}" for line in meta["data"]],  # type: ignore[union-attr]
            "- Licences: COVID-QA Apache-2.0 (Möller et al. 2020), PubMedQA MIT (Jin et al. 2019), MedQuAD CC BY 4.0 "
            "(Ben Abacha & Demner-Fushman 2019).",
            "",
            "## Ranking of each question's candidate sentences (questions asked of every document of the dataset pooled)",
            "",
            "p@1: the best-scored sentence answers; hit@3: an answer among the best three; own@1: the best comes from the "
            "question's own document. 'v1 rule': 0.6 × similarity (+0.08 on an answer-type cue) + 0.4 × concept coverage. "
            f"'fused': the order the composer uses, reciprocal rank fusion of the two (k = {meta['fusion_k']}, "
            "ComposeSettings.fusion_k).",
            "",
            *table,
            "",
            "## Designs compared (dev COVID-QA p@1, the scorer's job: the best sentence answers)",
            "",
            "- Gradient-boosted trees over the composer's signals (this model): the table above, against the v1 rule it "
            "replaces; answering costs the trees' time below.",
            "- A cross-encoder fine-tuned from the packaged MiniLM weights (listwise, question-sentence pairs of the same "
            "train split; 6, 3 and 2 layers): 0.451 / 0.126 / 0.081, and 368 ms (fp32) or 202 ms (int8 ONNX) for 8 pairs "
            "on this 2-core machine, where an answer has about 150 candidates: rejected, worse and far too slow.",
            "- A linear adapter on the question vector (bi-encoder side, sentence vectors unchanged): dense-only p@1 0.382 "
            "to 0.419, and no gain once its similarity fed these trees: not kept.",
            "",
            f"Size: {meta['size_bytes']} bytes. Trees on this machine: {meta['ms_per_question']} ms per question (answering's "
            "numpy evaluator, evidence.Trees, no lightgbm import; mean over the test questions); the whole answer's cost is "
            "in eval/BENCHMARK.md.",
            "",
        ]
    )


def main(
    data: Annotated[Path, typer.Option(help="Folder holding covidqa/, pubmedqa/ and medquad/.")],
    out: Annotated[Path, typer.Option(help="Where the model goes.")] = MODEL_DIR,
    cache: Annotated[Path, typer.Option(help="Training indexes and featurised candidates.")] = CACHE_DIR / "scorer",
) -> None:
    """Featurise the train split, fit, score dev and test, write model.txt, meta.json and CARD.md."""
    settings = Settings()
    embedder = default_embedder(settings.embed)
    started = time.perf_counter()
    train = training_rows(data, settings, embedder, cache, "train")
    model = fit(train)
    metrics = {}
    for split in ("dev", "test"):
        rows = training_rows(data, settings, embedder, cache, split)
        scores = model.predict(rows.X, num_threads=1)
        per_question = _shipped_ms(model.model_to_string(), rows)
        metrics[split] = {
            "scorer": per_dataset(rows, scores),
            "fused": per_dataset(rows, fused_scores(rows, scores, settings.compose)),
            "v1 rule": per_dataset(rows, rule_scores(rows.X, settings.compose)),
        }
    text = model.model_to_string()
    meta = {
        "version": hashlib.sha256(text.encode()).hexdigest()[:12],
        "features": list(FEATURES),
        "dataset_weights": DATASET_WEIGHTS,
        "params": GBM_PARAMS,
        "rounds": ROUNDS,
        "data": [
            f"{name}: {len(np.unique(train.question[train.dataset == name]))} train questions, "
            f"{int((train.dataset == name).sum())} candidate sentences, {int(train.label[train.dataset == name].sum())} labelled answers"
            for name in DATASET_WEIGHTS
        ],
        "metrics": metrics,
        "fusion_k": settings.compose.fusion_k,
        "size_bytes": len(text.encode()),
        "ms_per_question": per_question,
        "train_minutes": round((time.perf_counter() - started) / 60, 1),
    }
    write_model(model, out, meta)
    typer.echo(card(meta))


if __name__ == "__main__":
    typer.run(main)
