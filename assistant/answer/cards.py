"""The shipped models' cards: each model folder's meta.json (the evidence scorer, the sentence roles, the verdict, the
claims of missing evidence) and linear weights, read, and refused when missing or damaged, the same way: with where to
restore them from and the command that trains them again."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import numpy as np

from ..errors import ModelError


def damaged(model: str, folder: Path, shipped: str, retrain: str, problem: object) -> ModelError:
    """`model` ("the evidence scorer") in `folder` cannot be used; `shipped` names its folder under answer/models/."""
    return ModelError(
        f"The {model} in {folder} is missing or damaged ({problem}). Restore assistant/answer/models/{shipped}/ "
        f"from git, or train it again: {retrain}"
    )


def read_card(model: str, folder: Path, shipped: str, retrain: str) -> dict[str, object]:
    """The model's meta.json as a dict (its checks against the code are the caller's)."""
    try:
        return dict(json.loads((folder / "meta.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise damaged(model, folder, shipped, retrain, exc) from exc


def read_weights(folder: Path, version: str, refuse: Callable[[object], ModelError]) -> tuple[np.ndarray, np.ndarray]:
    """weights.npz's W and b (float32; np.load refuses pickled arrays), checked against the card's `version`, the
    weights' hash; `refuse(problem)` makes the error for a missing, unreadable or other model."""
    try:
        with np.load(folder / "weights.npz", allow_pickle=False) as f:
            weights, bias = np.asarray(f["W"], np.float32), np.asarray(f["b"], np.float32)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise refuse(exc) from exc
    if weights_version(weights, bias) != version:
        raise refuse("its weights are not the ones meta.json's version names")
    return weights, bias


def weights_version(weights: np.ndarray, bias: np.ndarray) -> str:
    """A model's version: the hash of its float32 weights and bias."""
    return hashlib.sha256(weights.astype(np.float32).tobytes() + bias.astype(np.float32).tobytes()).hexdigest()[:12]


class ShippedModel:
    """A model shipped in assistant/answer/models/<SHIPPED>/: its folder, its card (meta.json) and version, and the
    error that says how to restore or retrain it. Subclasses name it and check its card against their code (`checked`)."""

    NAME: ClassVar[str]  # "sentence-role model"
    SHIPPED: ClassVar[str]  # its folder under answer/models/
    RETRAIN: ClassVar[str]  # the command that trains it again

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _damaged(self, problem: object) -> ModelError:
        return damaged(self.NAME, self.folder, self.SHIPPED, self.RETRAIN, problem)

    @cached_property
    def meta(self) -> dict[str, object]:
        """The card's machine-readable part, checked against this code."""
        return self.checked(read_card(self.NAME, self.folder, self.SHIPPED, self.RETRAIN))

    def checked(self, meta: dict[str, object]) -> dict[str, object]:
        return meta

    @property
    def version(self) -> str:
        return str(self.meta["version"])
