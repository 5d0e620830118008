"""The add-on's per-scene settings and results (``scene.choreolingo``), shown by the panel."""

import bpy
from bpy.props import (
    BoolProperty,
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)


class CHOREOLINGO_PG_match(bpy.types.PropertyGroup):
    text: StringProperty(name="Text")
    score: FloatProperty(name="Score")


class CHOREOLINGO_PG_settings(bpy.types.PropertyGroup):
    # Generate
    prompt: StringProperty(name="Prompt", default="a person dances happily")
    seconds: FloatProperty(name="Seconds", default=4.0, min=0.5, max=30.0)
    seed: IntProperty(name="Seed", default=0, min=0)
    variations: IntProperty(name="Variations", default=1, min=1, max=8)
    target: EnumProperty(
        name="Target",
        items=[
            ("ACTIVE", "Active Armature", "Keyframe the active armature (a user rig is mapped by bone names)"),
            ("NEW", "New Armature", "Create a new Choreolingo armature"),
        ],
        default="NEW",
    )
    # Describe
    use_frame_range: BoolProperty(name="Frame Range", description="Describe these frames instead of the action's")
    frame_start: IntProperty(name="Start", default=1)
    frame_end: IntProperty(name="End", default=120)
    top_k: IntProperty(name="Top K", default=5, min=1, max=20)
    described: StringProperty(name="Described")
    sentence: StringProperty(name="Sentence")
    content: StringProperty(name="Content", description="Best content label of the last description")
    style: StringProperty(name="Style", description="Best style label of the last description")
    matches: CollectionProperty(type=CHOREOLINGO_PG_match)
    # Interpolate
    path_source: EnumProperty(
        name="From",
        items=[("PROMPTS", "Prompts", "Interpolate between two prompts"),
               ("ACTIONS", "Actions", "Interpolate between two actions of the active armature")],
    )
    prompt_a: StringProperty(name="Prompt A", default="a person walks")
    prompt_b: StringProperty(name="Prompt B", default="a person runs")
    action_a: PointerProperty(name="Action A", type=bpy.types.Action)
    action_b: PointerProperty(name="Action B", type=bpy.types.Action)
    steps: IntProperty(name="Steps", default=5, min=2, max=16)
    bake_step: IntProperty(name="Step", default=0, min=0, description="Path step to bake (0 = A)")


CLASSES = (CHOREOLINGO_PG_match, CHOREOLINGO_PG_settings)


def register() -> None:
    bpy.types.Scene.choreolingo = PointerProperty(type=CHOREOLINGO_PG_settings)


def unregister() -> None:
    del bpy.types.Scene.choreolingo
