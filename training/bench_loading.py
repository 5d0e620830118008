"""Benchmark: load every Bandai and CMU clip and cut it into windows, cold (parsing) and from the cache.

``python -m training.bench_loading [--cache-dir DIR]``. Without ``--cache-dir`` a fresh temporary cache is
used, so the first pass always parses the archives. Target: the cold pass (load + windows) under 60 s.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections import Counter
from pathlib import Path

from .corpus import load_corpus
from .windows import prepare


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _timed(label: str, fn):
    """Run ``fn``; print its wall time and the CPU time it used (this process and its parsing workers):
    the cores are shared, so wall time alone depends on what else runs."""
    started, cpu = time.perf_counter(), _cpu()
    out = fn()
    seconds = time.perf_counter() - started
    print(f"{label:<34} {seconds:6.1f} s wall {_cpu() - cpu:6.1f} s CPU (load average {os.getloadavg()[0]:.1f})")
    return out, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.bench_loading", description=__doc__)
    parser.add_argument("--cache-dir", type=Path, help="corpus cache to use (default: a fresh temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cache = args.cache_dir or Path(tmp)
        clips, cold = _timed("load corpus (cold or given cache)", lambda: load_corpus(cache_dir=cache, progress=False))
        _, warm = _timed("load corpus (from cache)", lambda: load_corpus(cache_dir=cache, progress=False))
        prepared, cut = _timed("features, split, windows", lambda: prepare(clips))
    clips_per = Counter(c.dataset for c in clips)
    frames_per = Counter()
    for c in clips:
        frames_per[c.dataset] += c.motion.frames
    for dataset in clips_per:
        windows = sum(int((s.dataset == dataset).sum()) for s in prepared.splits.values())
        print(f"  {dataset:<10} {clips_per[dataset]:5d} clips {frames_per[dataset]:8d} frames {windows:6d} windows")
    print(f"total: {len(clips)} clips; cold load + windows {cold + cut:.1f} s (target < 60 s); "
          f"cached load + windows {warm + cut:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
