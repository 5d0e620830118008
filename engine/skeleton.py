"""The canonical skeleton and every adapter onto it: the one place that knows joint names.

All motion in Choreolingo is expressed on this skeleton: 21 joints, Y up, metres, the character facing +Z in
its rest pose (so its left side is +X). Adapters map other skeletons onto it:

* named skeletons (Bandai Namco BVH, CMU, Mixamo, Blender-style ``.L``/``.R`` names) by joint-name aliases;
* an explicit bone map given by the user for anything else;
* Pettee-style marker clouds, where each joint is the average of a group of named markers.
"""

from __future__ import annotations

import re

import numpy as np

from .errors import MotionFormatError, SkeletonMappingError

# Joint order is part of the feature layout: changing it changes what every model input means.
JOINTS: tuple[str, ...] = (
    "Hips",
    "Spine",
    "Chest",
    "Neck",
    "Head",
    "LeftShoulder",
    "LeftUpperArm",
    "LeftLowerArm",
    "LeftHand",
    "RightShoulder",
    "RightUpperArm",
    "RightLowerArm",
    "RightHand",
    "LeftUpperLeg",
    "LeftLowerLeg",
    "LeftFoot",
    "LeftToes",
    "RightUpperLeg",
    "RightLowerLeg",
    "RightFoot",
    "RightToes",
)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINTS)}

PARENTS: tuple[int, ...] = (
    -1,  # Hips
    0,  # Spine
    1,  # Chest
    2,  # Neck
    3,  # Head
    2,  # LeftShoulder
    5,  # LeftUpperArm
    6,  # LeftLowerArm
    7,  # LeftHand
    2,  # RightShoulder
    9,  # RightUpperArm
    10,  # RightLowerArm
    11,  # RightHand
    0,  # LeftUpperLeg
    13,  # LeftLowerLeg
    14,  # LeftFoot
    15,  # LeftToes
    0,  # RightUpperLeg
    17,  # RightLowerLeg
    18,  # RightFoot
    19,  # RightToes
)

ROOT = JOINT_INDEX["Hips"]
FEET = (JOINT_INDEX["LeftFoot"], JOINT_INDEX["LeftToes"], JOINT_INDEX["RightFoot"], JOINT_INDEX["RightToes"])

# Rest pose (T-pose) offsets from the parent, metres; the root's entry is its height above the ground.
# Proportions of an adult of about 1.75 m; only directions and rough lengths matter to users of this table
# (new armatures, BVH export of generated motion), real clips keep their own bone lengths.
REST_OFFSETS = np.array(
    [
        (0.0, 0.95, 0.0),  # Hips
        (0.0, 0.10, 0.0),  # Spine
        (0.0, 0.15, 0.0),  # Chest
        (0.0, 0.22, 0.0),  # Neck
        (0.0, 0.10, 0.0),  # Head
        (0.03, 0.18, 0.0),  # LeftShoulder
        (0.13, 0.0, 0.0),  # LeftUpperArm
        (0.27, 0.0, 0.0),  # LeftLowerArm
        (0.25, 0.0, 0.0),  # LeftHand
        (-0.03, 0.18, 0.0),  # RightShoulder
        (-0.13, 0.0, 0.0),  # RightUpperArm
        (-0.27, 0.0, 0.0),  # RightLowerArm
        (-0.25, 0.0, 0.0),  # RightHand
        (0.09, -0.06, 0.0),  # LeftUpperLeg
        (0.0, -0.42, 0.0),  # LeftLowerLeg
        (0.0, -0.41, 0.0),  # LeftFoot
        (0.0, -0.06, 0.13),  # LeftToes
        (-0.09, -0.06, 0.0),  # RightUpperLeg
        (0.0, -0.42, 0.0),  # RightLowerLeg
        (0.0, -0.41, 0.0),  # RightFoot
        (0.0, -0.06, 0.13),  # RightToes
    ],
    dtype=np.float64,
)

# Leaf joints have no child to aim at; these are the ends of their bones in the rest pose (offsets).
LEAF_TAILS: dict[str, tuple[float, float, float]] = {
    "Head": (0.0, 0.18, 0.0),
    "LeftHand": (0.08, 0.0, 0.0),
    "RightHand": (-0.08, 0.0, 0.0),
    "LeftToes": (0.0, 0.0, 0.06),
    "RightToes": (0.0, 0.0, 0.06),
}


def _mirror_name(name: str) -> str:
    if name.startswith("Left"):
        return "Right" + name[4:]
    if name.startswith("Right"):
        return "Left" + name[5:]
    return name


# For each joint, the joint that takes its place in a mirror image (itself for the centre line).
MIRROR: tuple[int, ...] = tuple(JOINT_INDEX[_mirror_name(n)] for n in JOINTS)
LEFT_RIGHT_PAIRS: tuple[tuple[int, int], ...] = tuple((i, m) for i, m in enumerate(MIRROR) if i < m)


def rest_positions(offsets: np.ndarray = REST_OFFSETS) -> np.ndarray:
    """World positions (joints x 3) of the rest pose given per-joint offsets from the parent."""
    positions = np.zeros((len(JOINTS), 3))
    for j, parent in enumerate(PARENTS):
        positions[j] = offsets[j] if parent < 0 else positions[parent] + offsets[j]
    return positions


def children(joint: int) -> list[int]:
    return [j for j, parent in enumerate(PARENTS) if parent == joint]


def motion_rest_offsets(positions: np.ndarray) -> np.ndarray:
    """Rest offsets with the canonical directions and the bone lengths of ``positions`` (frames x joints x 3,
    any units; each bone's median length over the frames). The root's offset is zero: callers place it."""
    offsets = np.zeros((len(JOINTS), 3))
    for j, parent in enumerate(PARENTS):
        if parent >= 0:
            length = float(np.median(np.linalg.norm(positions[:, j] - positions[:, parent], axis=-1)))
            offsets[j] = REST_OFFSETS[j] / np.linalg.norm(REST_OFFSETS[j]) * length
    return offsets


# Body height from bone lengths, which do not depend on the pose: the spine chain (hips to head) plus one leg
# (hip to ankle), times the ratio of standing height (toes to top of head) to that sum in the rest pose.
_SPINE_CHAIN = [JOINT_INDEX[n] for n in ("Hips", "Spine", "Chest", "Neck", "Head")]
_LEG_CHAINS = [[JOINT_INDEX[f"{side}{n}"] for n in ("UpperLeg", "LowerLeg", "Foot")] for side in ("Left", "Right")]


def _chain_length(positions: np.ndarray) -> np.ndarray:
    def length(chain: list[int]) -> np.ndarray:
        return np.linalg.norm(np.diff(positions[..., chain, :], axis=-2), axis=-1).sum(axis=-1)

    return length(_SPINE_CHAIN) + 0.5 * (length(_LEG_CHAINS[0]) + length(_LEG_CHAINS[1]))


_REST = rest_positions()
_REST_HEIGHT = _REST[JOINT_INDEX["Head"], 1] + LEAF_TAILS["Head"][1] - _REST[:, 1].min()
_HEIGHT_PER_CHAIN = float(_REST_HEIGHT / _chain_length(_REST))


def body_height(positions: np.ndarray) -> float:
    """Standing height (toes to top of head) of the body in canonical ``positions`` (frames x joints x 3),
    in the positions' own units, estimated from bone lengths so that any pose works."""
    return float(np.median(_chain_length(np.asarray(positions, dtype=np.float64)))) * _HEIGHT_PER_CHAIN


# Units a motion file may use, with their size in metres; a body of plausible height picks one.
LENGTH_UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "in": 0.0254}
PLAUSIBLE_HEIGHT_M = (1.0, 2.4)
NORMALIZED_HEIGHT_M = 1.70
# Coordinates this large (in any unit) are corrupt data, and would overflow float32 positions.
MAX_COORDINATE = 1e9


def detect_units(height: float) -> tuple[str, float, str]:
    """(units, metres per file unit, note for people) for a body ``height`` measured in file units.

    The first unit that gives a plausible adult or child height wins; otherwise the body is scaled to
    ``NORMALIZED_HEIGHT_M`` and the note says so.
    """
    if not (np.isfinite(height) and height > 0):
        return "normalized", 1.0, "body height is zero: positions kept as they are"
    low, high = PLAUSIBLE_HEIGHT_M
    for unit, metres in LENGTH_UNITS.items():
        if low <= height * metres <= high:
            return unit, metres, f"{unit}, detected from body height ({height * metres:.2f} m)"
    scale = NORMALIZED_HEIGHT_M / height
    return "normalized", scale, f"unknown units, normalized by body height to {NORMALIZED_HEIGHT_M:.2f} m"


def resolve_units(height: float, units: str | float | None, source: str = "") -> tuple[str, float, str]:
    """Like ``detect_units`` when ``units`` is None; else the caller's unit name or metres per file unit."""
    if units is None:
        return detect_units(height)
    if isinstance(units, str) and units in LENGTH_UNITS:
        return units, LENGTH_UNITS[units], f"{units}, given by the caller"
    if isinstance(units, (int, float)) and not isinstance(units, bool) and np.isfinite(units) and units > 0:
        return "scaled", float(units), f"scaled by {float(units)} m per file unit, given by the caller"
    raise MotionFormatError(f"unknown units {units!r}: use one of {', '.join(LENGTH_UNITS)} or metres per unit", source)


def to_metres(positions: np.ndarray, units: str | float | None, source: str = "") -> tuple[np.ndarray, dict]:
    """Joint positions (frames x joints x 3) of a file in metres, and the ``units``, ``scale`` and
    ``units_note`` facts for ``Motion.meta`` (see ``resolve_units``); coordinates beyond ``MAX_COORDINATE``
    or not finite raise ``MotionFormatError`` naming the first such frame."""
    sane = (np.abs(positions) < MAX_COORDINATE).all(axis=(1, 2))  # also False for NaN
    if not sane.all():
        bad = int(np.argmin(sane))
        raise MotionFormatError(f"joint positions beyond {MAX_COORDINATE:g} file units", source, f"frame {bad}")
    unit, scale, note = resolve_units(body_height(positions), units, source)
    return positions * scale, {"units": unit, "scale": scale, "units_note": note}


# ---------------------------------------------------------------------------------------------------------
# Named skeletons: aliases after normalisation (lower case, namespace such as "mixamorig:" removed,
# separators removed). Centre joints list aliases in order of preference; limb joints list base names that
# are combined with a side marker ("left"/"l" before or after the base).
# ---------------------------------------------------------------------------------------------------------
_CENTRE_ALIASES: dict[str, tuple[str, ...]] = {
    "Hips": ("hips", "pelvis", "hip"),
    # CMU: LowerBack, Spine, Spine1; Mixamo: Spine, Spine1, Spine2; Bandai: Spine, Chest.
    "Spine": ("spine", "lowerback", "abdomen", "spine01"),
    "Chest": ("chest", "spine2", "spine1", "upperchest", "thorax", "spine02"),
    # CMU's "Neck" sits at the top of the thorax with zero offset; its "Neck1" is the real neck joint.
    "Neck": ("neck1", "neck", "neck01"),
    "Head": ("head",),
}
_LIMB_ALIASES: dict[str, tuple[str, ...]] = {
    "Shoulder": ("shoulder", "clavicle", "collar"),
    "UpperArm": ("upperarm", "arm", "uparm"),
    "LowerArm": ("lowerarm", "forearm", "elbow"),
    "Hand": ("hand", "wrist"),
    "UpperLeg": ("upperleg", "upleg", "thigh"),
    "LowerLeg": ("lowerleg", "leg", "shin", "calf", "knee"),
    "Foot": ("foot", "ankle"),
    "Toes": ("toes", "toebase", "toe"),
}


def normalize_joint_name(name: str) -> str:
    """'mixamorig:LeftForeArm' -> 'leftforearm', 'UpperArm_L' -> 'upperarml', 'forearm.L' -> 'forearml'."""
    base = re.split(r"[:|]", name)[-1]
    return re.sub(r"[\s_.\-]", "", base).lower()


def _aliases(joint: str) -> list[str]:
    """Normalised names that stand for ``joint``, best first (the canonical name is always among them)."""
    if joint in _CENTRE_ALIASES:
        return list(_CENTRE_ALIASES[joint])
    side, part = ("left", joint[4:]) if joint.startswith("Left") else ("right", joint[5:])
    s = side[0]
    out = []
    for base in _LIMB_ALIASES[part]:
        out += [f"{side}{base}", f"{base}{s}", f"{base}{side}", f"{s}{base}"]
    return out


def resolve_joint_map(
    source_joints: list[str], bone_map: dict[str, str] | None = None, source: str = ""
) -> dict[str, str]:
    """Map each canonical joint to a joint of ``source_joints``.

    ``bone_map`` (canonical name -> source name, or source name -> canonical name) overrides the aliases.
    Raises ``SkeletonMappingError`` naming every canonical joint that could not be placed.
    """
    by_normal: dict[str, str] = {}
    for name in source_joints:
        by_normal.setdefault(normalize_joint_name(name), name)
    explicit: dict[str, str] = {}
    for key, value in (bone_map or {}).items():
        if key in JOINT_INDEX:
            explicit[key] = value
        elif value in JOINT_INDEX:
            explicit[value] = key
        else:
            raise SkeletonMappingError([f"{key}->{value} (neither side is a canonical joint)"], source)
    resolved: dict[str, str] = {}
    missing: list[str] = []
    for joint in JOINTS:
        if joint in explicit:
            if explicit[joint] not in source_joints:
                missing.append(f"{joint} (bone map names '{explicit[joint]}', not in the file)")
                continue
            resolved[joint] = explicit[joint]
            continue
        hit = next((by_normal[a] for a in _aliases(joint) if a in by_normal), None)
        if hit is None:
            missing.append(joint)
        else:
            resolved[joint] = hit
    taken = list(resolved.values())
    clashes = sorted({n for n in taken if taken.count(n) > 1})
    if clashes:
        missing += [f"{j} (shares '{resolved[j]}')" for j in JOINTS if resolved.get(j) in clashes]
    if missing:
        raise SkeletonMappingError(missing, source, available=list(source_joints))
    return resolved


# ---------------------------------------------------------------------------------------------------------
# Pettee-style marker clouds (Vicon 55-marker set as in Pettee et al.'s dance data): joints are averages of
# marker groups. ``PETTEE_MARKERS`` is the seed's array order.
# ---------------------------------------------------------------------------------------------------------
PETTEE_MARKERS: tuple[str, ...] = (
    "ARIEL", "C7", "CLAV", "LANK", "LBHD", "LBSH", "LBWT", "LELB", "LFHD", "LFRM", "LFSH", "LFWT", "LHEL",
    "LIEL", "LIHAND", "LIWR", "LKNE", "LKNI", "LMT1", "LMT5", "LOHAND", "LOWR", "LSHN", "LTHI", "LTOE",
    "LUPA", "LabelingHips", "MBWT", "MFWT", "RANK", "RBHD", "RBSH", "RBWT", "RELB", "RFHD", "RFRM", "RFSH",
    "RFWT", "RHEL", "RIEL", "RIHAND", "RIWR", "RKNE", "RKNI", "RMT1", "RMT5", "ROHAND", "ROWR", "RSHN",
    "RTHI", "RTOE", "RUPA", "STRN", "SolvingHips", "T10",
)  # fmt: skip

# The seed's training code drops the two solver markers, leaving 53 (``PETTEE_MARKERS`` minus these two).
PETTEE_SOLVER_MARKERS = ("LabelingHips", "SolvingHips")
PETTEE_MARKERS_53: tuple[str, ...] = tuple(m for m in PETTEE_MARKERS if m not in PETTEE_SOLVER_MARKERS)

_MARKER_GROUPS_LEFT: dict[str, tuple[str, ...]] = {
    "Shoulder": ("CLAV", "C7", "LFSH", "LBSH"),
    "UpperArm": ("LFSH", "LBSH"),
    "LowerArm": ("LELB", "LIEL"),
    "Hand": ("LIWR", "LOWR"),
    "UpperLeg": ("LFWT", "LBWT"),
    "LowerLeg": ("LKNE", "LKNI"),
    "Foot": ("LANK", "LHEL"),
    "Toes": ("LTOE", "LMT1", "LMT5"),
}


def _right_marker(marker: str) -> str:
    return "R" + marker[1:] if marker.startswith("L") and marker != "LabelingHips" else marker


MARKER_GROUPS: dict[str, tuple[str, ...]] = {
    "Hips": ("LFWT", "RFWT", "LBWT", "RBWT"),
    "Spine": ("LFWT", "RFWT", "LBWT", "RBWT", "STRN", "T10"),
    "Chest": ("STRN", "T10"),
    "Neck": ("C7", "CLAV"),
    "Head": ("LFHD", "RFHD", "LBHD", "RBHD"),
    **{f"Left{part}": group for part, group in _MARKER_GROUPS_LEFT.items()},
    **{f"Right{part}": tuple(_right_marker(m) for m in group) for part, group in _MARKER_GROUPS_LEFT.items()},
}


def marker_weights(marker_names: list[str], source: str = "") -> np.ndarray:
    """Matrix (joints x markers) that turns a marker cloud into canonical joints by group averages."""
    index = {normalize_joint_name(m): i for i, m in enumerate(marker_names)}
    weights = np.zeros((len(JOINTS), len(marker_names)))
    missing = []
    for j, joint in enumerate(JOINTS):
        group = [index.get(normalize_joint_name(m)) for m in MARKER_GROUPS[joint]]
        if any(g is None for g in group):
            absent = [m for m, g in zip(MARKER_GROUPS[joint], group) if g is None]
            missing.append(f"{joint} (needs markers {', '.join(absent)})")
            continue
        weights[j, group] = 1.0 / len(group)
    if missing:
        raise SkeletonMappingError(missing, source, available=list(marker_names))
    return weights
