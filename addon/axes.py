"""The one conversion between the engine's frame (Y up, metres, facing +Z) and Blender's (Z up, facing -Y).

It is the same conversion Blender's BVH importer applies by default (forward -Z, up Y), so an armature
imported from a BVH file and a Motion read from the same file by the engine agree point for point.
"""

import numpy as np

# Rows are Blender axes written in engine axes: Blender X = X, Blender Y = -Z, Blender Z = Y (a rotation).
BLENDER_FROM_ENGINE = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def to_blender(points: np.ndarray) -> np.ndarray:
    """Engine points (..., 3) -> Blender points (..., 3)."""
    return np.asarray(points, dtype=np.float64) @ BLENDER_FROM_ENGINE.T


def to_engine(points: np.ndarray) -> np.ndarray:
    """Blender points (..., 3) -> engine points (..., 3)."""
    return np.asarray(points, dtype=np.float64) @ BLENDER_FROM_ENGINE
