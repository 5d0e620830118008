"""The add-on's operators: Generate, Describe Motion, Interpolate and Bake Step.

Engine calls run as separate steps (see ``progress``) and the scene is changed only in the last step, so
Esc leaves nothing half-made and each operator is one undo step. Polls grey out what cannot run (no
armature, no bundle) and say why.
"""

import bpy

from . import engine_loader, generation, interpolation, sampling
from .progress import SteppedOperator


def preferences(context):
    addon = context.preferences.addons.get(__package__)
    return addon.preferences if addon else None


def bundle(context):
    prefs = preferences(context)
    return engine_loader.bundle_dir(prefs.bundle_path if prefs else "")


def engine_for(context):
    prefs = preferences(context)
    from engine.errors import BundleError

    path = bundle(context)
    if path is None:
        raise BundleError("no model bundle: set one in the add-on preferences")
    return engine_loader.get_engine(path, prefs.threads if prefs else 0)


def _poll_bundle(cls, context) -> bool:
    if bundle(context) is None:
        cls.poll_message_set("No model bundle found (see the add-on preferences)")
        return False
    return True


def _poll_armature(cls, context) -> bool:
    if generation.active_armature(context) is None:
        cls.poll_message_set("Select an armature")
        return False
    return True


def _poll_engine(cls, context, on_armature: bool = True) -> bool:
    """A model bundle and, when the operator plays on the active armature, an armature (else greyed out)."""
    return _poll_bundle(cls, context) and (not on_armature or _poll_armature(cls, context))


class CHOREOLINGO_OT_generate(SteppedOperator, bpy.types.Operator):
    """Generate motion from the prompt: one new action per variation"""

    bl_idname = "choreolingo.generate"
    bl_label = "Generate"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _poll_engine(cls, context, on_armature=context.scene.choreolingo.target != "NEW")

    def steps(self, context):
        settings = context.scene.choreolingo
        yield 0.0, "loading the model"
        engine = engine_for(context)
        motions = []
        for index in range(settings.variations):
            yield index / (settings.variations + 1), f"generating variation {index + 1}"
            motions += engine.generate(settings.prompt, seconds=settings.seconds, seed=settings.seed + index, n=1)
        yield settings.variations / (settings.variations + 1), "writing keyframes"
        target = None if settings.target == "NEW" else generation.active_armature(context)
        obj, actions, rig = generation.keyframe_motions(context.scene, motions, settings.prompt, target)
        if target is None:
            for other in context.selected_objects:
                other.select_set(False)
            obj.select_set(True)
            context.view_layer.objects.active = obj
        left = f"; bones left at rest: {', '.join(rig.unmapped)}" if rig.unmapped and target else ""
        self.report({"INFO"}, f"Generated {len(actions)} action(s) on '{obj.name}': "
                    f"{', '.join(a.name for a in actions)}{left}")


class CHOREOLINGO_OT_describe(SteppedOperator, bpy.types.Operator):
    """Describe the active armature's motion in words (top matches with scores)"""

    bl_idname = "choreolingo.describe_motion"
    bl_label = "Describe Motion"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        return _poll_engine(cls, context)

    def steps(self, context):
        settings = context.scene.choreolingo
        obj = generation.active_armature(context)
        yield 0.0, "sampling the motion"
        motion = generation.sample_for_description(obj, context.scene, settings)
        yield 0.4, "loading the model"
        engine = engine_for(context)
        yield 0.6, "describing"
        description = engine.describe(motion, top_k=settings.top_k)
        generation.store_description(settings, obj.name, description)
        self.report({"INFO"}, generation.description_report(description))


class CHOREOLINGO_OT_interpolate(SteppedOperator, bpy.types.Operator):
    """Show the latent path between two prompts or two actions as a row of ghost armatures"""

    bl_idname = "choreolingo.interpolate"
    bl_label = "Interpolate"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        settings = context.scene.choreolingo
        if not _poll_bundle(cls, context):
            return False
        if settings.path_source == "ACTIONS" and not (settings.action_a and settings.action_b):
            cls.poll_message_set("Pick two actions")
            return False
        return settings.path_source == "PROMPTS" or _poll_armature(cls, context)

    def steps(self, context):
        settings = context.scene.choreolingo
        if settings.path_source == "PROMPTS":
            ends, label = (settings.prompt_a, settings.prompt_b), f"{settings.prompt_a} -> {settings.prompt_b}"
        else:
            yield 0.0, "sampling the actions"
            obj = generation.active_armature(context)
            ends = tuple(sampling.sample_action(obj, context.scene, a) for a in (settings.action_a, settings.action_b))
            label = f"{settings.action_a.name} -> {settings.action_b.name}"
        yield 0.2, "loading the model"
        engine = engine_for(context)
        yield 0.4, "interpolating"
        motions = engine.interpolate(ends[0], ends[1], settings.steps)
        yield 0.8, "building the ghosts"
        interpolation.build_path(context.scene, motions, label)
        settings.bake_step = min(settings.bake_step, len(motions) - 1)
        self.report({"INFO"}, f"Path of {len(motions)} steps: {label}")


class CHOREOLINGO_OT_bake_step(bpy.types.Operator):
    """Bake the chosen path step onto the active armature as a new action"""

    bl_idname = "choreolingo.bake_step"
    bl_label = "Bake Step"
    bl_options = {"REGISTER", "UNDO"}

    @classmethod
    def poll(cls, context):
        if interpolation.ghost(context.scene.choreolingo.bake_step) is None:
            cls.poll_message_set("No such step: run Interpolate first")
            return False
        obj = generation.active_armature(context)
        if obj is None or interpolation.STEP_PROPERTY in obj:
            cls.poll_message_set("Select the armature to bake onto (not a ghost)")
            return False
        return True

    def execute(self, context):
        from engine.errors import ChoreolingoError

        settings = context.scene.choreolingo
        step_ghost = interpolation.ghost(settings.bake_step)
        try:
            motion = interpolation.step_motion(context.scene, step_ghost)
            target = generation.active_armature(context)
            obj, actions, rig = generation.keyframe_motions(context.scene, [motion], step_ghost.animation_data.action.name, target)
        except ChoreolingoError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"Baked step {settings.bake_step} onto '{obj.name}' as '{actions[0].name}'")
        return {"FINISHED"}


def draw_context_menu(self, context):
    if generation.active_armature(context) is not None:
        self.layout.separator()
        self.layout.operator(CHOREOLINGO_OT_describe.bl_idname, icon="TEXT")


CLASSES = (CHOREOLINGO_OT_generate, CHOREOLINGO_OT_describe, CHOREOLINGO_OT_interpolate, CHOREOLINGO_OT_bake_step)
MENUS = ("VIEW3D_MT_object_context_menu", "OUTLINER_MT_object")


def register() -> None:
    for menu in MENUS:
        getattr(bpy.types, menu).append(draw_context_menu)


def unregister() -> None:
    for menu in MENUS:
        getattr(bpy.types, menu).remove(draw_context_menu)
