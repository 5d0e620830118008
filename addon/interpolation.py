"""Latent interpolation shown as a row of ghost armatures, one per step, each playing its motion.

Ghosts live in their own collection (replaced by the next path), sit side by side along X and are drawn in
front and in wireframe-like colours so they read as a preview, not as the user's rig. Any step can be baked
onto a real armature as an ordinary new action.
"""

import bpy
import numpy as np
from engine.motion import Motion

from . import armature, keyframes, sampling
from .axes import to_engine
from .generation import new_collection_child

PATH_COLLECTION = "Choreolingo Path"
STEP_PROPERTY = "choreolingo_path_step"
SPACING = 1.2  # metres between ghosts


def clear_path(scene) -> None:
    """Remove the previous path's ghosts with their armature data and actions."""
    collection = bpy.data.collections.get(PATH_COLLECTION)
    if collection is None:
        return
    for obj in list(collection.objects):
        data = obj.data
        action = obj.animation_data.action if obj.animation_data else None
        bpy.data.objects.remove(obj)
        bpy.data.armatures.remove(data)
        if action is not None and action.users == 0:
            bpy.data.actions.remove(action)
    bpy.data.collections.remove(collection)


def build_path(scene, motions: list[Motion], label: str) -> list:
    """One ghost armature per motion, left (step 0 = A) to right (last step = B)."""
    clear_path(scene)
    collection = new_collection_child(scene, PATH_COLLECTION)
    ghosts = []
    for step, motion in enumerate(motions):
        ghost = armature.create_armature(f"Path {step}", collection, armature.rest_offsets_for(motion.positions))
        ghost.location.x = step * SPACING
        ghost.show_in_front = True
        ghost[STEP_PROPERTY] = step
        rig = armature.map_rig(ghost)
        action, slot = keyframes.write_action(rig, motion, f"{label} step {step}", scene)
        keyframes.assign_action(ghost, action, slot)
        ghosts.append(ghost)
    return ghosts


def ghost(step: int):
    """The ghost of ``step`` in the current path, or None."""
    collection = bpy.data.collections.get(PATH_COLLECTION)
    if collection is None:
        return None
    return next((o for o in collection.objects if o.get(STEP_PROPERTY) == step), None)


def step_motion(scene, step_ghost) -> Motion:
    """A ghost's motion, back at the origin (the row offset removed)."""
    motion = sampling.sample_motion(step_ghost, scene)
    offset = to_engine(np.array(step_ghost.matrix_world.translation)) * motion.meta["scale"]
    return Motion(motion.positions - offset.astype(np.float32), motion.fps, motion.name, motion.meta)
