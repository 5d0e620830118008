"""The run's torch modules to ONNX, each checked against PyTorch on real inputs.

Exported with the TorchScript tracer (``dynamo=False``): the forwards have no data-dependent control flow
(see ``training.models``), and the tracer needs no extra package. Batch and sequence axes are dynamic; the
parity check runs inputs of other batch sizes and lengths than the trace's, so a shape baked into the graph
would show up as a failure, not as a wrong answer in the engine.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

OPSET = 17
PARITY_TOLERANCE = 1e-4  # max absolute difference allowed between ONNX (fp32) and PyTorch outputs


@dataclass(frozen=True)
class Signature:
    """The ONNX contract of one model (CONTRACT.md): input and output names and their dynamic axes."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    dynamic_axes: dict[str, dict[int, str]]


SIGNATURES = {
    "text_encoder": Signature(
        ("input_ids", "attention_mask"),
        ("text_shared", "text_latent"),
        {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
         "text_shared": {0: "batch"}, "text_latent": {0: "batch"}},
    ),
    "motion_encoder": Signature(
        ("features",),
        ("motion_shared", "mu"),
        {"features": {0: "batch", 1: "frames"}, "motion_shared": {0: "batch"}, "mu": {0: "batch"}},
    ),
    "decoder": Signature(
        ("z", "cond", "time"),
        ("features",),
        {"z": {0: "batch"}, "cond": {0: "batch"}, "time": {0: "batch", 1: "frames"},
         "features": {0: "batch", 1: "frames"}},
    ),
}  # fmt: skip


class ParityError(RuntimeError):
    """An exported model whose outputs differ from PyTorch's by more than ``PARITY_TOLERANCE``."""


def export_model(module: torch.nn.Module, name: str, example: dict[str, np.ndarray], path: Path) -> None:
    """Trace ``module`` on ``example`` (input name -> array) and write ONNX to ``path``."""
    signature = SIGNATURES[name]
    args = tuple(torch.from_numpy(example[k]) for k in signature.inputs)
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns about every Python bool it meets in transformers' masking helpers; the parity
        # check on other shapes is what tells whether the graph generalises.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(), args, str(path), input_names=list(signature.inputs),
            output_names=list(signature.outputs), dynamic_axes=signature.dynamic_axes,
            opset_version=OPSET, dynamo=False, do_constant_folding=True,
        )  # fmt: skip


def torch_outputs(module: torch.nn.Module, name: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    signature = SIGNATURES[name]
    with torch.no_grad():
        out = module.eval()(*(torch.tensor(inputs[k]) for k in signature.inputs))
    out = out if isinstance(out, tuple) else (out,)
    return [o.numpy() for o in out]


def max_difference(module: torch.nn.Module, name: str, path: Path, batches: list[dict[str, np.ndarray]]) -> float:
    """Largest absolute difference between ONNX Runtime and PyTorch over every output of every batch."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    worst = 0.0
    for inputs in batches:
        onnx_out = session.run(list(SIGNATURES[name].outputs), inputs)
        for ours, reference in zip(onnx_out, torch_outputs(module, name, inputs)):
            worst = max(worst, float(np.abs(ours - reference).max()))
    return worst


def export_checked(module: torch.nn.Module, name: str, batches: list[dict[str, np.ndarray]], path: Path,
                   tolerance: float = PARITY_TOLERANCE) -> float:  # fmt: skip
    """Export on the first batch, check parity on all of them; returns the max difference."""
    export_model(module, name, batches[0], path)
    difference = max_difference(module, name, path, batches)
    print(f"{name}: ONNX opset {OPSET} vs PyTorch, max |diff| = {difference:.2e} over {len(batches)} batches")
    if not difference <= tolerance:
        raise ParityError(f"{name}: ONNX differs from PyTorch by {difference:.2e} (> {tolerance:g})")
    return difference
