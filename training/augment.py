"""Seeded augmentation of clips on joint positions, applied on the fly before features are computed.

* yaw: the body turns by up to +-15 degrees about its root's vertical axis while the root keeps its path, so
  the direction of travel relative to facing changes. (Turning the whole scene would change nothing:
  features are heading-normalised.)
* scale: every position times 1 +- 5% (bigger or smaller actors, longer or shorter steps).
* mirror: x -> -x with left and right joints swapped, and the labels and text swapped with them
  (walk-left <-> walk-right, wave-left-hand <-> wave-right-hand, walk-turn-left <-> walk-turn-right, ...).
* time warp: a smooth speed change (speed factors within +-10% at knots one second apart, linearly
  interpolated), which also changes the clip's length.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.features import rotate_yaw
from engine.motion import Motion
from engine.skeleton import MIRROR, ROOT

from .captioning import mirror_text


@dataclass(frozen=True)
class AugmentConfig:
    yaw_degrees: float = 15.0
    scale: float = 0.05
    mirror_probability: float = 0.5
    time_warp: float = 0.1
    time_warp_knot_seconds: float = 1.0

    @classmethod
    def none(cls) -> "AugmentConfig":
        return cls(0.0, 0.0, 0.0, 0.0)


def turn_body(positions: np.ndarray, angle: float) -> np.ndarray:
    """Turn the body by ``angle`` radians about the root's vertical axis, keeping the root's path."""
    ground = positions[:, ROOT:ROOT + 1] * np.array([1.0, 0.0, 1.0], dtype=positions.dtype)
    return (rotate_yaw(positions - ground, angle) + ground).astype(np.float32)


def mirror_positions(positions: np.ndarray) -> np.ndarray:
    """Mirror image through the YZ plane: x negated, each joint taking its mirror joint's place."""
    mirrored = positions[:, list(MIRROR)].copy()
    mirrored[..., 0] *= -1
    return mirrored


def time_warp(positions: np.ndarray, knot_speeds: np.ndarray) -> np.ndarray:
    """Play the motion at a speed that varies smoothly through ``knot_speeds`` (1 = unchanged).

    Knots are spread evenly over the clip; the result has about sum(1/speed) frames.
    """
    frames = len(positions)
    if frames < 2:
        return positions.copy()
    knots = np.linspace(0, frames - 1, len(knot_speeds))
    speed = np.interp(np.arange(frames - 1) + 0.5, knots, knot_speeds)
    clock = np.concatenate([[0.0], np.cumsum(1.0 / speed)])  # output time at each source frame
    source_time = np.interp(np.arange(0.0, clock[-1] + 1e-9), clock, np.arange(frames))
    lo = np.minimum(np.floor(source_time).astype(int), frames - 2)
    w = (source_time - lo)[:, None, None]
    return (positions[lo] * (1 - w) + positions[lo + 1] * w).astype(np.float32)


def mirror_labels(item):
    """The same item (a Clip or anything with content, style, description) with left and right swapped."""
    swapped = {name: mirror_text(getattr(item, name)) for name in ("content", "style", "description")}
    return replace(item, **swapped)


def augment(item, rng: np.random.Generator, config: AugmentConfig = AugmentConfig()):
    """A randomly augmented copy of ``item`` (a dataclass with ``motion`` and labels, e.g. a Clip)."""
    positions = item.motion.positions
    if config.time_warp > 0:
        knots = max(2, int(round(item.motion.seconds / config.time_warp_knot_seconds)) + 1)
        positions = time_warp(positions, 1.0 + rng.uniform(-config.time_warp, config.time_warp, knots))
    if config.yaw_degrees > 0:
        positions = turn_body(positions, np.radians(rng.uniform(-config.yaw_degrees, config.yaw_degrees)))
    if config.scale > 0:
        positions = positions * np.float32(1.0 + rng.uniform(-config.scale, config.scale))
    mirrored = rng.random() < config.mirror_probability
    if mirrored:
        positions = mirror_positions(positions)
    motion = Motion(positions, item.motion.fps, item.motion.name, dict(item.motion.meta, mirrored=mirrored))
    out = replace(item, motion=motion)
    return mirror_labels(out) if mirrored else out
