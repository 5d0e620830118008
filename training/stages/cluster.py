"""Stage and command ``cluster``: K-means labels for windows, from the VAE latents (see ``training.cluster``).

In the pipeline it clusters the run's training windows (the triplet loss and the evaluation's K-means-label
baseline use the assignments). As a command it clusters any motion source with a trained run's encoder:

    python -m training cluster --run-dir runs/default --data path/to/pettee_npy_folder --out clusters/
    (look at clusters/previews/, write names into clusters/names.toml, then)
    python -m training cluster --run-dir runs/default --data path/to/pettee_npy_folder --out clusters/ \
        --names clusters/names.toml      # -> clusters/captions.csv: every window named by its cluster

The captions.csv rows (clip, start, end, text) make the data a labelled training source.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

from engine.captions import CaptionRow, write_captions
from engine.features import features_to_motion

from .. import cluster as kmeans
from ..artifacts import save_torch, write_json
from ..models import MotionEncoder
from ..windows import WindowSet
from .context import Context
from .embedded import encode_windows

NAME = "cluster"


def preview_windows(windows: WindowSet, rows: list[int], out: Path, title: str, gif: bool) -> list[str]:
    """Stick-figure previews of some windows (grid PNG, and a GIF if asked); returns their names."""
    from ..plots import save_gif, save_grid

    motions, names = [], []
    for r in rows:
        clip = windows.clips[windows.clip_index[r]]
        start = int(windows.start[r])
        name = f"{clip.take}@{start / clip.motion.fps:.1f}s"
        motions.append(features_to_motion(windows.norm.denormalize(windows.features[r]), name=name))
        names.append(name)
    if motions:
        save_grid(motions, out.with_suffix(".png"), titles=names)
        if gif:
            save_gif(motions, out.with_suffix(".gif"), titles=[f"{title}: {n}" for n in names])
    return names


def cluster_windows(encoder: MotionEncoder, windows: WindowSet, cfg: dict, seed: int, out_dir: Path,
                    names_file: str | Path | None = None) -> dict:  # fmt: skip
    """Sweep K, cluster, draw representatives, write the names template (and captions if names are given)."""
    out_dir = Path(out_dir)
    mu = encode_windows(encoder, torch.from_numpy(windows.features))[1].numpy()
    scores = kmeans.silhouette_sweep(mu, cfg["k_min"], cfg["k_max"], seed, cfg["max_windows"])
    k = kmeans.best_k(scores)
    kmeans.plot_sweep(scores, k, out_dir / "silhouette.png")
    assignment, centroids = kmeans.fit_clusters(mu, k, seed)
    reps = kmeans.representatives(mu, assignment, centroids, cfg["representatives"], windows.clip_index)
    previews = {c: preview_windows(windows, rows, out_dir / "previews" / f"cluster-{c}", f"cluster {c}",
                                   cfg["gif"]) for c, rows in reps.items()}  # fmt: skip
    if not (out_dir / "names.toml").exists():
        kmeans.write_names_template(out_dir / "names.toml", k, previews)
    names = kmeans.read_names(names_file, k) if names_file else {c: kmeans.default_name(c) for c in range(k)}
    window_names = kmeans.propagate(assignment, names)
    if names_file:
        rows = []
        for r, text in enumerate(window_names):
            clip = windows.clips[windows.clip_index[r]]
            start = float(windows.start[r]) / clip.motion.fps
            rows.append(CaptionRow(clip.take, round(start, 4), round(start + windows.length / clip.motion.fps, 4), text))
        write_captions(rows, out_dir / "captions.csv")
    np.save(out_dir / "centroids.npy", centroids)
    report = {
        "k": k,
        "silhouette": {str(kk): v for kk, v in scores.items()},
        "sizes": np.bincount(assignment, minlength=k).tolist(),
        "names": {str(c): n for c, n in names.items()},
        "previews": {str(c): p for c, p in previews.items()},
        "majority_content": majority_labels(assignment, windows.content, k),
    }
    write_json(out_dir / "clusters.json", report)
    return {"assignment": assignment, "centroids": centroids, **report}


def majority_labels(assignment: np.ndarray, labels: np.ndarray, k: int) -> dict[str, dict]:
    """Per cluster: its most common known label and that label's share (how pure the cluster is)."""
    out = {}
    for c in range(k):
        known = [x for x in labels[assignment == c] if x]
        if known:
            label, count = Counter(known).most_common(1)[0]
            out[str(c)] = {"label": label, "share": count / len(known)}
    return out


def run(ctx: Context) -> dict:
    cfg = ctx.config["cluster"]
    out = ctx.stage_dir(NAME)
    result = {}
    if ctx.world.is_main:
        names = cfg["names"] or None
        result = cluster_windows(ctx.models.motion_encoder, ctx.data.train, cfg, ctx.config["seed"], out, names)
        save_torch(out / "train_assignments.pt", torch.from_numpy(result.pop("assignment")))
        result.pop("centroids")
    return result


def main(argv: list[str] | None = None) -> int:
    """With --data: cluster any motion source with a run's encoder; without: the pipeline stage of a run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--data" not in argv:
        from ..pipeline import stage_main

        return stage_main(NAME, argv)
    from ..artifacts import load_run
    from ..config import parse_override
    from ..corpus import load_source
    from ..windows import label_vocabulary

    parser = argparse.ArgumentParser(prog="python -m training cluster", description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", required=True, help="a trained run folder (its motion encoder and norm stats)")
    parser.add_argument("--data", required=True, help="motion source: folder of .bvh/.npy (Pettee too), archive...")
    parser.add_argument("--out", required=True, help="folder for the sweep plot, previews, names and captions")
    parser.add_argument("--names", default=None, help="names file (TOML/JSON) from a person: write captions.csv")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override cluster.KEY")
    args = parser.parse_args(argv)
    run_ = load_run(args.run_dir)
    cfg = dict(run_.config["cluster"])
    for text in args.set:
        cfg.update(parse_override(text))
    clips = load_source(args.data)
    d = run_.config["data"]
    windows = WindowSet("train", clips, run_.norm, label_vocabulary(clips), d["window"], d["stride"])
    if len(windows) == 0:
        raise SystemExit(f"{args.data}: no clip is at least {d['window']} frames long")
    result = cluster_windows(run_.motion_encoder, windows, cfg, run_.config["seed"], Path(args.out), args.names)
    print(f"K = {result['k']} (silhouette {result['silhouette'][str(result['k'])]:.3f}); sizes {result['sizes']}")
    print(f"previews in {Path(args.out) / 'previews'}; name the clusters in {Path(args.out) / 'names.toml'}")
    if args.names:
        print(f"captions for every window: {Path(args.out) / 'captions.csv'}")
    return 0
