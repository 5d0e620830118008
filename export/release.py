"""``python -m export release --out out/``: the main job, from motion data to a working Blender extension.

Every step is one of the project's own commands, run as a subprocess so that what this job does is exactly
what a user typing them does (and a failing step stops the job with its own message):

1. ``python -m training train``: all training stages and the evaluation into ``OUT/run`` (resumable: run the
   job again after an interruption and finished stages are skipped);
2. ``python -m export bundle``: ONNX models, parity check and the model bundle in ``OUT/bundle``;
3. ``python -m export extension``: the installable extension zips in ``OUT/extension``;
4. ``addon/batch.py`` headless: a generated clip (``.blend``, ``.bvh``, rendered frames) with Debian's
   ``blender`` binary when there is one (else with the bpy module), and descriptions of real clips;
5. stick-figure previews of generated motion and ``OUT/SUMMARY.md`` pointing at everything.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BATCH = REPO / "addon" / "batch.py"
BLENDER = shutil.which("blender")
BLENDER_SITE = REPO / ".cache" / "blender-site"
MOCAP = REPO / "training" / "mocap"
# Real clips described at the end: a ballet trial of the CMU database and Bandai takes held out of training
# (test split of the default seed), so the descriptions are of motion the model has not seen.
DESCRIBE_CMU = MOCAP / "cmu-dance" / "05_19.bvh"
DESCRIBE_BANDAI = ("dataset-1_bow_proud_001.bvh", "dataset-2_wave-both-hands_masculine_011.bvh")
PROMPTS = ("a dancer performs a pirouette", "a person walks happily", "someone waves both hands")


def blender_site() -> Path:
    """numpy<2, onnxruntime and tokenizers for Debian's Blender (its system Python 3.11 lacks them).

    Installed once with ``pip --target`` into ``.cache/blender-site``, the folder ``addon/batch.py`` adds to
    ``sys.path``; the versions are the ones this Python uses, so both runs load the same engine."""
    if not (BLENDER_SITE / "onnxruntime").is_dir():
        import numpy
        import onnxruntime
        import tokenizers

        pins = [f"numpy=={numpy.__version__}", f"onnxruntime=={onnxruntime.__version__}",
                f"tokenizers=={tokenizers.__version__}"]  # fmt: skip
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--only-binary=:all:", "--target",
                        str(BLENDER_SITE), *pins], check=True)  # fmt: skip
    return BLENDER_SITE


def step(title: str, command: list[str], log: Path, capture: bool = False) -> str:
    """Run one command, echoing its output (and keeping it in ``log``); stop the job if it fails."""
    print(f"\n== {title}\n$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    with log.open("a") as sink:
        sink.write(f"\n== {title}\n$ {' '.join(command)}\n")
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines = []
        for line in process.stdout:
            sink.write(line)
            lines.append(line)
            if not capture:
                print(line, end="", flush=True)
        code = process.wait()
    if code:
        print("".join(lines[-30:]) if capture else "", end="")
        raise SystemExit(f"release: step '{title}' failed with exit code {code} (log: {log})")
    print(f"-- {title}: {time.perf_counter() - started:.0f} s", flush=True)
    return "".join(lines)


def last_json(text: str) -> dict:
    """The JSON object a batch run prints last (Blender prints its own lines before it)."""
    start = text.rindex("\n{") + 1 if "\n{" in text else text.index("{")
    return json.JSONDecoder().raw_decode(text[start:])[0]


def extract_bandai(names: tuple[str, ...], folder: Path) -> list[Path]:
    """Copy named clips out of the vendored Bandai archives (the only way they exist on disk)."""
    from engine.archive import iter_archive

    wanted, found = set(names), []
    for archive in sorted((MOCAP / "bandai-namco").glob("dataset-*.tar.xz")):
        for member, data in iter_archive(archive, ".bvh"):
            name = Path(member).name
            if name in wanted:
                (folder / name).write_bytes(data)
                found.append(folder / name)
    return found


def write_previews(bundle: Path, out: Path) -> list[Path]:
    """A PNG grid and a GIF per prompt, drawn from the engine's own output (what users get)."""
    from engine import Engine
    from training.plots import save_gif, save_grid

    engine = Engine(bundle)
    motions = [engine.generate(prompt, seconds=4.0, seed=0)[0] for prompt in PROMPTS]
    paths = [save_grid(motions, out / "generated.png", titles=list(PROMPTS))]
    for prompt, motion in zip(PROMPTS, motions):
        paths.append(save_gif([motion], out / f"{prompt.replace(' ', '-')}.gif", titles=[prompt]))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export release", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for every output (default: out)")
    parser.add_argument("--config", default="default", help="training config name or TOML file")
    parser.add_argument("--platform", action="append", help="extension platform(s) (default: all three)")
    parser.add_argument("--prompt", default=PROMPTS[0], help="prompt of the headless batch generation")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    batch_dir = out / "batch"
    batch_dir.mkdir(parents=True, exist_ok=True)
    log = out / "release.log"
    py = sys.executable
    started = time.perf_counter()

    step("train and evaluate", [py, "-m", "training", "train", "--config", args.config, "--run-dir", str(out / "run")], log)
    step("export the model bundle", [py, "-m", "export", "bundle", str(out / "run"), "--out", str(out / "bundle")], log)
    platforms = [a for p in (args.platform or []) for a in ("--platform", p)]
    step("build the extension", [py, "-m", "export", "extension", "--bundle", str(out / "bundle"),
                                 "--out", str(out / "extension"), *platforms], log)  # fmt: skip

    bundle = ["--bundle", str(out / "bundle")]
    generate = ["generate", "--prompt", args.prompt, "--seconds", "4", "--out", str(batch_dir / "clip.blend"),
                "--render", str(batch_dir / "renders"), "--bvh", str(batch_dir / "clip.bvh")]  # fmt: skip
    if BLENDER:
        blender_site()
        runner = [BLENDER, "-b", "--factory-startup", "-P", str(BATCH), "--"]
    else:
        runner = [py, str(BATCH)]
    made = last_json(step(f"generate headless ({Path(runner[0]).name})", [*runner, *bundle, *generate], log))
    descriptions = {}
    for clip in [DESCRIBE_CMU, *extract_bandai(DESCRIBE_BANDAI, batch_dir)]:
        # Blender 3.4's own BVH importer is broken on Python 3.11: real BVH goes through the bpy module.
        text = step(f"describe {clip.name}", [py, str(BATCH), *bundle, "describe", "--input", str(clip), "--json"],
                    log, capture=True)  # fmt: skip
        descriptions[clip.name] = last_json(text)
        print(f"   {clip.name}: {descriptions[clip.name]['sentence']}")
    (batch_dir / "descriptions.json").write_text(json.dumps(descriptions, indent=2))
    previews = write_previews(out / "bundle", out)

    zips = sorted((out / "extension").glob("*.zip"))
    lines = [
        "# Choreolingo release",
        f"Built by `python -m export release` in {(time.perf_counter() - started) / 60:.1f} min.",
        f"- training run, evaluation and plots: `run/` (report: `run/evaluation/report.md`)",
        f"- model bundle: `bundle/` ({sum(f.stat().st_size for f in (out / 'bundle').iterdir()) / 1e6:.1f} MB)",
        *[f"- extension: `extension/{z.name}`" for z in zips],
        f"- generated clip ('{args.prompt}'): `batch/clip.blend`, `batch/clip.bvh`, {len(made.get('renders', []))}"
        " rendered frames in `batch/renders/`",
        "- descriptions of real clips: `batch/descriptions.json`",
        *[f"  - {name}: {d['sentence']}" for name, d in descriptions.items()],
        *[f"- preview: `{p.name}`" for p in previews],
    ]
    (out / "SUMMARY.md").write_text("\n".join(lines) + "\n")
    print("\n" + "\n".join(lines))
    return 0
