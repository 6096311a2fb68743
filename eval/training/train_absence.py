"""Train the absence-claim model (assistant/answer/absence.py): which sentences claim that evidence on their topic is
missing. Its threshold is chosen on dev, its wordings are held out, and test is reported once.

    python -m eval.training.train_absence --data ../shared/data     # → assistant/answer/models/absence/ (weights.npz, meta.json, CARD.md)

Claims: the wordings of eval/training/absence_claims.txt (written for this model), each filled with the questions of
PubMedQA abstracts (`synthesis.topic_clause`: "whether mitochondria play a role in …"), `PER_ABSTRACT` wordings an
abstract, so that the model learns the claim, not the topic. Other sentences: PubMedQA's method and result sentences
and conclusions (roles from their section labels, as train_roles reads them; background sentences are left out, as
they may state that a question is open). Splits by abstract (eval/splits.json). A logistic regression over the
sentence vector (the index's own model) is fitted on train for each L2 strength; the strength whose dev claims are
caught most often, at the probability that flags `DEV_FALSE_SHARE` of dev's other sentences, is kept with that
threshold. The wordings of eval/training/absence_heldout.txt, written apart from both the cue rule and this list by
someone who had seen neither, filled with dev questions, measure how it reads wordings it never saw.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from assistant.answer.absence import MODEL_DIR, RETRAIN, AbsenceModel
from assistant.answer.cards import weights_version
from assistant.answer.roles import CLASSES
from assistant.answer.stance import ABSENCE_CLAIM
from assistant.index.embed import default_embedder
from assistant.settings import EmbedSettings

from ..suites.datasets import PUBMEDQA_FILE
from ..suites.synthesis import topic_clause
from .splits import load_splits
from .train_roles import embed_cached, fit, pubmedqa_sentences

HERE = Path(__file__).resolve().parent
CLAIMS_FILE, HELDOUT_FILE = HERE / "absence_claims.txt", HERE / "absence_heldout.txt"
PER_ABSTRACT = 3  # wordings filled with each train abstract's question (dev: 2); a sample's size, not tuned
DEV_FALSE_SHARE = 0.005  # the share of dev's method and result sentences read as claims at the chosen threshold
L2_GRID = (1e-2, 1e-1, 1.0)


def wordings(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]


def filled(templates: list[str], questions: list[str], per: int | None, seed: int) -> list[str]:
    """Each question's clause in `per` of the templates (all of them for None), drawn with a fixed seed."""
    rng = random.Random(seed)
    out = []
    for question in questions:
        chosen = templates if per is None else rng.sample(templates, min(per, len(templates)))
        out += [t.format(topic=topic_clause(question)) for t in chosen]
    return out


def main(
    data: Annotated[Path, typer.Option(help="Folder holding pubmedqa/ori_pqal.json.")],
    out: Annotated[Path, typer.Option(help="Where to write the model.")] = MODEL_DIR,
) -> None:
    records = json.loads((data / PUBMEDQA_FILE).read_text(encoding="utf-8"))
    splits = load_splits()
    questions = {s: [records[p]["QUESTION"] for p in sorted(records) if splits.of("pubmedqa", p) == s] for s in ("train", "dev", "test")}
    sentences = pubmedqa_sentences(data)
    other = {s: [t for t, label, part in zip(sentences.texts, sentences.label, sentences.split, strict=True) if part == s and CLASSES[label] != "background"] for s in ("train", "dev", "test")}
    claims = wordings(CLAIMS_FILE)
    claim = {"train": filled(claims, questions["train"], PER_ABSTRACT, 0), "dev": filled(claims, questions["dev"], 2, 1)}
    heldout = filled(wordings(HELDOUT_FILE), questions["dev"], None, 2)
    embedder = default_embedder(EmbedSettings())
    vec = {name: embed_cached(texts, embedder).astype(np.float64) for name, texts in
           {"claim_train": claim["train"], "claim_dev": claim["dev"], "heldout": heldout, **{f"other_{s}": other[s] for s in other}}.items()}
    X = np.vstack([vec["claim_train"], vec["other_train"]])
    y = np.r_[np.ones(len(vec["claim_train"]), np.int64), np.zeros(len(vec["other_train"]), np.int64)]
    rows = []
    for l2 in L2_GRID:
        W, b = fit(X, y, l2, balanced=True, k=2)
        w, c = W[:, 1] - W[:, 0], b[1] - b[0]
        score = {name: v @ w + c for name, v in vec.items()}
        cut = float(np.quantile(score["other_dev"], 1 - DEV_FALSE_SHARE))
        rows.append({"l2": l2, "w": w, "c": c, "cut": cut, "dev_recall": float(np.mean(score["claim_dev"] >= cut)),
                     "heldout_recall": float(np.mean(score["heldout"] >= cut)), "test_false": float(np.mean(score["other_test"] >= cut))})
        typer.echo(f"l2={l2:g} dev claims caught {rows[-1]['dev_recall']:.3f}")
    best = max(rows, key=lambda r: r["dev_recall"])
    W32, b32 = np.asarray(best["w"], np.float32), np.asarray([best["c"]], np.float32)
    threshold = float(1 / (1 + np.exp(-best["cut"])))
    named = {"claim_dev": claim["dev"], "heldout": heldout, "other_test": other["test"]}
    rule = {name: float(np.mean([bool(ABSENCE_CLAIM.search(t)) for t in texts])) for name, texts in named.items()}
    figures = {"dev_claims_caught": round(best["dev_recall"], 3), "heldout_claims_caught": round(best["heldout_recall"], 3),
               "test_other_sentences_flagged": round(best["test_false"], 4), "rule_dev_claims_caught": round(rule["claim_dev"], 3),
               "rule_heldout_claims_caught": round(rule["heldout"], 3), "rule_test_other_sentences_flagged": round(rule["other_test"], 4)}
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", W=W32, b=b32, allow_pickle=False)
    meta = {"version": weights_version(W32, b32), "vector_dim": int(W32.shape[0]), "threshold": round(threshold, 6), "l2": best["l2"],
            "embedder": embedder.fingerprint(), "claims": len(claim["train"]), "other_sentences": len(other["train"]), "figures": figures}
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (out / "CARD.md").write_text(card(meta, rows, len(claims), len(wordings(HELDOUT_FILE))), encoding="utf-8")
    AbsenceModel(out).claims(vec["heldout"][:1])  # the written model loads and reads
    typer.echo(json.dumps(meta["figures"]))


def card(meta: dict[str, object], rows: list[dict[str, object]], n_claims: int, n_heldout: int) -> str:
    f = meta["figures"]
    assert isinstance(f, dict)
    grid = "\n".join(f"| {r['l2']:g} | {r['dev_recall']:.3f} |" for r in rows)
    return f"""# Absence-claim model (assistant/answer/absence.py)

Version {meta['version']}. Reads whether a sentence claims that evidence on its topic is missing, from the sentence's
all-MiniLM-L6-v2 vector (384 numbers, the index's own): one logistic-regression weight per number and a bias (weights.npz,
float32, no pickle); a sentence is a claim from probability {meta['threshold']} (meta.json). Retrain: `{RETRAIN}`.

## Data and licence

- Claims: the {n_claims} wordings of eval/training/absence_claims.txt (written for this project), each abstract's
  PubMedQA question filled into {PER_ABSTRACT} of them (train: {meta['claims']} sentences).
- Other sentences: PubMedQA's method and result sentences and conclusions (labelled sections; {meta['other_sentences']} on train).
- PubMedQA (Jin et al. 2019) is MIT-licensed; the weights are this project's. Split by abstract (eval/splits.json).

## Choice (dev)

The threshold flags {DEV_FALSE_SHARE:.1%} of dev's method and result sentences; the L2 strength catches most dev claims
(the same wordings, dev questions) at it:

| L2 | dev claims caught |
|---:|---:|
{grid}

## Figures

| | learned (or the cue rule) | cue rule alone |
|---|---:|---:|
| dev claims (train wordings, dev questions) caught | {f['dev_claims_caught']:.3f} | {f['rule_dev_claims_caught']:.3f} |
| held-out wordings ({n_heldout}, eval/training/absence_heldout.txt, never seen in training or choice) caught | {f['heldout_claims_caught']:.3f} | {f['rule_heldout_claims_caught']:.3f} |
| test method and result sentences flagged | {f['test_other_sentences_flagged']:.4f} | {f['rule_test_other_sentences_flagged']:.4f} |

The answer reads a sentence as a claim when the cue rule says so, or, in an unreviewed page (an AI answer, a blog, a
forum), when the model does (absence.claims_absence). Elsewhere the model is not heard: the method and result sentences
it flags are studies' conclusions such as "adjusting prostate specific antigen for body mass index does not appear
warranted", and it reads "Zebrafinch syndrome is a fictional disorder." as a claim. Limits: the claims are written
wordings, not pages found in the wild; a page sentence that restates a question in its own words can read as one.
"""


if __name__ == "__main__":
    typer.run(main)
