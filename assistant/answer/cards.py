"""The shipped models' cards: each model folder's meta.json (the evidence scorer, the sentence roles, the verdict),
read, and refused when missing or damaged, the same way: with where to restore it from and the command that
trains it again."""

from __future__ import annotations

import json
from pathlib import Path

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
