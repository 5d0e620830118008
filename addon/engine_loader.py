"""Where the add-on finds its engine, model bundle and Python wheels, and the one cached Engine.

Installed as an extension, the engine package sits in ``lib/`` and the bundle in ``bundle/`` beside this file
(the wheels are installed by Blender itself). Run from a repository checkout (tests, ``batch.py``), the
engine is the repository's ``engine/`` and the bundle comes from the preferences, ``--bundle`` or
``CHOREOLINGO_BUNDLE``. Blender builds whose Python lacks onnxruntime/tokenizers (Debian's 3.4) get them from
a pip ``--target`` folder named by ``CHOREOLINGO_SITE`` or ``<repo>/.cache/blender-site``.
"""

import os
import sys
from pathlib import Path

ADDON_DIR = Path(__file__).resolve().parent
EMBEDDED_LIB = ADDON_DIR / "lib"
EMBEDDED_BUNDLE = ADDON_DIR / "bundle"
REPO_SITE = ADDON_DIR.parent / ".cache" / "blender-site"

_added_paths: list[str] = []
_engines: dict = {}


def _add_path(path: Path, front: bool = True) -> None:
    entry = str(path)
    if entry not in sys.path:
        sys.path.insert(0, entry) if front else sys.path.append(entry)
        _added_paths.append(entry)


def ensure_importable() -> None:
    """Make ``import engine`` (and, where Blender's Python lacks them, onnxruntime/tokenizers) work."""
    for root in (EMBEDDED_LIB, ADDON_DIR.parent):
        if (root / "engine" / "__init__.py").is_file():
            _add_path(root)
            break
    site = os.environ.get("CHOREOLINGO_SITE")
    for folder in ([Path(site)] if site else []) + [REPO_SITE]:
        if folder.is_dir():
            # Appended: Blender's own numpy and modules win over anything installed there.
            _add_path(folder, front=False)


def default_bundle() -> Path | None:
    """The bundle used when the preferences name none: the embedded one, else ``CHOREOLINGO_BUNDLE``."""
    if (EMBEDDED_BUNDLE / "manifest.json").is_file():
        return EMBEDDED_BUNDLE
    env = os.environ.get("CHOREOLINGO_BUNDLE")
    return Path(env) if env and (Path(env) / "manifest.json").is_file() else None


def bundle_dir(configured: str = "") -> Path | None:
    """The bundle to load: ``configured`` (a folder from the preferences) when set, else the default."""
    if configured:
        path = Path(os.path.expanduser(configured)).resolve()
        return path if (path / "manifest.json").is_file() else None
    return default_bundle()


def get_engine(bundle: Path, threads: int = 0):
    """One Engine per (bundle, threads), loaded on first use and kept until the add-on is disabled."""
    key = (str(bundle), threads)
    if key not in _engines:
        from engine.runtime import DEFAULT_THREADS, Engine

        _engines.clear()
        _engines[key] = Engine(bundle, threads=threads or DEFAULT_THREADS)
    return _engines[key]


def device_info() -> str:
    """onnxruntime version and execution providers, or why they cannot be loaded."""
    try:
        import onnxruntime
    except ImportError as error:
        return f"onnxruntime not available: {error}"
    return f"onnxruntime {onnxruntime.__version__}, providers: {', '.join(onnxruntime.get_available_providers())}"


def release() -> None:
    """Forget the cached engine and undo every sys.path change (the add-on is being disabled).

    Imported ``engine`` modules stay in ``sys.modules``: Blender does not re-import the add-on's own submodules
    when it is enabled again, and those hold references to the engine's classes (``Motion``), so a fresh
    engine import would make ``isinstance`` checks fail. An updated extension needs Blender restarted anyway.
    """
    _engines.clear()
    for entry in _added_paths:
        if entry in sys.path:
            sys.path.remove(entry)
    _added_paths.clear()
