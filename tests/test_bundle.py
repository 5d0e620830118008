"""Bundle validation: the engine refuses wrong hashes, missing files and newer formats with clear messages."""

import json
import shutil

import pytest

from engine.bundle import FORMAT_VERSION, MANIFEST_NAME, REQUIRED_ROLES, file_sha256, load_bundle
from engine.errors import BundleError
from engine.features import feature_layout


@pytest.fixture
def fake_bundle(tmp_path):
    """A manifest and files of the right shape (contents are not models: validation never opens them)."""
    files = {}
    for role in REQUIRED_ROLES:
        path = tmp_path / f"{role}.bin"
        path.write_bytes(role.encode() * 100)
        files[role] = {"path": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size}
    manifest = {
        "format_version": FORMAT_VERSION, "model_version": "test", "fps": 30.0,
        "window": {"length": 50, "stride": 20, "min_frames": 10}, "features": feature_layout(),
        "norm": {"mean": [0.0], "std": [1.0]}, "dims": {"shared": 4, "latent": 4}, "files": files,
    }  # fmt: skip
    (tmp_path / MANIFEST_NAME).write_text(json.dumps(manifest))
    return tmp_path


def _edit_manifest(folder, change):
    manifest = json.loads((folder / MANIFEST_NAME).read_text())
    change(manifest)
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest))


def test_valid_bundle_loads(fake_bundle):
    bundle = load_bundle(fake_bundle)
    assert bundle.path("decoder") == fake_bundle / "decoder.bin"


def test_wrong_hash_is_refused(fake_bundle):
    (fake_bundle / "decoder.bin").write_bytes(b"tampered")
    with pytest.raises(BundleError, match="decoder.bin does not match its sha256"):
        load_bundle(fake_bundle)
    load_bundle(fake_bundle, verify_hashes=False)  # the check is the hash, not the presence


def test_missing_file_is_refused(fake_bundle):
    (fake_bundle / "tokenizer.bin").unlink()
    with pytest.raises(BundleError, match=r"missing file tokenizer.bin \(tokenizer\)"):
        load_bundle(fake_bundle)


def test_missing_role_is_refused(fake_bundle):
    _edit_manifest(fake_bundle, lambda m: m["files"].pop("bank"))
    with pytest.raises(BundleError, match="lists no bank file"):
        load_bundle(fake_bundle)


def test_newer_format_is_refused(fake_bundle):
    _edit_manifest(fake_bundle, lambda m: m.update(format_version=FORMAT_VERSION + 1))
    with pytest.raises(BundleError, match="newer than this engine understands"):
        load_bundle(fake_bundle)


def test_other_feature_layout_is_refused(fake_bundle):
    _edit_manifest(fake_bundle, lambda m: m["features"].update(version=99))
    with pytest.raises(BundleError, match="feature layout v99"):
        load_bundle(fake_bundle)


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError, match="no manifest.json"):
        load_bundle(tmp_path)
    with pytest.raises(BundleError, match="no such bundle folder"):
        load_bundle(tmp_path / "absent")
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(BundleError, match="unreadable manifest"):
        load_bundle(tmp_path)


@pytest.mark.slow
def test_real_bundle_corrupted_copy_is_refused(tiny_bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(tiny_bundle, copy)
    with open(copy / "decoder.onnx", "r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 1]))
    from engine import Engine

    with pytest.raises(BundleError, match="decoder.onnx does not match"):
        Engine(copy)
