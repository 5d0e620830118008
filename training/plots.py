"""Stick-figure previews of motions: a PNG grid (one row per motion, poses across time) and an animated GIF.

Figures are drawn on the canonical skeleton (bones from ``PARENTS``), seen from the front-left at
``VIEW_DEGREES`` so that both sideways and forward travel show; Y is up. The character's left side is blue,
its right side red, the centre line black.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation, PillowWriter  # noqa: E402

from engine.motion import Motion  # noqa: E402
from engine.skeleton import JOINTS, PARENTS, ROOT  # noqa: E402

VIEW_DEGREES = 30.0
_COLOURS = ["tab:blue" if n.startswith("Left") else "tab:red" if n.startswith("Right") else "black" for n in JOINTS]
_BONES = [(j, p) for j, p in enumerate(PARENTS) if p >= 0]


def project(positions: np.ndarray) -> np.ndarray:
    """(..., 3) world points -> (..., 2) screen points: camera turned VIEW_DEGREES about Y, looking along -Z."""
    a = np.radians(VIEW_DEGREES)
    x = positions[..., 0] * np.cos(a) + positions[..., 2] * np.sin(a)
    return np.stack([x, positions[..., 1]], axis=-1)


def _draw(ax, screen: np.ndarray, centre: float, half_width: float, top: float) -> list:
    lines = [ax.plot(*screen[[j, p]].T, color=_COLOURS[j], lw=2, solid_capstyle="round")[0] for j, p in _BONES]
    ax.set_xlim(centre - half_width, centre + half_width)
    ax.set_ylim(-0.05, top)
    ax.set_aspect("equal")
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.set_xticks([])
    ax.set_yticks([])
    return lines


def _extent(screen: np.ndarray) -> tuple[float, float]:
    """Half width and top of a view that holds every pose of a motion around its root."""
    spread = np.abs(screen[..., 0] - screen[:, ROOT : ROOT + 1, 0]).max()
    return max(0.9, float(spread) + 0.1), max(2.0, float(screen[..., 1].max()) + 0.1)


def save_grid(motions: list[Motion], path: str | Path, columns: int = 6, titles: list[str] | None = None) -> Path:
    """One row per motion, ``columns`` poses evenly spaced in time, each centred on its root."""
    path = Path(path)
    fig, axes = plt.subplots(len(motions), columns, figsize=(1.6 * columns, 2.6 * len(motions)), squeeze=False)
    for row, motion in enumerate(motions):
        screen = project(motion.positions)
        half, top = _extent(screen)
        for col, frame in enumerate(np.linspace(0, motion.frames - 1, columns).round().astype(int)):
            ax = axes[row, col]
            _draw(ax, screen[frame], screen[frame, ROOT, 0], half, top)
            ax.set_xlabel(f"{frame / motion.fps:.1f} s", fontsize=7)
        axes[row, 0].set_ylabel((titles or [m.name for m in motions])[row], fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def save_gif(motions: list[Motion], path: str | Path, titles: list[str] | None = None, fps: float = 15.0) -> Path:
    """Side-by-side animation of the motions (each panel follows its root), at ``fps`` frames per second."""
    path = Path(path)
    fig, axes = plt.subplots(1, len(motions), figsize=(2.8 * len(motions), 3.4), squeeze=False)
    panels = []
    for ax, motion, title in zip(axes[0], motions, titles or [m.name for m in motions]):
        screen = project(motion.resample(fps).positions)
        half, top = _extent(screen)
        panels.append((ax, screen, _draw(ax, screen[0], screen[0, ROOT, 0], half, top), half))
        ax.set_title(title, fontsize=6)
    frames = max(len(screen) for _, screen, _, _ in panels)

    def update(t: int) -> list:
        changed = []
        for ax, screen, lines, half in panels:
            pose = screen[min(t, len(screen) - 1)]
            for line, (j, p) in zip(lines, _BONES):
                line.set_data(*pose[[j, p]].T)
            ax.set_xlim(pose[ROOT, 0] - half, pose[ROOT, 0] + half)
            changed += lines
        return changed

    path.parent.mkdir(parents=True, exist_ok=True)
    FuncAnimation(fig, update, frames=frames).save(path, writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    return path


def save_embedding_map(motion: np.ndarray, text: np.ndarray, labels: list[str], path: str | Path,
                       title: str = "") -> Path:  # fmt: skip
    """2-D PCA map of motion (dots) and text (crosses) embeddings of one shared space, coloured by label."""
    path = Path(path)
    both = np.concatenate([motion, text]).astype(np.float64)
    centred = both - both.mean(axis=0)
    _, _, axes_ = np.linalg.svd(centred, full_matrices=False)
    points = centred @ axes_[:2].T
    names = sorted(set(labels))
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(len(names), 2)))
    fig, ax = plt.subplots(figsize=(7.5, 6))
    for colour, name in zip(colours, names):
        rows = np.flatnonzero(np.asarray(labels) == name)
        ax.scatter(*points[rows].T, s=8, color=colour, alpha=0.6, label=name)
        ax.scatter(*points[len(motion) + rows].T, s=18, color=colour, marker="x", alpha=0.8)
    ax.set_title(title or "shared space, PCA (dots: motion windows, crosses: their captions)", fontsize=9)
    ax.legend(fontsize=6, markerscale=1.5, loc="best", ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
