"""The training pipeline: stages in order, each resumable, all writing into one run folder.

    python -m training train [--config tiny] [--run-dir runs/x] [--set vae.epochs=3]  # every stage
    python -m training vae --run-dir runs/x                                           # one stage
    torchrun --nproc_per_node 2 -m training train --config tiny                       # several processes

A stage whose ``stages/NAME/done`` exists is skipped; an interrupted stage resumes from its last epoch
checkpoint. ``--redo`` runs the named stage again and forgets the stages after it (they depended on it).
The run folder keeps the config it was started with; resuming it with a different config is refused.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from importlib import import_module
from pathlib import Path

from . import distributed
from .artifacts import read_json, write_json, write_text
from .config import ConfigError, add_config_arguments, config_from_args, dump_config
from .stages.context import Context, set_threads

# Order matters: each stage reads what the ones before it wrote.
STAGES = ("data", "vae", "cluster", "align", "text", "t2m", "bank", "evaluate")
_MODULES = {name: f"training.stages.{name}" for name in STAGES if name != "evaluate"} | {
    "evaluate": "training.evaluate"
}


def open_run(config: dict, run_dir: Path) -> Context:
    """A context on ``run_dir`` (created with ``config``, or checked against the config it already has)."""
    world = distributed.init_world()
    set_threads(config, world)
    saved = run_dir / "config.toml"
    text = dump_config(config)
    if saved.exists() and saved.read_text() != text:
        raise ConfigError(f"{run_dir} was started with another config ({saved}); use a new --run folder")
    if world.is_main and not saved.exists():
        write_text(saved, text)
    distributed.barrier(world)
    return Context(config, run_dir, world)


def forget(ctx: Context, names: tuple[str, ...]) -> None:
    if ctx.world.is_main:
        for name in names:
            shutil.rmtree(ctx.stage_dir(name), ignore_errors=True)
    distributed.barrier(ctx.world)


def run_stage(ctx: Context, name: str) -> dict:
    if ctx.is_done(name):
        if ctx.world.is_main:
            print(f"[{name}] done already ({ctx.stage_dir(name) / 'metrics.json'})", flush=True)
        return read_json(ctx.stage_dir(name) / "metrics.json")
    if ctx.world.is_main:
        print(f"[{name}] starting", flush=True)
    started = time.perf_counter()
    metrics = import_module(_MODULES[name]).run(ctx)
    metrics = {"seconds": round(time.perf_counter() - started, 1), **metrics}
    ctx.finish(name, metrics)
    if ctx.world.is_main:
        print(f"[{name}] finished in {metrics['seconds']:.0f} s", flush=True)
    return metrics


def run_pipeline(ctx: Context, stages: tuple[str, ...] = STAGES) -> dict:
    """Run (or skip, when done) each stage; writes the run's summary ``metrics.json``."""
    results = {name: run_stage(ctx, name) for name in stages}
    if ctx.world.is_main:
        summary = read_json(ctx.run_dir / "metrics.json") if (ctx.run_dir / "metrics.json").exists() else {}
        for name, metrics in results.items():
            summary[name] = {k: v for k, v in metrics.items() if k != "history"}
        summary["total_seconds"] = round(sum(s.get("seconds", 0) for k, s in summary.items()
                                             if isinstance(s, dict)), 1)  # fmt: skip
        write_json(ctx.run_dir / "metrics.json", summary)
    return results


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    add_config_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m training train``: the whole pipeline."""
    parser = _parser("python -m training train", "train every stage (skipping finished ones) into a run folder")
    parser.add_argument("--stages", default=",".join(STAGES), help="comma-separated subset, in pipeline order")
    args = parser.parse_args(argv)
    try:
        config, run_dir = config_from_args(args)
        wanted = tuple(s for s in STAGES if s in args.stages.split(","))
        ctx = open_run(config, run_dir)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    run_pipeline(ctx, wanted)
    if ctx.world.is_main:
        print(f"run folder: {run_dir}")
    distributed.close(ctx.world)
    return 0


def stage_main(name: str, argv: list[str] | None = None) -> int:
    """``python -m training NAME``: one stage, after checking the stages before it are done."""
    parser = _parser(f"python -m training {name}", f"run the '{name}' stage in a run folder")
    parser.add_argument("--redo", action="store_true", help="run it again and forget the later stages")
    args = parser.parse_args(argv)
    try:
        config, run_dir = config_from_args(args)
        ctx = open_run(config, run_dir)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    earlier = STAGES[: STAGES.index(name)]
    missing = [s for s in earlier if not ctx.is_done(s)]
    if missing:
        print(f"error: stage '{name}' needs {', '.join(missing)} first (python -m training train "
              f"--stages {','.join(missing)})", file=sys.stderr)  # fmt: skip
        return 2
    if args.redo:
        forget(ctx, STAGES[STAGES.index(name) :])
    run_pipeline(ctx, (name,))
    distributed.close(ctx.world)
    return 0
