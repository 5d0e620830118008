"""Armatures: the canonical rig Choreolingo creates, and how any humanoid rig maps onto the canonical joints.

A rig is described by where its mapped bones sit in the rest pose (armature space) and how each bone is
oriented there; retargeting needs nothing else. Bones the engine's name adapters cannot place are listed so
the user sees exactly which joints are missing.
"""

from dataclasses import dataclass, field

import bpy
import numpy as np
from engine.skeleton import (
    JOINTS,
    LEAF_TAILS,
    PARENTS,
    REST_OFFSETS,
    ROOT,
    children,
    motion_rest_offsets,
    resolve_joint_map,
    rest_positions,
)

from .axes import to_blender

# The bones along each leg, used to compare body sizes (stable whatever the arms or spine do).
LEG_CHAINS = (("LeftUpperLeg", "LeftLowerLeg", "LeftFoot"), ("RightUpperLeg", "RightLowerLeg", "RightFoot"))


@dataclass
class Rig:
    """An armature object seen through the canonical skeleton."""

    obj: bpy.types.Object
    bones: dict  # canonical joint -> bone name
    heads: np.ndarray  # [21, 3] rest head of each mapped bone, armature space
    rest: np.ndarray  # [21, 3, 3] rest orientation of each mapped bone, armature space
    unmapped: list = field(default_factory=list)  # rig bones the canonical skeleton leaves at rest

    @property
    def leg_length(self) -> float:
        return leg_length(self.heads)


def leg_length(points: np.ndarray) -> float:
    """Mean hip-to-ankle length of a [..., 21, 3] pose (median over frames when there are several)."""
    index = {name: i for i, name in enumerate(JOINTS)}
    lengths = []
    for chain in LEG_CHAINS:
        ids = [index[n] for n in chain]
        segments = np.linalg.norm(np.diff(points[..., ids, :], axis=-2), axis=-1).sum(axis=-1)
        lengths.append(np.median(segments))
    return float(np.mean(lengths))


def rest_offsets_for(positions: np.ndarray) -> np.ndarray:
    """Canonical T-pose directions with the bone lengths of a motion (median over frames), toes on the ground:
    a new armature built from these reproduces the motion's joints up to the layout of the hips' and the
    chest's children, which real skeletons place differently from the T-pose."""
    offsets = motion_rest_offsets(positions)
    offsets[ROOT, 1] = -rest_positions(offsets)[:, 1].min()
    return offsets


def create_armature(name: str, collection, offsets: np.ndarray = REST_OFFSETS) -> bpy.types.Object:
    """A new armature object with one bone per canonical joint (named like the joint), in a T-pose.

    Each bone's head is its joint; its tail is its first child's joint (or the leaf tail), so posing the
    bones with the retargeted rotations moves every joint where the motion puts it.
    """
    heads = to_blender(rest_positions(offsets))
    data = bpy.data.armatures.new(name)
    obj = bpy.data.objects.new(name, data)
    collection.objects.link(obj)
    previous = bpy.context.view_layer.objects.active
    if previous is not None and previous.mode != "OBJECT":
        bpy.ops.object.mode_set(mode="OBJECT")
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    bones = []
    for j, joint in enumerate(JOINTS):
        bone = data.edit_bones.new(joint)
        kids = children(j)
        bone.head = heads[j]
        bone.tail = heads[kids[0]] if kids else heads[j] + to_blender(np.array(LEAF_TAILS[joint]))
        if PARENTS[j] >= 0:
            bone.parent = bones[PARENTS[j]]
        bones.append(bone)
    bpy.ops.object.mode_set(mode="OBJECT")
    for pose_bone in obj.pose.bones:
        pose_bone.rotation_mode = "QUATERNION"
    return obj


def map_rig(obj: bpy.types.Object, bone_map: dict | None = None) -> Rig:
    """Place every canonical joint on a bone of ``obj`` by name (raises SkeletonMappingError listing misses)."""
    names = [bone.name for bone in obj.data.bones]
    bones = resolve_joint_map(names, bone_map, source=obj.name)
    heads = np.array([obj.data.bones[bones[j]].head_local for j in JOINTS], dtype=np.float64)
    rest = np.array(
        [np.array(obj.data.bones[bones[j]].matrix_local, dtype=np.float64)[:3, :3] for j in JOINTS]
    )
    used = set(bones.values())
    return Rig(obj, bones, heads, rest, [n for n in names if n not in used])
