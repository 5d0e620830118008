"""Motion Library operators: index a folder or this file's actions, search them by words, use a hit.

A folder's index lives inside it (``engine.library.DEFAULT_INDEX_NAME``), so the next session and the command
line (``python -m engine search``) share it. The open file's actions are indexed beside the .blend (in
memory while the file is unsaved): each is played on the active armature and sampled, and its fingerprint
(frame range and key values) plays the role of a file's modification time, so re-indexing samples only
changed actions.

Using a hit: a file's clip is loaded, cut to the matched range and keyframed onto the active armature (or a
new Choreolingo armature) as a new action; an action hit becomes a copy of that action whose manual frame
range is the matched range, assigned to the active armature (its keys are kept, so the range can be widened).
"""

import hashlib
from pathlib import Path

import bpy
import numpy as np
from bpy.props import (
    CollectionProperty,
    EnumProperty,
    FloatProperty,
    IntProperty,
    PointerProperty,
    StringProperty,
)
from engine import library
from engine.errors import BundleError, ChoreolingoError, EngineInputError

from . import generation, sampling
from .keyframes import assign_action, scene_fps
from .operators import _poll_bundle, _poll_engine, engine_for
from .progress import SteppedOperator

ACTION_PREFIX = "action:"


class CHOREOLINGO_PG_library_hit(bpy.types.PropertyGroup):
    key: StringProperty(name="Key")
    path: StringProperty(name="Path")
    score: FloatProperty(name="Score")
    start: IntProperty(name="Start")  # matched range in the indexed motion's frames (at ``fps``)
    end: IntProperty(name="End")
    fps: FloatProperty(name="FPS")


class CHOREOLINGO_PG_library(bpy.types.PropertyGroup):
    source: EnumProperty(
        name="Library",
        items=[("FOLDER", "Folder", "A folder of .bvh/.npy clips (searched recursively)"),
               ("ACTIONS", "This File's Actions", "The actions of the open .blend, played on the active armature")],
    )
    folder: StringProperty(name="Folder", subtype="DIR_PATH")
    query: StringProperty(name="Query", default="a person waves both hands")
    top_k: IntProperty(name="Results", default=10, min=1, max=100)
    status: StringProperty(name="Status")
    hits: CollectionProperty(type=CHOREOLINGO_PG_library_hit)
    hit_index: IntProperty(name="Result")


# Index of an unsaved file's actions (a saved file's goes to disk beside it).
_unsaved_actions_index: dict = {"index": None}
# Indexes read from disk, by folder, with the index.json stamp they were read at (searches reuse them).
_loaded: dict = {}


def folder_of(settings) -> Path:
    if not settings.folder:
        raise EngineInputError("choose a folder of .bvh/.npy clips")
    folder = Path(bpy.path.abspath(settings.folder)).resolve()
    if not folder.is_dir():
        raise EngineInputError(f"{folder}: not a folder")
    return folder


def index_dir(settings) -> Path | None:
    """Where the selected library's index is kept (None: this unsaved file's actions, kept in memory)."""
    if settings.source == "FOLDER":
        return folder_of(settings) / library.DEFAULT_INDEX_NAME
    if not bpy.data.filepath:
        return None
    blend = Path(bpy.data.filepath)
    return blend.parent / f".choreolingo-actions-{blend.stem}"


def stored_index(settings):
    """The selected library's index, or None when it has not been indexed yet."""
    out = index_dir(settings)
    if out is None:
        return _unsaved_actions_index["index"]
    json_path = out / library.INDEX_JSON
    if not json_path.is_file():
        return None
    stamp = library.file_stamp(json_path)
    cached = _loaded.get(str(out))
    if cached is None or cached[0] != stamp:
        _loaded[str(out)] = (stamp, library.LibraryIndex.load(out))
    return _loaded[str(out)][1]


def store_index(settings, index) -> None:
    out = index_dir(settings)
    if out is None:
        _unsaved_actions_index["index"] = index
    else:
        index.save(out)


# ---------------------------------------------------------------------------------------------------------
# This file's actions as clip sources
# ---------------------------------------------------------------------------------------------------------
def action_fcurves(action) -> list:
    """Every F-curve of an action: in its layers' channelbags (Blender 4.4+) or directly on it (before)."""
    if getattr(action, "layers", None):
        return [curve for layer in action.layers for strip in layer.strips
                for bag in getattr(strip, "channelbags", ()) for curve in bag.fcurves]
    return list(getattr(action, "fcurves", ()))


def action_fingerprint(action) -> str:
    """Changes whenever the action's frame range, curves or key values change."""
    digest = hashlib.sha1(repr(tuple(action.frame_range)).encode())
    for curve in action_fcurves(action):
        digest.update(f"{curve.data_path}[{curve.array_index}]".encode())
        keys = np.empty(len(curve.keyframe_points) * 2, np.float32)
        curve.keyframe_points.foreach_get("co", keys)
        digest.update(keys.tobytes())
    return digest.hexdigest()


def animates_bones(action) -> bool:
    return any(curve.data_path.startswith("pose.bones") for curve in action_fcurves(action))


def action_sources(obj, scene) -> list:
    """One clip source per bone action of the file, sampled on ``obj`` when (re)indexed."""
    sources = []
    for action in bpy.data.actions:
        if not animates_bones(action):
            continue
        key = ACTION_PREFIX + action.name
        sources.append(library.ClipSource(key, [action_fingerprint(action)],
                                          lambda a=action: sampling.sample_action(obj, scene, a)))
    return sources


# ---------------------------------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------------------------------
class CHOREOLINGO_OT_library_index(SteppedOperator, bpy.types.Operator):
    """Index the library for search (re-indexing reads only new and changed clips)"""

    bl_idname = "choreolingo.library_index"
    bl_label = "Index Library"

    @classmethod
    def poll(cls, context):
        return _poll_engine(cls, context, on_armature=context.scene.choreolingo_library.source != "FOLDER")

    def steps(self, context):
        settings = context.scene.choreolingo_library
        yield 0.0, "loading the model"
        engine = engine_for(context)
        if settings.source == "FOLDER":
            root = str(folder_of(settings))
            sources = list(library.folder_sources(root, exclude=[index_dir(settings)]))
        else:
            root = ""
            sources = action_sources(generation.active_armature(context), context.scene)
        try:
            builder = library.IndexBuilder(engine, stored_index(settings), root)
        except BundleError:  # indexed with another model: every clip must be embedded again
            builder = library.IndexBuilder(engine, None, root)
        for n, source in enumerate(sources):
            yield n / max(len(sources), 1), f"indexing {source.key}"
            builder.add(source)
        index, report = builder.finish()
        store_index(settings, index)
        settings.status = (f"{len(index.entries)} clips indexed ({len(report.read)} read, "
                           f"{len(report.dropped)} dropped, {len(report.failed)} unreadable)")
        for failure in report.failed:
            print(f"Choreolingo library: unreadable {failure.key}: {failure.error}")
        unreadable = f"; unreadable: {', '.join(f.key for f in report.failed)}" if report.failed else ""
        self.report({"WARNING" if report.failed else "INFO"}, settings.status + unreadable)


class CHOREOLINGO_OT_library_search(bpy.types.Operator):
    """Find the clips (and the frame range inside each) that best match the query"""

    bl_idname = "choreolingo.library_search"
    bl_label = "Search Library"

    @classmethod
    def poll(cls, context):
        return _poll_bundle(cls, context)

    def execute(self, context):
        settings = context.scene.choreolingo_library
        try:
            engine = engine_for(context)
            index = stored_index(settings)
            if index is None:
                raise EngineInputError("this library is not indexed yet: press Index")
            hits = library.search(engine, index, settings.query, settings.top_k)
        except ChoreolingoError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        settings.hits.clear()
        for hit in hits:
            item = settings.hits.add()
            item.name, item.key, item.path = hit.name, hit.key, hit.path
            item.score, item.start, item.end, item.fps = hit.score, hit.start, hit.end, hit.fps
        settings.hit_index = 0
        self.report({"INFO"}, f"{len(hits)} results for '{settings.query}'")
        return {"FINISHED"}


class CHOREOLINGO_OT_library_use(bpy.types.Operator):
    """Put this clip, limited to the matched range, on the active armature as a new action"""

    bl_idname = "choreolingo.library_use"
    bl_label = "Use Result"
    bl_options = {"REGISTER", "UNDO"}

    index: IntProperty(name="Result", default=-1, description="Result to use (-1: the selected one)")

    def execute(self, context):
        settings = context.scene.choreolingo_library
        position = settings.hit_index if self.index < 0 else self.index
        if not 0 <= position < len(settings.hits):
            self.report({"ERROR"}, "no such result: search first")
            return {"CANCELLED"}
        hit = settings.hits[position]
        label = f"{hit.name} [{hit.start}-{hit.end}]"
        try:
            if hit.key.startswith(ACTION_PREFIX):
                obj, action = self.use_action(context, hit, label)
            else:
                obj, action = self.use_file(context, hit, label)
        except ChoreolingoError as error:
            self.report({"ERROR"}, str(error))
            return {"CANCELLED"}
        self.report({"INFO"}, f"'{action.name}' on '{obj.name}'")
        return {"FINISHED"}

    @staticmethod
    def use_file(context, hit, label):
        from engine.io import load_motion

        motion = load_motion(hit.path).resample(hit.fps).slice(hit.start, hit.end)
        motion.name = label
        obj, actions, _ = generation.keyframe_motions(context.scene, [motion], label,
                                                      generation.active_armature(context))
        return obj, actions[0]

    @staticmethod
    def use_action(context, hit, label):
        obj = generation.active_armature(context)
        if obj is None:
            raise EngineInputError("select the armature to play the action on")
        source = bpy.data.actions.get(hit.key[len(ACTION_PREFIX):])
        if source is None:
            raise EngineInputError(f"action {hit.key[len(ACTION_PREFIX):]} is gone: index again")
        # Index frames are model frames counted from the action's first frame; it plays at the scene's rate.
        first, fps = source.frame_range[0], scene_fps(context.scene)
        action = source.copy()
        action.name = label
        action.use_fake_user = True
        action.use_frame_range = True
        action.frame_start = first + hit.start * fps / hit.fps
        action.frame_end = first + (hit.end - 1) * fps / hit.fps
        slots = getattr(action, "slots", None)
        assign_action(obj, action, slots[0] if slots else None)
        return obj, action


CLASSES = (
    CHOREOLINGO_PG_library_hit,
    CHOREOLINGO_PG_library,
    CHOREOLINGO_OT_library_index,
    CHOREOLINGO_OT_library_search,
    CHOREOLINGO_OT_library_use,
)


def register() -> None:
    bpy.types.Scene.choreolingo_library = PointerProperty(type=CHOREOLINGO_PG_library)


def unregister() -> None:
    del bpy.types.Scene.choreolingo_library
    _unsaved_actions_index["index"] = None
    _loaded.clear()
