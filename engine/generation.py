"""From a latent and a condition to normalized features of any length.

The decoder makes one window of ``window`` frames (the length it was trained on) per call. Longer motion is a
chain of windows starting every ``window - overlap`` frames, each with its own noise, joined by a linear
cross-fade over the ``overlap`` frames they share: the features are blended, so poses and the root's
velocity change smoothly (positions come from integrating the blended velocity, so the path has no jump).
Shorter motion is the start of one window, so the model's speed of movement is kept.

Noise comes from ``numpy.random.default_rng(seed)``: the same seed gives the same motion, bit for bit.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from .errors import EngineInputError

# Longer requests are refused rather than decoded for minutes; the add-on asks for seconds, not hours.
MAX_SECONDS = 300.0
MAX_SAMPLES = 32
# Frames shared by consecutive windows, as a fraction of the decoder window.
OVERLAP_FRACTION = 0.2

# decode(z [B, Z], cond [B, Ds], time [B, T, 1]) -> normalized features [B, T, F]
Decode = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def frame_count(seconds, fps: float) -> int:
    """Frames for ``seconds`` of motion at ``fps``; refuses non-numbers, <= 0, and more than ``MAX_SECONDS``."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float, np.integer, np.floating)):
        raise EngineInputError(f"seconds must be a number, got {seconds!r}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise EngineInputError(f"seconds must be positive, got {seconds}")
    if seconds > MAX_SECONDS:
        raise EngineInputError(f"seconds must be at most {MAX_SECONDS:g}, got {seconds:g}; generate in parts")
    return max(2, int(round(float(seconds) * fps)))


def check_count(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise EngineInputError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def overlap_frames(window: int) -> int:
    return max(1, int(round(window * OVERLAP_FRACTION)))


def window_starts(frames: int, window: int, overlap: int) -> list[int]:
    """Start frames of the decoder windows that cover ``frames`` frames."""
    if frames <= window:
        return [0]
    step = window - overlap
    return [i * step for i in range(math.ceil((frames - window) / step) + 1)]


def crossfade(chunks: np.ndarray, starts: list[int], frames: int, overlap: int) -> np.ndarray:
    """Windows ``[k, W, F]`` placed at ``starts`` and blended linearly where they overlap; ``[frames, F]``."""
    k, window, dim = chunks.shape
    out = np.zeros((starts[-1] + window, dim), np.float64)
    total = np.zeros((starts[-1] + window, 1), np.float64)
    rise = (np.arange(overlap) + 1.0) / (overlap + 1.0)
    for i, (start, chunk) in enumerate(zip(starts, chunks)):
        weight = np.ones(window)
        if i > 0:
            weight[:overlap] = rise
        if i < k - 1:
            weight[-overlap:] = rise[::-1]
        out[start : start + window] += weight[:, None] * chunk
        total[start : start + window, 0] += weight
    return (out / total)[:frames].astype(np.float32)


def decode_chained(decode: Decode, z: np.ndarray, cond: np.ndarray, frames: int, window: int) -> np.ndarray:
    """Features ``[S, frames, F]`` for S sequences; ``z`` is ``[S, k, Z]`` (one latent per window), ``cond``
    is ``[S, Ds]``. All windows of all sequences go to the decoder in one batch."""
    sequences, k, latent_dim = z.shape
    overlap = overlap_frames(window)
    starts = window_starts(frames, window, overlap)
    if k != len(starts):
        raise ValueError(f"{k} latents per sequence for {len(starts)} windows")
    time = np.broadcast_to(np.linspace(0.0, 1.0, window, dtype=np.float32)[None, :, None], (sequences * k, window, 1))
    features = decode(
        z.reshape(sequences * k, latent_dim).astype(np.float32),
        np.repeat(cond.astype(np.float32), k, axis=0),
        np.ascontiguousarray(time),
    )
    features = features.reshape(sequences, k, window, -1)
    return np.stack([crossfade(chunks, starts, frames, overlap) for chunks in features])


def window_count(frames: int, window: int) -> int:
    return len(window_starts(frames, window, overlap_frames(window)))


def sample_latents(latent: np.ndarray, noise_scale: float, seed: int, samples: int, windows: int) -> np.ndarray:
    """``[samples, windows, Z]`` latents: the prompt's latent plus seeded Gaussian noise."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((samples, windows, latent.shape[-1]), dtype=np.float32)
    return latent.astype(np.float32)[None, None, :] + np.float32(noise_scale) * noise


def slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Point at ``t`` on the great circle from unit vector ``a`` to ``b`` (linear when they are parallel)."""
    omega = math.acos(float(np.clip(np.dot(a, b), -1.0, 1.0)))
    if omega < 1e-6:
        out = (1 - t) * a + t * b
    else:
        out = (math.sin((1 - t) * omega) * a + math.sin(t * omega) * b) / math.sin(omega)
    return (out / np.linalg.norm(out)).astype(np.float32)
