"""Rotations for skeletons: rotation matrices, quaternions (w, x, y, z), Euler angles in any order, forward
kinematics, and rotations recovered from joint positions.

Every function works on stacks (any leading shape, usually frames x joints) so callers never loop over frames.
Conventions: matrices act on column vectors (``R @ v``); an Euler order such as ``"ZXY"`` lists the axes in the
order the BVH channels name them and means ``R = Rz @ Rx @ Ry`` (so ``Ry`` is applied to a vector first).
"""

from __future__ import annotations

import numpy as np

_AXIS = {"X": 0, "Y": 1, "Z": 2}
EULER_ORDERS = ("XYZ", "XZY", "YXZ", "YZX", "ZXY", "ZYX")


def axis_rotation(axis: int, radians: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about one coordinate axis."""
    c, s = np.cos(radians), np.sin(radians)
    m = np.zeros(np.shape(radians) + (3, 3))
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m[..., axis, axis] = 1.0
    m[..., i, i] = c
    m[..., j, j] = c
    m[..., i, j] = -s
    m[..., j, i] = s
    return m


def euler_to_matrix(degrees: np.ndarray, order: str) -> np.ndarray:
    """Angles (..., K) in degrees, listed in ``order`` (K = 1..3 axes), to matrices (..., 3, 3):
    ``R = R[order[0]] @ R[order[1]] @ ...``."""
    radians = np.deg2rad(np.asarray(degrees, dtype=np.float64))
    out = np.broadcast_to(np.eye(3), radians.shape[:-1] + (3, 3))
    for k, axis in enumerate(order):
        out = out @ axis_rotation(_AXIS[axis], radians[..., k])
    return out


def matrix_to_euler(matrices: np.ndarray, order: str) -> np.ndarray:
    """Inverse of ``euler_to_matrix``: angles (..., 3) in degrees listed in ``order``.

    At gimbal lock (middle angle at +-90 degrees) the third angle is set to 0 and the first takes the whole
    rotation, so the angles still rebuild the same matrix.
    """
    m = np.asarray(matrices, dtype=np.float64)
    i, j, k = (_AXIS[a] for a in order)
    # +1 for cyclic orders (XYZ, YZX, ZXY), -1 for the others: flips the signs in the closed forms below.
    sign = 1.0 if (j - i) % 3 == 1 else -1.0
    middle = np.arcsin(np.clip(sign * m[..., i, k], -1.0, 1.0))
    first = np.arctan2(-sign * m[..., j, k], m[..., k, k])
    last = np.arctan2(-sign * m[..., i, j], m[..., i, i])
    locked = np.abs(sign * m[..., i, k]) > 1.0 - 1e-9
    if np.any(locked):
        first = np.where(locked, np.arctan2(sign * m[..., k, j], m[..., j, j]), first)
        last = np.where(locked, 0.0, last)
    return np.rad2deg(np.stack([first, middle, last], axis=-1))


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternions (..., 4) as (w, x, y, z) to rotation matrices (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - w * z)
    m[..., 0, 2] = 2 * (x * z + w * y)
    m[..., 1, 0] = 2 * (x * y + w * z)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - w * x)
    m[..., 2, 0] = 2 * (x * z - w * y)
    m[..., 2, 1] = 2 * (y * z + w * x)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) to unit quaternions (..., 4) (w, x, y, z) with w >= 0."""
    m = np.asarray(m, dtype=np.float64)
    trace = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    wx, wy, wz = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]
    xy, xz, yz = m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1]
    diagonal = [1 + trace, *(1 + 2 * m[..., i, i] - trace for i in range(3))]
    # Row k of this symmetric matrix is 4 q_k q; the row with the largest diagonal term is the accurate one.
    rows = np.stack(
        [
            np.stack([diagonal[0], wx, wy, wz], -1),
            np.stack([wx, diagonal[1], xy, xz], -1),
            np.stack([wy, xy, diagonal[2], yz], -1),
            np.stack([wz, xz, yz, diagonal[3]], -1),
        ],
        axis=-2,
    )
    best = np.argmax(np.stack(diagonal, -1), axis=-1)[..., None, None]
    q = np.take_along_axis(rows, best, axis=-2)[..., 0, :]
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product ``a * b`` of quaternion stacks (w, x, y, z): rotate by ``b`` first, then ``a``."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_conjugate(q: np.ndarray) -> np.ndarray:
    return np.asarray(q, dtype=np.float64) * np.array([1.0, -1.0, -1.0, -1.0])


def forward_kinematics(
    parents: list[int] | tuple[int, ...], translations: np.ndarray, rotations: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """World positions (F, J, 3) and world rotations (F, J, 3, 3) of a joint tree.

    ``translations`` (F, J, 3) or (J, 3): each joint's origin in its parent's frame (the root's in world);
    ``rotations`` (F, J, 3, 3): each joint's rotation relative to its parent. Parents must precede children.
    """
    rotations = np.asarray(rotations, dtype=np.float64)
    frames, joints = rotations.shape[:2]
    translations = np.broadcast_to(np.asarray(translations, dtype=np.float64), (frames, joints, 3))
    world_rot = np.empty_like(rotations)
    world_pos = np.empty((frames, joints, 3))
    for j, parent in enumerate(parents):
        if parent < 0:
            world_rot[:, j] = rotations[:, j]
            world_pos[:, j] = translations[:, j]
        else:
            world_rot[:, j] = world_rot[:, parent] @ rotations[:, j]
            world_pos[:, j] = world_pos[:, parent] + np.einsum("fab,fb->fa", world_rot[:, parent], translations[:, j])
    return world_pos, world_rot


def _unit(v: np.ndarray, eps: float = 1e-9) -> tuple[np.ndarray, np.ndarray]:
    norm = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(norm, eps), norm[..., 0] > eps


def swing_quat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotations (..., 4) turning directions ``a`` onto ``b`` (identity where either is ~zero)."""
    a, a_ok = _unit(np.asarray(a, dtype=np.float64))
    b, b_ok = _unit(np.asarray(b, dtype=np.float64))
    cos = np.sum(a * b, axis=-1)
    q = np.concatenate([1.0 + cos[..., None], np.cross(a, b)], axis=-1)
    # Opposite directions: half-turn about any axis perpendicular to a.
    opposite = cos < -1.0 + 1e-9
    if np.any(opposite):
        helper = np.where(np.abs(a[..., :1]) < 0.9, np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
        axis, _ = _unit(np.cross(a, helper))
        q = np.where(opposite[..., None], np.concatenate([np.zeros_like(cos)[..., None], axis], -1), q)
    q = np.where((a_ok & b_ok)[..., None], q, np.array([1.0, 0, 0, 0]))
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def best_fit_rotation(rest: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Rotation matrices (F, 3, 3) that best map rest vectors (K, 3) onto actual vectors (F, K, 3) (Kabsch)."""
    rest_u, _ = _unit(np.asarray(rest, dtype=np.float64))
    actual_u, _ = _unit(np.asarray(actual, dtype=np.float64))
    cov = np.einsum("ka,fkb->fab", rest_u, actual_u)  # sum_k rest_k actual_k^T
    u, _, vt = np.linalg.svd(cov)
    det = np.sign(np.linalg.det(vt.transpose(0, 2, 1) @ u.transpose(0, 2, 1)))
    d = np.ones(cov.shape[:-1])
    d[:, 2] = np.where(det == 0, 1.0, det)
    return vt.transpose(0, 2, 1) @ (d[..., None] * u.transpose(0, 2, 1))


def local_rotations_from_positions(
    positions: np.ndarray, parents: list[int] | tuple[int, ...], rest_offsets: np.ndarray
) -> np.ndarray:
    """Local joint rotations (F, J, 4) (w, x, y, z) that pose a rest skeleton like ``positions`` (F, J, 3).

    ``rest_offsets`` (J, 3) are each joint's offset from its parent in the rest pose (world axes, any
    lengths). A joint with one child gets the swing that carries its parent's orientation of the rest bone
    onto the actual bone (no twist); a joint with several children the best-fit rotation of all its child
    offsets; a leaf keeps its parent's orientation. Rotations are relative to the parent joint's, so
    ``forward_kinematics(parents, rest_offsets, quat_to_matrix(result))`` reproduces the bone directions.
    """
    positions = np.asarray(positions, dtype=np.float64)
    rest_offsets = np.asarray(rest_offsets, dtype=np.float64)
    frames, joints = positions.shape[:2]
    kids = [[c for c in range(joints) if parents[c] == j] for j in range(joints)]
    world = np.empty((frames, joints, 4))
    identity = np.broadcast_to(np.array([1.0, 0, 0, 0]), (frames, 4))
    for j, parent in enumerate(parents):
        parent_world = identity if parent < 0 else world[:, parent]
        children = kids[j]
        if len(children) == 1:
            c = children[0]
            carried = np.einsum("fab,b->fa", quat_to_matrix(parent_world), rest_offsets[c])
            world[:, j] = quat_multiply(swing_quat(carried, positions[:, c] - positions[:, j]), parent_world)
        elif children:
            actual = positions[:, children] - positions[:, j : j + 1]
            world[:, j] = matrix_to_quat(best_fit_rotation(rest_offsets[children], actual))
        else:
            world[:, j] = parent_world
    local = np.empty_like(world)
    for j, parent in enumerate(parents):
        local[:, j] = world[:, j] if parent < 0 else quat_multiply(quat_conjugate(world[:, parent]), world[:, j])
    return local / np.linalg.norm(local, axis=-1, keepdims=True)
