"""``addon/batch.py`` end to end: under Python with the bpy module, and under Debian's Blender 3.4 binary."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
BATCH = REPO / "addon" / "batch.py"
pytestmark = [pytest.mark.slow, pytest.mark.blender]


def run(command: list[str], env: dict | None = None) -> dict:
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env, cwd=REPO)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    start = done.stdout.index("{")  # Blender prints its own lines before ours
    return json.JSONDecoder().raw_decode(done.stdout[start:])[0]


def test_python_batch_renders_different_previews_for_different_prompts(tiny_bundle, tmp_path):
    frames = []
    for prompt in ("a person walks", "a person waves both hands"):
        out = tmp_path / prompt.replace(" ", "_")
        result = run([sys.executable, str(BATCH), "--bundle", str(tiny_bundle), "generate", "--prompt", prompt,
                      "--seconds", "2", "--out", str(out / "clip.blend"), "--render", str(out / "renders"),
                      "--render-frames", "2", "--bvh", str(out / "clip.bvh")])
        assert Path(result["blend"]).is_file() and Path(result["bvh"]).is_file()
        frames.append(np.asarray(Image.open(result["renders"][-1]).convert("L"), dtype=np.float64))
    for image in frames:
        assert image.std() > 5  # a figure, not a blank frame
    assert np.abs(frames[0] - frames[1]).mean() > 0.5


def test_blender_34_binary_generates_and_describes(tiny_bundle, blender34_site, tmp_path):
    env = dict(os.environ, CHOREOLINGO_SITE=str(blender34_site))
    blender = ["/usr/bin/blender", "-b", "--factory-startup", "-P", str(BATCH), "--", "--bundle", str(tiny_bundle)]
    made = run([*blender, "generate", "--prompt", "a person kicks", "--seconds", "3",
                "--out", str(tmp_path / "clip.blend")], env)
    assert made["frames"] == 90 and made["actions"] == ["a person kicks"]
    described = run([*blender, "describe", "--input", made["blend"], "--json"], env)
    assert described["frames"] >= 89 and described["sentence"] and len(described["matches"]) == 5
