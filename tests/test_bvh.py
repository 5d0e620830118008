"""BVH parsing, forward kinematics, rotations, reading onto the canonical skeleton and writing."""

import io
import tarfile
from pathlib import Path

import numpy as np
import pytest

from engine.archive import iter_archive
from engine.bvh import parse_bvh, read_bvh, save_bvh
from engine.errors import MotionFormatError, SkeletonMappingError
from engine.io import load_motion
from engine.motion import Motion
from engine.rotations import EULER_ORDERS, euler_to_matrix, forward_kinematics, local_rotations_from_positions
from engine.rotations import matrix_to_euler, matrix_to_quat, quat_to_matrix
from engine.skeleton import JOINT_INDEX, JOINTS, PARENTS, REST_OFFSETS

# A two-bone arm: 6-channel root, a 3-channel joint in XYZ order, End Sites.
ARM = """HIERARCHY
ROOT Base
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Elbow
  {
    OFFSET 10 0 0
    CHANNELS 3 Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 5 0 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.05
1 2 3 0 0 0 0 0 0
0 0 0 90 0 0 0 0 90
"""


@pytest.fixture(scope="module")
def bandai_clip(bandai1) -> tuple[str, bytes]:
    return next(iter_archive(bandai1))


def test_fk_of_a_small_arm():
    bvh = parse_bvh(ARM, "arm")
    assert bvh.names == ["Base", "Elbow"] and bvh.parents == [-1, 0]
    assert bvh.fps == 20.0 and np.allclose(bvh.end_sites[1], [5, 0, 0])
    p = bvh.world_positions()
    assert np.allclose(p[0], [[1, 2, 3], [11, 2, 3]])
    # Frame 1: root turned 90 degrees about Z, so the elbow's offset (10, 0, 0) points along +Y.
    assert np.allclose(p[1], [[0, 0, 0], [0, 10, 0]])


@pytest.mark.parametrize("order", EULER_ORDERS)
def test_euler_round_trip_every_order(order):
    rng = np.random.default_rng(7)
    angles = rng.uniform(-180, 180, (500, 3))
    angles[:, 1] = rng.uniform(-90, 90, 500)
    angles[:4, 1] = (90, -90, 90, -90)  # gimbal lock
    m = euler_to_matrix(angles, order)
    assert np.allclose(euler_to_matrix(matrix_to_euler(m, order), order), m, atol=1e-6)
    assert np.allclose(quat_to_matrix(matrix_to_quat(m)), m, atol=1e-12)


def test_rotation_order_is_the_channel_order():
    # "ZX": Rz @ Rx, so a vector is turned about X first. (0, 1, 0) -> X 90 -> (0, 0, 1) -> Z 90 -> (0, 0, 1).
    assert np.allclose(euler_to_matrix([90.0, 90.0], "ZX") @ [0, 1, 0], [0, 0, 1])
    assert np.allclose(euler_to_matrix([90.0, 90.0], "XZ") @ [0, 1, 0], [-1, 0, 0])


def test_local_rotations_reproduce_bone_directions():
    rng = np.random.default_rng(3)
    angles = rng.uniform(-40, 40, (30, len(JOINTS), 3))
    positions, _ = forward_kinematics(PARENTS, REST_OFFSETS, euler_to_matrix(angles, "ZXY"))
    quats = local_rotations_from_positions(positions, PARENTS, REST_OFFSETS)
    rebuilt, _ = forward_kinematics(PARENTS, REST_OFFSETS, quat_to_matrix(quats))
    bones = lambda p: p[:, 1:] - p[:, list(PARENTS[1:])]  # noqa: E731
    assert np.allclose(bones(rebuilt), bones(positions), atol=1e-9)


def test_bandai_clip_reads_in_metres(bandai_clip):
    name, data = bandai_clip
    motion = read_bvh(data, source=name)
    assert motion.meta["units"] == "cm" and motion.meta["scale"] == 0.01
    assert "detected from body height" in motion.meta["units_note"]
    assert motion.meta["joint_map"]["LeftUpperArm"] == "UpperArm_L"
    assert motion.meta["joint_map"]["Hips"] == "Hips"  # not joint_Root
    assert motion.fps == 30.0 and motion.name == Path(name).stem
    p = motion.positions
    assert 0.8 < np.median(p[:, JOINT_INDEX["Hips"], 1]) < 1.1  # hips about a metre above the floor
    assert np.median(p[:, JOINT_INDEX["Head"], 1]) > np.median(p[:, JOINT_INDEX["Chest"], 1])
    # Canonical handedness: with Y up, left x up points forward, where the toes point.
    left = p[:, JOINT_INDEX["LeftUpperLeg"]] - p[:, JOINT_INDEX["RightUpperLeg"]]
    toes = p[:, JOINT_INDEX["LeftToes"]] - p[:, JOINT_INDEX["LeftFoot"]]
    assert np.mean(np.sum(np.cross(left, [0, 1, 0]) * toes, axis=1)) > 0


def test_cmu_clip_drops_t_pose_resamples_and_normalizes(cmu_dir):
    path = cmu_dir / "49_06.bvh"
    native = read_bvh(path, fps=None)
    motion = read_bvh(path, skip_frames=1)
    assert native.fps == 120.0 and motion.fps == 30.0
    assert motion.frames == (native.frames - 2) // 4 + 1
    # Resampled positions, not angles: 30 fps frame k is 120 fps frame 1 + 4k.
    assert np.allclose(motion.positions[5], native.positions[21], atol=1e-5)
    assert motion.meta["units"] == "normalized" and "1.70 m" in motion.meta["units_note"]
    assert motion.meta["joint_map"]["Neck"] == "Neck1" and motion.meta["joint_map"]["LeftLowerArm"] == "LeftForeArm"
    assert motion.meta["skipped_frames"] == 1


def test_units_can_be_given(cmu_dir):
    motion = read_bvh(cmu_dir / "49_06.bvh", units="in")
    assert motion.meta["scale"] == 0.0254 and motion.meta["units"] == "in"
    with pytest.raises(MotionFormatError, match="unknown units"):
        read_bvh(cmu_dir / "49_06.bvh", units="furlong")


def test_round_trip_bandai_and_cmu_exact(bandai_clip, cmu_dir, tmp_path):
    for motion in (read_bvh(bandai_clip[1]), read_bvh(cmu_dir / "61_10.bvh", skip_frames=1)):
        back = read_bvh(save_bvh(motion, tmp_path / "out.bvh"))
        assert back.frames == motion.frames and back.fps == motion.fps
        assert np.abs(back.positions - motion.positions).max() < 1e-4


def test_round_trip_exact_when_bone_lengths_vary(bandai_clip, tmp_path):
    """Generated motion is not rigid: the writer's position channels keep it exact anyway."""
    motion = read_bvh(bandai_clip[1]).slice(0, 60)
    rng = np.random.default_rng(0)
    wobbly = Motion(motion.positions + rng.normal(0, 0.01, motion.positions.shape), 30.0, "wobbly")
    for units in ("cm", "m"):
        back = read_bvh(save_bvh(wobbly, tmp_path / f"wobbly_{units}.bvh", units=units))
        assert back.meta["units"] == units
        assert np.abs(back.positions - wobbly.positions).max() < 1e-4


def test_written_file_has_a_canonical_t_pose_rest(bandai_clip, tmp_path):
    motion = read_bvh(bandai_clip[1]).slice(0, 10)
    bvh = parse_bvh(save_bvh(motion, tmp_path / "rest.bvh").read_text())
    assert bvh.names == list(JOINTS)
    left_arm = bvh.offsets[JOINT_INDEX["LeftLowerArm"]]
    assert left_arm[0] > 0 and np.allclose(left_arm[1:], 0)  # T-pose: the left arm along +X
    assert all(len(c) == 6 for c in bvh.channels)


def test_load_motion_dispatches_on_suffix(cmu_dir, tmp_path):
    assert load_motion(cmu_dir / "49_05.bvh").meta["format"] == "bvh"
    (tmp_path / "x.fbx").write_text("nope")
    with pytest.raises(MotionFormatError, match="unsupported"):
        load_motion(tmp_path / "x.fbx")
    with pytest.raises(MotionFormatError, match="cannot read"):
        load_motion(tmp_path / "missing.bvh")


BAD_FILES = {
    "truncated": (ARM[: ARM.index("0 0 0 90")] + "0 0 0 90 0", "line 20"),
    "wrong channel count": (ARM.replace("CHANNELS 3 Xrotation", "CHANNELS 4 Xrotation"), "line 9"),
    "NaN frame": (ARM.replace("0 0 0 90 0 0 0 0 90", "0 0 0 nan 0 0 0 0 90"), "line 20"),
    "inf frame": (ARM.replace("1 2 3 0", "1 2 inf 0"), "line 19"),
    "zero frames": (ARM.replace("Frames: 2", "Frames: 0"), "line 17"),
    "extra frame": (ARM + "0 0 0 0 0 0 0 0 0\n", "line 21"),
    "no motion": (ARM[: ARM.index("MOTION")], "line"),
    "bad offset": (ARM.replace("OFFSET 10 0 0", "OFFSET 10 zero 0"), "line 8"),
    "unbalanced": (ARM.replace("  }\n}\nMOTION", "  }\nMOTION"), "line"),
    "not bvh": ("hello world", "line 1"),
    "bad frame time": (ARM.replace("0.05", "0"), "line 18"),
    "unknown channel": (ARM.replace("Zrotation\n    End", "Wrotation\n    End"), "line 9"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_bvh_raises_with_location(case):
    text, location = BAD_FILES[case]
    with pytest.raises(MotionFormatError) as error:
        parse_bvh(text, "bad.bvh")
    assert error.value.source == "bad.bvh" and location in error.value.location


def test_unknown_skeleton_names_missing_joints():
    with pytest.raises(SkeletonMappingError) as error:
        read_bvh(ARM.encode(), source="arm.bvh")
    assert "Hips" in error.value.missing and "LeftToes" in error.value.missing
    assert "Base" in str(error.value)


def test_iter_archive_filters_and_reports_corruption(bandai1, tmp_path):
    names = [name for name, _ in iter_archive(bandai1, suffix=".json")]
    assert names and all(n.endswith(".json") for n in names)
    broken = tmp_path / "broken.tar.xz"
    broken.write_bytes(bandai1.read_bytes()[:200_000])
    with pytest.raises(MotionFormatError, match="corrupt or truncated"):
        list(iter_archive(broken))


def test_iter_archive_reads_plain_tar(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("clips/arm.bvh")
        info.size = len(ARM)
        archive.addfile(info, io.BytesIO(ARM.encode()))
    (tmp_path / "a.tar").write_bytes(buffer.getvalue())
    [(name, data)] = list(iter_archive(tmp_path / "a.tar"))
    assert name == "clips/arm.bvh" and parse_bvh(data.decode()).names == ["Base", "Elbow"]
