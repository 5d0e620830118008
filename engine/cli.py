"""Command-line plumbing shared by the packages' ``python -m`` entry points (stdlib only)."""

from __future__ import annotations

import sys
import warnings
from importlib import import_module
from typing import Callable

from .errors import ChoreolingoError


def dispatch(program: str, commands: dict[str, tuple[str, str]], argv: list[str] | None = None) -> int:
    """Run ``python -m PROGRAM COMMAND ...``: ``commands`` maps a command to (module with a ``main(argv)``,
    one-line help). No command or ``-h`` lists them (status 0), an unknown command too (status 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in commands:
        print(f"usage: python -m {program} COMMAND [options]\n\ncommands:")
        width = max(map(len, commands)) + 2
        for name, (_, text) in commands.items():
            print(f"  {name:<{width}} {text}")
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    module, _ = commands[argv[0]]
    return import_module(module).main(argv[1:]) or 0


def run_reported(action: Callable[[], int | None]) -> int:
    """Run a command as the engine's commands run: problems with the input print one line on stderr and
    return 1, warnings (notes about a prompt or a query) go to stderr after the output."""
    try:
        with warnings.catch_warnings(record=True) as notes:
            warnings.simplefilter("always")
            code = action() or 0
        for note in notes:
            print(f"note: {note.message}", file=sys.stderr)
        return code
    except ChoreolingoError as error:
        print("error: " + " ".join(str(error).splitlines()), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
