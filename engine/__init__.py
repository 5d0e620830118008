"""Choreolingo's inference engine: numpy, onnxruntime and tokenizers only (never torch, never bpy).

The names below are the contract for the add-on and for outside evaluation. They are imported lazily so
that ``import engine`` stays cheap (the add-on imports it at Blender start-up).
"""

from importlib import import_module

_EXPORTS = {
    "Motion": "engine.motion",
    "load_motion": "engine.io",
    "save_bvh": "engine.bvh",
    "Engine": "engine.runtime",
    "ChoreolingoError": "engine.errors",
    "MotionFormatError": "engine.errors",
    "SkeletonMappingError": "engine.errors",
    "BundleError": "engine.errors",
    "EngineInputError": "engine.errors",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
