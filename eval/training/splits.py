"""Document-level train/dev/test splits of the external datasets, made once and committed (eval/splits.json).

Every dataset is split by what its questions are about, never by question: COVID-QA by paper, PubMedQA by abstract
(PMID; its official 500-PMID test set is our test split), MedQuAD by focus (the disease or topic all of its passages
describe). The evidence scorer is trained on train splits only, tuned on dev, and reported on test.

    python -m eval.training.splits --data ../shared/data       # (re)write eval/splits.json; refuses to change a committed split
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import typer

from assistant.errors import ConfigError

SPLITS_PATH = Path(__file__).resolve().parents[1] / "splits.json"
Split = Literal["train", "dev", "test"]
SPLITS: tuple[Split, ...] = ("train", "dev", "test")
SEED = 14  # the issue that asked for the split
SHARES = {"covidqa": (0.60, 0.15), "medquad": (0.60, 0.15)}  # train, dev; the rest is test
PUBMEDQA_DEV = 100  # of the 500 PMIDs outside the official test set; the other 400 train


def assign(keys: Sequence[str], train: float, dev: float, seed: int = SEED) -> dict[str, list[str]]:
    """Shuffle the sorted keys with a fixed seed and cut them into train/dev/test shares."""
    ordered = sorted(set(keys))
    random.Random(seed).shuffle(ordered)
    n_train, n_dev = round(train * len(ordered)), round(dev * len(ordered))
    parts = {"train": ordered[:n_train], "dev": ordered[n_train : n_train + n_dev], "test": ordered[n_train + n_dev :]}
    return {name: sorted(part) for name, part in parts.items()}


def make_splits(data_dir: Path) -> dict[str, dict[str, list[str]]]:
    """The splits of every dataset in `data_dir` (see the module docstring)."""
    covid = json.loads((data_dir / "covidqa" / "covidqa_dev.json").read_text(encoding="utf-8"))
    papers = [str(p["document_id"]) for entry in covid["data"] for p in entry["paragraphs"]]
    pubmed = json.loads((data_dir / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    official_test = set(json.loads((data_dir / "pubmedqa" / "test_ground_truth.json").read_text(encoding="utf-8")))
    rest = sorted(set(pubmed) - official_test)
    random.Random(SEED).shuffle(rest)
    lines = (data_dir / "medquad" / "medquad.jsonl").read_text(encoding="utf-8").splitlines()
    focuses = [json.loads(line)["focus"] for line in lines if line.strip()]
    return {
        "covidqa": assign(papers, *SHARES["covidqa"]),
        "pubmedqa": {"train": sorted(rest[PUBMEDQA_DEV:]), "dev": sorted(rest[:PUBMEDQA_DEV]), "test": sorted(official_test)},
        "medquad": assign(focuses, *SHARES["medquad"]),
    }


class Splits:
    """The committed splits: which split a dataset's key (paper, PMID, focus) belongs to."""

    def __init__(self, splits: dict[str, dict[str, list[str]]]) -> None:
        self._of = {name: {key: split for split, keys in parts.items() for key in keys} for name, parts in splits.items()}

    def of(self, dataset: str, key: str) -> Split:
        try:
            return self._of[dataset][key]  # type: ignore[return-value]
        except KeyError as exc:
            raise ConfigError(
                f"{dataset} item {key!r} is in no split of {SPLITS_PATH}: the data differs from the data the split was "
                "made from. Point --data at the project's shared/data."
            ) from exc

    def keys(self, dataset: str, split: Split) -> set[str]:
        return {key for key, s in self._of[dataset].items() if s == split}


def load_splits(path: Path = SPLITS_PATH) -> Splits:
    try:
        return Splits(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read the dataset splits {path}: {exc}. Restore it from git.") from exc


def main(
    data: Annotated[Path, typer.Option(help="Folder holding covidqa/, pubmedqa/ and medquad/.")],
    out: Annotated[Path, typer.Option(help="Where to write the splits.")] = SPLITS_PATH,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a different existing split (retrain everything after).")] = False,
) -> None:
    """Write the document-level splits (deterministic: the same data gives the same file)."""
    splits = make_splits(data)
    if out.exists() and json.loads(out.read_text(encoding="utf-8")) != splits and not force:
        raise typer.BadParameter(f"{out} holds a different split; models were trained on it. Pass --force to replace it.")
    out.write_text(json.dumps(splits, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for name, parts in splits.items():
        typer.echo(f"{name}: " + ", ".join(f"{split} {len(keys)}" for split, keys in parts.items()))


if __name__ == "__main__":
    typer.run(main)
