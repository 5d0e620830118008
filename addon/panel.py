"""The sidebar panel (3D view, "Choreolingo" tab): Generate, Describe and Interpolate."""

import bpy

from . import operators


class Sidebar:
    """Where the add-on's panels live: the 3D view's sidebar, "Choreolingo" tab."""

    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "Choreolingo"


class CHOREOLINGO_PT_generate(Sidebar, bpy.types.Panel):
    bl_label = "Generate"

    def draw(self, context):
        settings = context.scene.choreolingo
        layout = self.layout
        layout.prop(settings, "prompt", text="")
        column = layout.column(align=True)
        column.prop(settings, "seconds")
        column.prop(settings, "seed")
        column.prop(settings, "variations")
        layout.prop(settings, "target", expand=True)
        layout.operator(operators.CHOREOLINGO_OT_generate.bl_idname, icon="ARMATURE_DATA")


class CHOREOLINGO_PT_describe(Sidebar, bpy.types.Panel):
    bl_label = "Describe"

    def draw(self, context):
        settings = context.scene.choreolingo
        layout = self.layout
        row = layout.row(align=True)
        row.prop(settings, "use_frame_range", text="")
        sub = row.row(align=True)
        sub.active = settings.use_frame_range
        sub.prop(settings, "frame_start")
        sub.prop(settings, "frame_end")
        layout.prop(settings, "top_k")
        layout.operator(operators.CHOREOLINGO_OT_describe.bl_idname, icon="TEXT")
        if settings.sentence:
            box = layout.box()
            box.label(text=settings.described, icon="ARMATURE_DATA")
            box.label(text=settings.sentence)
            if settings.content:
                box.label(text=f"content: {settings.content}   style: {settings.style or '-'}")
            for match in settings.matches:
                row = box.row()
                row.label(text=match.text)
                row.label(text=f"{match.score:.2f}")


class CHOREOLINGO_PT_interpolate(Sidebar, bpy.types.Panel):
    bl_label = "Interpolate"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.choreolingo
        layout = self.layout
        layout.prop(settings, "path_source", expand=True)
        if settings.path_source == "PROMPTS":
            layout.prop(settings, "prompt_a", text="A")
            layout.prop(settings, "prompt_b", text="B")
        else:
            layout.prop(settings, "action_a", text="A")
            layout.prop(settings, "action_b", text="B")
        layout.prop(settings, "steps")
        layout.operator(operators.CHOREOLINGO_OT_interpolate.bl_idname, icon="IPO_EASE_IN_OUT")
        row = layout.row(align=True)
        row.prop(settings, "bake_step")
        row.operator(operators.CHOREOLINGO_OT_bake_step.bl_idname, icon="KEYINGSET")


CLASSES = (CHOREOLINGO_PT_generate, CHOREOLINGO_PT_describe, CHOREOLINGO_PT_interpolate)
