"""Choreolingo for Blender: text to dance keyframes and dance to text, on top of the ``engine`` package.

Modules, one concept each: ``armature`` (canonical rig, mapping user rigs), ``retarget`` (positions ->
bone rotations), ``keyframes`` (Motion -> action), ``sampling`` (action -> Motion), ``generation`` (the
scene side of Generate/Describe), ``interpolation`` (ghost path), ``operators``, ``panel``, ``properties``,
``preferences``, ``progress``, ``engine_loader`` (engine, bundle, wheels) and ``batch`` (headless runs).
"""

from . import engine_loader

engine_loader.ensure_importable()

import bpy  # noqa: E402

from . import operators, panel, preferences, properties  # noqa: E402
from . import library_panel  # noqa: E402  (Motion Library: its own properties, operators, panel)

# Legacy add-on header for Blender < 4.2 (4.2+ reads blender_manifest.toml instead).
bl_info = {
    "name": "Choreolingo",
    "author": "Choreolingo",
    "version": (0, 1, 0),
    "blender": (3, 4, 0),
    "location": "3D View > Sidebar > Choreolingo",
    "description": "Text to dance keyframes and dance to text",
    "category": "Animation",
}

CLASSES = properties.CLASSES + preferences.CLASSES + operators.CLASSES + panel.CLASSES


def register() -> None:
    engine_loader.ensure_importable()
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    properties.register()
    operators.register()
    library_panel.register()


def unregister() -> None:
    library_panel.unregister()
    operators.unregister()
    properties.unregister()
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
    engine_loader.release()
