"""The run folder: what a training run leaves behind, and ``load_run`` to get it back as torch modules.

Layout (every file written atomically, so an interrupted run never leaves a half-written one):

    config.toml       the exact merged config the run used
    norm.json         feature normalisation (``engine.features.NormStats.to_dict``), fitted on the train split
    labels.json       {"content": [...], "style": [...]} label vocabularies
    bank.json         description bank: [{text, content, style, dataset}], all training captions, deduplicated
    generation.json   generation parameters (window, fps, noise_scale, ...) for the engine
    weights.pt        state dict of ``models.Models`` (motion encoder, decoder, text heads; not MiniLM)
    stages/NAME/      per stage: checkpoint.pt (resume), metrics.json, loss.png, done
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from . import text
from .config import dump_config, load_config
from .models import MotionDecoder, MotionEncoder, Models, TextEncoder, build_models

WEIGHTS = "weights.pt"


@dataclass
class Run:
    path: Path
    config: dict
    norm: object  # engine.features.NormStats
    labels: dict
    bank: list[dict]
    generation: dict
    models: Models
    text_encoder: TextEncoder

    @property
    def motion_encoder(self) -> MotionEncoder:
        return self.models.motion_encoder

    @property
    def decoder(self) -> MotionDecoder:
        return self.models.decoder


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write(tmp)
    tmp.replace(path)


def write_json(path: Path, data) -> None:
    _atomic(Path(path), lambda p: p.write_text(json.dumps(data, indent=1, ensure_ascii=False)))


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def write_text(path: Path, content: str) -> None:
    _atomic(Path(path), lambda p: p.write_text(content))


def save_torch(path: Path, obj) -> None:
    _atomic(Path(path), lambda p: torch.save(obj, p))


def load_torch(path: Path):
    return torch.load(Path(path), map_location="cpu", weights_only=False)


def save_run(run_dir: Path, *, config: dict | None = None, norm=None, labels: dict | None = None,
             bank: list[dict] | None = None, generation: dict | None = None, models: Models | None = None) -> None:  # fmt: skip
    """Write the given parts of a run (the others are left as they are)."""
    run_dir = Path(run_dir)
    if config is not None:
        write_text(run_dir / "config.toml", dump_config(config))
    if norm is not None:
        write_json(run_dir / "norm.json", norm.to_dict())
    if labels is not None:
        write_json(run_dir / "labels.json", labels)
    if bank is not None:
        write_json(run_dir / "bank.json", bank)
    if generation is not None:
        write_json(run_dir / "generation.json", generation)
    if models is not None:
        save_torch(run_dir / WEIGHTS, models.state_dict())


def run_config(run_dir: Path) -> dict:
    return load_config(Path(run_dir) / "config.toml")


def load_models(run_dir: Path, feature_dim: int, config: dict | None = None) -> Models:
    run_dir = Path(run_dir)
    models = build_models(config or run_config(run_dir), feature_dim)
    models.load_state_dict(load_torch(run_dir / WEIGHTS))
    return models.eval()


def load_run(run_dir: str | Path) -> Run:
    """A finished run as eval-mode torch modules whose forwards are the ONNX signatures, plus its metadata."""
    from engine.features import NormStats

    run_dir = Path(run_dir)
    missing = [n for n in ("config.toml", "norm.json", "labels.json", "bank.json", "generation.json", WEIGHTS)
               if not (run_dir / n).exists()]  # fmt: skip
    if missing:
        raise FileNotFoundError(f"{run_dir} is not a finished run: missing {', '.join(missing)}")
    config = run_config(run_dir)
    norm = NormStats.from_dict(read_json(run_dir / "norm.json"))
    models = load_models(run_dir, int(len(norm.mean)), config)
    text_encoder = TextEncoder(text.load_backbone(), models.text_heads).eval()
    return Run(
        path=run_dir,
        config=config,
        norm=norm,
        labels=read_json(run_dir / "labels.json"),
        bank=read_json(run_dir / "bank.json"),
        generation=read_json(run_dir / "generation.json"),
        models=models,
        text_encoder=text_encoder,
    )
