"""Motion -> a new Blender action on a rig: quaternion keys on every mapped bone plus the root's location.

Works from Blender 3.4 to 5.0: since 4.4 an action stores F-curves in a channelbag per slot (layered
actions; ``Action.fcurves`` is gone in 5.0), before that directly on the action. Keys are written in bulk
(``keyframe_points.add`` + ``foreach_set``), which is what keeps Generate well under a second.
"""

import bpy
import numpy as np
from engine.motion import Motion
from engine.skeleton import JOINTS, ROOT

from . import retarget
from .armature import Rig

_LINEAR = bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items["LINEAR"].value


def scene_fps(scene) -> float:
    return scene.render.fps / scene.render.fps_base


def _channels(action, obj):
    """(fcurves, groups, slot) to write ``obj``'s keys into: the slot's channelbag, or the legacy action."""
    if not hasattr(action, "slots"):
        return action.fcurves, action.groups, None
    slot = action.slots.new(id_type="OBJECT", name=obj.name)
    layer = action.layers[0] if action.layers else action.layers.new("Layer")
    strip = layer.strips[0] if layer.strips else layer.strips.new(type="KEYFRAME")
    bag = strip.channelbag(slot, ensure=True)
    return bag.fcurves, bag.groups, slot


def _write_curve(fcurves, group, data_path: str, index: int, frames: np.ndarray, values: np.ndarray) -> None:
    curve = fcurves.new(data_path, index=index)
    curve.group = group
    points = curve.keyframe_points
    points.add(len(frames))
    points.foreach_set("co", np.column_stack([frames, values]).astype(np.float32).ravel())
    points.foreach_set("interpolation", [_LINEAR] * len(frames))
    curve.update()


def assign_action(obj, action, slot=None) -> None:
    animation = obj.animation_data or obj.animation_data_create()
    animation.action = action
    if hasattr(animation, "action_slot") and (slot is not None or animation.action_slot is None):
        # Layered actions: use the given slot, else the action's first (Blender may not pick one itself).
        animation.action_slot = slot if slot is not None else action.slots[0] if len(action.slots) else None


def write_action(rig: Rig, motion: Motion, name: str, scene, frame_start: int | None = None):
    """A new action named ``name`` holding ``motion`` retargeted onto ``rig`` (returns (action, slot)).

    The motion is resampled to the scene's frame rate; keys start at ``frame_start`` (the scene's start).
    Nothing existing is modified except the mapped pose bones' rotation mode (set to quaternion).
    """
    obj = rig.obj
    motion = motion.resample(scene_fps(scene))
    start = scene.frame_start if frame_start is None else frame_start
    frames = start + np.arange(motion.frames, dtype=np.float64)
    positions = retarget.armature_positions(motion, rig, np.array(obj.matrix_world))
    quats, root_location = retarget.pose_channels(positions, rig)
    action = bpy.data.actions.new(name)
    fcurves, groups, slot = _channels(action, obj)
    for j, joint in enumerate(JOINTS):
        bone = rig.bones[joint]
        obj.pose.bones[bone].rotation_mode = "QUATERNION"
        group = groups.new(bone)
        path = f'pose.bones["{bpy.utils.escape_identifier(bone)}"]'
        for axis in range(4):
            _write_curve(fcurves, group, f"{path}.rotation_quaternion", axis, frames, quats[:, j, axis])
        if j == ROOT:
            for axis in range(3):
                _write_curve(fcurves, group, f"{path}.location", axis, frames, root_location[:, axis])
    return action, slot
