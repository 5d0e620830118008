"""An armature's animation -> Motion: canonical joints in world space, engine axes, metres.

Each frame is evaluated by the scene (constraints, drivers and NLA included) and the mapped bones' heads
are read in world space, so whatever plays in the viewport is what the engine sees.
"""

import bpy
import numpy as np
from engine.errors import EngineInputError
from engine.motion import Motion
from engine.skeleton import JOINTS, body_height, detect_units

from .armature import map_rig
from .axes import to_engine
from .keyframes import assign_action, scene_fps


def action_frame_range(obj) -> tuple[int, int]:
    """The frames of the armature's active action (raises EngineInputError when it has none)."""
    action = obj.animation_data.action if obj.animation_data else None
    if action is None:
        raise EngineInputError(f"'{obj.name}' has no active action to describe")
    start, end = action.frame_range
    return int(round(start)), int(round(end))


def sample_action(obj, scene, action) -> Motion:
    """Sample ``action`` played on ``obj`` over its own frame range; ``obj``'s own animation is restored."""
    animation = obj.animation_data or obj.animation_data_create()
    previous = animation.action, getattr(animation, "action_slot", None)
    try:
        assign_action(obj, action)
        start, end = action.frame_range
        return sample_motion(obj, scene, int(round(start)), int(round(end)))
    finally:
        assign_action(obj, previous[0], previous[1]) if previous[0] else setattr(animation, "action", None)


def sample_motion(obj, scene, frame_start: int | None = None, frame_end: int | None = None,
                  bone_map: dict | None = None) -> Motion:
    """Sample ``obj``'s animation over [frame_start, frame_end] (default: its active action's range)."""
    rig = map_rig(obj, bone_map)
    if frame_start is None or frame_end is None:
        start, end = action_frame_range(obj)
        frame_start = start if frame_start is None else frame_start
        frame_end = end if frame_end is None else frame_end
    if frame_end < frame_start:
        raise EngineInputError(f"frame range {frame_start}-{frame_end} is empty")
    order = [obj.pose.bones.find(rig.bones[j]) for j in JOINTS]
    heads = np.empty(len(obj.pose.bones) * 3, dtype=np.float32)
    frames = range(frame_start, frame_end + 1)
    world = np.empty((len(frames), len(JOINTS), 3))
    current = scene.frame_current
    depsgraph = bpy.context.evaluated_depsgraph_get()
    try:
        for i, frame in enumerate(frames):
            scene.frame_set(frame)
            evaluated = obj.evaluated_get(depsgraph)
            evaluated.pose.bones.foreach_get("head", heads)
            matrix = np.array(evaluated.matrix_world, dtype=np.float64)
            world[i] = heads.reshape(-1, 3)[order] @ matrix[:3, :3].T + matrix[:3, 3]
    finally:
        scene.frame_set(current)
    # Units as the engine's BVH reader finds them: metres stay metres, a BVH import in centimetres is scaled.
    units, scale, note = detect_units(body_height(world))
    meta = {"source": "blender", "object": obj.name, "frames": [frame_start, frame_end], "units": units,
            "scale": scale, "units_note": note}
    return Motion(to_engine(world) * scale, scene_fps(scene), obj.name, meta)
