"""Pettee-style marker clouds (``.npy``) read as canonical motion.

The seed data (Pettee et al., github.com/mariel-pettee/choreography and choreo-graph) stores one array per
performance, markers x frames x 3, with the 55 Vicon markers in ``skeleton.PETTEE_MARKERS`` order, captured
at 35 fps; its training code drops the two solver markers (``LabelingHips``, ``SolvingHips``) leaving 53.
Its loaders disagree about the axes (one rotates the cloud, the other flips z), so nothing is assumed here:
the up axis is the one along which the head is above the feet, a mirrored (left-handed) cloud is detected
from the left markers' side, and the units from the body height. ``meta`` records what was found.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import MotionFormatError
from .motion import DEFAULT_FPS, Motion
from .skeleton import JOINT_INDEX, PETTEE_MARKERS, PETTEE_MARKERS_53, marker_weights, to_metres

PETTEE_FPS = 35.0
LAYOUTS = ("auto", "markers-frames", "frames-markers")
_FEET = [JOINT_INDEX[n] for n in ("LeftFoot", "RightFoot", "LeftToes", "RightToes")]
_AXES = "xyz"


def _load(path: str | Path | np.ndarray, source: str) -> np.ndarray:
    if isinstance(path, np.ndarray):
        return path
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise MotionFormatError("file not found", source) from None
    except (OSError, ValueError, EOFError) as error:
        raise MotionFormatError(f"not a readable .npy array: {error}", source) from None
    if not isinstance(array, np.ndarray):
        raise MotionFormatError("expected one .npy array, got an .npz archive", source)
    return array


def _default_names(shape: tuple[int, ...]) -> tuple[str, ...]:
    for names in (PETTEE_MARKERS, PETTEE_MARKERS_53):
        if len(names) in shape[:2]:
            return names
    return PETTEE_MARKERS


def _frames_first(array: np.ndarray, markers: int, layout: str, source: str) -> tuple[np.ndarray, str]:
    """The array as frames x markers x 3, and the layout it had."""
    if layout not in LAYOUTS:
        raise MotionFormatError(f"unknown layout '{layout}'; use one of {', '.join(LAYOUTS)}", source)
    if array.ndim != 3 or array.shape[2] != 3:
        expected = "markers x frames x 3 or frames x markers x 3"
        raise MotionFormatError(f"expected {expected}, got shape {array.shape}", source)
    fits = {"markers-frames": array.shape[0] == markers, "frames-markers": array.shape[1] == markers}
    if layout == "auto":
        if fits["markers-frames"] and fits["frames-markers"]:
            layout = _smoother_axis(array)
        elif fits["markers-frames"] or fits["frames-markers"]:
            layout = "markers-frames" if fits["markers-frames"] else "frames-markers"
        else:
            raise MotionFormatError(
                f"shape {array.shape} has no axis of {markers} markers (the marker list's length)", source
            )
    elif not fits[layout]:
        raise MotionFormatError(f"layout {layout} needs {markers} markers on its axis, got shape {array.shape}", source)
    frames_first = array.transpose(1, 0, 2) if layout == "markers-frames" else array
    if frames_first.shape[0] == 0:
        raise MotionFormatError("the array has zero frames", source)
    return frames_first, layout


def _smoother_axis(array: np.ndarray) -> str:
    """As many frames as markers: time is the axis along which neighbours differ least."""
    with np.errstate(invalid="ignore", over="ignore"):
        along_0 = np.nanmedian(np.linalg.norm(np.diff(array, axis=0), axis=-1))
        along_1 = np.nanmedian(np.linalg.norm(np.diff(array, axis=1), axis=-1))
    return "markers-frames" if along_1 <= along_0 else "frames-markers"


def _to_canonical_axes(joints: np.ndarray) -> tuple[np.ndarray, str]:
    """Rotate (and if needed mirror) joints so that up is +Y and the body's left is +X when facing +Z."""
    feet = joints[:, _FEET].mean(axis=1)
    up_vector = (joints[:, JOINT_INDEX["Head"]] - feet).mean(axis=0)
    up = int(np.argmax(np.abs(up_vector)))
    sign = 1.0 if up_vector[up] > 0 else -1.0
    # Cyclic permutation (a proper rotation) that brings the up axis to Y; a downward axis adds a half-turn.
    x_axis, z_axis = (up - 1) % 3, (up + 1) % 3
    out = np.stack([sign * joints[..., x_axis], sign * joints[..., up], joints[..., z_axis]], axis=-1)
    across = (out[:, JOINT_INDEX["LeftUpperLeg"]] - out[:, JOINT_INDEX["RightUpperLeg"]]) + (
        out[:, JOINT_INDEX["LeftUpperArm"]] - out[:, JOINT_INDEX["RightUpperArm"]]
    )
    toes = out[:, [JOINT_INDEX["LeftToes"], JOINT_INDEX["RightToes"]]].mean(axis=1)
    forward = toes - out[:, [JOINT_INDEX["LeftFoot"], JOINT_INDEX["RightFoot"]]].mean(axis=1)
    # Right-handed body: left x up points forward. A mirrored capture flips that; undo it by flipping X.
    handedness = np.mean(np.sum(np.cross(across, [0.0, 1.0, 0.0]) * forward, axis=-1))
    mirrored = handedness < 0
    if mirrored:
        out[..., 0] *= -1
    note = f"up was {'+' if sign > 0 else '-'}{_AXES[up]}" + (", mirrored cloud flipped" if mirrored else "")
    return out, note


def read_pettee(
    path: str | Path | np.ndarray,
    marker_names: list[str] | tuple[str, ...] | None = None,
    fps: float | None = DEFAULT_FPS,
    source_fps: float = PETTEE_FPS,
    layout: str = "auto",
    units: str | float | None = None,
    source: str | None = None,
) -> Motion:
    """Read a marker cloud (``.npy`` path or array) as canonical motion: joints are marker-group averages.

    ``marker_names`` defaults to the seed's order (55 markers, or the 53 left after its loader drops the
    solver markers). ``layout``: "auto" (markers x frames x 3 like the seed, or frames x markers x 3, told
    apart by which axis has the marker count), or either name to force it. ``source_fps``: the capture
    rate (the seed's is 35); ``fps``: the rate to resample to (``None`` keeps it). ``units`` as in
    ``read_bvh``: ``None`` detects them from the body height.
    """
    source = source or ("<array>" if isinstance(path, np.ndarray) else str(path))
    array = _load(path, source)
    if array.dtype.kind not in "fiu":
        raise MotionFormatError(f"expected a numeric array, got dtype {array.dtype}", source)
    names = tuple(marker_names) if marker_names is not None else _default_names(array.shape)
    cloud, found_layout = _frames_first(array, len(names), layout, source)
    if not (np.isfinite(source_fps) and source_fps > 0):
        raise MotionFormatError(f"source frame rate must be positive, got {source_fps}", source)
    weights = marker_weights(list(names), source)
    used = np.flatnonzero(weights.any(axis=0))  # markers nobody averages may be missing (NaN) without harm
    markers = cloud[:, used].astype(np.float64)
    finite = np.isfinite(markers).all(axis=(1, 2))
    if not finite.all():
        bad = int(np.argmin(finite))
        missing = [names[used[m]] for m in np.flatnonzero(~np.isfinite(markers[bad]).all(axis=-1))]
        raise MotionFormatError(f"NaN or infinite marker positions ({', '.join(missing[:6])})", source, f"frame {bad}")
    with np.errstate(over="ignore", invalid="ignore"):
        joints = np.einsum("jm,fmc->fjc", weights[:, used], markers)
        joints, axes_note = _to_canonical_axes(joints)
    joints, units_meta = to_metres(joints, units, source)
    meta = {
        "source": source,
        "format": "pettee-npy",
        "layout": found_layout,
        "markers": len(names),
        "axes": axes_note,
        **units_meta,
        "source_fps": float(source_fps),
    }
    name = "" if isinstance(path, np.ndarray) else Path(source).stem
    motion = Motion(joints, float(source_fps), name, meta)
    return motion if fps is None else motion.resample(fps)
