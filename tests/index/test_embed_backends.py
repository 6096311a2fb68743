"""The ONNX Runtime backend: same vectors as sentence-transformers, padding-safe, exported once, int8 kept apart."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.errors import IndexMismatch
from assistant.index.embed import (
    OnnxEmbedder,
    SentenceTransformerEmbedder,
    default_embedder,
    native_bfloat16,
    onnx_model,
)
from assistant.index.load import check_compatible
from assistant.settings import EmbedSettings

TEXTS = [
    "Can upadacitinib help dermatomyositis?",
    "Adult acute lymphoblastic leukemia (ALL) is a type of cancer in which the bone marrow makes too many lymphocytes.",
    "IVIG",
    # longer than the model's 256 word-piece window: both backends must cut it the same way
    " ".join(["Refractory idiopathic inflammatory myopathy improved on a Janus kinase inhibitor."] * 40),
]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    embedder = default_embedder(EmbedSettings(backend="torch"))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    return embedder


@pytest.fixture(scope="module")
def onnx_embedder() -> OnnxEmbedder:
    embedder = default_embedder(EmbedSettings(backend="onnx"))
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def test_onnx_vectors_match_sentence_transformers(onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder) -> None:
    ours, reference = onnx_embedder.embed(TEXTS), torch_embedder.embed(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(ours * reference, axis=1)) > 0.9999
    assert onnx_embedder.fingerprint() == torch_embedder.fingerprint()  # one index serves both backends


def test_padding_in_a_batch_does_not_change_a_vector(onnx_embedder: OnnxEmbedder) -> None:
    batched = onnx_embedder.embed(TEXTS)
    alone = np.vstack([onnx_embedder.embed([text]) for text in TEXTS])
    assert np.allclose(batched, alone, atol=1e-5)
    assert onnx_embedder.embed([]).shape == (0, 384)


def test_export_is_made_once_and_reused(onnx_embedder: OnnxEmbedder) -> None:
    onnx_embedder.embed(["make sure the export exists"])
    path = onnx_model(onnx_embedder.model_dir, onnx_embedder.settings.cache_dir, quantize=False)
    stamp = path.stat().st_mtime_ns
    assert onnx_model(onnx_embedder.model_dir, onnx_embedder.settings.cache_dir, quantize=False) == path
    assert path.stat().st_mtime_ns == stamp


def test_bulk_calls_run_in_bfloat16_with_the_same_vectors(onnx_embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder) -> None:
    if not native_bfloat16():
        pytest.skip("this CPU has no native bfloat16: bulk calls stay on ONNX Runtime")
    bulk = default_embedder(EmbedSettings(backend="onnx", bulk_texts=len(TEXTS)))
    vectors, reference = bulk.embed(TEXTS), torch_embedder.embed(TEXTS)
    similarity = np.sum(vectors * reference, axis=1)
    assert 0.9999 < similarity.min() and similarity.max() < 0.999999  # the same vectors, really computed in bfloat16
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(bulk.embed(TEXTS[:2]), onnx_embedder.embed(TEXTS[:2]), atol=1e-6)  # fewer texts: ONNX Runtime


def test_the_float_export_is_fused(onnx_embedder: OnnxEmbedder) -> None:
    import onnx

    path = onnx_model(onnx_embedder.model_dir, onnx_embedder.settings.cache_dir, quantize=False)
    ops = [node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node]
    layers = 6  # all-MiniLM-L6-v2
    assert ops.count("Attention") == layers and ops.count("SkipLayerNormalization") == 2 * layers and "Softmax" not in ops


def test_int8_is_close_but_never_mixed_with_float_indexes(assistant, torch_embedder: SentenceTransformerEmbedder) -> None:  # type: ignore[no-untyped-def]
    int8 = default_embedder(EmbedSettings(backend="onnx", quantize=True))
    similarity = np.sum(int8.embed(TEXTS) * torch_embedder.embed(TEXTS), axis=1)
    assert np.min(similarity) > 0.95
    assert np.max(similarity) < 0.99999  # really quantised
    with pytest.raises(IndexMismatch, match="model_sha256"):
        check_compatible(assistant.index.manifest, int8, assistant.settings)
