"""Headless Choreolingo, in Blender or in Python with the bpy module:

    blender -b -P addon/batch.py -- generate --prompt "a person dances" --seconds 4 --out out/clip.blend \
        [--render out/renders/] [--bvh out/clip.bvh] [--bundle DIR]
    blender -b -P addon/batch.py -- describe --input clip.bvh|clip.blend|clip.npy [--json] [--bundle DIR]
    python addon/batch.py generate ...   (same arguments)

The repository's engine is put on sys.path, and so is a pip ``--target`` folder for Blender builds whose
Python lacks onnxruntime/tokenizers (see ``engine_loader``). Errors print one line and exit with status 1.
"""

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from addon import engine_loader  # noqa: E402

engine_loader.ensure_importable()

import bpy  # noqa: E402
import numpy as np  # noqa: E402
from engine.errors import BundleError, ChoreolingoError, EngineInputError  # noqa: E402

from addon import generation, preview, sampling  # noqa: E402
from addon.axes import to_blender  # noqa: E402


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="batch.py", description="Headless Choreolingo generate/describe")
    parser.add_argument("--bundle", help="model bundle folder (default: embedded, or CHOREOLINGO_BUNDLE)")
    parser.add_argument("--threads", type=int, default=0)
    commands = parser.add_subparsers(dest="command", required=True)
    gen = commands.add_parser("generate", help="prompt -> keyframed armature in a .blend")
    gen.add_argument("--prompt", required=True)
    gen.add_argument("--seconds", type=float, default=4.0)
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--variations", type=int, default=1)
    gen.add_argument("--out", required=True, help=".blend file to write")
    gen.add_argument("--render", help="folder for preview PNG frames")
    gen.add_argument("--render-frames", type=int, default=6)
    gen.add_argument("--bvh", help="also write the first variation as BVH")
    desc = commands.add_parser("describe", help="motion file -> words")
    desc.add_argument("--input", required=True, help=".bvh (Blender's importer), .blend or .npy")
    desc.add_argument("--top-k", type=int, default=5)
    desc.add_argument("--json", action="store_true", help="print JSON instead of text")
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    return parser.parse_args(argv)


def load_engine(args):
    bundle = engine_loader.bundle_dir(args.bundle or "")
    if bundle is None:
        raise BundleError(f"no model bundle at '{args.bundle}'" if args.bundle else "no model bundle: pass --bundle")
    return engine_loader.get_engine(bundle, args.threads)


def generate(args) -> dict:
    engine = load_engine(args)
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = 30, 1.0
    started = time.perf_counter()
    motions = engine.generate(args.prompt, seconds=args.seconds, seed=args.seed, n=args.variations)
    obj, actions, _ = generation.keyframe_motions(scene, motions, args.prompt)
    seconds = time.perf_counter() - started
    scene.frame_end = scene.frame_start + motions[0].frames - 1
    result = {"object": obj.name, "actions": [a.name for a in actions], "frames": motions[0].frames,
              "generate_seconds": round(seconds, 3)}
    if args.render:
        points = to_blender(motions[0].positions).reshape(-1, 3)
        frames = preview.render_frames(scene, obj, points, Path(args.render).resolve(), args.render_frames)
        result["renders"] = [str(p) for p in frames]
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    bpy.ops.wm.save_as_mainfile(filepath=str(out))
    result["blend"] = str(out)
    if args.bvh:
        engine.save_bvh(motions[0], Path(args.bvh).resolve())
        result["bvh"] = str(Path(args.bvh).resolve())
    return result


def armature_in_file(path: Path):
    bpy.ops.wm.open_mainfile(filepath=str(path))
    active = bpy.context.view_layer.objects.active
    if generation.is_armature(active) and active.animation_data and active.animation_data.action:
        return active
    for obj in bpy.context.scene.objects:
        if generation.is_armature(obj) and obj.animation_data and obj.animation_data.action:
            return obj
    raise EngineInputError(f"{path}: no armature with an action")


def motion_from_input(path: Path):
    if not path.is_file():
        raise EngineInputError(f"no such file: {path}")
    if path.suffix.lower() == ".blend":
        obj = armature_in_file(path)
        return sampling.sample_motion(obj, bpy.context.scene)
    if path.suffix.lower() == ".bvh":
        bpy.ops.wm.read_factory_settings(use_empty=True)
        bpy.ops.import_anim.bvh(filepath=str(path), update_scene_fps=True, update_scene_duration=True)
        return sampling.sample_motion(bpy.context.view_layer.objects.active, bpy.context.scene)
    from engine.io import load_motion

    return load_motion(path)


def describe(args) -> dict:
    engine = load_engine(args)
    started = time.perf_counter()
    motion = motion_from_input(Path(args.input).resolve())
    description = engine.describe(motion, top_k=args.top_k)
    result = description.to_dict()
    result.update(input=str(Path(args.input).resolve()), frames=motion.frames,
                  describe_seconds=round(time.perf_counter() - started, 3))
    return result


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    try:
        result = generate(args) if args.command == "generate" else describe(args)
    except ChoreolingoError as error:
        print(f"choreolingo: error: {error}", file=sys.stderr)
        return 1
    if args.command == "describe" and not args.json:
        print(result["sentence"])
        for match in result["matches"]:
            print(f"  {match['score']:.3f}  {match['text']}")
    else:
        print(json.dumps(result, indent=None if args.command == "describe" else 2, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
