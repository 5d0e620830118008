"""Add-on preferences: which model bundle, how many threads, and what onnxruntime runs on."""

import bpy
from bpy.props import IntProperty, StringProperty

from . import engine_loader


class CHOREOLINGO_AP_preferences(bpy.types.AddonPreferences):
    bl_idname = __package__

    bundle_path: StringProperty(
        name="Model Bundle",
        description="Folder of a Choreolingo model bundle; empty uses the one embedded in the extension",
        subtype="DIR_PATH",
    )
    threads: IntProperty(name="Threads", description="onnxruntime threads (0 = automatic)", default=0, min=0, max=64)

    def draw(self, context):
        layout = self.layout
        layout.prop(self, "bundle_path")
        found = engine_loader.bundle_dir(self.bundle_path)
        layout.label(text=f"Using: {found}" if found else "No bundle found", icon="CHECKMARK" if found else "ERROR")
        layout.prop(self, "threads")
        layout.label(text=engine_loader.device_info(), icon="SYSTEM")


CLASSES = (CHOREOLINGO_AP_preferences,)
