"""``python -m engine``: help, outputs, and one-line errors with a non-zero exit code."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


REPO = Path(__file__).resolve().parents[1]
# The engine must be importable from any working folder (a user's), not only from the repository.
ENV = {**os.environ, "PYTHONPATH": str(REPO)}


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "engine", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=ENV)  # fmt: skip


@pytest.mark.parametrize("command", ["describe", "generate", "interpolate"])
def test_help(command):
    result = run(command, "--help")
    assert result.returncode == 0 and "--bundle" in result.stdout


def test_missing_bundle_is_one_line_error(tmp_path):
    result = run("generate", "a person walks", "--bundle", tmp_path / "none", "--out", tmp_path / "a.bvh")
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no such bundle folder" in result.stderr


@pytest.mark.slow
def test_generate_describe_interpolate(tiny_bundle, cmu_dir, tmp_path):
    result = run("generate", "a person walks proudly", "--bundle", tiny_bundle, "--samples", "2",
                 "--seconds", "3", "--out", tmp_path / "walk.npy")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert np.load(tmp_path / "walk_2.npy").shape == (90, 21, 3)
    result = run("generate", "a person walks", "--bundle", tiny_bundle, "--out", tmp_path / "walk.bvh")
    assert result.returncode == 0 and (tmp_path / "walk.bvh").read_text().startswith("HIERARCHY")

    result = run("describe", tmp_path / "walk.bvh", "--bundle", tiny_bundle, "--top-k", "2", "--json")
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)
    assert len(described["matches"]) == 2 and described["sentence"].startswith("A person")

    result = run("interpolate", "a person walks", cmu_dir / "05_07.bvh", "--steps", "3", "--bundle", tiny_bundle,
                 "--out", tmp_path / "path.npy")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("path_*.npy")) == ["path_1.npy", "path_2.npy", "path_3.npy"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "  ", "--out", "x.bvh"], "empty"),
        (["generate", "walk", "--seconds", "0", "--out", "x.bvh"], "positive"),
        (["generate", "walk", "--out", "x.txt"], "--out must end in"),
        (["describe", "missing.bvh"], "missing.bvh"),
    ],
)
def test_bad_input_is_one_line_error(tiny_bundle, tmp_path, args, message):
    result = run(*args, "--bundle", tiny_bundle, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and result.stderr.strip().count("\n") == 0 and message in result.stderr
