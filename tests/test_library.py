"""The motion library: index a folder of real Bandai clips, search it by words, refresh it incrementally."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from engine.archive import iter_archive
from engine.errors import BundleError, EngineInputError
from engine.library import (
    INDEX_JSON,
    LibraryIndex,
    IndexBuilder,
    folder_sources,
    index_folder,
    search,
)
from engine import library_cli
from engine.runtime import window_ranges

# Queries a person would type for each content label of the clips put in the test library.
QUERIES = {
    "walk": "a person walks forward",
    "run": "a person runs",
    "wave-both-hands": "someone waves both hands",
    "raise-up-both-hands": "someone raises both hands up",
}
PER_CONTENT = 6
UNREADABLE = ["broken.bvh", "dangling.bvh", "junk.npy"]


def content_of(key: str) -> str:
    return Path(key).stem.split("_")[1]  # dataset-2_{content}_{style}_{id}


def extract_clips(archive: Path, folder: Path, contents, per_content: int) -> list[Path]:
    """The first ``per_content`` clips of each content label, in one sub-folder per style."""
    counts: Counter = Counter()
    written = []
    for member, data in iter_archive(archive):
        name = Path(member).name
        content, style = Path(name).stem.split("_")[1:3]
        if content in contents and counts[content] < per_content:
            counts[content] += 1
            (folder / style).mkdir(exist_ok=True)
            written.append(folder / style / name)
            written[-1].write_bytes(data)
        if len(written) == per_content * len(contents):
            break
    return written


@pytest.fixture(scope="module")
def library_source(tmp_path_factory, bandai2) -> Path:
    """A few dozen real clips, in sub-folders (so the scan is recursive), plus files that cannot be read."""
    folder = tmp_path_factory.mktemp("library_source")
    extract_clips(bandai2, folder, QUERIES, PER_CONTENT)
    (folder / "broken.bvh").write_text("HIERARCHY\nROOT Hips\n{\n")
    (folder / "junk.npy").write_bytes(b"\x93NUMPY garbage")
    (folder / "dangling.bvh").symlink_to(folder / "nowhere.bvh")
    return folder


@pytest.fixture(scope="module")
def engine(tiny_bundle):
    from engine import Engine

    return Engine(tiny_bundle)


@pytest.fixture
def library(library_source, tmp_path) -> Path:
    """A private copy (file times kept) so a test may touch, move or delete files."""
    folder = tmp_path / "library"
    shutil.copytree(library_source, folder, symlinks=True)
    return folder


@pytest.fixture(scope="module")
def built(engine, library_source, tmp_path_factory):
    out = tmp_path_factory.mktemp("index") / "idx"
    return index_folder(engine, library_source, out)


def test_windows_cover_every_frame_and_end_flush():
    assert window_ranges(30, 50, 20) == [(0, 30)]
    ranges = window_ranges(137, 50, 20)
    assert ranges[0] == (0, 50) and ranges[-1] == (87, 137)
    assert all(e - s == 50 for s, e in ranges)
    covered = np.zeros(137, bool)
    for s, e in ranges:
        covered[s:e] = True
    assert covered.all()


def test_index_lists_every_readable_clip_and_the_unreadable_files(built, library_source):
    index, report, out = built
    assert len(index.entries) == PER_CONTENT * len(QUERIES)
    assert [f.key for f in report.failed] == UNREADABLE
    assert index.clip_embeddings.shape == (len(index.entries), index.dim)
    assert np.allclose(np.linalg.norm(index.window_embeddings, axis=1), 1.0, atol=1e-3)
    for entry in index.entries:
        assert (library_source / entry.key).is_file()
        assert entry.windows[-1][1] == entry.frames
    loaded = LibraryIndex.load(out)
    assert [e.key for e in loaded.entries] == [e.key for e in index.entries]
    assert np.array_equal(loaded.window_embeddings, index.window_embeddings)


def test_a_query_built_from_labels_finds_clips_with_those_labels_first(engine, built):
    index = built[0]
    first, precision = {}, {}
    for content, query in QUERIES.items():
        hits = search(engine, index, query, top_k=PER_CONTENT)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        first[content] = content_of(hits[0].key)
        precision[content] = np.mean([content_of(h.key) == content for h in hits])
    # Four balanced labels: chance is 0.25 for both. (The tiny test model confuses waving and raising both
    # hands now and then, so one miss at the top is allowed.)
    assert sum(label == content for content, label in first.items()) >= len(QUERIES) - 1, first
    assert np.mean(list(precision.values())) >= 0.6, precision


def test_hits_carry_a_frame_range_inside_the_clip(engine, built):
    index = built[0]
    with pytest.raises(EngineInputError, match="empty search query"):
        search(engine, index, "  ")
    with pytest.raises(EngineInputError, match="top-k"):
        search(engine, index, "a person runs", top_k=0)
    frames = {e.key: e.frames for e in index.entries}
    for hit in search(engine, index, "someone waves both hands", top_k=len(frames)):
        assert 0 <= hit.start < hit.end <= frames[hit.key]
        assert hit.end_seconds == pytest.approx(hit.end / 30.0)


def test_reindex_reads_only_the_changed_files(engine, library, tmp_path):
    out = tmp_path / "idx"
    first, report, _ = index_folder(engine, library, out)
    assert len(report.read) == len(first.entries) + len(UNREADABLE)  # unreadable files are tried once
    touched = next(e.key for e in first.entries)
    stamp = os.stat(library / touched)
    os.utime(library / touched, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    moved = first.entries[1].key
    (library / moved).rename(library / "renamed.bvh")
    deleted = first.entries[2].key
    (library / deleted).unlink()

    second, report, _ = index_folder(engine, library, out)
    assert sorted(report.read) == sorted([touched, "renamed.bvh"])
    assert report.dropped == sorted([moved, deleted])
    assert [f.key for f in report.failed] == UNREADABLE  # still listed, not parsed again
    assert len(report.reused) == len(first.entries) - 3
    keys = [e.key for e in second.entries]
    assert moved not in keys and deleted not in keys and "renamed.bvh" in keys
    old = {e.key: i for i, e in enumerate(first.entries)}
    for i, entry in enumerate(second.entries):
        if entry.key in old:
            assert np.array_equal(second.clip_embeddings[i], first.clip_embeddings[old[entry.key]])
            assert np.array_equal(second.entry_windows(i), first.entry_windows(old[entry.key]))


def test_an_index_of_another_bundle_is_refused(engine, built, tmp_path):
    out = tmp_path / "idx"
    shutil.copytree(built[2], out)
    doc = json.loads((out / INDEX_JSON).read_text())
    doc["bundle"]["hash"] = "0" * 16
    (out / INDEX_JSON).write_text(json.dumps(doc))
    other = LibraryIndex.load(out)
    with pytest.raises(BundleError, match="re-index"):
        search(engine, other, "a person runs")
    with pytest.raises(BundleError, match="re-index"):
        IndexBuilder(engine, other)


def test_a_newer_index_format_is_refused(built, tmp_path):
    out = tmp_path / "idx"
    shutil.copytree(built[2], out)
    doc = json.loads((out / INDEX_JSON).read_text())
    doc["version"] = 99
    (out / INDEX_JSON).write_text(json.dumps(doc))
    with pytest.raises(EngineInputError, match="update Choreolingo"):
        LibraryIndex.load(out)
    with pytest.raises(EngineInputError, match="not a motion library index"):
        LibraryIndex.load(tmp_path)


def test_the_scan_skips_hidden_folders_and_the_index_itself(library):
    (library / ".trash").mkdir()
    (library / ".trash" / "old.bvh").write_text("x")
    inside = library / "index"
    inside.mkdir()
    (inside / "clips.npy").write_bytes(b"x")
    keys = [s.key for s in folder_sources(library, exclude=[inside])]
    assert keys == sorted(keys)
    assert not any(k.startswith((".trash", "index/")) for k in keys)


def test_command_line_index_and_search(tiny_bundle, library, tmp_path, capsys):
    out = tmp_path / "idx"
    assert library_cli.main(["index", str(library), "--bundle", str(tiny_bundle), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 file(s) could not be read" in printed and all(key in printed for key in UNREADABLE)
    assert library_cli.main(["search", "a person runs", "--index", str(out), "--top-k", "3", "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert len(hits) == 3 and content_of(hits[0]["key"]) == "run"
    assert Path(hits[0]["path"]).is_file()
    assert library_cli.main(["search", "a person runs", "--index", str(tmp_path)]) == 1
    assert "not a motion library index" in capsys.readouterr().err
