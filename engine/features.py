"""Feature layout v1: what one frame of motion means to every model.

Per frame at 30 fps, ``FEATURE_DIM`` = 21*3 + 2 + 1 + 4 = 70 floats:

* ``[0:63]`` joint positions relative to the root's ground projection, rotated by minus the heading, so the
  pose is seen from the character's own frame (it faces +Z, its left is +X). Heights stay absolute (Y).
* ``[63:65]`` root ground velocity (x, z) in metres per frame, from this frame to the next, expressed in this
  frame's heading frame: the trajectory is kept, so generated motion can travel.
* ``[65]`` heading change to the next frame (radians per frame, wrapped to [-pi, pi)): so it can turn.
* ``[66:70]`` foot contacts (LeftFoot, LeftToes, RightFoot, RightToes) in {0, 1}.

Heading is the yaw of forward = cross(across, up), across = (LeftUpperLeg - RightUpperLeg) +
(LeftUpperArm - RightUpperArm) on the ground plane; heading 0 faces +Z. When across has no ground component
(the body lies sideways in a cartwheel) the previous frame's heading is kept.

The last frame has no next frame: its velocity and heading change repeat the previous frame's. Features are
invariant to where the motion starts and which way it faces; ``features_to_motion`` starts at the origin
facing +Z.

Foot contacts: a foot joint touches the ground when it moves slower than ``CONTACT_SPEED`` (m/s, forward
difference) and is less than ``CONTACT_HEIGHT`` above its own floor, the ``CONTACT_FLOOR_PERCENTILE``-th
percentile of its height over the motion (ankles and toes rest at different heights, and readers do not all
put the floor at y = 0, so each joint's lowest level is learned from the motion itself).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import EngineInputError
from .motion import DEFAULT_FPS, Motion
from .skeleton import FEET, JOINT_INDEX, JOINTS, ROOT

FEATURE_VERSION = 1
JOINT_DIMS = len(JOINTS) * 3
FEATURE_DIM = JOINT_DIMS + 2 + 1 + len(FEET)

LOCAL_POSITIONS = slice(0, JOINT_DIMS)
ROOT_VELOCITY = slice(JOINT_DIMS, JOINT_DIMS + 2)
HEADING_CHANGE = JOINT_DIMS + 2
FOOT_CONTACTS = slice(JOINT_DIMS + 3, FEATURE_DIM)

CONTACT_SPEED = 0.5  # m/s: a planted foot barely moves; a swinging one moves at 1-4 m/s
CONTACT_HEIGHT = 0.05  # m above the joint's own floor
CONTACT_FLOOR_PERCENTILE = 2.0

_ACROSS = (
    (JOINT_INDEX["LeftUpperLeg"], JOINT_INDEX["RightUpperLeg"]),
    (JOINT_INDEX["LeftUpperArm"], JOINT_INDEX["RightUpperArm"]),
)


def feature_layout() -> dict:
    """The layout as plain data, recorded in a model bundle's manifest so the engine can check it."""
    return {
        "version": FEATURE_VERSION,
        "dim": FEATURE_DIM,
        "fps": DEFAULT_FPS,
        "joints": list(JOINTS),
        "slices": {
            "local_positions": [LOCAL_POSITIONS.start, LOCAL_POSITIONS.stop],
            "root_velocity": [ROOT_VELOCITY.start, ROOT_VELOCITY.stop],
            "heading_change": [HEADING_CHANGE, HEADING_CHANGE + 1],
            "foot_contacts": [FOOT_CONTACTS.start, FOOT_CONTACTS.stop],
        },
        "contact_joints": [JOINTS[j] for j in FEET],
        "contact_speed": CONTACT_SPEED,
        "contact_height": CONTACT_HEIGHT,
    }


def rotate_yaw(vectors: np.ndarray, angle: np.ndarray | float) -> np.ndarray:
    """Rotate 3-vectors (..., 3) about +Y by ``angle`` radians (broadcast over the leading axes).

    Angle 0 keeps +Z; angle h turns +Z into (sin h, 0, cos h).
    """
    angle = np.asarray(angle, dtype=np.float64)
    c, s = np.cos(angle), np.sin(angle)
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    return np.stack([c * x + s * z, np.broadcast_to(y, np.broadcast(x, c).shape), c * z - s * x], axis=-1)


def wrap_angle(angle: np.ndarray) -> np.ndarray:
    return (angle + np.pi) % (2 * np.pi) - np.pi


def headings(positions: np.ndarray) -> np.ndarray:
    """Yaw (radians) of the body's forward direction per frame; 0 faces +Z."""
    across = sum(positions[:, left] - positions[:, right] for left, right in _ACROSS)
    ax, az = across[:, 0].astype(np.float64), across[:, 2].astype(np.float64)
    heading = np.arctan2(-az, ax)  # forward = cross(across, up) = (-az, 0, ax)
    valid = np.hypot(ax, az) > 1e-6
    if not valid.any():
        return np.zeros(len(positions))
    # Carry the last valid heading over frames where the body's across direction points straight up.
    last = np.maximum.accumulate(np.where(valid, np.arange(len(valid)), -1))
    last[last < 0] = int(np.argmax(valid))
    return heading[last]


def foot_contacts(positions: np.ndarray, fps: float) -> np.ndarray:
    """Contacts (frames x 4) of LeftFoot, LeftToes, RightFoot, RightToes; see the module doc."""
    feet = positions[:, FEET].astype(np.float64)
    if len(feet) > 1:
        speed = np.linalg.norm(np.diff(feet, axis=0), axis=-1) * fps
        speed = np.concatenate([speed, speed[-1:]], axis=0)
    else:
        speed = np.zeros(feet.shape[:2])
    height = feet[..., 1]
    floor = np.percentile(height, CONTACT_FLOOR_PERCENTILE, axis=0)
    return ((speed < CONTACT_SPEED) & (height - floor < CONTACT_HEIGHT)).astype(np.float32)


def motion_to_features(motion: Motion) -> np.ndarray:
    """Features (frames x ``FEATURE_DIM``, float32) of a motion, resampled to 30 fps first."""
    if abs(motion.fps - DEFAULT_FPS) > 1e-6:
        motion = motion.resample(DEFAULT_FPS)
    p = motion.positions.astype(np.float64)
    frames = len(p)
    heading = headings(p)
    ground = p[:, ROOT] * np.array([1.0, 0.0, 1.0])
    local = rotate_yaw(p - ground[:, None], -heading[:, None])
    if frames > 1:
        step = np.diff(ground, axis=0)
        turn = wrap_angle(np.diff(heading))
        step = np.concatenate([step, step[-1:]])
        turn = np.concatenate([turn, turn[-1:]])
        # Each frame's step is seen from the heading it starts from (the last one repeats the step before).
        frame_heading = np.concatenate([heading[:-1], heading[-2:-1]])
        velocity = rotate_yaw(step, -frame_heading)[:, [0, 2]]
    else:
        velocity, turn = np.zeros((1, 2)), np.zeros(1)
    out = np.empty((frames, FEATURE_DIM), dtype=np.float32)
    out[:, LOCAL_POSITIONS] = local.reshape(frames, JOINT_DIMS)
    out[:, ROOT_VELOCITY] = velocity
    out[:, HEADING_CHANGE] = turn
    out[:, FOOT_CONTACTS] = foot_contacts(p, DEFAULT_FPS)
    return out


def features_to_motion(features: np.ndarray, fps: float = DEFAULT_FPS, name: str = "") -> Motion:
    """Positions from features: root velocity and heading change integrated from the origin, heading 0.

    Foot contacts are not used (they are an output for clean-up, not an input to placement).
    """
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != FEATURE_DIM or len(f) == 0:
        raise EngineInputError(f"features must be frames x {FEATURE_DIM} with frames > 0, got shape {f.shape}")
    if not np.isfinite(f).all():
        raise EngineInputError("features contain NaN or infinite values")
    frames = len(f)
    heading = np.concatenate([[0.0], np.cumsum(f[:-1, HEADING_CHANGE])])
    velocity = np.zeros((frames, 3))
    velocity[:, [0, 2]] = f[:, ROOT_VELOCITY]
    steps = rotate_yaw(velocity, heading)
    ground = np.concatenate([np.zeros((1, 3)), np.cumsum(steps[:-1], axis=0)])
    local = f[:, LOCAL_POSITIONS].reshape(frames, len(JOINTS), 3)
    positions = rotate_yaw(local, heading[:, None]) + ground[:, None]
    return Motion(positions.astype(np.float32), fps, name)


def remove_foot_sliding(features: np.ndarray) -> np.ndarray:
    """Features (frames x ``FEATURE_DIM``, not normalized) whose root velocity keeps feet in contact still.

    A generated root often drifts while the predicted contacts say a foot is planted, so the foot skates. Per
    frame, each foot joint's ground displacement to the next frame (in the frame's heading frame: the root's
    step plus the turned local position's change) is computed, and the smallest one among the joints in
    contact (> 0.5) is taken off the root velocity: that joint stays where it is. The least moving joint
    rather than the mean of the planted ones, so a heel lifting off a planted toe (it moves, the toe does
    not) does not shift the body. Frames without contact are kept; poses, turns and contacts too. Captured
    motion is nearly unchanged (its planted feet move less than ``CONTACT_SPEED`` by definition).
    """
    f = np.array(features, dtype=np.float32)
    if f.ndim != 2 or f.shape[1] != FEATURE_DIM:
        raise EngineInputError(f"features must be frames x {FEATURE_DIM}, got shape {f.shape}")
    if len(f) < 2:
        return f
    feet = f[:, LOCAL_POSITIONS].reshape(len(f), len(JOINTS), 3)[:, FEET].astype(np.float64)
    turned = rotate_yaw(feet[1:], f[:-1, HEADING_CHANGE, None])
    step = turned[..., [0, 2]] - feet[:-1, :, [0, 2]] + f[:-1, None, ROOT_VELOCITY]
    contact = f[:-1, FOOT_CONTACTS] > 0.5
    anchor = np.where(contact, np.linalg.norm(step, axis=-1), np.inf).argmin(axis=1)
    slide = step[np.arange(len(step)), anchor] * contact.any(axis=1, keepdims=True)
    f[:-1, ROOT_VELOCITY] -= slide.astype(np.float32)
    f[-1, ROOT_VELOCITY] = f[-2, ROOT_VELOCITY]  # the last frame repeats the step before, as in the layout
    return f


def sliding_windows(features: np.ndarray, length: int = 50, stride: int = 20) -> np.ndarray:
    """Windows (N x length x F, a copy) starting at 0, stride, 2*stride, ... that fit inside the sequence.

    A sequence shorter than ``length`` gives no window (N = 0); the tail after the last window is dropped.
    """
    if length < 1 or stride < 1:
        raise EngineInputError(f"window length and stride must be positive, got {length} and {stride}")
    features = np.asarray(features)
    count = 0 if len(features) < length else (len(features) - length) // stride + 1
    if count == 0:
        return np.zeros((0, length, features.shape[-1]), dtype=features.dtype)
    starts = np.arange(count) * stride
    return features[starts[:, None] + np.arange(length)]


@dataclass
class NormStats:
    """Per-feature mean and standard deviation of the training split; models see normalized features."""

    mean: np.ndarray
    std: np.ndarray

    # Features that never vary (the root's own local x and z are always 0) would divide by zero.
    MIN_STD = 1e-3

    def __post_init__(self) -> None:
        self.mean = np.asarray(self.mean, dtype=np.float32).reshape(-1)
        self.std = np.asarray(self.std, dtype=np.float32).reshape(-1)
        if self.mean.shape != self.std.shape or not (self.std > 0).all():
            raise EngineInputError("normalization statistics need equal-length mean and positive std")

    @classmethod
    def fit(cls, features: np.ndarray | list[np.ndarray]) -> "NormStats":
        """Statistics over every frame of an array (..., F) or a list of per-clip arrays (frames, F)."""
        arrays = features if isinstance(features, list) else [features]
        flat = np.concatenate([np.asarray(a, dtype=np.float64).reshape(-1, a.shape[-1]) for a in arrays])
        if len(flat) == 0:
            raise EngineInputError("cannot fit normalization statistics on zero frames")
        return cls(flat.mean(axis=0), np.maximum(flat.std(axis=0), cls.MIN_STD))

    def normalize(self, features: np.ndarray) -> np.ndarray:
        return ((np.asarray(features, dtype=np.float32) - self.mean) / self.std).astype(np.float32)

    def denormalize(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, dtype=np.float32) * self.std + self.mean).astype(np.float32)

    def to_dict(self) -> dict:
        return {"mean": self.mean.tolist(), "std": self.std.tolist()}

    @classmethod
    def from_dict(cls, data: dict) -> "NormStats":
        return cls(np.asarray(data["mean"]), np.asarray(data["std"]))
