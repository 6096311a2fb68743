"""Nothing in the load path unpickles: not the index, not the model, not answering a question."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from samples import CORPUS, SEED_QUESTION

from assistant import Assistant, SentenceTransformerEmbedder, Settings
from assistant.settings import EmbedSettings


class Unpickled(AssertionError):
    """Raised by the traps below: something tried to unpickle."""


@pytest.fixture
def unpickling_traps(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make every unpickling entry point record and refuse; returns the calls caught."""
    caught: list[str] = []

    def trap(name: str):  # type: ignore[no-untyped-def]
        def refuse(*args: object, **kwargs: object) -> None:
            caught.append(name)
            raise Unpickled(f"{name} was called while loading")

        return refuse

    class TrappedUnpickler(pickle.Unpickler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            trap("pickle.Unpickler")()

    real_np_load = np.load

    def np_load(*args: object, allow_pickle: bool = False, **kwargs: object):  # type: ignore[no-untyped-def]
        if allow_pickle:
            trap("numpy.load(allow_pickle=True)")()
        return real_np_load(*args, allow_pickle=False, **kwargs)

    monkeypatch.setattr(pickle, "load", trap("pickle.load"))
    monkeypatch.setattr(pickle, "loads", trap("pickle.loads"))
    monkeypatch.setattr(pickle, "Unpickler", TrappedUnpickler)
    monkeypatch.setattr(np, "load", np_load)
    monkeypatch.setattr(torch, "load", trap("torch.load"))
    return caught


def test_the_traps_work(unpickling_traps: list[str], tmp_path: Path) -> None:
    """The control: each trap really fires, so the test below could fail."""
    np.save(tmp_path / "a.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(Unpickled):
        np.load(tmp_path / "a.npy", allow_pickle=True)
    with pytest.raises(Unpickled):
        pickle.loads(pickle.dumps({"x": 1}))
    with pytest.raises(Unpickled):
        torch.load(tmp_path / "a.npy")
    assert unpickling_traps == ["numpy.load(allow_pickle=True)", "pickle.loads", "torch.load"]


def test_loading_the_model_and_index_and_answering_never_unpickles(unpickling_traps: list[str], seed_index: Path) -> None:
    embedder = SentenceTransformerEmbedder(EmbedSettings())  # a fresh one: its weights load under the traps
    assistant = Assistant.load(Settings(corpus_dir=CORPUS, index_dir=seed_index), embedder=embedder, refresh=False)
    answer = assistant.ask(SEED_QUESTION)
    assistant.search("upadacitinib skin response", mode="bm25")
    assistant.conversation().ask("What side effects were seen with it?")
    assert not answer.abstained and answer.citations
    assert unpickling_traps == []


def test_the_index_holds_no_pickles(seed_index: Path) -> None:
    files = [p for p in seed_index.rglob("*") if p.is_file()]
    assert files and not [p for p in files if p.suffix in {".pkl", ".pickle", ".pt", ".bin", ".joblib"}]
    for path in files:
        head = path.read_bytes()[:2]
        assert not (head[:1] == b"\x80" and head[1:2] in {b"\x02", b"\x03", b"\x04", b"\x05"}), path
    for path in seed_index.rglob("*.npy"):
        assert np.load(path, allow_pickle=False).dtype != object
