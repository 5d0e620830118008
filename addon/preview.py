"""A solid-shaded stick-figure preview of an armature's motion, rendered headless with Workbench.

Armatures do not render, so each bone gets a box weighted to it (one mesh, an Armature modifier); an
orthographic camera frames the whole motion from the front-left. Works from Blender 3.4 to 5.0.
"""

from pathlib import Path

import bpy
import numpy as np
from mathutils import Vector

BONE_WIDTH = 0.06  # metres; the box's cross-section


def stick_figure(obj) -> bpy.types.Object:
    """A mesh of one box per bone, deformed by ``obj`` (linked next to it)."""
    vertices, faces = [], []
    corners = [(-1, 0, -1), (1, 0, -1), (1, 0, 1), (-1, 0, 1), (-1, 1, -1), (1, 1, -1), (1, 1, 1), (-1, 1, 1)]
    quads = [(0, 1, 2, 3), (4, 7, 6, 5), (0, 4, 5, 1), (1, 5, 6, 2), (2, 6, 7, 3), (3, 7, 4, 0)]
    width = BONE_WIDTH / max(obj.matrix_world.to_scale())
    for bone in obj.data.bones:
        matrix = np.array(bone.matrix_local)
        local = np.array(corners, dtype=np.float64) * [width / 2, bone.length, width / 2]
        base = len(vertices)
        vertices += (local @ matrix[:3, :3].T + matrix[:3, 3]).tolist()
        faces += [tuple(base + i for i in quad) for quad in quads]
    mesh = bpy.data.meshes.new(f"{obj.name} preview")
    mesh.from_pydata(vertices, [], faces)
    figure = bpy.data.objects.new(mesh.name, mesh)
    for collection in obj.users_collection:
        collection.objects.link(figure)
    figure.parent = obj
    for index, bone in enumerate(obj.data.bones):
        figure.vertex_groups.new(name=bone.name).add(list(range(index * 8, index * 8 + 8)), 1.0, "REPLACE")
    figure.modifiers.new("Armature", "ARMATURE").object = obj
    return figure


def frame_camera(scene, points: np.ndarray) -> bpy.types.Object:
    """An orthographic camera seeing every point (world space, [N, 3]) from the front-left, slightly above."""
    low, high = points.min(axis=0), points.max(axis=0)
    centre = Vector(((low + high) / 2).tolist())
    size = float(np.max(high - low)) * 1.3 + 0.5
    camera = bpy.data.objects.new("Preview Camera", bpy.data.cameras.new("Preview Camera"))
    scene.collection.objects.link(camera)
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = size
    direction = Vector((-0.6, -1.0, 0.35)).normalized()
    camera.location = centre + direction * size * 2
    camera.rotation_euler = (-direction).to_track_quat("-Z", "Y").to_euler()
    camera.data.clip_end = size * 5
    scene.camera = camera
    return camera


def render_frames(scene, obj, points: np.ndarray, out_dir: Path, count: int = 6, size=(320, 240)) -> list[Path]:
    """Render ``count`` frames spread over the scene's range to ``out_dir``/frame_NNNN.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stick_figure(obj)
    frame_camera(scene, points)
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.render.resolution_x, scene.render.resolution_y = size
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    scene.display.shading.color_type = "SINGLE"
    frames = np.unique(np.linspace(scene.frame_start, scene.frame_end, count).round().astype(int))
    written = []
    for frame in frames:
        scene.frame_set(int(frame))
        path = out_dir / f"frame_{frame:04d}.png"
        scene.render.filepath = str(path)
        bpy.ops.render.render(write_still=True)
        written.append(path)
    return written
