"""BVH files: parsing, forward kinematics, reading onto the canonical skeleton, and writing canonical motion.

Semantics follow Blender's importer (the reference our tests compare against): a joint's rotation channels
compose in the order they are listed (``Zrotation Xrotation Yrotation`` means ``Rz @ Rx @ Ry``); a joint
with position channels takes them as its translation from the parent *instead of* its OFFSET (absent
position channels count as 0); a joint without them is placed at its OFFSET.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import EngineInputError, MotionFormatError
from .motion import DEFAULT_FPS, Motion
from .rotations import euler_to_matrix, forward_kinematics, local_rotations_from_positions, matrix_to_euler
from .rotations import quat_to_matrix
from .skeleton import JOINTS, LEAF_TAILS, LENGTH_UNITS, PARENTS, ROOT, motion_rest_offsets, resolve_joint_map
from .skeleton import to_metres

_POSITION_CHANNELS = {"xposition": 0, "yposition": 1, "zposition": 2}
_ROTATION_CHANNELS = {"xrotation": "X", "yrotation": "Y", "zrotation": "Z"}
# Frame times outside this range are corrupt headers, not real capture rates (and would make resampling
# allocate absurd arrays).
_FRAME_TIME_RANGE = (1e-4, 10.0)


@dataclass
class BvhFile:
    """A parsed BVH file, in the file's own units and axes."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # joints x 3
    channels: list[tuple[str, ...]]  # channel names per joint, as in the file
    frame_time: float
    frames: np.ndarray  # frames x channels (all joints' channels, in file order)
    end_sites: dict[int, np.ndarray] = field(default_factory=dict)  # joint -> End Site offset
    source: str = ""

    @property
    def fps(self) -> float:
        """Frame rate; snapped to a whole number when the frame time is one rounded in print (0.0333333)."""
        fps = 1.0 / self.frame_time
        return float(round(fps)) if abs(fps - round(fps)) < 1e-4 * fps else fps

    def column_layout(self) -> tuple[np.ndarray, list[tuple[str, list[int]]]]:
        """Per joint: the data columns of its X/Y/Z position (-1 if absent), and (rotation order, columns)."""
        positions = np.full((len(self.names), 3), -1)
        rotations: list[tuple[str, list[int]]] = []
        column = 0
        for j, channels in enumerate(self.channels):
            order, columns = "", []
            for name in channels:
                key = name.lower()
                if key in _POSITION_CHANNELS:
                    positions[j, _POSITION_CHANNELS[key]] = column
                else:
                    order += _ROTATION_CHANNELS[key]
                    columns.append(column)
                column += 1
            rotations.append((order, columns))
        return positions, rotations

    def local_transforms(self, joints: list[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Translations (F, J, 3) from the parent and rotations (F, J, 3, 3) relative to the parent, for
        ``joints`` (default all), in that order."""
        joints = list(range(len(self.names))) if joints is None else list(joints)
        frames = self.frames.shape[0]
        position_columns, rotation_layout = self.column_layout()
        position_columns = position_columns[joints]
        translations = np.repeat(self.offsets[joints][None], frames, axis=0)
        has_position = (position_columns >= 0).any(axis=1)
        if has_position.any():
            data = np.concatenate([self.frames, np.zeros((frames, 1))], axis=1)  # column -1 reads 0
            translations[:, has_position] = data[:, position_columns[has_position]]
        rotations = np.broadcast_to(np.eye(3), (frames, len(joints), 3, 3)).copy()
        # One vectorized Euler conversion per rotation order (usually one order for the whole skeleton).
        by_order: dict[str, list[int]] = {}
        for k, j in enumerate(joints):
            if rotation_layout[j][0]:
                by_order.setdefault(rotation_layout[j][0], []).append(k)
        for order, ks in by_order.items():
            columns = [rotation_layout[joints[k]][1] for k in ks]
            rotations[:, ks] = euler_to_matrix(self.frames[:, columns], order)
        return translations, rotations

    def world_positions(self, joints: list[int] | None = None) -> np.ndarray:
        """Positions (frames x joints x 3) of ``joints`` (default all) in the file's units and axes; only
        the joints they hang from are computed."""
        wanted = list(range(len(self.names))) if joints is None else list(joints)
        needed: set[int] = set()
        for j in wanted:
            while j >= 0 and j not in needed:
                needed.add(j)
                j = self.parents[j]
        chain = sorted(needed)  # parents precede children in file order
        slot = {j: k for k, j in enumerate(chain)}
        parents = [slot[self.parents[j]] if self.parents[j] >= 0 else -1 for j in chain]
        with np.errstate(over="ignore", invalid="ignore"):
            positions = forward_kinematics(parents, *self.local_transforms(chain))[0]
        return positions[:, [slot[j] for j in wanted]]


def _fail(message: str, source: str, line: int | None = None) -> MotionFormatError:
    return MotionFormatError(message, source, f"line {line}" if line else "")


def _floats(tokens: list[str], count: int, what: str, source: str, line: int) -> np.ndarray:
    if len(tokens) != count:
        raise _fail(f"{what} needs {count} numbers, got {len(tokens)}", source, line)
    try:
        values = np.array([float(t) for t in tokens])
    except ValueError:
        raise _fail(f"{what} has a value that is not a number: {' '.join(tokens)}", source, line) from None
    if not np.isfinite(values).all():
        raise _fail(f"{what} is not finite: {' '.join(tokens)}", source, line)
    return values


def _parse_hierarchy(lines: list[str], source: str) -> tuple[list, list, list, list, dict]:
    names: list[str] = []
    parents: list[int] = []
    offsets: list[np.ndarray] = []
    channels: list[tuple[str, ...]] = []
    end_sites: dict[int, np.ndarray] = {}
    stack: list[int] = []  # open blocks: joint index, or -2 for an End Site
    expect = "keyword"
    rows = [(n + 1, line.split()) for n, line in enumerate(lines)]
    rows = [(n, tokens) for n, tokens in rows if tokens]
    if not rows or rows[0][1][0].upper() != "HIERARCHY":
        raise _fail("not a BVH file: it must start with HIERARCHY", source, rows[0][0] if rows else 1)
    for number, tokens in rows[1:]:
        word = tokens[0].upper()
        if expect == "open":
            if tokens != ["{"]:
                raise _fail(f"expected '{{', got '{' '.join(tokens)}'", source, number)
            expect = "offset"
        elif expect == "offset":
            if word != "OFFSET":
                raise _fail(f"expected OFFSET, got '{' '.join(tokens)}'", source, number)
            values = _floats(tokens[1:], 3, "OFFSET", source, number)
            if stack[-1] == -2:
                end_sites[_innermost_joint(stack)] = values
                expect = "keyword"
            else:
                offsets.append(values)
                expect = "channels"
        elif expect == "channels":
            if word != "CHANNELS" or len(tokens) < 2:
                raise _fail(f"expected CHANNELS, got '{' '.join(tokens)}'", source, number)
            channels.append(_channels(tokens, source, number))
            expect = "keyword"
        elif word in ("ROOT", "JOINT"):
            if (word == "ROOT") != (not stack) or (stack and stack[-1] == -2) or len(tokens) < 2:
                raise _fail(f"unexpected '{' '.join(tokens)}'", source, number)
            name = "_".join(tokens[1:])
            base, k = name, 0
            while name in names:  # duplicate names get Blender's ".001" suffixes
                k += 1
                name = f"{base}.{k:03d}"
            names.append(name)
            parents.append(stack[-1] if stack else -1)
            stack.append(len(names) - 1)
            expect = "open"
        elif word == "END":
            if not stack or stack[-1] == -2:
                raise _fail("End Site outside a joint", source, number)
            stack.append(-2)
            expect = "open"
        elif tokens == ["}"]:
            if not stack:
                raise _fail("unbalanced '}'", source, number)
            stack.pop()
        else:
            raise _fail(f"unexpected '{' '.join(tokens)}' in HIERARCHY", source, number)
    if stack or expect != "keyword":
        raise _fail("HIERARCHY ends inside an open joint (missing '}')", source, rows[-1][0])
    if not names:
        raise _fail("HIERARCHY has no joints", source, rows[-1][0])
    return names, parents, offsets, channels, end_sites


def _innermost_joint(stack: list[int]) -> int:
    return next(j for j in reversed(stack) if j >= 0)


def _channels(tokens: list[str], source: str, line: int) -> tuple[str, ...]:
    try:
        count = int(tokens[1])
    except ValueError:
        raise _fail(f"CHANNELS count '{tokens[1]}' is not an integer", source, line) from None
    names = tuple(tokens[2:])
    if count != len(names):
        raise _fail(f"CHANNELS says {count} channels but lists {len(names)}", source, line)
    lowered = [n.lower() for n in names]
    unknown = [n for n, low in zip(names, lowered) if low not in _POSITION_CHANNELS and low not in _ROTATION_CHANNELS]
    if unknown:
        raise _fail(f"unknown channel {unknown[0]}", source, line)
    if len(set(lowered)) != len(lowered):
        raise _fail(f"a channel is listed twice: {' '.join(names)}", source, line)
    return names


_MOTION = re.compile(r"^[ \t]*MOTION[ \t]*\r?$", re.MULTILINE | re.IGNORECASE)
_FRAMES = re.compile(r"[ \t]*Frames:[ \t]*(\S+)[ \t]*\r?\n", re.IGNORECASE)
_FRAME_TIME = re.compile(r"[ \t]*Frame[ \t]+Time:[ \t]*(\S+)[ \t]*\r?(\n|$)", re.IGNORECASE)


def parse_bvh(text: str, source: str = "") -> BvhFile:
    """Parse BVH text; raises ``MotionFormatError`` with the line number for anything malformed."""
    if "\r" in text and "\n" not in text:  # old Mac line ends
        text = text.replace("\r", "\n")
    motion = _MOTION.search(text)
    if motion is None:
        lines = text.count("\n") + 1
        if not text.lstrip().upper().startswith("HIERARCHY"):
            raise _fail("not a BVH file: it must start with HIERARCHY", source, 1)
        raise _fail("no MOTION section (file truncated?)", source, lines)
    header = text[: motion.start()].split("\n")
    names, parents, offsets, channels, end_sites = _parse_hierarchy(header, source)
    line = len(header)  # the MOTION line (the header's last, empty, piece is its start)
    rest = text[motion.end() :].lstrip("\r").removeprefix("\n")
    frame_count, _, rest = _header_value(rest, _FRAMES, int, "frame count",
                                         "expected 'Frames: <count>' after MOTION", source, line + 1)
    if frame_count <= 0:
        raise _fail(f"the file has {frame_count} frames; a motion needs at least one", source, line + 1)
    frame_time, written, rest = _header_value(rest, _FRAME_TIME, float, "frame time",
                                              "expected 'Frame Time: <seconds>' after Frames", source, line + 2)
    low, high = _FRAME_TIME_RANGE
    if not low <= frame_time <= high:
        raise _fail(f"frame time {written} s is outside {low}..{high} s", source, line + 2)
    width = sum(len(c) for c in channels)
    if width == 0:
        raise _fail("no joint has channels", source, line)
    data = _parse_frames(rest, frame_count, width, source, first_line=line + 3)
    return BvhFile(names, parents, np.array(offsets), channels, frame_time, data, end_sites, source)


def _header_value(text: str, pattern: re.Pattern, convert, what: str, missing: str, source: str, line: int):
    """(value, value as written, text after the line) of the header line ``pattern`` matches at the start of
    ``text`` (``missing`` is the error when it does not match)."""
    match = pattern.match(text)
    if match is None:
        raise _fail(missing, source, line)
    try:
        value = convert(match.group(1))
    except ValueError:
        kind = "an integer" if convert is int else "a number"
        raise _fail(f"{what} '{match.group(1)}' is not {kind}", source, line) from None
    return value, match.group(1), text[match.end() :]


def _parse_frames(body: str, frame_count: int, width: int, source: str, first_line: int) -> np.ndarray:
    with warnings.catch_warnings():  # numpy warns (instead of failing) when it stops at a bad token
        warnings.simplefilter("ignore", DeprecationWarning)
        values = np.fromstring(body, dtype=np.float64, sep=" ")
    stripped = body.strip()
    if values.size == frame_count * width and stripped.count("\n") + 1 == frame_count:
        data = values.reshape(frame_count, width)
    else:  # slow path, only for broken or oddly laid out files: find the first bad line
        data = _parse_frames_by_line(body, frame_count, width, source, first_line)
    finite = np.isfinite(data).all(axis=1)
    if not finite.all():
        bad = int(np.argmin(finite))
        raise _fail(f"frame {bad} has a NaN or infinite value", source, first_line + bad)
    return data


def _parse_frames_by_line(body: str, frame_count: int, width: int, source: str, first_line: int) -> np.ndarray:
    rows = []
    last = first_line
    for n, line in enumerate(body.splitlines()):
        tokens = line.split()
        if not tokens:
            continue
        last = first_line + n
        if len(tokens) != width:
            raise _fail(f"frame {len(rows)} has {len(tokens)} values, the channels need {width}", source, last)
        try:
            rows.append([float(t) for t in tokens])
        except ValueError:
            raise _fail(f"frame {len(rows)} has a value that is not a number", source, last) from None
    if len(rows) != frame_count:
        raise _fail(f"the header declares {frame_count} frames but the file has {len(rows)}", source, last)
    return np.array(rows, dtype=np.float64)


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def read_bvh(
    path: str | Path | bytes,
    bone_map: dict[str, str] | None = None,
    fps: float | None = DEFAULT_FPS,
    source: str | None = None,
    skip_frames: int = 0,
    units: str | float | None = None,
) -> Motion:
    """Read a BVH file (path or its bytes) onto the canonical skeleton, in metres, Y up.

    ``bone_map`` maps canonical joints to the file's joint names where the built-in aliases fail.
    ``fps``: resample to this rate (positions, never Euler angles); ``None`` keeps the file's rate.
    ``skip_frames``: drop that many leading frames (CMU trials start with a T-pose: pass 1).
    ``units``: ``None`` detects them from the body height (``meta["units"]``, ``meta["scale"]`` and
    ``meta["units_note"]`` say what was found), or name them ("cm", "m", "mm", "in"), or give metres per unit.
    """
    if isinstance(path, (bytes, bytearray)):
        source = source or "<bytes>"
        text = _decode(bytes(path), source)
    else:
        source = source or str(path)
        try:
            text = _decode(Path(path).read_bytes(), source)
        except OSError as error:
            raise MotionFormatError(f"cannot read the file: {error.strerror or error}", source) from None
    bvh = parse_bvh(text, source)
    joint_map = resolve_joint_map(bvh.names, bone_map, source)
    if skip_frames:
        if skip_frames >= bvh.frames.shape[0]:
            raise MotionFormatError(f"skipping {skip_frames} frames leaves none of {bvh.frames.shape[0]}", source)
        bvh.frames = bvh.frames[skip_frames:]
    index = [bvh.names.index(joint_map[j]) for j in JOINTS]
    positions, units_meta = to_metres(bvh.world_positions(index), units, source)
    meta = {
        "source": source,
        "format": "bvh",
        **units_meta,
        "source_fps": bvh.fps,
        "skipped_frames": skip_frames,
        "joint_map": joint_map,
    }
    motion = Motion(positions, bvh.fps, Path(source).stem, meta)
    return motion if fps is None else motion.resample(fps)


# ---------------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------------
def _rest_offsets(positions: np.ndarray) -> np.ndarray:
    """Canonical rest directions with this motion's median bone lengths; the root at its median height."""
    offsets = motion_rest_offsets(positions)
    offsets[ROOT, 1] = float(np.median(positions[:, ROOT, 1]))
    return offsets


def save_bvh(motion: Motion, path: str | Path, units: str = "cm", order: str = "ZXY") -> Path:
    """Write canonical ``motion`` as a BVH file that Blender's importer (and ``read_bvh``) reads back.

    The rest pose is the canonical T-pose (facing +Z, Y up) with the motion's own median bone lengths.
    Rotations come from ``local_rotations_from_positions`` so a rig follows the motion, and every joint also
    carries position channels (as Bandai Namco's files do): its exact offset from the parent in the parent's
    rotated frame. That keeps read -> write -> read exact (to the printed precision, far below 1e-4 m) even
    when bone lengths vary from frame to frame, as they do in generated motion, while a rigid motion's
    position channels simply equal the rest offsets. ``units``: "cm" (the common BVH convention), "m",
    "mm" or "in"; ``order``: Euler order of the rotation channels.
    """
    if units not in LENGTH_UNITS:
        raise EngineInputError(f"units must be one of {', '.join(LENGTH_UNITS)}, got '{units}'")
    positions = np.asarray(motion.positions, dtype=np.float64) / LENGTH_UNITS[units]
    rest = _rest_offsets(positions)
    quats = local_rotations_from_positions(positions, PARENTS, rest)
    angles = np.round(matrix_to_euler(quat_to_matrix(quats), order), 6)
    # Translations are computed with the rotations rebuilt from the angles as written, so FK of the file
    # lands exactly on the motion's joints whatever the Euler round-off.
    _, world_rot = forward_kinematics(PARENTS, rest, euler_to_matrix(angles, order))
    translations = np.empty_like(positions)
    for j, parent in enumerate(PARENTS):
        if parent < 0:
            translations[:, j] = positions[:, j]
        else:
            delta = positions[:, j] - positions[:, parent]
            translations[:, j] = np.einsum("fba,fb->fa", world_rot[:, parent], delta)
    channels = f"CHANNELS 6 Xposition Yposition Zposition {' '.join(a + 'rotation' for a in order)}"
    lines = ["HIERARCHY"]

    order_of_joints: list[int] = []  # depth-first, the order of the data columns

    def write_joint(j: int, depth: int) -> None:
        order_of_joints.append(j)
        pad = "  " * depth
        lines.append(f"{pad}{'ROOT' if PARENTS[j] < 0 else 'JOINT'} {JOINTS[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}  OFFSET {rest[j, 0]:.6f} {rest[j, 1]:.6f} {rest[j, 2]:.6f}")
        lines.append(f"{pad}  {channels}")
        kids = [c for c, p in enumerate(PARENTS) if p == j]
        for c in kids:
            write_joint(c, depth + 1)
        if not kids:
            tail = np.array(LEAF_TAILS[JOINTS[j]]) / LENGTH_UNITS[units]
            end = f"{pad}    OFFSET {tail[0]:.6f} {tail[1]:.6f} {tail[2]:.6f}"
            lines.extend([f"{pad}  End Site", f"{pad}  {{", end, f"{pad}  }}"])
        lines.append(f"{pad}}}")

    for root in (j for j, p in enumerate(PARENTS) if p < 0):
        write_joint(root, 0)
    lines += ["MOTION", f"Frames: {motion.frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    table = np.concatenate([translations[:, order_of_joints], angles[:, order_of_joints]], axis=2)
    table = table.reshape(motion.frames, -1)
    path = Path(path)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines) + "\n")
        np.savetxt(out, table, fmt="%.6f", delimiter=" ")
    return path
