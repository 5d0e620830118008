"""Canonical skeleton facts and the adapters that place other skeletons on it."""

import numpy as np
import pytest

from engine.errors import MotionFormatError, SkeletonMappingError
from engine.skeleton import JOINTS, MARKER_GROUPS, MIRROR, PARENTS, PETTEE_MARKERS, PETTEE_MARKERS_53
from engine.skeleton import body_height, detect_units, marker_weights, normalize_joint_name, resolve_joint_map
from engine.skeleton import resolve_units, rest_positions

BANDAI = ["joint_Root", "Hips", "Spine", "Chest", "Neck", "Head"] + [
    f"{part}_{side}"
    for side in "LR"
    for part in ("Shoulder", "UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot", "Toes")
]
CMU = ["Hips", "LHipJoint", "LowerBack", "Spine", "Spine1", "Neck", "Neck1", "Head", "LThumb", "RThumb"] + [
    f"{side}{part}"
    for side in ("Left", "Right")
    for part in ("UpLeg", "Leg", "Foot", "ToeBase", "Shoulder", "Arm", "ForeArm", "Hand", "FingerBase", "HandIndex1")
]
MIXAMO = [
    f"mixamorig:{n}"
    for n in ["Hips", "Spine", "Spine1", "Spine2", "Neck", "Head", "HeadTop_End"]
    + [
        f"{s}{p}"
        for s in ("Left", "Right")
        for p in ("Shoulder", "Arm", "ForeArm", "Hand", "UpLeg", "Leg", "Foot", "ToeBase", "HandThumb1")
    ]
]
BLENDER = ["pelvis", "spine", "chest", "neck", "head"] + [
    f"{p}.{s}" for s in "LR" for p in ("shoulder", "upper_arm", "forearm", "hand", "thigh", "shin", "foot", "toe")
]


def test_rest_pose_is_a_t_pose_facing_z():
    rest = rest_positions()
    assert rest[JOINTS.index("LeftHand"), 0] > 0.5 and rest[JOINTS.index("RightHand"), 0] < -0.5
    assert rest[JOINTS.index("LeftToes"), 2] > rest[JOINTS.index("LeftFoot"), 2]  # toes point to +Z
    assert abs(body_height(rest[None]) - 1.70) < 1e-9
    assert all(MIRROR[MIRROR[j]] == j for j in range(len(JOINTS)))
    assert all(p < j for j, p in enumerate(PARENTS))


@pytest.mark.parametrize(
    "names, expected",
    [
        (BANDAI, {"Hips": "Hips", "LeftUpperArm": "UpperArm_L", "RightToes": "Toes_R", "Chest": "Chest"}),
        (
            CMU,
            {"Spine": "Spine", "Chest": "Spine1", "Neck": "Neck1", "LeftUpperLeg": "LeftUpLeg",
             "LeftLowerLeg": "LeftLeg", "LeftLowerArm": "LeftForeArm", "LeftToes": "LeftToeBase"},  # fmt: skip
        ),
        (
            MIXAMO,
            {"Chest": "mixamorig:Spine2", "Neck": "mixamorig:Neck", "RightHand": "mixamorig:RightHand",
             "LeftUpperArm": "mixamorig:LeftArm"},  # fmt: skip
        ),
        (BLENDER, {"Hips": "pelvis", "LeftUpperArm": "upper_arm.L", "RightLowerLeg": "shin.R", "LeftToes": "toe.L"}),
        (list(JOINTS), {j: j for j in JOINTS}),
    ],
    ids=["bandai", "cmu", "mixamo", "blender", "canonical"],
)
def test_named_skeletons_resolve(names, expected):
    resolved = resolve_joint_map(names)
    assert set(resolved) == set(JOINTS)
    assert len(set(resolved.values())) == len(JOINTS)
    assert {k: resolved[k] for k in expected} == expected


def test_normalize_joint_name():
    assert normalize_joint_name("mixamorig:LeftForeArm") == "leftforearm"
    assert normalize_joint_name("UpperArm_L") == "upperarml"
    assert normalize_joint_name("forearm.L") == "forearml"


def test_bone_map_in_either_direction_overrides_aliases():
    names = [f"b{i}" for i in range(len(JOINTS))]
    forward = dict(zip(JOINTS, names))
    assert resolve_joint_map(names, forward) == forward
    assert resolve_joint_map(names, {v: k for k, v in forward.items()}) == forward
    # A partial map fills what the aliases miss.
    partial = resolve_joint_map([n if n != "Chest" else "UpperTorso" for n in BANDAI], {"Chest": "UpperTorso"})
    assert partial["Chest"] == "UpperTorso"


def test_unknown_skeleton_error_names_each_missing_joint():
    with pytest.raises(SkeletonMappingError) as error:
        resolve_joint_map(["Root", "Hips", "Spine", "Thing"], source="odd.bvh")
    assert "Chest" in error.value.missing and "RightToes" in error.value.missing and "Hips" not in error.value.missing
    assert "odd.bvh" in str(error.value) and "Thing" in str(error.value)
    with pytest.raises(SkeletonMappingError, match="not in the file"):
        resolve_joint_map(BANDAI, {"Chest": "Torso"})
    with pytest.raises(SkeletonMappingError, match="neither side"):
        resolve_joint_map(BANDAI, {"a": "b"})
    assert isinstance(error.value, MotionFormatError)


def test_units_from_body_height():
    assert detect_units(170.0)[:2] == ("cm", 0.01)
    assert detect_units(1.62)[:2] == ("m", 1.0)
    assert detect_units(1750.0)[:2] == ("mm", 0.001)
    assert detect_units(68.0)[:2] == ("in", 0.0254)
    unit, scale, note = detect_units(27.0)
    assert unit == "normalized" and abs(27.0 * scale - 1.70) < 1e-9 and "normalized by body height" in note
    assert resolve_units(5.0, 0.2) == ("scaled", 0.2, "scaled by 0.2 m per file unit, given by the caller")
    with pytest.raises(MotionFormatError):
        resolve_units(5.0, -1.0)


def test_pettee_markers_match_the_seed():
    # Seed order (mariel-pettee/choreography functions.py): 55 Vicon markers; its training code drops
    # indices 26 and 53 (LabelingHips, SolvingHips).
    assert len(PETTEE_MARKERS) == 55 and len(set(PETTEE_MARKERS)) == 55
    assert PETTEE_MARKERS[26] == "LabelingHips" and PETTEE_MARKERS[53] == "SolvingHips"
    assert PETTEE_MARKERS_53 == tuple(m for i, m in enumerate(PETTEE_MARKERS) if i not in (26, 53))
    assert all(m in PETTEE_MARKERS_53 for group in MARKER_GROUPS.values() for m in group)


def test_marker_weights_average_groups():
    weights = marker_weights(list(PETTEE_MARKERS_53))
    assert weights.shape == (len(JOINTS), 53) and np.allclose(weights.sum(axis=1), 1.0)
    knee = weights[JOINTS.index("LeftLowerLeg")]
    assert {PETTEE_MARKERS_53[i] for i in np.flatnonzero(knee)} == {"LKNE", "LKNI"}
    with pytest.raises(SkeletonMappingError) as error:
        marker_weights([m for m in PETTEE_MARKERS if m != "LKNE"])
    assert any("LeftLowerLeg" in m and "LKNE" in m for m in error.value.missing)
