"""Augmentation on positions: yaw about the root, scale, mirror with joint and label swap, time warp."""

import numpy as np

from engine.features import FOOT_CONTACTS, HEADING_CHANGE, LOCAL_POSITIONS, ROOT_VELOCITY, headings, motion_to_features
from engine.motion import Motion
from engine.skeleton import JOINT_INDEX, MIRROR, ROOT
from tests.test_features import walking_motion
from training.augment import AugmentConfig, augment, mirror_positions, time_warp, turn_body
from training.corpus import Clip


def _clip(content="walk-turn-left", description="") -> Clip:
    return Clip("take-1", "bandai-2", walking_motion(), content, "active", description)


def test_mirror_swaps_sides_and_negates_x():
    p = walking_motion().positions
    m = mirror_positions(p)
    left, right = JOINT_INDEX["LeftHand"], JOINT_INDEX["RightHand"]
    np.testing.assert_allclose(m[:, left], p[:, right] * [-1, 1, 1])
    np.testing.assert_array_equal(mirror_positions(m), p)
    # In the body frame the mirrored pose is the original with x negated and sides exchanged.
    f, g = motion_to_features(Motion(p)), motion_to_features(Motion(m))
    local_f = f[:, LOCAL_POSITIONS].reshape(-1, 21, 3)
    local_g = g[:, LOCAL_POSITIONS].reshape(-1, 21, 3)
    np.testing.assert_allclose(local_g, local_f[:, list(MIRROR)] * [-1, 1, 1], atol=1e-5)
    np.testing.assert_allclose(g[:, FOOT_CONTACTS], f[:, FOOT_CONTACTS][:, [2, 3, 0, 1]])
    # A left turn becomes a right turn; sideways drift changes side.
    np.testing.assert_allclose(g[:, HEADING_CHANGE], -f[:, HEADING_CHANGE], atol=1e-5)
    np.testing.assert_allclose(g[:, ROOT_VELOCITY], f[:, ROOT_VELOCITY] * [-1, 1], atol=1e-5)


def test_turn_body_keeps_the_root_path_and_changes_the_travel_direction():
    p = walking_motion().positions
    turned = turn_body(p, np.radians(15))
    np.testing.assert_allclose(turned[:, ROOT], p[:, ROOT], atol=1e-6)
    np.testing.assert_allclose(headings(turned) - headings(p), np.radians(15), atol=1e-5)
    velocity = motion_to_features(Motion(turned))[:-1, ROOT_VELOCITY]
    # The walker used to travel straight ahead (+Z); now it drifts sideways by the turned angle.
    angle = np.arctan2(velocity[:, 0], velocity[:, 1])
    np.testing.assert_allclose(angle, -np.radians(15), atol=1e-4)


def test_time_warp_changes_speed_and_length():
    p = walking_motion(frames=91).positions
    np.testing.assert_allclose(time_warp(p, np.ones(4)), p, atol=1e-6)
    fast = time_warp(p, np.full(3, 2.0))
    assert len(fast) == 46
    np.testing.assert_allclose(fast[10], p[20], atol=1e-6)
    slow = time_warp(p, np.array([0.9, 1.1, 0.9]))
    assert abs(len(slow) - 91) < 6


def test_augment_is_seeded_and_stays_within_its_ranges():
    clip = _clip()
    a = augment(clip, np.random.default_rng(5))
    b = augment(clip, np.random.default_rng(5))
    np.testing.assert_array_equal(a.motion.positions, b.motion.positions)
    heights = []
    for seed in range(40):
        out = augment(clip, np.random.default_rng(seed))
        assert abs(out.motion.frames - clip.motion.frames) <= 0.12 * clip.motion.frames
        heights.append(out.motion.positions[:, JOINT_INDEX["Head"], 1].max())
    ratio = np.array(heights) / clip.motion.positions[:, JOINT_INDEX["Head"], 1].max()
    assert ratio.min() >= 0.95 - 1e-3 and ratio.max() <= 1.05 + 1e-3 and ratio.std() > 0.01
    none = augment(clip, np.random.default_rng(0), AugmentConfig.none())
    np.testing.assert_array_equal(none.motion.positions, clip.motion.positions)


def test_mirrored_clips_swap_their_labels():
    pairs = {"walk-left": "walk-right", "wave-left-hand": "wave-right-hand",
             "raise-up-left-hand": "raise-up-right-hand", "walk-turn-left": "walk-turn-right",
             "walk": "walk", "raise-up-both-hands": "raise-up-both-hands"}  # fmt: skip
    always = AugmentConfig(mirror_probability=1.0)
    for content, mirrored in pairs.items():
        out = augment(_clip(content, "turns left"), np.random.default_rng(0), always)
        assert out.content == mirrored and out.content_label == f"bandai-2/{mirrored}"
        assert out.description == "turns right" and out.motion.meta["mirrored"]
        assert augment(out, np.random.default_rng(0), always).content == content
    never = augment(_clip(), np.random.default_rng(0), AugmentConfig(mirror_probability=0.0))
    assert never.content == "walk-turn-left" and not never.motion.meta["mirrored"]
