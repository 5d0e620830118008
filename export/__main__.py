"""``python -m export COMMAND ...``: one command per export step, each a thin layer over importable functions."""

import sys
from importlib import import_module

# command -> (module with a ``main(argv)``, one-line help)
COMMANDS = {
    "bundle": ("export.bundle", "a training run to a model bundle (ONNX, tokenizer, bank, manifest)"),
    "extension": ("export.extension", "the Blender extension zips (add-on + engine + bundle + wheels), built and validated"),
    "torch-timing": ("export.torch_timing", "time a run's PyTorch prompt-to-motion (for engine.benchmark)"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in COMMANDS:
        print("usage: python -m export COMMAND [options]\n\ncommands:")
        for name, (_, text) in COMMANDS.items():
            print(f"  {name:<14} {text}")
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    module, _ = COMMANDS[argv[0]]
    return import_module(module).main(argv[1:]) or 0


if __name__ == "__main__":
    sys.exit(main())
