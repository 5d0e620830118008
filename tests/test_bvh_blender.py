"""Our BVH forward kinematics and writer against Blender's own BVH importer (bpy 5.0 as a module).

Blender imports Y-up files into its Z-up world (x, y, z) -> (x, -z, y) and puts file frame i at scene frame
i + 1; bone heads in world space are ``armature.matrix_world @ pose_bone.head``.
"""

from pathlib import Path

import numpy as np
import pytest

from engine.archive import iter_archive
from engine.bvh import parse_bvh, read_bvh, save_bvh
from engine.skeleton import JOINTS

pytestmark = pytest.mark.blender

BANDAI_CLIPS = ("dance-short_normal_001", "kick_normal_001", "walk_normal_001", "bow_normal_001")
MILLIMETRE = 1e-3


@pytest.fixture(scope="module")
def bpy():
    return pytest.importorskip("bpy")


@pytest.fixture(scope="module")
def bandai_files(bandai1, tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bandai")
    wanted = {f"dataset-1_{clip}.bvh": clip for clip in BANDAI_CLIPS}
    files = {}
    for name, data in iter_archive(bandai1):
        if Path(name).name in wanted:
            files[wanted[Path(name).name]] = folder / Path(name).name
            files[wanted[Path(name).name]].write_bytes(data)
    assert set(files) == set(BANDAI_CLIPS)
    return files


def blender_heads(bpy, path: Path, frames: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Bone names and world-space bone heads (len(frames) x bones x 3) in Blender's Y-up-converted world,
    mapped back to the file's Y-up axes."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.ops.import_anim.bvh(filepath=str(path))
    armature = bpy.context.object
    heads = []
    for frame in frames:
        bpy.context.scene.frame_set(int(frame) + 1)
        heads.append([tuple(armature.matrix_world @ bone.head) for bone in armature.pose.bones])
    z_up = np.array(heads)
    y_up = np.stack([z_up[..., 0], z_up[..., 2], -z_up[..., 1]], axis=-1)
    return [bone.name for bone in armature.pose.bones], y_up


def sample_frames(count: int, samples: int = 12) -> np.ndarray:
    return np.unique(np.linspace(0, count - 1, samples).astype(int))


@pytest.mark.parametrize("clip", BANDAI_CLIPS)
def test_bandai_fk_matches_blender(bpy, bandai_files, clip):
    path = bandai_files[clip]
    bvh = parse_bvh(path.read_text(), str(path))
    motion = read_bvh(path)
    assert motion.meta["units"] == "cm" and motion.fps == 30.0
    frames = sample_frames(bvh.frames.shape[0])
    names, heads = blender_heads(bpy, path, frames)
    ours = bvh.world_positions()[frames][:, [bvh.names.index(n) for n in names]]
    assert np.abs(ours - heads).max() * motion.meta["scale"] < MILLIMETRE
    # The canonical motion (metres) sits on the same bone heads.
    mapped = [names.index(motion.meta["joint_map"][j]) for j in JOINTS]
    error = np.abs(motion.positions[frames] - heads[:, mapped] * motion.meta["scale"]).max()
    assert error < MILLIMETRE


def test_cmu_fk_matches_blender(bpy, cmu_dir):
    path = cmu_dir / "05_07.bvh"
    bvh = parse_bvh(path.read_text(), str(path))
    assert bvh.fps == 120.0
    motion = read_bvh(path, skip_frames=1)  # drops the T-pose, resamples 120 -> 30 fps
    assert motion.meta["units"] == "normalized"
    scale = motion.meta["scale"]
    kept = sample_frames(motion.frames)
    frames = 1 + 4 * kept  # 30 fps frame k is file frame 1 + 4k (after the dropped T-pose)
    names, heads = blender_heads(bpy, path, frames)
    ours = bvh.world_positions()[frames][:, [bvh.names.index(n) for n in names]]
    assert np.abs(ours - heads).max() * scale < MILLIMETRE
    mapped = [names.index(motion.meta["joint_map"][j]) for j in JOINTS]
    assert np.abs(motion.positions[kept] - heads[:, mapped] * scale).max() < MILLIMETRE


def test_written_bvh_imports_in_blender(bpy, bandai_files, tmp_path):
    motion = read_bvh(bandai_files["dance-short_normal_001"]).slice(0, 120)
    path = save_bvh(motion, tmp_path / "dance.bvh")
    frames = sample_frames(motion.frames)
    names, heads = blender_heads(bpy, path, frames)
    assert sorted(names) == sorted(JOINTS)
    order = [names.index(j) for j in JOINTS]
    assert np.abs(motion.positions[frames] - heads[:, order] * 0.01).max() < MILLIMETRE
