"""The Blender layer in the bpy module, on real Bandai clips: keyframes, sampling, rig mapping, registration.

One module so that one Blender (bpy) serves every test; each test starts from factory settings.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

bpy = pytest.importorskip("bpy")

from engine.archive import iter_archive  # noqa: E402
from engine.bvh import read_bvh  # noqa: E402
from engine.errors import SkeletonMappingError  # noqa: E402
from engine.skeleton import PARENTS  # noqa: E402

from addon import armature, generation, preview, sampling  # noqa: E402
from addon.axes import to_blender  # noqa: E402

pytestmark = pytest.mark.blender
CLIPS = ("dataset-1_kick_normal_001", "dataset-1_walk_normal_001", "dataset-1_bow_normal_001")


@pytest.fixture(scope="module")
def clip_files(bandai1, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bvh")
    files = {}
    for name, data in iter_archive(bandai1):
        stem = Path(name).stem
        if stem in CLIPS:
            files[stem] = folder / f"{stem}.bvh"
            files[stem].write_bytes(data)
    assert sorted(files) == sorted(CLIPS)
    return files


@pytest.fixture
def scene():
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    return scene


def import_bvh(path: Path):
    bpy.ops.import_anim.bvh(filepath=str(path), update_scene_fps=True, update_scene_duration=True)
    return bpy.context.view_layer.objects.active


@pytest.mark.parametrize("clip", CLIPS)
def test_bvh_import_samples_like_the_engine_reader(scene, clip_files, clip):
    obj = import_bvh(clip_files[clip])
    sampled = sampling.sample_motion(obj, scene)
    expected = read_bvh(clip_files[clip], fps=None)
    assert sampled.frames == expected.frames
    assert sampled.meta["units"] == expected.meta["units"] == "cm"
    assert np.abs(sampled.positions - expected.positions).max() < 1e-4


def test_keyframes_round_trip_on_new_armature_and_on_the_imported_rig(scene, clip_files):
    motion = read_bvh(clip_files["dataset-1_kick_normal_001"])
    obj, actions, rig = generation.keyframe_motions(scene, [motion], "a kick")
    assert rig.unmapped == [] and obj.animation_data.action == actions[0]
    # The new armature has the motion's own bone lengths (median over frames) in the canonical directions.
    parents = np.array(PARENTS)
    bones = np.flatnonzero(parents >= 0)
    rig_lengths = np.linalg.norm(rig.heads[bones] - rig.heads[parents[bones]], axis=-1)
    motion_lengths = np.median(np.linalg.norm(motion.positions[:, bones] - motion.positions[:, parents[bones]],
                                              axis=-1), axis=0)
    assert np.abs(rig_lengths - motion_lengths).max() < 1e-4
    back = sampling.sample_motion(obj, scene)
    error = np.linalg.norm(back.positions - motion.positions, axis=-1)
    # What is left comes from the hips' and the chest's three children, which Bandai places differently from
    # the T-pose: 2.8 cm at most, 1.8 cm on average (the canonical bone lengths gave 14 and 7).
    assert back.frames == motion.frames and error.max() < 0.03 and error.mean() < 0.02
    assert error[:, 0].max() < 1e-4  # root translation is exact
    # Onto the imported Bandai rig itself (a user rig with an extra root bone): exact.
    bandai = import_bvh(clip_files["dataset-1_walk_normal_001"])
    _, _, bandai_rig = generation.keyframe_motions(scene, [motion], "a kick", target=bandai)
    assert bandai_rig.unmapped == ["joint_Root"]
    back = sampling.sample_motion(bandai, scene)
    assert np.abs(back.positions - motion.positions).max() < 1e-3


def test_generate_writes_new_actions_and_leaves_existing_ones_alone(scene, clip_files):
    bandai = import_bvh(clip_files["dataset-1_bow_normal_001"])
    existing = bandai.animation_data.action
    keys_before = [tuple(p.co) for c in sampling_curves(existing) for p in c.keyframe_points]
    motions = [read_bvh(clip_files[c]) for c in CLIPS[:2]]
    obj, actions, _ = generation.keyframe_motions(scene, motions, "two clips")
    assert obj is not bandai and [a.name for a in actions] == ["two clips 1", "two clips 2"]
    assert obj.animation_data.action == actions[0] and all(a.use_fake_user for a in actions)
    assert bandai.animation_data.action == existing
    assert [tuple(p.co) for c in sampling_curves(existing) for p in c.keyframe_points] == keys_before
    assert scene.frame_end >= scene.frame_start + max(m.frames for m in motions) - 1


def sampling_curves(action):
    if hasattr(action, "layers"):
        return [c for layer in action.layers for strip in layer.strips for bag in strip.channelbags for c in bag.fcurves]
    return list(action.fcurves)


def test_rig_without_humanoid_bones_is_reported_by_name(scene):
    data = bpy.data.armatures.new("Tail")
    obj = bpy.data.objects.new("Tail", data)
    scene.collection.objects.link(obj)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    for name in ("Hips", "Spine", "Tail.001"):
        bone = data.edit_bones.new(name)
        bone.tail = (0, 0, 1)
    bpy.ops.object.mode_set(mode="OBJECT")
    with pytest.raises(SkeletonMappingError) as error:
        armature.map_rig(obj)
    assert "LeftUpperArm" in error.value.missing and "Hips" not in error.value.missing
    assert "Tail.001" in str(error.value)


def test_preview_frames_are_not_empty_and_follow_the_motion(scene, clip_files, tmp_path):
    images = []
    for clip in ("dataset-1_kick_normal_001", "dataset-1_bow_normal_001"):
        bpy.ops.wm.read_factory_settings(use_empty=True)
        scene = bpy.context.scene
        motion = read_bvh(clip_files[clip]).slice(0, 60)
        obj, _, _ = generation.keyframe_motions(scene, [motion], clip)
        scene.frame_end = scene.frame_start + motion.frames - 1
        (frame,) = preview.render_frames(scene, obj, to_blender(motion.positions).reshape(-1, 3), tmp_path / clip, 1)
        images.append(np.asarray(bpy.data.images.load(str(frame)).pixels[:]).reshape(-1, 4)[:, :3])
    for image in images:
        assert image.std() > 0.05  # a figure on a background, not a blank frame
    assert np.abs(images[0] - images[1]).mean() > 0.005


def test_addon_registers_and_unregisters_without_leftovers(scene):
    import addon
    from addon import engine_loader

    addon.register()
    try:
        assert hasattr(bpy.types.Scene, "choreolingo") and hasattr(bpy.types, "CHOREOLINGO_OT_generate")
        assert not bpy.ops.choreolingo.describe_motion.poll()  # no armature, and no bundle here
    finally:
        addon.unregister()
    assert not hasattr(bpy.types.Scene, "choreolingo")
    assert not [name for name in dir(bpy.types) if name.startswith("CHOREOLINGO")]
    drawn = [f.__module__ for f in getattr(bpy.types.VIEW3D_MT_object_context_menu, "_dyn_ui_initialize")()]
    assert "addon.operators" not in drawn
    assert engine_loader._engines == {} and engine_loader._added_paths == []
    assert str(engine_loader.REPO_SITE) not in sys.path
