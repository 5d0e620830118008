"""The Motion Library in Blender (bpy module): index a folder and this file's actions, search, use a hit."""

from __future__ import annotations

import pytest

from tests.test_library import extract_clips

pytestmark = pytest.mark.blender
bpy = pytest.importorskip("bpy")


@pytest.fixture(scope="module")
def scene(tiny_bundle, bandai2, tmp_path_factory):
    """A fresh Blender session with the add-on registered (bundle from CHOREOLINGO_BUNDLE)."""
    monkey = pytest.MonkeyPatch()
    monkey.setenv("CHOREOLINGO_BUNDLE", str(tiny_bundle))
    bpy.ops.wm.read_factory_settings(use_empty=True)
    import addon

    addon.register()
    folder = tmp_path_factory.mktemp("blender_library")
    extract_clips(bandai2, folder, ("run", "wave-both-hands", "walk"), 2)
    settings = bpy.context.scene.choreolingo_library
    settings.folder = str(folder)
    yield bpy.context.scene
    addon.unregister()
    monkey.undo()


def search(settings, query: str) -> list:
    settings.query = query
    assert bpy.ops.choreolingo.library_search() == {"FINISHED"}
    return list(settings.hits)


def test_folder_index_search_and_use_on_a_new_armature(scene):
    settings = scene.choreolingo_library
    settings.source = "FOLDER"
    assert bpy.ops.choreolingo.library_index() == {"FINISHED"}
    assert settings.status.startswith("6 clips indexed (6 read")
    hits = search(settings, "a person runs")
    assert len(hits) == 6 and hits[0].score >= hits[-1].score
    assert "_run_" in hits[0].name
    before = set(bpy.data.actions)
    assert bpy.ops.choreolingo.library_use(index=0) == {"FINISHED"}
    (action,) = set(bpy.data.actions) - before
    hit = settings.hits[0]
    assert action.name.startswith(hit.name) and f"[{hit.start}-{hit.end}]" in action.name
    start, end = action.frame_range
    fps = scene.render.fps / scene.render.fps_base
    assert end - start + 1 == pytest.approx((hit.end - hit.start) * fps / hit.fps, abs=1.5)
    obj = bpy.context.view_layer.objects.active
    assert obj.type == "ARMATURE" and obj.animation_data.action == action

    assert bpy.ops.choreolingo.library_index() == {"FINISHED"}
    assert "(0 read" in settings.status  # nothing changed on disk


def test_this_files_actions_are_indexed_and_a_hit_becomes_a_range_limited_copy(scene, tmp_path):
    settings = scene.choreolingo_library
    settings.source = "FOLDER"
    search(settings, "someone waves both hands")
    assert bpy.ops.choreolingo.library_use(index=0) == {"FINISHED"}  # a second action on the armature
    bpy.ops.wm.save_as_mainfile(filepath=str(tmp_path / "scene.blend"))
    settings = bpy.context.scene.choreolingo_library
    settings.source = "ACTIONS"
    assert bpy.ops.choreolingo.library_index() == {"FINISHED"}
    assert (tmp_path / ".choreolingo-actions-scene" / "index.json").is_file()  # kept beside the .blend
    actions = [a for a in bpy.data.actions if a.name.endswith("]")]
    assert settings.status.startswith(f"{len(actions)} clips indexed")
    hits = search(settings, "someone waves both hands")
    assert hits[0].key.startswith("action:")
    source = bpy.data.actions[hits[0].key[len("action:"):]]
    assert bpy.ops.choreolingo.library_use(index=0) == {"FINISHED"}
    obj = bpy.context.view_layer.objects.active
    copy = obj.animation_data.action
    assert copy != source and copy.use_frame_range
    assert source.frame_range[0] - 0.01 <= copy.frame_start < copy.frame_end <= source.frame_range[1] + 0.01

    assert bpy.ops.choreolingo.library_index() == {"FINISHED"}
    assert "(1 read" in settings.status  # only the new copy is sampled; the others are unchanged
