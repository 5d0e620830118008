"""Stage ``data``: the corpus of the config's sources, split by take, windowed and normalised
(``training.corpus`` + ``training.windows``), plus the sampling helpers the trained stages share.

The stage records the normalisation and label vocabularies in the run folder. Later stages (in this
process or another) call ``load_prepared``, which rebuilds the same windows from the corpus cache:
everything is seeded, so every process sees identical data.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import torch

from ..artifacts import read_json, save_run
from ..config import load_config
from ..corpus import REPO, load_corpus
from ..windows import Prepared, prepare
from .context import Context

NAME = "data"


def source_paths(config: dict) -> list[Path]:
    """The config's data sources as paths (relative ones are taken from the repository root)."""
    return [Path(s) if Path(s).is_absolute() else REPO / s for s in config["data"]["sources"]]


def prepare_from_config(config: dict, progress: bool = True) -> Prepared:
    d = config["data"]
    limit = d["max_clips_per_source"] or None
    clips = load_corpus(source_paths(config), limit=limit, progress=progress)
    return prepare(clips, d["window"], d["stride"], tuple(d["split"]), config["seed"])


def load_prepared(run_dir: Path) -> Prepared:
    """The windows of a run whose data stage is done (checked against the norm stats it recorded)."""
    prepared = prepare_from_config(load_config(Path(run_dir) / "config.toml"), progress=False)
    recorded = read_json(Path(run_dir) / "norm.json")
    if not np.allclose(np.asarray(recorded["mean"]), prepared.norm.mean, atol=1e-5):
        raise RuntimeError(f"{run_dir}: the data changed since the run's data stage (normalisation differs)")
    return prepared


def plain_label(label: str) -> str:
    """'bandai-1/walk' -> 'walk': the dataset's own word, as captions and the description bank use it."""
    return label.split("/", 1)[1] if "/" in label else label


def balanced_indices(datasets: np.ndarray, shares: dict, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` window indices drawn so that each dataset gets its configured share of the draws.

    Shares are renormalised over the datasets present; a dataset not named gets ``shares["other"]``.
    Within a dataset windows are drawn uniformly (with replacement only when there are too few).
    """
    names = sorted(set(datasets))
    weights = np.array([float(shares.get(name, shares.get("other", 0.0))) for name in names])
    if weights.sum() <= 0:
        weights = np.ones(len(names))
    counts = rng.multinomial(n, weights / weights.sum())
    out = []
    for name, count in zip(names, counts):
        pool = np.flatnonzero(datasets == name)
        out.append(rng.choice(pool, count, replace=count > len(pool)))
    order = np.concatenate(out) if out else np.zeros(0, dtype=np.int64)
    return order[rng.permutation(len(order))]


def batched(indices: torch.Tensor, batch_size: int):
    """Consecutive full batches of ``indices`` (a trailing partial batch is dropped: equal steps per rank)."""
    for start in range(0, len(indices) - batch_size + 1, batch_size):
        yield indices[start : start + batch_size]


def summary(prepared: Prepared) -> dict:
    """Clips, windows and frames per split and dataset."""
    out = {}
    for name, windows in prepared.splits.items():
        clips = Counter(c.dataset for c in windows.clips)
        win = Counter(windows.dataset.tolist())
        out[name] = {d: {"clips": clips[d], "windows": win.get(d, 0)} for d in sorted(clips)}
    return out


def run(ctx: Context) -> dict:
    prepared = prepare_from_config(ctx.config, progress=ctx.world.is_main)
    ctx.cache["data"] = prepared
    if ctx.world.is_main:
        save_run(ctx.run_dir, norm=prepared.norm, labels=prepared.labels)
    return {"splits": summary(prepared), "feature_dim": int(prepared.norm.mean.shape[0])}


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import stage_main

    return stage_main(NAME, argv)
