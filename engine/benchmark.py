"""``python -m engine.benchmark --bundle DIR [--run RUN_DIR]``: the engine's speed and size, as a table.

Rows: bundle size on disk; ``Engine(...)`` (manifest + hashes); the first ``generate`` (creates the text
encoder and decoder sessions) and first ``describe`` (motion encoder, bank); median prompt -> 4 s of motion
end to end (tokenize, encode, decode, de-normalize); median description of a 300-frame clip; peak memory.
With ``--run``, the same prompt -> motion path in PyTorch eager is timed in a subprocess (this process never
imports torch) and the speed-up is printed. Targets: <= 20 ms, >= 3x, <= 15 ms, <= 40 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

PROMPT = "a person walks proudly"
REPO = Path(__file__).resolve().parents[1]
CLIP = REPO / "training" / "mocap" / "cmu-dance" / "05_07.bvh"


def median_ms(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return 1000 * float(np.median(times))


def once_ms(call) -> float:
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def torch_median_ms(run_dir: str, repeats: int, threads: int) -> float:
    command = [sys.executable, "-m", "export", "torch-timing", run_dir, "--prompt", PROMPT, "--repeats",
               str(repeats), "--threads", str(threads)]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return float(json.loads(result.stdout.strip().splitlines()[-1])["median_ms"])


def main(argv: list[str] | None = None) -> int:
    from .io import load_motion
    from .runtime import Engine

    parser = argparse.ArgumentParser(prog="python -m engine.benchmark", description=__doc__)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--run", help="training run of the bundle: also time PyTorch eager")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args(argv)

    bundle = Path(args.bundle)
    size = sum(f.stat().st_size for f in bundle.iterdir() if f.is_file()) / 1e6
    started = time.perf_counter()
    engine = Engine(bundle, threads=args.threads)
    init_ms = 1000 * (time.perf_counter() - started)
    clip = load_motion(CLIP)
    clip = clip.slice(0, min(300, clip.frames))
    rows = [
        ("bundle size on disk", f"{size:.1f} MB", "<= 40 MB"),
        ("Engine(...) (manifest, sha256 of every file)", f"{init_ms:.0f} ms", ""),
        ("first generate (creates text + decoder sessions)", f"{once_ms(lambda: engine.generate(PROMPT)):.0f} ms", ""),
        ("first describe (creates motion session, loads bank)", f"{once_ms(lambda: engine.describe(clip)):.0f} ms", ""),
    ]
    onnx_ms = median_ms(lambda: engine.generate(PROMPT, seconds=4.0), args.repeats)
    rows.append((f"text -> 4 s motion, onnxruntime {args.threads} thread(s), median", f"{onnx_ms:.2f} ms", "<= 20 ms"))
    if args.run:
        eager_ms = torch_median_ms(args.run, args.repeats, args.threads)
        rows.append((f"text -> 4 s motion, PyTorch eager {args.threads} thread(s), median", f"{eager_ms:.2f} ms", ""))
        rows.append(("speed-up onnxruntime / PyTorch", f"{eager_ms / onnx_ms:.1f}x", ">= 3x"))
    describe_ms = median_ms(lambda: engine.describe(clip), args.repeats)
    rows.append((f"describe a {clip.frames}-frame clip, median", f"{describe_ms:.2f} ms", "<= 15 ms"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rows.append(("peak memory (max RSS of this process)", f"{peak:.0f} MB", ""))

    print(f"Choreolingo engine benchmark, {date.today()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores, Python {platform.python_version()}, model {engine.manifest['model_version']}, "
          f"text encoder {engine.manifest['text']['variant']}")  # fmt: skip
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':<{width}} | {'value':>10} | {'target':<8} |")
    print(f"|{'-' * (width + 2)}|{'-' * 12}|{'-' * 10}|")
    for name, value, target in rows:
        print(f"| {name:<{width}} | {value:>10} | {target:<8} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
