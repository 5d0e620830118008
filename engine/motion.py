"""``Motion``: the one currency of Choreolingo.

Canonical joint positions (frames x joints x 3, metres, Y up, joints in ``skeleton.JOINTS`` order) with their
frame rate and a name. Readers produce it, features are computed from it, the engine returns it and the
add-on turns it into keyframes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import MotionFormatError
from .skeleton import JOINTS

DEFAULT_FPS = 30.0


@dataclass
class Motion:
    positions: np.ndarray
    fps: float = DEFAULT_FPS
    name: str = ""
    # Free-form facts about where the motion came from (file, detected units, scale applied, labels...).
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.positions = np.asarray(self.positions, dtype=np.float32)
        self.validate()

    def validate(self) -> None:
        p = self.positions
        if p.ndim != 3 or p.shape[1:] != (len(JOINTS), 3):
            raise MotionFormatError(
                f"positions must be frames x {len(JOINTS)} x 3, got shape {p.shape}", self.name
            )
        if p.shape[0] == 0:
            raise MotionFormatError("motion has zero frames", self.name)
        bad = ~np.isfinite(p).all(axis=(1, 2))
        if bad.any():
            raise MotionFormatError("NaN or infinite joint positions", self.name, f"frame {int(np.argmax(bad))}")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise MotionFormatError(f"frame rate must be positive, got {self.fps}", self.name)

    @property
    def frames(self) -> int:
        return int(self.positions.shape[0])

    @property
    def seconds(self) -> float:
        return self.frames / self.fps

    def resample(self, fps: float = DEFAULT_FPS) -> "Motion":
        """The same motion at another frame rate (linear interpolation of positions)."""
        if abs(fps - self.fps) < 1e-6 or self.frames == 1:
            return Motion(self.positions.copy(), fps, self.name, dict(self.meta))
        duration = (self.frames - 1) / self.fps
        count = int(np.floor(duration * fps + 1e-6)) + 1
        t = np.arange(count) / fps * self.fps
        lo = np.minimum(np.floor(t).astype(int), self.frames - 1)
        hi = np.minimum(lo + 1, self.frames - 1)
        w = (t - lo)[:, None, None].astype(np.float32)
        positions = self.positions[lo] * (1 - w) + self.positions[hi] * w
        return Motion(positions, fps, self.name, dict(self.meta))

    def slice(self, start: int, stop: int) -> "Motion":
        return Motion(self.positions[start:stop].copy(), self.fps, self.name, dict(self.meta, start=start))
