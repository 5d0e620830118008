"""``python -m export COMMAND ...``: one command per export step, each a thin layer over importable functions."""

import sys
from engine.cli import dispatch

# command -> (module with a ``main(argv)``, one-line help)
COMMANDS = {
    "bundle": ("export.bundle", "a training run to a model bundle (ONNX, tokenizer, bank, manifest)"),
    "extension": ("export.extension", "the Blender extension zips (add-on + engine + bundle + wheels), built and validated"),
    "release": ("export.release", "the main job: train, evaluate, export, build the extension, run it headless"),
    "torch-timing": ("export.torch_timing", "time a run's PyTorch prompt-to-motion (for engine.benchmark)"),
}


def main(argv: list[str] | None = None) -> int:
    return dispatch("export", COMMANDS, argv)


if __name__ == "__main__":
    sys.exit(main())
