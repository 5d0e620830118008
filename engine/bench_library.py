"""Benchmark of the motion library: index every Bandai clip, re-index, and time text queries.

    python -m engine.bench_library --bundle B [--library DIR] [--queries 50]

Without ``--library`` the BVH files of both Bandai archives are extracted to a temporary folder first (not
timed). Prints: full indexing time and rate, unchanged re-index time, index load time, and query latency
(text embedding + search, after the index is loaded) as median and 95th percentile.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from .archive import iter_archive
from .library import LibraryIndex, index_folder, search

REPO = Path(__file__).resolve().parents[1]
ARCHIVES = ("dataset-1.tar.xz", "dataset-2.tar.xz")
DATA_ROOTS = (REPO / "training" / "mocap" / "bandai-namco", REPO.parent / "shared" / "data" / "bandai-namco")
QUERIES = (
    "a fast spin", "a person walks happily", "someone runs", "waving both hands", "a tired old man walks",
    "raise the left hand", "a proud bow", "kick and punch", "dancing", "walking backwards",
)


def extract_bandai(folder: Path) -> int:
    root = next((r for r in DATA_ROOTS if (r / ARCHIVES[0]).exists()), None)
    if root is None:
        raise SystemExit("no Bandai archives in training/mocap/bandai-namco or ../shared/data/bandai-namco")
    count = 0
    for archive in ARCHIVES:
        for member, data in iter_archive(root / archive):
            (folder / Path(member).name).write_bytes(data)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.bench_library", description=__doc__.split("\n")[0])
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--library", help="folder of clips (default: all Bandai BVH, extracted to a temp folder)")
    parser.add_argument("--queries", type=int, default=50, help="timed queries (cycling over a fixed list)")
    args = parser.parse_args(argv)
    from .runtime import Engine

    with tempfile.TemporaryDirectory(prefix="choreolingo-bench-") as scratch:
        scratch = Path(scratch)
        library = Path(args.library) if args.library else scratch / "library"
        if not args.library:
            library.mkdir()
            started = time.perf_counter()
            count = extract_bandai(library)
            print(f"extracted {count} Bandai BVH files in {time.perf_counter() - started:.1f} s (not counted)")
        engine = Engine(args.bundle)
        out = scratch / "index"

        started = time.perf_counter()
        index, report, _ = index_folder(engine, library, out)
        full = time.perf_counter() - started
        frames = sum(e.frames for e in index.entries)
        print(f"index from scratch: {len(index.entries)} clips ({frames} frames, {len(index.window_embeddings)} "
              f"windows, {len(report.failed)} unreadable) in {full:.1f} s = {len(index.entries) / full:.1f} clips/s")

        started = time.perf_counter()
        _, report, _ = index_folder(engine, library, out)
        print(f"re-index, nothing changed: {len(report.reused)} reused, {len(report.read)} read "
              f"in {time.perf_counter() - started:.2f} s")

        started = time.perf_counter()
        index = LibraryIndex.load(out)
        print(f"load index: {1000 * (time.perf_counter() - started):.1f} ms "
              f"({sum(f.stat().st_size for f in out.iterdir()) / 1e6:.1f} MB on disk)")

        search(engine, index, QUERIES[0])  # first call warms up onnxruntime
        latencies = []
        for i in range(args.queries):
            started = time.perf_counter()
            search(engine, index, QUERIES[i % len(QUERIES)], top_k=10)
            latencies.append(1000 * (time.perf_counter() - started))
        latencies.sort()
        p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
        print(f"query (embed text + search {len(index.entries)} clips): median {statistics.median(latencies):.1f} ms, "
              f"p95 {p95:.1f} ms over {len(latencies)} queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
