"""The model bundle: a folder of ONNX models and data described by ``manifest.json``, and its validation.

``manifest.json`` (format ``FORMAT_VERSION``) holds everything the engine needs besides the files:

* ``format_version``, ``model_version`` (which training run), ``created``;
* ``skeleton`` (joint names and parents), ``fps``, ``window`` (``length``, ``stride``, ``min_frames`` in model
  frames), ``features`` (``engine.features.feature_layout()``), ``norm`` (mean and std per feature);
* ``dims`` (``shared``, ``latent``, ``features``), ``labels``, ``generation`` (noise scale, decoder window...),
  ``text`` (token limit, which text encoder variant ships and the retrieval metrics of each variant),
  ``onnx`` (opset and the parity of every model with PyTorch), ``data`` (credits of the training data);
* ``files``: role -> ``{"path", "sha256", "bytes"}`` for every other file in the bundle.

``load_bundle`` refuses, with a message naming the problem, a folder without a manifest, a newer format, a
feature layout other than the engine's, a missing file or a file whose sha256 differs from the manifest.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BundleError

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
# Files every bundle has; anything else listed under "files" (credits, licences) is checked the same way.
REQUIRED_ROLES = ("text_encoder", "motion_encoder", "decoder", "tokenizer", "bank", "bank_embeddings")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class Bundle:
    root: Path
    manifest: dict

    def path(self, role: str) -> Path:
        return self.root / self.manifest["files"][role]["path"]

    def bank(self) -> tuple[list[dict], np.ndarray]:
        """Description bank entries (text, content, style, dataset) and their L2-normalised embeddings."""
        entries = json.loads(self.path("bank").read_text(encoding="utf-8"))
        embeddings = np.load(self.path("bank_embeddings")).astype(np.float32)
        if embeddings.shape != (len(entries), self.manifest["dims"]["shared"]):
            raise BundleError(
                f"{self.root}: bank has {len(entries)} texts but its embeddings have shape {embeddings.shape}"
            )
        return entries, embeddings


def read_manifest(root: Path) -> dict:
    path = root / MANIFEST_NAME
    if not root.is_dir():
        raise BundleError(f"{root}: no such bundle folder")
    if not path.is_file():
        raise BundleError(f"{root}: not a model bundle (no {MANIFEST_NAME})")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{path}: unreadable manifest ({error})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("format_version"), int):
        raise BundleError(f"{path}: manifest has no integer format_version")
    return manifest


def check_compatible(manifest: dict, root: Path) -> None:
    """The bundle's format and feature layout are ones this engine understands."""
    from .features import FEATURE_VERSION

    version = manifest["format_version"]
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{root}: bundle format {version} is newer than this engine understands ({FORMAT_VERSION}); "
            "update Choreolingo"
        )
    if version < 1:
        raise BundleError(f"{root}: invalid bundle format {version}")
    keys = ("model_version", "fps", "window", "features", "norm", "dims", "files")
    missing = [key for key in keys if key not in manifest]
    if missing:
        raise BundleError(f"{root}: manifest lacks {', '.join(missing)}")
    layout = manifest["features"].get("version")
    if layout != FEATURE_VERSION:
        raise BundleError(
            f"{root}: bundle was trained on feature layout v{layout}, this engine computes v{FEATURE_VERSION}"
        )


def check_files(manifest: dict, root: Path, verify_hashes: bool = True) -> None:
    files = manifest["files"]
    absent_roles = [role for role in REQUIRED_ROLES if role not in files]
    if absent_roles:
        raise BundleError(f"{root}: manifest lists no {', '.join(absent_roles)} file")
    for role, entry in files.items():
        path = root / entry["path"]
        if not path.is_file():
            raise BundleError(f"{root}: missing file {entry['path']} ({role})")
        if verify_hashes and file_sha256(path) != entry["sha256"]:
            raise BundleError(
                f"{root}: {entry['path']} does not match its sha256 in {MANIFEST_NAME} (corrupt or replaced); "
                "export the bundle again"
            )


def load_bundle(root: str | Path, verify_hashes: bool = True) -> Bundle:
    """The bundle at ``root``, validated (hashes checked unless ``verify_hashes`` is false)."""
    root = Path(root)
    manifest = read_manifest(root)
    check_compatible(manifest, root)
    check_files(manifest, root, verify_hashes)
    return Bundle(root, manifest)
