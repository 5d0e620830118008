"""``python -m engine describe|generate|interpolate ...``: the engine from a shell.

Problems with the input (a bad file, an empty prompt, a broken bundle) print one line on stderr and exit
with status 1; notes about a prompt (cut to the token limit, unknown words) go to stderr too.
Output motions are written as BVH or NumPy (frames x 21 x 3 positions, metres) by the suffix of ``--out``;
several motions get ``_1``, ``_2``... before the suffix.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .cli import run_reported
from .errors import EngineInputError
from .motion import Motion

OUTPUT_SUFFIXES = (".bvh", ".npy")
MOTION_SUFFIXES = (".bvh", ".npy")


def output_paths(out: str, count: int) -> list[Path]:
    path = Path(out)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise EngineInputError(f"--out must end in {' or '.join(OUTPUT_SUFFIXES)}, got {out}")
    if count == 1:
        return [path]
    return [path.with_name(f"{path.stem}_{i + 1}{path.suffix}") for i in range(count)]


def save_motions(engine, motions: list[Motion], out: str) -> None:
    for motion, path in zip(motions, output_paths(out, len(motions))):
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() == ".bvh":
            engine.save_bvh(motion, path)
        else:
            np.save(path, motion.positions)
        print(f"wrote {path} ({motion.frames} frames, {motion.seconds:.2f} s)")


def prompt_or_motion(value: str):
    """A path to an existing .bvh/.npy file is a motion; anything else is a prompt."""
    path = Path(value)
    if path.suffix.lower() in MOTION_SUFFIXES and path.is_file():
        from .io import load_motion

        return load_motion(path)
    return value


def describe(engine, args) -> None:
    from .io import load_motion

    description = engine.describe(load_motion(args.file), top_k=args.top_k)
    if args.json:
        print(json.dumps(description.to_dict(), indent=1))
        return
    print(description.sentence)
    for text, score in description:
        print(f"  {score:6.3f}  {text}")


def generate(engine, args) -> None:
    output_paths(args.out, args.samples)  # refuse a bad --out before any work
    motions = engine.generate(args.text, seconds=args.seconds, seed=args.seed, n=args.samples)
    save_motions(engine, motions, args.out)


def interpolate(engine, args) -> None:
    output_paths(args.out, args.steps)
    a, b = prompt_or_motion(args.start), prompt_or_motion(args.end)
    save_motions(engine, engine.interpolate(a, b, steps=args.steps, seconds=args.seconds), args.out)


def parser() -> argparse.ArgumentParser:
    from .runtime import DEFAULT_THREADS

    root = argparse.ArgumentParser(prog="python -m engine", description="Choreolingo: text to dance and back.",
                                   epilog="motion library: python -m engine index|search|annotate -h")
    commands = root.add_subparsers(dest="command", required=True)

    def command(name: str, help: str, run) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help)
        sub.add_argument("--bundle", required=True, help="model bundle folder (python -m export bundle ...)")
        sub.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="onnxruntime threads (default 1)")
        sub.set_defaults(run=run)
        return sub

    sub = command("describe", "describe the movement in a .bvh or .npy file", describe)
    sub.add_argument("file", help="motion file (.bvh, or .npy frames x 21 x 3 in metres)")
    sub.add_argument("--top-k", type=int, default=5, help="how many bank texts to list (default 5)")
    sub.add_argument("--json", action="store_true", help="print the result as JSON")

    sub = command("generate", "generate motion from a text prompt", generate)
    sub.add_argument("text", help='the prompt, e.g. "a person walks proudly"')
    sub.add_argument("--seconds", type=float, default=4.0, help="length in seconds (default 4)")
    sub.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same motion")
    sub.add_argument("--samples", type=int, default=1, help="how many variations (default 1)")
    sub.add_argument("--out", required=True, help="output file, .bvh or .npy")

    sub = command("interpolate", "motions along the latent path between two prompts or motion files", interpolate)
    sub.add_argument("start", help="a prompt, or a .bvh/.npy file")
    sub.add_argument("end", help="a prompt, or a .bvh/.npy file")
    sub.add_argument("--steps", type=int, default=5, help="motions on the path, ends included (default 5)")
    sub.add_argument("--seconds", type=float, default=None, help="length of each (default: one model window)")
    sub.add_argument("--out", required=True, help="output file, .bvh or .npy (numbered per step)")
    return root


def main(argv: list[str] | None = None) -> int:
    from . import library_cli

    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in library_cli.COMMANDS:  # the motion library's own commands (index, search, annotate)
        return library_cli.main(argv)
    args = parser().parse_args(argv)

    def run() -> None:
        from .runtime import Engine

        args.run(Engine(args.bundle, threads=args.threads), args)

    return run_reported(run)


if __name__ == "__main__":
    sys.exit(main())
