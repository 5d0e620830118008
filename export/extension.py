"""``python -m export extension``: the installable Blender extension, one zip per platform.

Stages the add-on (``addon/``), the engine package (``lib/engine``), a model bundle (``bundle/``), the data
licences and the onnxruntime/tokenizers wheels with their dependencies for each platform (numpy excluded:
Blender ships its own), writes the wheel list into the manifest, then builds and validates with Blender's
own tool (``blender_ext.py`` from the bpy module's add-ons).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WHEEL_CACHE = REPO / ".cache" / "wheels"
ENGINE_WHEELS = ("onnxruntime", "tokenizers")
PYTHON_VERSION = "3.11"  # Blender 4.2 to 5.0
# Blender platform -> pip platform tags that install there.
PLATFORM_TAGS = {
    "linux-x64": ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                  "manylinux2014_x86_64"),
    "windows-x64": ("win_amd64",),
    "macos-arm64": ("macosx_14_0_arm64", "macosx_13_0_arm64", "macosx_12_0_arm64", "macosx_11_0_arm64"),
}
# Blender brings numpy; shipping another copy would shadow it.
EXCLUDED_DISTRIBUTIONS = ("numpy",)
DATA_LICENCES = ("bandai-namco", "cmu-dance")


def blender_ext_tool() -> Path:
    """Blender's extension builder as shipped inside the bpy module."""
    import importlib.util

    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the bpy module is needed for Blender's extension tool (pip install bpy)")
    root = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(root.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not found:
        raise SystemExit(f"blender_ext.py not found under {root}")
    return found[-1]


def download_wheels(platform: str, cache: Path = WHEEL_CACHE) -> list[Path]:
    """The engine's wheels for ``platform`` (cached; pip resolves dependencies for that platform)."""
    folder = cache / platform
    folder.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest", str(folder),
               "--python-version", PYTHON_VERSION, *ENGINE_WHEELS]
    for tag in PLATFORM_TAGS[platform]:
        command += ["--platform", tag]
    subprocess.run(command, check=True)
    return sorted(w for w in folder.glob("*.whl") if distribution(w) not in EXCLUDED_DISTRIBUTIONS)


def distribution(wheel: Path) -> str:
    return re.split(r"-", wheel.name, maxsplit=1)[0].lower().replace("_", "-")


def stage(bundle: Path, platforms: list[str], stage_dir: Path) -> Path:
    """A folder holding everything the extension zip carries (recreated)."""
    if not (bundle / "manifest.json").is_file():
        raise SystemExit(f"{bundle} is not a model bundle (no manifest.json)")
    shutil.rmtree(stage_dir, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "addon", stage_dir, ignore=ignore)
    shutil.copytree(REPO / "engine", stage_dir / "lib" / "engine", ignore=ignore)
    shutil.copytree(bundle, stage_dir / "bundle", ignore=ignore)
    licences = stage_dir / "licenses"
    licences.mkdir()
    for name in DATA_LICENCES:
        for part in ("LICENSE", "README.md"):
            source = REPO / "training" / "mocap" / name / part
            if source.is_file():
                shutil.copy2(source, licences / f"{name}-{part}")
    wheels_dir = stage_dir / "wheels"
    wheels_dir.mkdir()
    wheels = {}
    for platform in platforms:
        for wheel in download_wheels(platform):
            wheels[wheel.name] = wheel
    for wheel in wheels.values():
        shutil.copy2(wheel, wheels_dir / wheel.name)
    manifest = (REPO / "blender_manifest.toml").read_text()
    listed = ",\n".join(f'  "./wheels/{name}"' for name in sorted(wheels))
    manifest = re.sub(r"^wheels = \[\]$", f"wheels = [\n{listed},\n]", manifest, flags=re.M)
    manifest = re.sub(r"^platforms = .*$", "platforms = [" + ", ".join(f'"{p}"' for p in platforms) + "]",
                      manifest, flags=re.M)
    (stage_dir / "blender_manifest.toml").write_text(manifest)
    return stage_dir


def build(bundle: Path, out: Path, platforms: list[str]) -> list[Path]:
    """Stage, build one zip per platform into ``out`` and validate each; returns the zips."""
    tool = blender_ext_tool()
    out.mkdir(parents=True, exist_ok=True)
    staged = stage(bundle, platforms, out / "stage")
    before = set(out.glob("*.zip"))
    subprocess.run([sys.executable, str(tool), "build", "--source-dir", str(staged), "--output-dir", str(out),
                    "--split-platforms"], check=True)
    zips = sorted(set(out.glob("*.zip")) - before) or sorted(out.glob("*.zip"))
    for package in zips:
        subprocess.run([sys.executable, str(tool), "validate", str(package)], check=True)
    shutil.rmtree(staged)
    return zips


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m export extension", description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", required=True, type=Path, help="model bundle folder")
    parser.add_argument("--out", required=True, type=Path, help="folder for the extension zips")
    parser.add_argument("--platform", action="append", choices=sorted(PLATFORM_TAGS),
                        help="build only these platforms (repeatable; default: all)")
    args = parser.parse_args(argv)
    for package in build(args.bundle.resolve(), args.out.resolve(), args.platform or list(PLATFORM_TAGS)):
        print(package)
    return 0
