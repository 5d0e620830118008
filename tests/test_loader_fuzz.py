"""Seeded mutation fuzzing of the loaders: corrupted BVH text, .npy files, arrays and archives either load as a
valid Motion or raise MotionFormatError; any other exception is a bug."""

import io
import tarfile

import numpy as np
import pytest

from engine.archive import iter_archive
from engine.bvh import read_bvh
from engine.errors import MotionFormatError
from engine.motion import Motion
from engine.pettee import read_pettee
from engine.skeleton import PETTEE_MARKERS

GARBAGE = ["nan", "inf", "-inf", "1e308", "-1e400", "abc", "", "{", "}", "JOINT", "End Site", "CHANNELS 9", "OFFSET",
           "MOTION", "Frames: -3", "Frame Time: 0", "0x1F", "1,5", "\x00", "é", "ROOT X", "9" * 40]  # fmt: skip


def outcome(load) -> str:
    """'ok' or 'rejected'; anything else escapes and fails the test with the case that caused it."""
    try:
        motion = load()
    except MotionFormatError as error:
        assert str(error)  # a message a person can read
        return "rejected"
    assert isinstance(motion, Motion) and np.isfinite(motion.positions).all() and motion.frames > 0
    return "ok"


def mutate_text(text: str, rng: np.random.Generator) -> str:
    lines = text.split("\n")
    kind = rng.integers(7)
    i = int(rng.integers(len(lines)))
    if kind == 0:  # truncate anywhere
        return text[: int(rng.integers(len(text)))]
    if kind == 1:  # drop a line
        return "\n".join(lines[:i] + lines[i + 1 :])
    if kind == 2:  # duplicate a line
        return "\n".join(lines[: i + 1] + lines[i:])
    if kind == 3:  # replace one token
        tokens = lines[i].split(" ")
        tokens[int(rng.integers(len(tokens)))] = GARBAGE[int(rng.integers(len(GARBAGE)))]
        lines[i] = " ".join(tokens)
        return "\n".join(lines)
    if kind == 4:  # swap two lines
        j = int(rng.integers(len(lines)))
        lines[i], lines[j] = lines[j], lines[i]
        return "\n".join(lines)
    if kind == 5:  # flip characters
        chars = list(text)
        for k in rng.integers(len(chars), size=int(rng.integers(1, 6))):
            chars[k] = chr(int(rng.integers(32, 127)))
        return "".join(chars)
    return "\n".join(lines[:i] + [GARBAGE[int(rng.integers(len(GARBAGE)))]] + lines[i:])  # insert a line


@pytest.fixture(scope="module")
def small_bvhs(bandai1, cmu_dir) -> list[str]:
    """A short Bandai clip (6-channel joints) and a short CMU clip (3-channel joints, End Sites)."""
    name, data = next(iter_archive(bandai1))

    def shorten(text: str, frames: int) -> str:
        head, body = text.split("Frame Time:", 1)
        time_line, *rows = body.split("\n")
        head = head.replace(head[head.index("Frames:") :], f"Frames: {frames}\n")
        return head + "Frame Time:" + time_line + "\n" + "\n".join(rows[:frames]) + "\n"

    return [shorten(data.decode(), 12), shorten((cmu_dir / "49_05.bvh").read_text(), 12)]


def test_fuzz_bvh_text(small_bvhs):
    rng = np.random.default_rng(20240601)
    counts = {"ok": 0, "rejected": 0}
    for case in range(600):
        text = small_bvhs[case % 2]
        for _ in range(int(rng.integers(1, 4))):
            text = mutate_text(text, rng)
        data = text.encode("utf-8", errors="replace")
        counts[outcome(lambda: read_bvh(data, source=f"case {case}"))] += 1
    assert counts["rejected"] > 200 and sum(counts.values()) == 600


def test_fuzz_pettee_arrays_and_files(tmp_path):
    rng = np.random.default_rng(7)
    base = rng.normal(0, 100, (55, 20, 3)) + np.linspace(0, 1700, 55)[:, None, None] * [0, 0, 1]
    counts = {"ok": 0, "rejected": 0}
    for case in range(250):
        array = base.copy()
        kind = case % 5
        if kind == 0:  # random shape
            array = rng.normal(size=tuple(int(n) for n in rng.integers(0, 60, size=int(rng.integers(1, 5)))))
        elif kind == 1:  # NaN / inf / huge values somewhere
            array.reshape(-1)[rng.integers(array.size, size=3)] = rng.choice([np.nan, np.inf, 1e300, -1e300])
        elif kind == 2:  # odd dtype
            array = array.astype(rng.choice(["int8", "float16", "complex64", "bool", "U3"]))
        elif kind == 3:  # corrupted .npy bytes
            buffer = io.BytesIO()
            np.save(buffer, array)
            raw = bytearray(buffer.getvalue())
            for k in rng.integers(len(raw), size=4):
                raw[k] = int(rng.integers(256))
            raw = raw[: int(rng.integers(len(raw) + 1))]
            path = tmp_path / f"case{case}.npy"
            path.write_bytes(bytes(raw))
            counts[outcome(lambda: read_pettee(path))] += 1
            continue
        else:  # frames x markers with a wrong marker list
            array = array.transpose(1, 0, 2)[:, : int(rng.integers(50, 56))]
        counts[outcome(lambda: read_pettee(array, marker_names=None if kind != 4 else PETTEE_MARKERS))] += 1
    assert counts["rejected"] > 100 and counts["ok"] > 0


def test_fuzz_archives(small_bvhs, tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        for k, text in enumerate(small_bvhs):
            info = tarfile.TarInfo(f"clips/{k}.bvh")
            info.size = len(text.encode())
            archive.addfile(info, io.BytesIO(text.encode()))
    good = buffer.getvalue()
    rng = np.random.default_rng(3)
    counts = {"ok": 0, "rejected": 0}
    for case in range(100):
        raw = bytearray(good)
        for k in rng.integers(len(raw), size=int(rng.integers(1, 4))):
            raw[k] = int(rng.integers(256))
        if case % 3 == 0:
            raw = raw[: int(rng.integers(len(raw)))]
        path = tmp_path / "fuzz.tar.xz"
        path.write_bytes(bytes(raw))

        def load_all() -> Motion:
            motions = [read_bvh(data, source=name) for name, data in iter_archive(path)]
            if not motions:
                raise MotionFormatError("empty archive", str(path))
            return motions[0]

        counts[outcome(load_all)] += 1
    assert counts["rejected"] > 50  # xz's checksum catches most flipped bytes
