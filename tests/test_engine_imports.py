"""The engine stays torch-free: importing and using it loads no torch, transformers, training or export."""

import subprocess
import sys

import pytest

FORBIDDEN = ("torch", "transformers", "training", "export", "bpy", "sklearn")
CHECK = "import sys; {body}; print(sorted({{m.split('.')[0] for m in sys.modules}} & set({forbidden!r})))"


def _loaded(body: str) -> str:
    code = CHECK.format(body=body, forbidden=FORBIDDEN)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_importing_the_engine_loads_no_training_stack():
    body = "import engine, engine.runtime, engine.__main__, engine.bundle, engine.text, engine.generation"
    assert _loaded(body) == "[]"


@pytest.mark.slow
def test_using_the_engine_loads_no_training_stack(tiny_bundle, cmu_dir):
    body = (
        f"from engine import Engine, load_motion; e = Engine({str(tiny_bundle)!r}); e.generate('a person walks'); "
        f"e.describe(load_motion({str(cmu_dir / '05_07.bvh')!r})); e.interpolate('walk', 'run', 2)"
    )
    assert _loaded(body) == "[]"
