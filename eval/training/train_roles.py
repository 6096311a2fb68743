"""Train the sentence-role model (assistant/answer/roles.py) on PubMedQA's labelled abstracts, choose a design on dev,
and report test once.

    python -m eval.training.train_roles --data ../shared/data     # → assistant/answer/models/roles/ (weights.npz, meta.json, CARD.md)

Every abstract (eval/splits.json: train 400 / dev 100 / test 500 PMIDs) is cut into sentences with the chunker's own
splitter; each sentence takes its CONTEXTS section's label, mapped to a role by `roles.section_role`, and the LONG_ANSWER's
sentences (the abstract's conclusion) are findings; each knows where it sits in its abstract. The sentences are
embedded with the index's model (cached under eval/.cache/), and a multinomial logistic regression is fitted with scipy
on train, every sentence twice (placed and unplaced: fit_both_ways); the designs (vector only, cues
only, both; L2 strength; class weights) are compared on dev by the mean of their macro-F1 placed and unplaced, and the
chosen one is refitted on train and measured on test. Deterministic: L-BFGS from zeros on one BLAS thread (the same weights, and version, every run).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from assistant.answer.apparatus import apparatus_reason
from assistant.answer.cards import weights_version
from assistant.answer.roles import (
    CLASSES, CUES, MODEL_DIR, PLACE, PLACED_CHARS, RETRAIN, TEXT_CUES, RoleModel, cues, position_in, section_role,
)
from assistant.documents.chunk import split_sentences
from assistant.index.embed import Embedder, default_embedder, one_blas_thread
from assistant.settings import EmbedSettings

from ..suites.datasets import CONTEXT_BREAK, PUBMEDQA_FILE
from ..suites.harness import CACHE_DIR
from .splits import Split, load_splits

L2_GRID = (1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # L2 strength (the weighted mean loss + l2/2 × |W|², standardised columns)
FEATURE_SETS = ("vector", "cues", "both")


@dataclass(frozen=True, slots=True)
class Sentences:
    """Labelled sentences: text, class index (CLASSES), the split of their abstract, and where they came from
    ("RESULTS", "LONG_ANSWER", …), their abstract's PMID, and where each sits in it (roles.position_in)."""

    texts: list[str]
    label: np.ndarray
    split: np.ndarray
    source: list[str]
    pmid: list[str]
    position: list[float | None]


def pubmedqa_sentences(data_dir: Path) -> Sentences:
    """Every sentence of every labelled abstract whose section names one role, and every LONG_ANSWER sentence. Each
    sentence's position is its place in the abstract as the eval suites index it (the CONTEXTS joined by blank lines,
    datasets.load_pubmedqa); the LONG_ANSWER, the conclusion PubMedQA took from the abstract's end, sits at 1."""
    records = json.loads((data_dir / PUBMEDQA_FILE).read_text(encoding="utf-8"))
    splits = load_splits()
    texts, labels, parts, sources, pmids, positions = [], [], [], [], [], []
    for pmid in sorted(records):
        record = records[pmid]
        split = splits.of("pubmedqa", pmid)
        length = len(CONTEXT_BREAK.join(record["CONTEXTS"]))
        offsets = np.cumsum([0, *(len(c) + len(CONTEXT_BREAK) for c in record["CONTEXTS"][:-1])]).tolist()
        sections = [*zip(record["CONTEXTS"], record["LABELS"], offsets, strict=True), (record["LONG_ANSWER"], "LONG_ANSWER", length)]
        for text, label, offset in sections:
            role = "finding" if label == "LONG_ANSWER" else section_role(label)
            if role is None:
                continue
            for start, end in split_sentences(text, 0, len(text)):
                texts.append(text[start:end])
                labels.append(CLASSES.index(role))
                parts.append(split)
                sources.append(label)
                pmids.append(pmid)
                positions.append(position_in(min(offset + start, length), length))
    return Sentences(texts, np.array(labels), np.array(parts), sources, pmids, positions)


def embed_cached(texts: Sequence[str], embedder: Embedder, cache_dir: Path = CACHE_DIR) -> np.ndarray:
    """The texts' vectors as the index stores them (float16). Cached per text and model under eval/.cache/, so a
    change to the labelling embeds only the sentences it adds."""
    path = cache_dir / f"roles-vectors-{embedder.fingerprint()[:16]}.npz"
    keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
    known: dict[str, np.ndarray] = {}
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            known = dict(zip(f["keys"].tolist(), f["vectors"], strict=True))
    missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in known))
    if missing:
        made = np.vstack([embedder.embed(missing[i : i + 256]) for i in range(0, len(missing), 256)]).astype(np.float16)
        known.update(zip((hashlib.sha256(t.encode()).hexdigest()[:24] for t in missing), made, strict=True))
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.savez(path, keys=np.array(list(known)), vectors=np.vstack(list(known.values())), allow_pickle=False)
    return np.vstack([known[k] for k in keys])


def design_rows(design: str, vectors: np.ndarray, cue_rows: np.ndarray) -> np.ndarray:
    """The columns a design reads: the sentence vector, the cues, or both (vector columns first, as RoleModel reads)."""
    parts = {"vector": [vectors], "cues": [cue_rows], "both": [vectors, cue_rows]}[design]
    return np.hstack([np.asarray(p, np.float64) for p in parts])


def fit(X: np.ndarray, y: np.ndarray, l2: float, balanced: bool, k: int = len(CLASSES)) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression on standardised columns (L-BFGS from zeros, deterministic); the returned
    weights and bias read the raw columns (standardisation folded in). `k` classes, labelled 0 to k - 1."""
    mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-6
    Z = (X - mean) / scale
    counts = np.bincount(y, minlength=k)
    weight = (len(y) / (k * counts))[y] if balanced else np.ones(len(y))
    weight = weight / weight.sum()
    onehot = np.eye(k)[y]

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        W, b = theta[:-k].reshape(Z.shape[1], k), theta[-k:]
        logits = Z @ W + b
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        error = (np.exp(log_p) - onehot) * weight[:, None]
        value = -(weight * (onehot * log_p).sum(axis=1)).sum() + l2 / 2 * (W**2).sum()
        return value, np.concatenate([(Z.T @ error + l2 * W).ravel(), error.sum(axis=0)])

    result = minimize(loss, np.zeros(Z.shape[1] * k + k), jac=True, method="L-BFGS-B", options={"maxiter": 2000})
    W, b = result.x[:-k].reshape(Z.shape[1], k), result.x[-k:]
    return W / scale[:, None], b - (mean / scale) @ W


def predict(X: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The most probable class of each row."""
    return np.argmax(X @ W + b, axis=1)


def metrics(y: np.ndarray, guess: np.ndarray) -> dict[str, object]:
    """Accuracy, per-class and macro F1, and the confusion matrix (rows: truth, columns: guess; CLASSES order)."""
    k = len(CLASSES)
    confusion = np.zeros((k, k), np.int64)
    np.add.at(confusion, (y, guess), 1)
    f1 = {}
    for i, name in enumerate(CLASSES):
        tp, fp, fn = confusion[i, i], confusion[:, i].sum() - confusion[i, i], confusion[i, :].sum() - confusion[i, i]
        f1[name] = round(float(2 * tp / max(2 * tp + fp + fn, 1)), 3)
    return {
        "accuracy": round(float((y == guess).mean()), 3),
        "macro_f1": round(float(np.mean(list(f1.values()))), 3),
        "f1": f1,
        "confusion": confusion.tolist(),
        "n": int(len(y)),
    }


def fit_both_ways(placed: np.ndarray, unplaced: np.ndarray, y: np.ndarray, l2: float, balanced: bool) -> tuple[np.ndarray, np.ndarray]:
    """`fit` on every sentence twice: with its place in its abstract and unplaced (roles.PLACE columns zero), so that
    the model also reads a sentence outside an abstract (a note of a few lines, a paper's "Discussion")."""
    return fit(np.vstack([placed, unplaced]), np.concatenate([y, y]), l2, balanced)


def compare_designs(data: Sentences, vectors: np.ndarray, placed: np.ndarray, unplaced: np.ndarray) -> list[dict[str, object]]:
    """Every design fitted on train (fit_both_ways) and scored on dev, placed (the choice) and unplaced."""
    train, dev = data.split == "train", data.split == "dev"
    rows = []
    for design in FEATURE_SETS:
        X, U = design_rows(design, vectors, placed), design_rows(design, vectors, unplaced)
        for l2 in L2_GRID:
            for balanced in (False, True):
                W, b = fit_both_ways(X[train], U[train], data.label[train], l2, balanced)
                scores = metrics(data.label[dev], predict(X[dev], W, b))
                alone = metrics(data.label[dev], predict(U[dev], W, b))
                rows.append({"design": design, "l2": l2, "balanced": balanced, **scores, "unplaced_accuracy": alone["accuracy"], "unplaced_macro_f1": alone["macro_f1"]})
                typer.echo(f"{design:6} l2={l2:<7g} balanced={balanced!s:5} dev acc {scores['accuracy']:.3f} macro-F1 {scores['macro_f1']:.3f} unplaced {alone['accuracy']:.3f} / {alone['macro_f1']:.3f}")
    return rows


def apparatus_flags(data: Sentences, split: Split) -> list[str]:
    """The split's result and conclusion sentences (RESULTS-like sections and LONG_ANSWER) the apparatus rules flag."""
    chosen = [i for i, s in enumerate(data.split) if s == split and data.label[i] == CLASSES.index("finding")]
    return [f"{apparatus_reason(data.texts[i])}: {data.texts[i]}" for i in chosen if apparatus_reason(data.texts[i])]


@one_blas_thread
def latency_ms(model: RoleModel, texts: list[str], vectors: np.ndarray) -> float:
    """CPU milliseconds to predict 1,000 sentences (cues included) on one BLAS thread, as the composer runs it; best of
    five. CPU time, not wall time: the machine is shared, and other work stretches wall time, not this cost."""
    take = (texts * (1000 // len(texts) + 1))[:1000]
    rows = np.resize(vectors, (1000, vectors.shape[1]))
    model.predict(take, rows)
    best = float("inf")
    for _ in range(5):
        start = time.process_time()
        model.predict(take, rows)
        best = min(best, time.process_time() - start)
    return round(best * 1000, 2)


def write_model(out: Path, W: np.ndarray, b: np.ndarray, meta: dict[str, object]) -> str:
    """weights.npz (float32, no pickle) and meta.json; the version is the weights' hash (RoleModel checks it)."""
    W32, b32 = W.astype(np.float32), b.astype(np.float32)
    version = weights_version(W32, b32)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", W=W32, b=b32, allow_pickle=False)
    meta = {"version": version, "classes": list(CLASSES), "cues": list(CUES), **meta}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return version


def _table(rows: Sequence[dict[str, object]]) -> list[str]:
    lines = [
        "| features | L2 | class weights | dev accuracy | dev macro-F1 | finding F1 | unplaced: dev accuracy | macro-F1 |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        f1 = r["f1"]
        assert isinstance(f1, dict)
        lines.append(
            f"| {r['design']} | {r['l2']:g} | {'balanced' if r['balanced'] else 'none'} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
            f"{f1['finding']:.3f} | {r['unplaced_accuracy']:.3f} | {r['unplaced_macro_f1']:.3f} |"
        )
    return lines


def _scores(name: str, m: dict[str, object]) -> list[str]:
    f1 = m["f1"]
    confusion = m["confusion"]
    assert isinstance(f1, dict) and isinstance(confusion, list)
    lines = [
        f"**{name}** ({m['n']} sentences): accuracy {m['accuracy']:.3f}, macro-F1 {m['macro_f1']:.3f}; F1 "
        + ", ".join(f"{c} {f1[c]:.3f}" for c in CLASSES),
        "",
        "| truth \\ predicted | " + " | ".join(CLASSES) + " |",
        "|---|" + "---:|" * len(CLASSES),
    ]
    lines += [f"| {c} | " + " | ".join(str(v) for v in row) + " |" for c, row in zip(CLASSES, confusion, strict=True)]
    return [*lines, ""]


def _described(design: str) -> str:
    vector = "the 384-d all-MiniLM-L6-v2 sentence vector the index holds"
    cue_list = (
        f"{len(TEXT_CUES)} lexical cues ({', '.join(TEXT_CUES)}) and {len(PLACE)} columns for where the sentence sits in its "
        f"abstract ({', '.join(PLACE)}: its start over the abstract's length, where the abstract is a document without "
        f"headings or a section headed \"Abstract\" or \"Summary\", of {PLACED_CHARS[0]:,}–{PLACED_CHARS[1]:,} characters; "
        "zeros elsewhere; assistant/answer/roles.py)"
    )
    return {"vector": vector, "cues": cue_list, "both": f"{vector} and {cue_list}"}[design]


def write_card(out: Path, meta: dict[str, object], designs: Sequence[dict[str, object]], flags: list[str], counts: dict[str, dict[str, int]]) -> None:
    """CARD.md: data, split, features, the designs compared on dev, test metrics, size, latency, licence."""
    chosen = meta["design"]
    assert isinstance(chosen, dict)
    lines = [
        "# Sentence roles",
        "",
        f"Version {meta['version']}. Multinomial logistic regression over {_described(str(chosen['features']))}. Output: the probabilities of "
        f"{', '.join(CLASSES)}. L2 {chosen['l2']:g}, class weights {'balanced' if chosen['balanced'] else 'none'}. "
        f"Trained by `{RETRAIN}` (deterministic: L-BFGS from zeros). Apparatus (captions, headings, bylines, …) is "
        "found by rules before the model is asked (apparatus.apparatus_reasons), and a sentence its own document labels (a \"Results\" heading, a \"Conclusion:\" run-in label) keeps the role the label names (roles.sentence_roles).",
        "",
        "## Data (eval/splits.json, split by abstract)",
        "",
        "PubMedQA's 1,000 expert-labelled abstracts (ori_pqal.json; Jin et al. 2019, **MIT licence**). Sentences are cut "
        "with the chunker's splitter; each takes its CONTEXTS section's label mapped to a role by the words it is written "
        "from (assistant/answer/roles.py: LABEL_WORDS; labels naming two roles, such as METHODS AND RESULTS, or none, "
        "such as LIMITATIONS, are dropped), and the LONG_ANSWER's sentences (the conclusion) are findings. Each sentence's "
        "position is its start over the length of its abstract as indexed (the CONTEXTS joined); the LONG_ANSWER, the "
        "conclusion PubMedQA took from the abstract's end, sits at 1. Every sentence is fitted twice, placed and unplaced.",
        "",
        *[f"- {split}: " + ", ".join(f"{c} {n}" for c, n in by_class.items()) for split, by_class in counts.items()],
        "",
        "## Designs compared (fitted on train, scored on dev; kept: the best mean of dev macro-F1 placed and unplaced)",
        "",
        *_table(designs),
        "",
        "## Scores",
        "",
        *_scores("dev", meta["dev"]),  # type: ignore[arg-type]
        *_scores("test (reported once)", meta["test"]),  # type: ignore[arg-type]
        *_scores("test, every sentence unplaced (as a sentence outside an abstract is read)", meta["test_unplaced"]),  # type: ignore[arg-type]
        f"Majority class (finding) on test: accuracy {meta['majority_test']:.3f}.",
        "",
        "## Apparatus rules on PubMedQA test results and conclusions",
        "",
        f"{len(flags)} of {meta['test_findings']} RESULTS-section and LONG_ANSWER sentences of the test split are flagged as apparatus"
        + (":" if flags else "."),
        *[f"- {f}" for f in flags],
        "",
        f"Size: {meta['bytes']} bytes (weights.npz). Latency: {meta['latency_ms_per_1000']} ms of CPU per 1,000 sentences on "
        "this machine (cues and the matrix product, one BLAS thread; best of five).",
    ]
    (out / "CARD.md").write_text("\n".join(lines) + "\n", encoding="utf-8")





def _choose_and_fit(
    sentences: Sentences, vectors: np.ndarray, placed: np.ndarray, unplaced: np.ndarray
) -> tuple[list[dict[str, object]], dict[str, object], np.ndarray, np.ndarray]:
    """Every design scored on dev, the best (the mean of its macro-F1 placed and unplaced: papers and abstracts are
    placed, a note of a few lines is not), and its weights fitted on train."""
    designs = compare_designs(sentences, vectors, placed, unplaced)
    best = max(designs, key=lambda r: (r["macro_f1"] + r["unplaced_macro_f1"], r["accuracy"]))  # type: ignore[operator]
    typer.echo(f"chosen: {best['design']} l2={best['l2']} balanced={best['balanced']}")
    design, train = str(best["design"]), sentences.split == "train"
    X, U = design_rows(design, vectors, placed), design_rows(design, vectors, unplaced)
    W, b = fit_both_ways(X[train], U[train], sentences.label[train], float(best["l2"]), bool(best["balanced"]))  # type: ignore[arg-type]
    return designs, best, W, b


def main(
    data: Annotated[Path, typer.Option(help="Folder holding pubmedqa/ori_pqal.json.")],
    out: Annotated[Path, typer.Option(help="Where to write the model.")] = MODEL_DIR,
) -> None:
    """Train, choose on dev, report test, write the model and its card."""
    sentences = pubmedqa_sentences(data)
    embedder = default_embedder(EmbedSettings())
    vectors = embed_cached(sentences.texts, embedder)
    placed, unplaced = cues(sentences.texts, positions=sentences.position), cues(sentences.texts)
    with threadpool_limits(limits=1):  # one BLAS thread: the same sums in the same order, the same weights every run
        designs, best, W, b = _choose_and_fit(sentences, vectors, placed, unplaced)
    dim = vectors.shape[1] if best["design"] != "cues" else 0
    if best["design"] == "vector":  # the cues' columns read nothing
        W = np.vstack([W, np.zeros((len(CUES), len(CLASSES)))])
    chosen = {"features": best["design"], "l2": best["l2"], "balanced": best["balanced"]}
    write_model(out, W, b, {"vector_dim": dim, "embedder": embedder.fingerprint(), "design": chosen})
    model = RoleModel(out)
    scores = {}
    for split in ("dev", "test"):
        mask = sentences.split == split
        texts = [t for t, m in zip(sentences.texts, mask, strict=True) if m]
        where = [p for p, m in zip(sentences.position, mask, strict=True) if m]
        scores[split] = metrics(sentences.label[mask], model.predict(texts, vectors[mask], where).argmax(axis=1))
        scores[f"{split}_unplaced"] = metrics(sentences.label[mask], model.predict(texts, vectors[mask]).argmax(axis=1))
        typer.echo(f"{split}: {json.dumps(scores[split])}")
    test = sentences.split == "test"
    flags = apparatus_flags(sentences, "test")
    meta = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    meta.update(
        scores,
        majority_test=round(float((sentences.label[test] == CLASSES.index("finding")).mean()), 3),
        test_findings=int((sentences.label[test] == CLASSES.index("finding")).sum()),
        bytes=(out / "weights.npz").stat().st_size,
        latency_ms_per_1000=latency_ms(model, sentences.texts[:500], vectors[:500]),
    )
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    counts = {s: {c: int(((sentences.split == s) & (sentences.label == i)).sum()) for i, c in enumerate(CLASSES)} for s in ("train", "dev", "test")}
    write_card(out, meta, designs, flags, counts)


if __name__ == "__main__":
    typer.run(main)
