"""What every stage gets: the config, the run folder, the process world, and lazily loaded shared state
(prepared windows, the current models, MiniLM caption embeddings), each loaded once per process."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import distributed
from ..artifacts import WEIGHTS, load_torch, read_json, save_run, write_json
from ..distributed import World
from ..models import Models, build_models


@dataclass
class Context:
    config: dict
    run_dir: Path
    world: World = field(default_factory=World)
    cache: dict = field(default_factory=dict)

    def stage_dir(self, name: str) -> Path:
        return self.run_dir / "stages" / name

    def is_done(self, name: str) -> bool:
        return (self.stage_dir(name) / "done").exists()

    def finish(self, name: str, metrics: dict) -> None:
        """Record a stage's metrics and mark it done (main rank only)."""
        if self.world.is_main:
            write_json(self.stage_dir(name) / "metrics.json", metrics)
            (self.stage_dir(name) / "done").write_text("")
        distributed.barrier(self.world)

    def rng(self, purpose: str) -> np.random.Generator:
        """A generator seeded by the run seed and a purpose, the same on every rank and every resume."""
        digest = hashlib.sha256(f"{self.config['seed']}:{purpose}".encode()).digest()
        return np.random.default_rng(int.from_bytes(digest[:8], "little"))

    @property
    def data(self):
        """Prepared windows of every split (written by the data stage)."""
        if "data" not in self.cache:
            from .data import load_prepared

            self.cache["data"] = load_prepared(self.run_dir)
        return self.cache["data"]

    @property
    def models(self) -> Models:
        """The run's current models: the last saved weights, or a fresh seeded start."""
        if "models" not in self.cache:
            models = build_models(self.config, int(self.data.norm.mean.shape[0]))
            if (self.run_dir / WEIGHTS).exists():
                models.load_state_dict(load_torch(self.run_dir / WEIGHTS))
            self.cache["models"] = models
        return self.cache["models"]

    def save_models(self) -> None:
        if self.world.is_main:
            save_run(self.run_dir, models=self.models)
        distributed.barrier(self.world)

    def sentence_embeddings(self, texts: list[str]) -> np.ndarray:
        """Frozen MiniLM embeddings [N, 384] of ``texts``; computed once (main rank) and cached on disk."""
        from ..text import SentenceEncoder

        from ..corpus import REPO

        cache_dir = REPO / self.config["cache_dir"]  # an absolute cache_dir stays as it is
        if self.world.is_main:
            out = SentenceEncoder(cache_dir).encode(texts)
        distributed.barrier(self.world)
        if not self.world.is_main:
            out = SentenceEncoder(cache_dir).encode(texts)  # reads the cache the main rank just wrote
        return out

    def labels(self) -> dict:
        return read_json(self.run_dir / "labels.json")


def set_threads(config: dict, world: World) -> None:
    """The config's thread budget, shared among the processes of a distributed run."""
    torch.set_num_threads(max(1, int(config["threads"]) // world.size))

