"""Retargeting: canonical joint positions -> pose-bone channels of a rig (numpy only, no bpy calls).

``engine.rotations.local_rotations_from_positions`` gives each joint's rotation relative to a rest pose whose
joint frames are all aligned with the armature's axes. A Blender pose bone rotates in its own rest frame
(``bone.matrix_local``), so each rotation is conjugated by the bone's rest orientation: the rotation axis is
re-expressed in bone space, the angle is kept. Bones between mapped joints stay at rest, which keeps this
exact for rigs with extra bones (twist, extra spine) as long as they are not posed.
"""

import numpy as np
from engine.motion import Motion
from engine.rotations import local_rotations_from_positions
from engine.skeleton import PARENTS, ROOT

from .armature import Rig, leg_length
from .axes import to_blender


def armature_positions(motion: Motion, rig: Rig, matrix_world: np.ndarray) -> np.ndarray:
    """The motion's joints in the rig's armature space, scaled to the rig's body size.

    The motion's origin (its ground point) lands on the armature object's origin, so a rig placed anywhere in
    the scene dances where it stands; its rotation and scale are undone so bones get world-sized motion.
    """
    world = to_blender(motion.positions)
    # Body size is compared in world units: the rig's legs as posed in the scene against the motion's legs.
    matrix = np.asarray(matrix_world, dtype=np.float64)
    rig_world = rig.heads @ matrix[:3, :3].T + matrix[:3, 3]
    world = world * (leg_length(rig_world) / leg_length(world))
    return world @ np.linalg.inv(matrix[:3, :3]).T


def pose_channels(positions: np.ndarray, rig: Rig) -> tuple[np.ndarray, np.ndarray]:
    """Armature-space joint positions [F,21,3] -> (bone-space quaternions [F,21,4] w,x,y,z, root location [F,3])."""
    rest_offsets = rig.heads - np.where(np.array(PARENTS)[:, None] >= 0, rig.heads[list(PARENTS)], 0.0)
    local = local_rotations_from_positions(positions, PARENTS, rest_offsets)
    # q = (w, v) acts in armature axes; in bone axes it is (w, R^T v) for rest orientation R.
    quats = np.concatenate([local[..., :1], np.einsum("fjk,jkl->fjl", local[..., 1:], rig.rest)], axis=-1)
    # Neighbouring keys in the same hemisphere, so interpolation between keys takes the short way round.
    flips = np.einsum("fjk,fjk->fj", quats[1:], quats[:-1]) < 0
    signs = np.concatenate([np.ones((1, quats.shape[1])), np.where(np.cumsum(flips, axis=0) % 2, -1.0, 1.0)])
    quats = quats * signs[..., None]
    root_location = (positions[:, ROOT] - rig.heads[ROOT]) @ rig.rest[ROOT]
    return quats, root_location
