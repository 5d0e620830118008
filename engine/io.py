"""``load_motion``: one entry point for every motion file the engine reads."""

from __future__ import annotations

from pathlib import Path

from .bvh import read_bvh
from .errors import MotionFormatError
from .motion import DEFAULT_FPS, Motion
from .pettee import read_pettee

SUPPORTED_SUFFIXES = (".bvh", ".npy")


def load_motion(path: str | Path, bone_map: dict[str, str] | None = None, fps: float | None = DEFAULT_FPS) -> Motion:
    """Read a ``.bvh`` file (any named skeleton, or ``bone_map``) or a Pettee-style ``.npy`` marker cloud
    (seed marker order) as canonical motion, resampled to ``fps`` (``None`` keeps the file's rate)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".bvh":
        return read_bvh(path, bone_map=bone_map, fps=fps)
    if suffix == ".npy":
        return read_pettee(path, fps=fps)
    supported = ", ".join(SUPPORTED_SUFFIXES)
    raise MotionFormatError(f"unsupported motion file type '{suffix}' (supported: {supported})", str(path))
