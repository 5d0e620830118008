"""Labels for motion that has none: K-means over VAE latents, chosen by silhouette, named by a person.

1. ``silhouette_sweep`` tries K = k_min..k_max and scores each clustering (``plot_sweep`` draws the curve).
2. ``fit_clusters`` clusters with the best K; ``representatives`` picks the windows nearest each centroid,
   which the cluster command draws as previews for a person to look at.
3. The person writes a names file (``write_names_template`` gives one to fill: ``0 = "slow turn"``);
   ``read_names`` + ``propagate`` give every window of a cluster that name, ready to become captions.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np


def silhouette_sweep(latents: np.ndarray, k_min: int, k_max: int, seed: int, max_samples: int = 4000) -> dict[int, float]:
    """Silhouette score for each K (on a seeded sample of at most ``max_samples`` rows)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    rng = np.random.default_rng(seed)
    x = latents if len(latents) <= max_samples else latents[rng.choice(len(latents), max_samples, replace=False)]
    scores = {}
    for k in range(k_min, min(k_max, len(x) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)
        scores[k] = float(silhouette_score(x, labels)) if len(set(labels)) > 1 else -1.0
    if not scores:
        raise ValueError(f"need more than {k_min} windows to cluster, got {len(x)}")
    return scores


def best_k(scores: dict[int, float]) -> int:
    return max(scores, key=lambda k: (scores[k], -k))


def fit_clusters(latents: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(cluster index per row, centroids[k, Z])."""
    from sklearn.cluster import KMeans

    km = KMeans(n_clusters=k, n_init=8, random_state=seed).fit(latents)
    return km.labels_.astype(np.int64), km.cluster_centers_.astype(np.float32)


def assign(latents: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Nearest centroid of each row (clusters fitted on one set, applied to another)."""
    d = ((latents[:, None, :] - centroids[None]) ** 2).sum(-1)
    return d.argmin(1)


def representatives(latents: np.ndarray, labels: np.ndarray, centroids: np.ndarray, n: int,
                    groups: np.ndarray | None = None) -> dict[int, list[int]]:  # fmt: skip
    """Per cluster, up to ``n`` row indices nearest its centroid; with ``groups`` (e.g. clip ids), at most
    one row per group, so a person sees different clips rather than neighbouring windows of one."""
    out: dict[int, list[int]] = {}
    for c, centre in enumerate(centroids):
        rows = np.flatnonzero(labels == c)
        order = rows[np.argsort(((latents[rows] - centre) ** 2).sum(-1))]
        chosen, seen = [], set()
        for r in order:
            g = None if groups is None else groups[r]
            if g is not None and g in seen:
                continue
            seen.add(g)
            chosen.append(int(r))
            if len(chosen) == n:
                break
        out[c] = chosen
    return out


def default_name(cluster: int) -> str:
    return f"cluster-{cluster}"


def write_names_template(path: Path, k: int, previews: dict[int, list[str]]) -> None:
    """A TOML file for a person to fill: one line per cluster, its previews named in a comment."""
    lines = ["# Name each cluster after looking at its previews; names replace cluster-N on every window.\n"]
    for c in range(k):
        lines.append(f"# previews: {', '.join(previews.get(c, []))}\n{c} = \"{default_name(c)}\"\n")
    Path(path).write_text("".join(lines))


def read_names(path: str | Path, k: int) -> dict[int, str]:
    """Cluster names from a TOML (``0 = "spin"``) or JSON (``{"0": "spin"}``) file; unnamed keep cluster-N."""
    path = Path(path)
    raw = json.loads(path.read_text()) if path.suffix == ".json" else tomllib.loads(path.read_text())
    names = {c: default_name(c) for c in range(k)}
    for key, value in raw.items():
        c = int(key)
        if not 0 <= c < k:
            raise ValueError(f"{path}: cluster {c} does not exist (K = {k})")
        names[c] = str(value).strip() or default_name(c)
    return names


def propagate(labels: np.ndarray, names: dict[int, str]) -> list[str]:
    """The name of each row's cluster."""
    return [names[int(c)] for c in labels]


def plot_sweep(scores: dict[int, float], chosen: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = sorted(scores)
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.plot(ks, [scores[k] for k in ks], marker="o")
    ax.axvline(chosen, color="grey", linestyle="--", label=f"K = {chosen}")
    ax.set_xlabel("K")
    ax.set_ylabel("silhouette")
    ax.set_title("K-means over motion latents")
    ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
