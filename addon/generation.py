"""Scene side of Generate and Describe, shared by the operators and ``batch.py`` (the engine calls are theirs).

Generate writes one new action per motion (named after the prompt, fake user so unassigned variations are
saved with the file), assigns the first, and never touches existing actions. Describe samples an armature
and hands the Motion to the engine.
"""

import bpy
from engine.motion import Motion

from . import armature, keyframes, sampling


def action_name(prompt: str, index: int, count: int) -> str:
    base = " ".join(prompt.split())[:48] or "Choreolingo"
    return base if count == 1 else f"{base} {index + 1}"


def keyframe_motions(scene, motions: list[Motion], prompt: str, target=None):
    """Keyframe ``motions`` onto ``target`` (or a new canonical armature); returns (object, actions, rig)."""
    if target is None:
        offsets = armature.rest_offsets_for(motions[0].positions)
        target = armature.create_armature("Choreolingo", scene.collection, offsets)
    rig = armature.map_rig(target)
    actions = []
    for index, motion in enumerate(motions):
        action, slot = keyframes.write_action(rig, motion, action_name(prompt, index, len(motions)), scene)
        action.use_fake_user = True
        if index == 0:
            keyframes.assign_action(target, action, slot)
        actions.append(action)
    last_frame = scene.frame_start + max(round(m.seconds * keyframes.scene_fps(scene)) for m in motions) - 1
    scene.frame_end = max(scene.frame_end, last_frame)
    return target, actions, rig


def sample_for_description(obj, scene, settings=None) -> Motion:
    """The armature's motion over the user's frame range (when set) or its active action's."""
    if settings is not None and settings.use_frame_range:
        return sampling.sample_motion(obj, scene, settings.frame_start, settings.frame_end)
    return sampling.sample_motion(obj, scene)


def store_description(settings, obj_name: str, description) -> None:
    settings.described = obj_name
    settings.sentence = description.sentence
    settings.content = description.content[0] if description.content else ""
    settings.style = description.style[0] if description.style else ""
    settings.matches.clear()
    for text, score in description.matches:
        item = settings.matches.add()
        item.text = text
        item.score = score


def description_report(description) -> str:
    ranked = "; ".join(f"{text} ({score:.2f})" for text, score in description.matches)
    return f"{description.sentence} | top {len(description.matches)}: {ranked}"


def is_armature(obj) -> bool:
    return obj is not None and obj.type == "ARMATURE"


def active_armature(context):
    obj = context.active_object
    return obj if is_armature(obj) else None


def new_collection_child(scene, name: str):
    collection = bpy.data.collections.new(name)
    scene.collection.children.link(collection)
    return collection
