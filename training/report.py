"""``python -m training report``: what the training data looks like, per split and per dataset.

Prints clips, frames and windows per split and dataset, label counts (clips per content and style label,
per split), example captions of each split, and writes stick-figure previews (PNG grid and GIF) of a few
training windows rebuilt from their features, so the preview also shows what the models are given.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

from engine.features import features_to_motion

from .config import add_config_arguments, config_from_args
from .corpus import SPLITS
from .plots import save_gif, save_grid
from .windows import Prepared


def counts_table(prepared: Prepared) -> list[str]:
    """Clips, frames and windows per split and dataset (a dataset with nothing in a split shows zeros)."""
    lines = [f"{'split':<6} {'dataset':<12} {'clips':>6} {'frames':>8} {'windows':>8}"]
    datasets = sorted({c.dataset for part in prepared.splits.values() for c in part.clips})
    for name in SPLITS:
        part = prepared.splits[name]
        for dataset in datasets:
            clips = [i for i, c in enumerate(part.clips) if c.dataset == dataset]
            frames = sum(len(part.clip_features[i]) for i in clips)
            windows = int((part.dataset == dataset).sum())
            lines.append(f"{name:<6} {dataset:<12} {len(clips):>6} {frames:>8} {windows:>8}")
    return lines


def label_lines(prepared: Prepared, kind: str) -> list[str]:
    """Clips per label, ``train/val/test``, grouped by dataset."""
    per_split = {name: Counter(getattr(c, f"{kind}_label") for c in prepared.splits[name].clips) for name in SPLITS}
    labels = sorted({label for counts in per_split.values() for label in counts if label})
    lines = []
    for dataset in sorted({label.split("/", 1)[0] for label in labels}):
        cells = [f"{label.split('/', 1)[1]} {'/'.join(str(per_split[s][label]) for s in SPLITS)}"
                 for label in labels if label.startswith(dataset + "/")]  # fmt: skip
        lines.append(f"  {dataset} {kind} (clips train/val/test): " + ", ".join(cells))
    return lines


def preview_windows(prepared: Prepared, rng: np.random.Generator, count: int = 4) -> list[int]:
    """Train windows to draw: one per dataset first (so every dataset is seen), the rest at random."""
    train = prepared.train
    picks = [int(rng.choice(np.flatnonzero(train.dataset == d))) for d in sorted(set(train.dataset))][:count]
    while len(picks) < min(count, len(train)):
        picks.append(int(rng.integers(len(train))))
    return picks


def write_previews(prepared: Prepared, out_dir: Path, rng: np.random.Generator) -> tuple[Path, Path]:
    train = prepared.train
    picks = preview_windows(prepared, rng)
    motions, titles = [], []
    for i in picks:
        clip = train.clips[train.clip_index[i]]
        motions.append(features_to_motion(prepared.norm.denormalize(train.features[i]), name=clip.take))
        style = f", {clip.style}" if clip.style_label else ""
        titles.append(f"{clip.dataset}: {clip.content or 'unlabelled'}{style}\n{clip.take} @{train.start[i]}")
    grid = save_grid(motions, out_dir / "preview.png", titles=titles)
    return grid, save_gif(motions, out_dir / "preview.gif", titles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training report", description=__doc__)
    add_config_arguments(parser)
    parser.add_argument("--out", type=Path, default=None, help="where previews go (default: <run>/report)")
    args = parser.parse_args(argv)
    config, run_dir = config_from_args(args)
    from .stages.data import prepare_from_config

    prepared = prepare_from_config(config)
    print("\n".join(counts_table(prepared)))
    print("labels:")
    for kind in ("content", "style"):
        print("\n".join(label_lines(prepared, kind)))
    rng = np.random.default_rng(config["seed"])
    for name in SPLITS:
        part = prepared.splits[name]
        if len(part):
            examples = part.captions(rng.choice(len(part), size=min(4, len(part)), replace=False), rng)
            print(f"{name} captions: " + " | ".join(examples))
    png, gif = write_previews(prepared, args.out or run_dir / "report", rng)
    print(f"previews: {png} {gif}")
    return 0
