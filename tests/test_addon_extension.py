"""The built extension zip in a fresh Blender (bpy 5.0.1, temporary user folder): install, register, run.

Runs in a subprocess: the user folder must be set before ``import bpy``, and one Blender per process.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.archive import iter_archive
from engine.bvh import read_bvh
from engine.runtime import Engine

pytestmark = [pytest.mark.slow, pytest.mark.blender]
# Clips of six different contents that the tiny test model trained on (its first clips of each archive): the
# model is small, so this checks the Blender path (import, sampling, describe) end to end, not generalisation,
# which the training evaluation measures on held-out takes.
CLIPS = {
    "dataset-1_dance-short_normal_001": "dance-short",
    "dataset-1_run_masculinity_001": "run",
    "dataset-1_bye_feminine_001": "bye",
    "dataset-2_walk-turn-right_masculine_007": "walk-turn-right",
    "dataset-2_wave-both-hands_active_029": "wave-both-hands",
    "dataset-2_raise-up-both-hands_masculine_029": "raise-up-both-hands",
}

SCRIPT = textwrap.dedent('''
    import json, sys
    import bpy
    zip_path, clips = sys.argv[1], sys.argv[2:]
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.extensions.package_install_files(filepath=zip_path, repo="user_default", enable_on_install=True)
    out = {"enabled": "bl_ext.user_default.choreolingo" in bpy.context.preferences.addons}
    scene = bpy.context.scene
    scene.render.fps = 30
    settings = scene.choreolingo
    settings.prompt, settings.seconds, settings.variations, settings.target = "a person walks", 4.0, 2, "NEW"
    bpy.ops.ed.undo_push(message="before generate")
    out["generate_new"] = list(bpy.ops.choreolingo.generate())
    rig = bpy.context.view_layer.objects.active
    out["new_rig"] = [rig.name, rig.animation_data.action.name, len(bpy.data.actions)]
    # Headless there is no window to push the operator's undo step, so push it as the UI would.
    bpy.ops.ed.undo_push(message="Generate")
    bpy.ops.ed.undo()
    out["after_undo"] = [len(bpy.data.objects), len(bpy.data.actions)]
    out["describe"] = {}
    for clip in clips:
        bpy.ops.wm.read_homefile(use_empty=True)  # keeps the preferences (factory settings would disable us)
        bpy.ops.import_anim.bvh(filepath=clip, update_scene_fps=True, update_scene_duration=True)
        assert list(bpy.ops.choreolingo.describe_motion()) == ["FINISHED"]
        settings = bpy.context.scene.choreolingo
        out["describe"][clip] = [settings.sentence, settings.content, [[m.text, m.score] for m in settings.matches]]
    # Disabling and enabling again (Preferences) keeps the add-on working.
    bpy.ops.preferences.addon_disable(module="bl_ext.user_default.choreolingo")
    bpy.ops.preferences.addon_enable(module="bl_ext.user_default.choreolingo")
    out["describe_after_reenable"] = list(bpy.ops.choreolingo.describe_motion())
    settings = bpy.context.scene.choreolingo  # registered anew by the enable
    imported = bpy.context.view_layer.objects.active
    settings.prompt, settings.target, settings.variations = "a person walks", "ACTIVE", 1
    out["generate_imported"] = list(bpy.ops.choreolingo.generate())
    out["imported_action"] = imported.animation_data.action.name
    bpy.ops.preferences.addon_disable(module="bl_ext.user_default.choreolingo")
    out["leftovers"] = [n for n in dir(bpy.types) if n.startswith("CHOREOLINGO")] + (
        ["Scene.choreolingo"] if hasattr(bpy.types.Scene, "choreolingo") else [])
    print("RESULT " + json.dumps(out))
''')


@pytest.fixture(scope="module")
def clip_files(bandai1, bandai2, tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("clips")
    files = []
    for archive in (bandai1, bandai2):
        for name, data in iter_archive(archive):
            if Path(name).stem in CLIPS:
                files.append(folder / Path(name).name)
                files[-1].write_bytes(data)
    assert len(files) == len(CLIPS)
    return sorted(files)


def test_extension_installs_generates_describes_undoes_and_unregisters(extension_zip, tiny_bundle, clip_files,
                                                                       tmp_path):
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "user"))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(extension_zip), *map(str, clip_files)], env=env,
                          capture_output=True, text=True, timeout=600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, done.stdout[-3000:] + done.stderr[-3000:]
    out = json.loads(lines[-1][len("RESULT "):])
    assert out["enabled"]
    assert out["generate_new"] == ["FINISHED"] and out["new_rig"][1] == "a person walks 1"
    assert out["new_rig"][2] == 2  # one action per variation, nothing else
    assert out["after_undo"] == [0, 0]  # one undo step removes the rig and its actions
    assert out["generate_imported"] == ["FINISHED"] and out["imported_action"] == "a person walks"
    assert out["leftovers"] == []
    assert out["describe_after_reenable"] == ["FINISHED"]
    # Describing the imported armature names the clip's content, and says what the engine says about the same
    # file read directly (the same scores, to sampling precision).
    engine = Engine(tiny_bundle)
    assert len(out["describe"]) == len(CLIPS)
    right = 0
    for clip, (sentence, content, matches) in out["describe"].items():
        expected = engine.describe(read_bvh(clip), top_k=len(engine.bank[0]))
        right += content == CLIPS[Path(clip).stem]
        scores = dict(expected.matches)
        for text, score in matches:
            assert abs(score - scores[text]) < 0.01
    assert right >= len(CLIPS) - 1, out["describe"]
