"""Feature layout v1: exact round trip to positions, invariances, contacts, windows, normalization."""

import numpy as np
import pytest

from engine.errors import EngineInputError
from engine.features import (
    FEATURE_DIM,
    FOOT_CONTACTS,
    HEADING_CHANGE,
    LOCAL_POSITIONS,
    ROOT_VELOCITY,
    NormStats,
    feature_layout,
    features_to_motion,
    headings,
    motion_to_features,
    remove_foot_sliding,
    rotate_yaw,
    sliding_windows,
)
from engine.motion import Motion
from engine.skeleton import FEET, JOINT_INDEX, ROOT, rest_positions


def walking_motion(frames: int = 90, fps: float = 30.0, turn: float = 0.02, start_heading: float = 0.7) -> Motion:
    """A rest-pose figure swinging its legs while walking along a curve (turning ``turn`` rad/frame)."""
    t = np.arange(frames)
    pose = np.broadcast_to(rest_positions(), (frames, 21, 3)).copy()
    swing = 0.25 * np.sin(t / fps * 2 * np.pi)
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        for joint in ("LowerLeg", "Foot", "Toes"):
            j = JOINT_INDEX[side + joint]
            pose[:, j, 2] += sign * swing * (1.0 if joint != "LowerLeg" else 0.5)
    heading = start_heading + turn * t
    step = rotate_yaw(np.stack([0 * t, 0 * t, np.full(frames, 0.04)], -1), heading)
    # Frame t steps along its own heading to frame t+1.
    path = np.concatenate([np.zeros((1, 3)), np.cumsum(step[:-1], axis=0)]) + np.array([2.0, 0.0, -1.0])
    return Motion(rotate_yaw(pose, heading[:, None]) + path[:, None], fps, "walker")


def canonical(positions: np.ndarray) -> np.ndarray:
    """Positions moved so that the first frame's root ground point is the origin and its heading 0."""
    ground = positions[0, ROOT] * np.array([1.0, 0.0, 1.0])
    return rotate_yaw(positions - ground, -headings(positions[:1])[0])


def test_layout_is_version_1_with_70_floats():
    layout = feature_layout()
    assert layout["version"] == 1 and FEATURE_DIM == 70 == layout["dim"]
    assert layout["slices"]["foot_contacts"] == [66, 70]
    assert layout["contact_joints"] == ["LeftFoot", "LeftToes", "RightFoot", "RightToes"]


def test_round_trip_reproduces_positions_up_to_first_frame_placement():
    motion = walking_motion()
    back = features_to_motion(motion_to_features(motion))
    assert back.frames == motion.frames
    np.testing.assert_allclose(back.positions, canonical(motion.positions), atol=1e-4)


def test_features_ignore_where_the_motion_starts_and_faces():
    motion = walking_motion()
    moved = Motion(rotate_yaw(motion.positions, 1.3) + np.array([5.0, 0.0, -3.0]), 30.0)
    np.testing.assert_allclose(motion_to_features(moved), motion_to_features(motion), atol=1e-5)


def test_heading_velocity_and_turn_are_in_the_body_frame():
    f = motion_to_features(walking_motion(turn=0.02))
    np.testing.assert_allclose(f[:-1, ROOT_VELOCITY], [[0.0, 0.04]] * (len(f) - 1), atol=1e-5)
    np.testing.assert_allclose(f[:, HEADING_CHANGE], 0.02, atol=1e-5)
    local = f[:, LOCAL_POSITIONS].reshape(len(f), 21, 3)
    np.testing.assert_allclose(local[:, ROOT, [0, 2]], 0.0, atol=1e-6)
    # Facing +Z in its own frame: the left hip is on +X.
    assert (local[:, JOINT_INDEX["LeftUpperLeg"], 0] > 0).all()


def test_heading_of_rest_pose_is_zero_and_follows_a_turn():
    rest = rest_positions()[None]
    assert headings(rest)[0] == pytest.approx(0.0, abs=1e-9)
    assert headings(rotate_yaw(rest, np.pi / 2))[0] == pytest.approx(np.pi / 2)


def test_planted_foot_is_in_contact_and_swinging_foot_is_not():
    frames = 30
    pose = np.broadcast_to(rest_positions(), (frames, 21, 3)).copy()
    right = [JOINT_INDEX["RightFoot"], JOINT_INDEX["RightToes"]]
    pose[:, right, 1] += 0.3 * np.abs(np.sin(np.linspace(0, 6, frames)))[:, None] + 0.05
    pose[:, right, 2] += np.linspace(0, 1.5, frames)[:, None]
    contacts = motion_to_features(Motion(pose))[:, FOOT_CONTACTS]
    assert contacts[:, :2].all()  # the left foot and toes stand still on the floor
    assert contacts[:, 2:].mean() < 0.2  # the right foot moves at 1.5 m/s


def test_other_frame_rates_are_resampled_to_30fps():
    motion = walking_motion(frames=121, fps=120.0, turn=0.005)
    features = motion_to_features(motion)
    assert len(features) == 31
    np.testing.assert_allclose(features[:-1, HEADING_CHANGE], 0.02, atol=1e-5)


def test_single_frame_motion_has_no_travel():
    f = motion_to_features(Motion(rest_positions()[None]))
    assert f.shape == (1, FEATURE_DIM) and not f[0, ROOT_VELOCITY].any() and f[0, HEADING_CHANGE] == 0


def test_features_to_motion_refuses_bad_arrays():
    with pytest.raises(EngineInputError):
        features_to_motion(np.zeros((10, 69)))
    with pytest.raises(EngineInputError):
        features_to_motion(np.full((3, FEATURE_DIM), np.nan))


def test_sliding_windows_count_and_content():
    features = np.arange(130 * 2, dtype=np.float32).reshape(130, 2)
    windows = sliding_windows(features, 50, 20)
    assert windows.shape == (5, 50, 2)
    np.testing.assert_array_equal(windows[3], features[60:110])
    assert sliding_windows(features[:49], 50, 20).shape == (0, 50, 2)
    with pytest.raises(EngineInputError):
        sliding_windows(features, 0, 20)


def test_norm_stats_round_trip_and_serialisation():
    features = [motion_to_features(walking_motion(60)), motion_to_features(walking_motion(80, turn=-0.01))]
    norm = NormStats.fit(features)
    normalized = norm.normalize(features[0])
    assert abs(float(np.concatenate([norm.normalize(f) for f in features]).mean())) < 0.2
    np.testing.assert_allclose(norm.denormalize(normalized), features[0], atol=1e-5)
    again = NormStats.from_dict(norm.to_dict())
    np.testing.assert_array_equal(again.mean, norm.mean)
    assert (norm.std >= NormStats.MIN_STD).all()  # the root's local x/z never vary
    assert norm.std[ROOT * 3] == pytest.approx(NormStats.MIN_STD)


@pytest.mark.parametrize("dataset", ["bandai1", "bandai2"])
def test_round_trip_on_real_bandai_clips(dataset, request):
    from training.corpus import load_bandai

    for clip in load_bandai(request.getfixturevalue(dataset), limit=4):
        features = motion_to_features(clip.motion)
        back = features_to_motion(features)
        assert np.abs(back.positions - canonical(clip.motion.positions)).max() < 1e-4
        contacts = features[:, FOOT_CONTACTS].mean()
        if clip.content.startswith(("walk", "run", "dash")):
            assert 0.1 < contacts < 0.9, clip.take  # feet take turns on the floor
        else:
            assert contacts > 0.9, clip.take  # waving and raising hands: feet stay planted


def test_round_trip_on_real_cmu_trial(cmu_dir):
    from training.corpus import load_cmu

    (clip,) = load_cmu(cmu_dir, limit=1)
    back = features_to_motion(motion_to_features(clip.motion))
    assert np.abs(back.positions - canonical(clip.motion.positions)).max() < 1e-4
    assert FEET == tuple(JOINT_INDEX[n] for n in ("LeftFoot", "LeftToes", "RightFoot", "RightToes"))


def contact_sliding(features: np.ndarray) -> float:
    """Mean ground speed (m/s) of foot joints while their contact feature is set."""
    p = features_to_motion(features).positions.astype(np.float64)
    speed = np.linalg.norm(np.diff(p[:, list(FEET)][..., [0, 2]], axis=0), axis=-1) * 30.0
    return float(speed[features[:-1, FOOT_CONTACTS] > 0.5].mean())


def test_remove_foot_sliding_plants_the_feet_of_a_drifting_walk():
    features = motion_to_features(walking_motion(frames=120))
    drifting = features.copy()
    drifting[:, ROOT_VELOCITY] += [0.004, 0.012]  # the body skates 0.38 m/s over its planted feet
    assert contact_sliding(drifting) > 0.3
    fixed = remove_foot_sliding(drifting)
    assert contact_sliding(fixed) < 0.05
    assert abs(contact_sliding(fixed) - contact_sliding(remove_foot_sliding(features))) < 0.01  # no drift left
    unchanged = [LOCAL_POSITIONS, slice(HEADING_CHANGE, HEADING_CHANGE + 1), FOOT_CONTACTS]
    for part in unchanged:
        np.testing.assert_array_equal(fixed[:, part], drifting[:, part])
    with pytest.raises(EngineInputError):
        remove_foot_sliding(features[:, :10])


def test_remove_foot_sliding_barely_changes_captured_motion(bandai2):
    from training.corpus import load_bandai

    for clip in load_bandai(bandai2, limit=4):
        features = motion_to_features(clip.motion)
        fixed = remove_foot_sliding(features)
        speed = np.linalg.norm(features[:, ROOT_VELOCITY], axis=-1).mean() * 30.0
        change = np.linalg.norm(fixed[:, ROOT_VELOCITY] - features[:, ROOT_VELOCITY], axis=-1).mean() * 30.0
        assert change < 0.03 + 0.05 * speed, (clip.take, change, speed)  # m/s: a few % of the root's speed
        assert contact_sliding(fixed) <= contact_sliding(features) + 1e-6, clip.take
