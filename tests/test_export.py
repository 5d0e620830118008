"""Export: ONNX parity with PyTorch, the int8 decision, and what the bundle holds."""

import json

import numpy as np
import pytest

from engine.bundle import MANIFEST_NAME, file_sha256
from export import onnx_export, quantize


def test_recall_counts_same_label_hits():
    texts = np.eye(3, dtype=np.float32)
    motions = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0]], dtype=np.float32)
    metrics = quantize.retrieval_metrics(texts, ["a", "b", "c"], motions, ["a", "b", "c"])
    assert metrics["t2m_R@1"] == pytest.approx(100 / 3, abs=0.01)  # only "a" finds its own motion first
    assert metrics["t2m_R@5"] == 100.0


def test_int8_chosen_only_within_one_point():
    fp32 = {"t2m_R@1": 50.0, "m2t_R@1": 40.0}
    assert quantize.choose_variant(fp32, {"t2m_R@1": 49.2, "m2t_R@1": 40.5}, "auto") == "int8"
    assert quantize.choose_variant(fp32, {"t2m_R@1": 48.5, "m2t_R@1": 40.0}, "auto") == "fp32"
    assert quantize.choose_variant(fp32, {"t2m_R@1": 0.0, "m2t_R@1": 0.0}, "on") == "int8"
    assert quantize.choose_variant(fp32, fp32, "off") == "fp32"


@pytest.mark.slow
def test_bundle_contents(tiny_bundle):
    manifest = json.loads((tiny_bundle / MANIFEST_NAME).read_text())
    assert manifest["onnx"]["opset"] == onnx_export.OPSET
    for role in ("text_encoder", "motion_encoder", "decoder"):
        assert manifest["onnx"]["parity_max_abs_diff"][role] <= onnx_export.PARITY_TOLERANCE
    metrics = manifest["text"]["metrics"]
    assert set(metrics) == {"fp32", "int8"} and set(metrics["fp32"]) == set(metrics["int8"])
    expected = quantize.choose_variant(metrics["fp32"], metrics["int8"], "auto")
    assert manifest["text"]["variant"] == expected
    assert manifest["files"]["text_encoder"]["path"] == f"text_encoder{'.int8' if expected == 'int8' else ''}.onnx"
    for entry in manifest["files"].values():
        assert file_sha256(tiny_bundle / entry["path"]) == entry["sha256"]
    assert any("Bandai Namco" in credit for credit in manifest["data"]["credits"])
    assert (tiny_bundle / "CREDITS.md").read_text().count("- ") == len(manifest["data"]["credits"])
    bank = json.loads((tiny_bundle / "bank.json").read_text())
    embeddings = np.load(tiny_bundle / "bank_embeddings.npy")
    assert embeddings.shape == (len(bank), manifest["dims"]["shared"])
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_onnx_parity_on_other_shapes(tiny_run, tiny_bundle):
    """The exported decoder matches PyTorch on a batch and length the export never saw."""
    from training.artifacts import load_run

    run = load_run(tiny_run)
    rng = np.random.default_rng(1)
    inputs = {
        "z": rng.standard_normal((5, run.config["model"]["latent_dim"])).astype(np.float32),
        "cond": rng.standard_normal((5, run.config["model"]["shared_dim"])).astype(np.float32),
        "time": np.tile(np.linspace(0, 1, 77, dtype=np.float32)[None, :, None], (5, 1, 1)),
    }
    difference = onnx_export.max_difference(run.decoder, "decoder", tiny_bundle / "decoder.onnx", [inputs])
    print(f"decoder parity on 5 x 77 frames: {difference:.2e}")
    assert difference <= onnx_export.PARITY_TOLERANCE
