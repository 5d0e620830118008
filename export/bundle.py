"""A training run to a model bundle (format: ``engine.bundle``): ONNX models checked against PyTorch, the
tokenizer, the description bank with its embeddings, the data's licences and credits, and the manifest.

Real inputs everywhere: parity runs on captions from the run's bank and feature windows of the run's own
validation clips; the int8 decision uses retrieval on those clips with held-out caption templates.
The bundle is written to a hidden folder beside ``out`` and moved into place at the end, so a failed export
never leaves a half bundle where the engine would look.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from engine.bundle import FORMAT_VERSION, MANIFEST_NAME, file_sha256
from engine.features import feature_layout, motion_to_features, sliding_windows
from engine.runtime import Engine, open_session
from engine.skeleton import JOINTS, PARENTS
from engine.text import TextEncoder, TextTokenizer

from . import onnx_export, quantize

REPO = Path(__file__).resolve().parents[1]
# Clips shorter than this fraction of the training window are refused by the engine: too little to read.
MIN_FRAMES_FRACTION = 0.2
# Validation clips used for parity and for the int8 retrieval check (enough for stable recall, still fast).
MAX_EVALUATION_CLIPS = 200
BANK_BATCH = 64

# Credits and licence files of the vendored data (training/mocap/NAME/README.md), by folder name.
DATA_CREDITS = {
    "bandai-namco": {
        "credit": "Bandai-Namco-Research-Motiondataset, Bandai Namco Research Inc., CC BY-NC 4.0; Kobayashi et al., "
        "\"Motion Capture Dataset for Practical Use of AI-based Motion Editing and Stylization\", 2023",
        "licence": "LICENSE",
    },
    "cmu-dance": {
        "credit": "The data used in this project was obtained from mocap.cs.cmu.edu. The database was created "
        "with funding from NSF EIA-0196217. Free for research and for use in products; do not resell the data.",
        "licence": None,
    },
}  # fmt: skip
VENDORED = REPO / "training" / "mocap"


def _model_version(run) -> str:
    from training.artifacts import WEIGHTS

    return f"{run.path.name}-{file_sha256(run.path / WEIGHTS)[:12]}"


def evaluation_clips(run) -> tuple[list, str]:
    """The run's validation clips (test clips too if there are few), re-read from its configured sources."""
    from training.corpus import load_corpus, split_by_take

    data = run.config["data"]
    sources = [REPO / source for source in data["sources"]]
    clips = load_corpus(sources, limit=data["max_clips_per_source"] or None, progress=False)
    splits = split_by_take(clips, tuple(data["split"]), int(run.config["seed"]))
    for names in (("val",), ("val", "test"), ("train", "val", "test")):
        chosen = [clip for name in names for clip in splits[name]]
        if len({clip.content_label for clip in chosen}) >= 2:
            return chosen[:MAX_EVALUATION_CLIPS], "+".join(names)
    raise ValueError(f"{run.path}: fewer than two content labels in the corpus; nothing to evaluate on")


def parity_batches(run, clips: list, tokenizer: TextTokenizer) -> dict[str, list[dict[str, np.ndarray]]]:
    """Real inputs for each model: two batches of other sizes and lengths than the first (the trace's)."""
    import torch

    window = int(run.config["data"]["window"])
    stride = int(run.config["data"]["stride"])
    texts = [entry["text"] for entry in run.bank]
    text_batches = []
    for chosen in (texts[:4], texts[-1:], texts[4:11] + [" ".join(texts[:40])]):
        tokens = tokenizer(chosen)
        text_batches.append({"input_ids": tokens.input_ids, "attention_mask": tokens.attention_mask})
    windows = np.concatenate([sliding_windows(motion_to_features(c.motion), window, stride)[:2] for c in clips[:4]])
    windows = run.norm.normalize(windows)
    short = window // 2 + 3
    motion_batches = [{"features": windows[:3]}, {"features": windows[3:4, :short]}, {"features": windows}]
    with torch.no_grad():
        first = text_batches[0]
        shared, latent = run.text_encoder(torch.from_numpy(first["input_ids"]), torch.from_numpy(first["attention_mask"]))
    shared, latent = shared.numpy(), latent.numpy()
    noise = np.random.default_rng(0).standard_normal(latent.shape).astype(np.float32)
    z = latent + float(run.generation["noise_scale"]) * noise

    def time_grid(batch: int, frames: int) -> np.ndarray:
        grid = np.linspace(0.0, 1.0, frames, dtype=np.float32)[None, :, None]
        return np.ascontiguousarray(np.broadcast_to(grid, (batch, frames, 1)))

    decoder_batches = [
        {"z": z[:2], "cond": shared[:2], "time": time_grid(2, window)},
        {"z": z[2:3], "cond": shared[2:3], "time": time_grid(1, short)},
        {"z": z, "cond": shared, "time": time_grid(len(z), 2 * window)},
    ]
    return {"text_encoder": text_batches, "motion_encoder": motion_batches, "decoder": decoder_batches}


def embed_bank(texts: list[str], encoder: TextEncoder) -> np.ndarray:
    return np.concatenate([encoder(texts[i : i + BANK_BATCH]).shared for i in range(0, len(texts), BANK_BATCH)])


def write_credits(run, folder: Path) -> tuple[list[str], list[str]]:
    """Licence files and CREDITS.md for the data the run trained on; returns (credits, written file names)."""
    credits, files = [], []
    for source in run.config["data"]["sources"]:
        path = (REPO / source).resolve()
        folder_name = path.relative_to(VENDORED).parts[0] if path.is_relative_to(VENDORED) else None
        if folder_name not in DATA_CREDITS:
            credits.append(f"{source}: the user's own data; see its own terms")
            continue
        known = DATA_CREDITS[folder_name]
        credits.append(known["credit"])
        if known["licence"]:
            name = f"LICENSE-{folder_name}.txt"
            shutil.copyfile(VENDORED / folder_name / known["licence"], folder / name)
            files.append(name)
    credits = list(dict.fromkeys(credits))
    lines = ["# Training data of this model bundle", ""] + [f"- {c}" for c in credits]
    (folder / "CREDITS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return credits, list(dict.fromkeys(files)) + ["CREDITS.md"]


def file_entries(folder: Path, roles: dict[str, str]) -> dict[str, dict]:
    return {
        role: {"path": name, "sha256": file_sha256(folder / name), "bytes": (folder / name).stat().st_size}
        for role, name in roles.items()
    }


def write_manifest(folder: Path, manifest: dict) -> None:
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")


def text_metrics(engine: Engine, tokenizer: TextTokenizer, model: Path, clips: list, captions: list[str]) -> dict:
    encoder = TextEncoder(tokenizer, open_session(model, engine.threads))
    motion = np.stack([engine.embed_motion(c.motion) for c in clips])
    labels = [c.content_label for c in clips]
    return quantize.retrieval_metrics(embed_bank(captions, encoder), labels, motion, labels)


def build_bundle(run_dir: str | Path, out: str | Path, int8: str = "auto") -> dict:
    """Export the run at ``run_dir`` to a bundle folder ``out``; returns the manifest."""
    from training.artifacts import load_run
    from training.captioning import captions_for
    from training.text import MAX_TOKENS, model_dir

    if int8 not in ("auto", "on", "off"):
        raise ValueError(f"int8 must be auto, on or off, got {int8!r}")
    started = time.perf_counter()
    run = load_run(run_dir)
    out = Path(out).resolve()
    stage = out.with_name(f".{out.name}.partial")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)

    shutil.copyfile(model_dir() / "tokenizer.json", stage / "tokenizer.json")
    tokenizer = TextTokenizer(stage / "tokenizer.json", MAX_TOKENS)
    clips, split = evaluation_clips(run)
    batches = parity_batches(run, clips, tokenizer)
    modules = {"text_encoder": run.text_encoder, "motion_encoder": run.motion_encoder, "decoder": run.decoder}
    names = {"text_encoder": "text_encoder.onnx", "motion_encoder": "motion_encoder.onnx", "decoder": "decoder.onnx"}
    parity = {
        role: onnx_export.export_checked(modules[role], role, batches[role], stage / names[role]) for role in modules
    }

    texts = [entry["text"] for entry in run.bank]
    fp32_encoder = TextEncoder(tokenizer, open_session(stage / names["text_encoder"], 1))
    np.save(stage / "bank_embeddings.npy", embed_bank(texts, fp32_encoder).astype(np.float32))
    (stage / "bank.json").write_text(json.dumps(run.bank, ensure_ascii=False), encoding="utf-8")
    credits, credit_files = write_credits(run, stage)

    window = int(run.config["data"]["window"])
    roles = dict(names, tokenizer="tokenizer.json", bank="bank.json", bank_embeddings="bank_embeddings.npy")
    roles.update({f"data_{name.split('.')[0].lower().replace('-', '_')}": name for name in credit_files})
    manifest = {
        "format_version": FORMAT_VERSION,
        "model_version": _model_version(run),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "skeleton": {"joints": list(JOINTS), "parents": list(PARENTS)},
        "fps": float(feature_layout()["fps"]),
        "window": {"length": window, "stride": int(run.config["data"]["stride"]),
                   "min_frames": max(2, int(round(window * MIN_FRAMES_FRACTION)))},  # fmt: skip
        "features": feature_layout(),
        "norm": run.norm.to_dict(),
        "dims": {"features": len(run.norm.mean), "shared": int(run.config["model"]["shared_dim"]),
                 "latent": int(run.config["model"]["latent_dim"])},  # fmt: skip
        "labels": run.labels,
        "generation": run.generation,
        "text": {"max_tokens": MAX_TOKENS, "variant": "fp32", "metrics": {}, "metrics_clips": split},
        "onnx": {"opset": onnx_export.OPSET, "parity_max_abs_diff": parity},
        "data": {"credits": credits},
        "files": file_entries(stage, roles),
    }
    write_manifest(stage, manifest)

    engine = Engine(stage)
    rng = np.random.default_rng(int(run.config["seed"]))
    captions = [captions_for(clip, "val", rng)[0] for clip in clips]
    metrics = {"fp32": text_metrics(engine, tokenizer, stage / names["text_encoder"], clips, captions)}
    variant = "fp32"
    if int8 != "off":
        int8_path = stage / "text_encoder.int8.onnx"
        quantize.quantize_text_encoder(stage / names["text_encoder"], int8_path)
        metrics["int8"] = text_metrics(engine, tokenizer, int8_path, clips, captions)
        variant = quantize.choose_variant(metrics["fp32"], metrics["int8"], int8)
        dropped = stage / (names["text_encoder"] if variant == "int8" else int8_path.name)
        dropped.unlink()
        roles["text_encoder"] = f"text_encoder{'.int8' if variant == 'int8' else ''}.onnx"
    for name, values in metrics.items():
        print(f"text encoder {name}: " + ", ".join(f"{k} {v:.1f}" for k, v in values.items()))
    print(f"shipping the {variant} text encoder ({len(clips)} {split} clips)")
    manifest["text"].update(variant=variant, metrics=metrics)
    manifest["files"] = file_entries(stage, roles)
    write_manifest(stage, manifest)

    if out.exists():
        shutil.rmtree(out)
    stage.rename(out)
    size = sum(f.stat().st_size for f in out.iterdir())
    print(f"bundle {out}: {size / 1e6:.1f} MB, {len(roles)} files, in {time.perf_counter() - started:.0f} s")
    return manifest


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m export bundle", description=build_bundle.__doc__)
    parser.add_argument("run_dir", help="a finished training run folder")
    parser.add_argument("--out", required=True, help="bundle folder to write (replaced if it exists)")
    parser.add_argument("--int8", choices=("auto", "on", "off"), default="auto",
                        help="ship the int8 text encoder: auto = if no retrieval metric drops by more than "
                        f"{quantize.MAX_METRIC_LOSS:g} point (default)")  # fmt: skip
    args = parser.parse_args(argv)
    build_bundle(args.run_dir, args.out, args.int8)
    return 0
