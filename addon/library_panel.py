"""The "Motion Library" sidebar panel: pick a folder or this file's actions, index, search, use a result.

``register``/``unregister`` here cover the whole library feature (its properties, operators and UI), so the
add-on's ``__init__`` needs one import and one call each way.
"""

import bpy

from . import library_ops
from .panel import Sidebar


class CHOREOLINGO_UL_library_hits(bpy.types.UIList):
    """One row per result: name, matched range in seconds, score."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_property, index=0, flt_flag=0):
        row = layout.row(align=True)
        row.label(text=item.name, icon="FILE" if item.path != item.key else "ACTION")
        seconds = f"{item.start / item.fps:.1f}-{item.end / item.fps:.1f} s" if item.fps else ""
        row.label(text=seconds)
        row.label(text=f"{item.score:.2f}")
        row.operator(library_ops.CHOREOLINGO_OT_library_use.bl_idname, text="", icon="IMPORT").index = index


class CHOREOLINGO_PT_library(Sidebar, bpy.types.Panel):
    bl_label = "Motion Library"
    bl_options = {"DEFAULT_CLOSED"}

    def draw(self, context):
        settings = context.scene.choreolingo_library
        layout = self.layout
        layout.prop(settings, "source", expand=True)
        row = layout.row(align=True)
        if settings.source == "FOLDER":
            row.prop(settings, "folder", text="")
        row.operator(library_ops.CHOREOLINGO_OT_library_index.bl_idname, text="Index", icon="FILE_REFRESH")
        if settings.status:
            layout.label(text=settings.status, icon="INFO")
        row = layout.row(align=True)
        row.prop(settings, "query", text="", icon="VIEWZOOM")
        row.prop(settings, "top_k", text="")
        layout.operator(library_ops.CHOREOLINGO_OT_library_search.bl_idname, text="Search", icon="VIEWZOOM")
        layout.template_list("CHOREOLINGO_UL_library_hits", "", settings, "hits", settings, "hit_index", rows=5)
        layout.operator(library_ops.CHOREOLINGO_OT_library_use.bl_idname, text="Use Selected Result",
                        icon="ARMATURE_DATA").index = -1


CLASSES = library_ops.CLASSES + (CHOREOLINGO_UL_library_hits, CHOREOLINGO_PT_library)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    library_ops.register()


def unregister() -> None:
    library_ops.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
