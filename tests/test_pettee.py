"""Pettee-style marker clouds: a cloud derived from a real BVH clip comes back as the clip's joints."""

import numpy as np
import pytest

from engine.archive import iter_archive
from engine.bvh import read_bvh
from engine.errors import MotionFormatError, SkeletonMappingError
from engine.io import load_motion
from engine.pettee import read_pettee
from engine.rotations import best_fit_rotation
from engine.skeleton import JOINT_INDEX, JOINTS, PETTEE_MARKERS, PETTEE_MARKERS_53

# Where a Vicon marker sits: (joint, offset in metres along the body's (left, up, forward) axes).
# Left-side markers; right-side ones mirror them. Roughly anatomical, not tuned to the marker groups.
_CENTRE = {
    "ARIEL": ("Head", (0.0, 0.18, 0.0)),
    "C7": ("Neck", (0.0, 0.0, -0.06)),
    "CLAV": ("Neck", (0.0, 0.0, 0.06)),
    "STRN": ("Chest", (0.0, 0.0, 0.10)),
    "T10": ("Chest", (0.0, 0.0, -0.10)),
    "MFWT": ("Hips", (0.0, 0.05, 0.12)),
    "MBWT": ("Hips", (0.0, 0.05, -0.12)),
    "LabelingHips": ("Hips", (0.0, 0.0, 0.0)),
    "SolvingHips": ("Hips", (0.0, 0.0, 0.0)),
}
_LEFT = {
    "LFHD": ("Head", (0.07, 0.08, 0.08)),
    "LBHD": ("Head", (0.07, 0.08, -0.08)),
    "LFSH": ("LeftUpperArm", (0.0, 0.02, 0.05)),
    "LBSH": ("LeftUpperArm", (0.0, 0.02, -0.05)),
    "LUPA": ("LeftUpperArm", (0.12, 0.0, -0.03)),
    "LELB": ("LeftLowerArm", (0.0, 0.03, -0.01)),
    "LIEL": ("LeftLowerArm", (0.0, -0.03, 0.01)),
    "LFRM": ("LeftLowerArm", (0.1, 0.0, 0.03)),
    "LIWR": ("LeftHand", (0.0, 0.0, 0.025)),
    "LOWR": ("LeftHand", (0.0, 0.0, -0.025)),
    "LIHAND": ("LeftHand", (0.06, 0.0, 0.02)),
    "LOHAND": ("LeftHand", (0.06, 0.0, -0.02)),
    "LFWT": ("LeftUpperLeg", (0.02, 0.06, 0.07)),
    "LBWT": ("LeftUpperLeg", (0.02, 0.06, -0.07)),
    "LTHI": ("LeftLowerLeg", (0.06, 0.15, 0.0)),
    "LKNE": ("LeftLowerLeg", (0.05, 0.0, 0.0)),
    "LKNI": ("LeftLowerLeg", (-0.05, 0.0, 0.0)),
    "LSHN": ("LeftFoot", (0.03, 0.15, 0.03)),
    "LANK": ("LeftFoot", (0.035, 0.0, 0.0)),
    "LHEL": ("LeftFoot", (0.0, -0.04, -0.05)),
    "LTOE": ("LeftToes", (0.0, 0.0, 0.03)),
    "LMT1": ("LeftToes", (-0.04, 0.0, -0.01)),
    "LMT5": ("LeftToes", (0.04, 0.0, -0.02)),
}
LAYOUT = {
    **_CENTRE,
    **_LEFT,
    **{"R" + m[1:]: (j.replace("Left", "Right"), (-o[0], o[1], o[2])) for m, (j, o) in _LEFT.items()},
}


def marker_cloud(joints: np.ndarray, seed: int = 0) -> np.ndarray:
    """Vicon-style cloud from canonical joints: markers x frames x 3, millimetres, Z up, seed marker order."""
    hips = joints[:, JOINT_INDEX["LeftUpperLeg"]] - joints[:, JOINT_INDEX["RightUpperLeg"]]
    left = hips * [1, 0, 1] / np.linalg.norm(hips * [1, 0, 1], axis=1, keepdims=True)
    up = np.broadcast_to([0.0, 1.0, 0.0], left.shape)
    frame = np.stack([left, up, np.cross(left, up)], axis=1)  # rows: left, up, forward
    rng = np.random.default_rng(seed)
    markers = np.stack(
        [joints[:, JOINT_INDEX[LAYOUT[m][0]]] + np.asarray(LAYOUT[m][1]) @ frame for m in PETTEE_MARKERS], axis=0
    )
    markers += rng.normal(0.0, 0.004, markers.shape)  # skin and tracking jitter
    y_up = markers * 1000.0
    return np.stack([y_up[..., 0], -y_up[..., 2], y_up[..., 1]], axis=-1)  # Y up -> Z up, right-handed


@pytest.fixture(scope="module")
def clip(bandai1):
    name, data = next(item for item in iter_archive(bandai1) if "dance-short" in item[0])
    return read_bvh(data, source=name, fps=35.0).slice(0, 350)  # the seed's rate, 10 s


def aligned_error(recovered: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Per-joint mean distance after the best rotation about the origin (the cloud's heading is free)."""
    rotation = best_fit_rotation(reference.reshape(-1, 3), recovered.reshape(1, -1, 3))[0]
    assert rotation[1, 1] > 0.999  # only a turn about the vertical, never a tilt or flip
    return np.linalg.norm(recovered - reference @ rotation.T, axis=-1).mean(axis=0)


def test_cloud_from_bvh_recovers_its_joints(clip):
    motion = read_pettee(marker_cloud(clip.positions), fps=None)
    assert motion.meta["layout"] == "markers-frames" and motion.meta["units"] == "mm"
    assert motion.meta["axes"] == "up was +z" and motion.fps == 35.0
    error = aligned_error(motion.positions, clip.positions)
    # Marker groups sit a few centimetres off the joints they stand for (pelvis and head markers most).
    assert error.mean() < 0.045, dict(zip(JOINTS, error.round(3)))
    assert error.max() < 0.09, dict(zip(JOINTS, error.round(3)))


def test_layouts_mirrors_and_53_markers_agree(clip):
    cloud = marker_cloud(clip.positions)
    reference = read_pettee(cloud, fps=None).positions
    frames_first = read_pettee(cloud.transpose(1, 0, 2), fps=None)
    assert frames_first.meta["layout"] == "frames-markers"
    assert np.allclose(frames_first.positions, reference)
    keep = [i for i, m in enumerate(PETTEE_MARKERS) if m in PETTEE_MARKERS_53]
    assert np.allclose(read_pettee(cloud[keep], fps=None).positions, reference)
    mirrored = read_pettee(cloud * [-1, 1, 1], fps=None)
    assert "mirrored" in mirrored.meta["axes"]
    assert aligned_error(mirrored.positions, reference).max() < 1e-5
    upside_down = read_pettee(cloud * [-1, 1, -1], fps=None)
    assert upside_down.meta["axes"] == "up was -z"
    assert aligned_error(upside_down.positions, reference).max() < 1e-5


def test_explicit_marker_order_and_resampling(clip, tmp_path):
    cloud = marker_cloud(clip.positions)
    order = np.random.default_rng(1).permutation(len(PETTEE_MARKERS))
    names = [PETTEE_MARKERS[i] for i in order]
    shuffled = read_pettee(cloud[order], marker_names=names, fps=None)
    assert np.allclose(shuffled.positions, read_pettee(cloud, fps=None).positions)
    np.save(tmp_path / "dancer.npy", cloud)
    motion = load_motion(tmp_path / "dancer.npy")
    assert motion.fps == 30.0 and motion.frames == (350 - 1) * 30 // 35 + 1 and motion.name == "dancer"


def test_missing_unused_marker_is_harmless_but_used_one_is_an_error(clip):
    cloud = marker_cloud(clip.positions[:40])
    cloud[PETTEE_MARKERS.index("LUPA"), 5] = np.nan  # no group uses the upper-arm marker
    assert read_pettee(cloud).frames > 0
    cloud[PETTEE_MARKERS.index("LKNE"), 7] = np.nan
    with pytest.raises(MotionFormatError) as error:
        read_pettee(cloud, source="dancer.npy")
    assert error.value.location == "frame 7" and "LKNE" in str(error.value)


@pytest.mark.parametrize(
    "array, message",
    [
        (np.zeros((55, 10)), "got shape"),
        (np.zeros((55, 10, 2)), "got shape"),
        (np.zeros((54, 10, 3)), "no axis of 55"),
        (np.zeros((55, 0, 3)), "zero frames"),
        (np.array([["a"] * 3] * 55)[:, None, :], "numeric"),
    ],
)
def test_bad_arrays_raise(array, message):
    with pytest.raises(MotionFormatError, match=message):
        read_pettee(array)


def test_bad_files_and_names_raise(tmp_path):
    (tmp_path / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(MotionFormatError, match="not a readable"):
        read_pettee(tmp_path / "junk.npy")
    np.savez(tmp_path / "two.npz", a=np.zeros(3))
    with pytest.raises(MotionFormatError, match="npz"):
        read_pettee(tmp_path / "two.npz")
    with pytest.raises(SkeletonMappingError, match="LeftLowerLeg"):
        read_pettee(np.zeros((3, 10, 3)), marker_names=["LKNE", "RKNE", "T10"])
