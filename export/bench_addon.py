"""``python -m export.bench_addon --bundle DIR [--zip EXTENSION.zip] [--repeats N]``: the add-on's timings.

Installs the extension zip (built around ``--bundle`` when no ``--zip`` is given) into a fresh Blender (the
bpy module, temporary user folder) and times what a user waits for: install + enable, enable alone, the
Generate button (new armature, 4 s, 1 variation) to keyframes and Describe Motion on 300 frames of a real
Bandai BVH (sampling included). The first Generate loads the model (``Engine``, text encoder and decoder
sessions), the first Describe its motion encoder and bank. Targets: <= 0.3 s, <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import textwrap
from datetime import date
from pathlib import Path
from statistics import median

from engine.archive import iter_archive
from export.extension import REPO, build

BANDAI = REPO / "training" / "mocap" / "bandai-namco" / "dataset-1.tar.xz"
DESCRIBED_FRAMES = 300

# Runs in its own process (the user folder must be set before ``import bpy``; one Blender per process) and
# from a folder without the repository, so the add-on imports its embedded engine, as a user's Blender does.
SCRIPT = textwrap.dedent('''
    import json, sys, time
    import bpy
    ADDON = "bl_ext.user_default.choreolingo"
    zip_path, bvh_path, frames, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

    def timed(call):
        started = time.perf_counter()
        result = call()
        assert "FINISHED" in result, result
        return time.perf_counter() - started

    def reenable():
        bpy.ops.preferences.addon_disable(module=ADDON)
        return timed(lambda: bpy.ops.preferences.addon_enable(module=ADDON))

    bpy.ops.wm.read_factory_settings(use_empty=True)
    out = {"blender": bpy.app.version_string, "install": [timed(lambda: bpy.ops.extensions.package_install_files(
        filepath=zip_path, repo="user_default", enable_on_install=True))]}
    assert ADDON in bpy.context.preferences.addons
    bpy.context.scene.render.fps = 30
    settings = bpy.context.scene.choreolingo
    settings.prompt, settings.seconds, settings.variations, settings.target = "a person dances", 4.0, 1, "NEW"
    out["generate"] = [timed(bpy.ops.choreolingo.generate) for _ in range(repeats + 1)]
    bpy.ops.wm.read_homefile(use_empty=True)  # drops the generated rigs (keeps the preferences)
    assert "FINISHED" in bpy.ops.import_anim.bvh(filepath=bvh_path, update_scene_fps=True, update_scene_duration=True)
    settings = bpy.context.scene.choreolingo
    settings.use_frame_range, settings.frame_start, settings.frame_end = True, 1, frames
    out["describe"] = [timed(bpy.ops.choreolingo.describe_motion) for _ in range(repeats + 1)]
    out["described"] = settings.sentence
    out["enable"] = [reenable() for _ in range(repeats + 1)]
    print("RESULT " + json.dumps(out))
''')


def long_bandai_clip(folder: Path, frames: int = DESCRIBED_FRAMES) -> Path:
    """The first Bandai dataset-1 BVH with at least ``frames`` frames, written to ``folder``."""
    for name, data in iter_archive(BANDAI):
        if int(re.search(rb"Frames:\s*(\d+)", data).group(1)) >= frames:
            path = folder / Path(name).name
            path.write_bytes(data)
            return path
    raise SystemExit(f"no clip of {frames} frames in {BANDAI}")


def blender_timings(package: Path, clip: Path, repeats: int, work: Path) -> dict:
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(work / "user"))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(package), str(clip), str(DESCRIBED_FRAMES),
                           str(repeats)], env=env, cwd=work, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        raise SystemExit(f"Blender run failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("RESULT "):])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export.bench_addon", description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, type=Path, help="model bundle folder")
    parser.add_argument("--zip", type=Path, help="built linux-x64 extension zip (default: build one)")
    parser.add_argument("--repeats", type=int, default=5, help="calls timed after the first one")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-addon-") as tmp:
        work = Path(tmp)
        package = args.zip or build(args.bundle.resolve(), work / "extension", ["linux-x64"])[0]
        out = blender_timings(package.resolve(), long_bandai_clip(work), args.repeats, work)

    def first_and_median(times: list[float], target: str, name: str) -> list[tuple[str, str, str]]:
        return [(f"{name}, first call", f"{times[0]:.3f} s", ""),
                (f"{name}, median of {len(times) - 1}", f"{median(times[1:]):.3f} s", target)]

    rows = [("install + enable (extension zip, wheels)", f"{out['install'][0]:.3f} s", ""),
            *first_and_median(out["enable"], "", "enable (after disable)"),
            *first_and_median(out["generate"], "<= 0.3 s", "Generate 4 s, 1 variation, new armature"),
            *first_and_median(out["describe"], "<= 0.5 s", f"Describe Motion {DESCRIBED_FRAMES} frames + sampling")]
    print(f"Choreolingo add-on benchmark, {date.today()}, {platform.platform()}, {os.cpu_count()} cores, "
          f"Blender {out['blender']} (bpy module), bundle {args.bundle.name}")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure':<{width}} | {'value':>8} | {'target':<8} |")
    print(f"|{'-' * (width + 2)}|{'-' * 10}|{'-' * 10}|")
    for name, value, target in rows:
        print(f"| {name:<{width}} | {value:>8} | {target:<8} |")
    print(f"described clip: {out['described']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
