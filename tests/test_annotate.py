"""Annotate: describe every clip of a folder into a caption file that reads back as training data."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import library_cli
from engine.annotate import annotate_folder, segments
from engine.archive import iter_archive
from engine.captions import read_captions
from engine.io import load_motion
from tests.test_library import extract_clips

LONG_CLIP = "dataset-1_dance-short_normal_001.bvh"


@pytest.fixture(scope="module")
def clips(tmp_path_factory, bandai1, bandai2) -> Path:
    """Three short real clips in sub-folders, the long dance clip, and a broken file."""
    folder = tmp_path_factory.mktemp("annotate_source")
    extract_clips(bandai2, folder, ("walk", "run", "wave-both-hands"), 1)
    data = next(data for member, data in iter_archive(bandai1) if member.endswith(LONG_CLIP))
    (folder / LONG_CLIP).write_bytes(data)
    (folder / "empty.bvh").write_bytes(b"")
    return folder


def test_segments_are_consecutive_and_cover_the_clip():
    assert segments(120, 50) == [(0, 50), (50, 120)]  # a 20-frame remainder joins the last span
    assert segments(130, 50) == [(0, 50), (50, 100), (100, 130)]
    assert segments(40, 50) == [(0, 40)]


@pytest.fixture(scope="module")
def engine(tiny_bundle):
    from engine import Engine

    return Engine(tiny_bundle)


def test_every_clip_and_the_segments_of_a_long_clip_are_captioned(engine, clips, tmp_path):
    out = tmp_path / "review" / "captions.jsonl"
    report = annotate_folder(engine, clips, out)
    assert report.clips == 4
    assert [f.key for f in report.failed] == ["empty.bvh"]
    rows = read_captions(out)
    assert rows == report.rows
    whole = [r for r in rows if r.end is None]
    assert len(whole) == 4 and all(r.start == 0 for r in whole)
    for row in rows:
        assert (out.parent / row.clip).is_file(), row.clip  # relative to the caption file, as training reads it
        assert row.text.startswith("A person")
    long_rows = [r for r in rows if r.clip.endswith(LONG_CLIP) and r.end is not None]
    assert len(long_rows) >= 2
    seconds = load_motion(clips / LONG_CLIP).seconds
    assert long_rows[0].start == 0
    assert all(a.end == b.start for a, b in zip(long_rows, long_rows[1:]))  # consecutive, no gaps
    assert long_rows[-1].end == pytest.approx(seconds, abs=0.05)
    assert all(a.text != b.text for a, b in zip(long_rows, long_rows[1:]))  # repeats are merged
    assert sum(count for label, count in report.labels.items() if label.startswith("content: ")) == len(rows)


def test_the_caption_file_loads_back_as_training_clips(engine, clips, tmp_path):
    from training.corpus import load_captioned

    out = tmp_path / "captions.jsonl"
    report = annotate_folder(engine, clips, out)
    loaded = load_captioned(out, "my-library")
    assert len(loaded) == len(report.rows)  # every row is its own span
    for clip, row in zip(loaded, report.rows):
        assert clip.dataset == "my-library" and clip.description == row.text
        if row.end is not None:
            assert clip.motion.frames == pytest.approx((row.end - row.start) * 30, abs=1)


def test_command_line_writes_csv_and_prints_label_counts(tiny_bundle, clips, tmp_path, capsys):
    out = tmp_path / "captions.csv"
    code = library_cli.main(["annotate", str(clips), "--bundle", str(tiny_bundle), "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "captions for 4 clips" in printed and "content: " in printed and "empty.bvh" in printed
    assert {Path(r.clip).name for r in read_captions(out)} == {p.name for p in clips.rglob("*.bvh")} - {"empty.bvh"}
