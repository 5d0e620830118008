"""The training pipeline end to end on the tiny config: run folder, load_run, resume, commands, torchrun."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from training.__main__ import main as training_main
from training.artifacts import load_run, read_json
from training.config import load_config
from training.models import time_grid
from training.pipeline import STAGES, open_run, run_pipeline
from training.text import load_tokenizer

REPO = Path(__file__).resolve().parents[1]
TRAINED = ("vae", "align", "text", "t2m")


def _env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def test_run_folder_holds_config_metrics_plots_and_artifacts(tiny_run):
    for name in ("config.toml", "norm.json", "labels.json", "bank.json", "generation.json", "weights.pt",
                 "metrics.json"):  # fmt: skip
        assert (tiny_run / name).exists(), name
    assert load_config(tiny_run / "config.toml") == load_config("tiny")
    for stage in TRAINED:
        metrics = read_json(tiny_run / "stages" / stage / "metrics.json")
        assert metrics["epochs_run"] >= 1 and metrics["history"], stage
        assert (tiny_run / "stages" / stage / "loss.png").stat().st_size > 1000
    history = read_json(tiny_run / "stages" / "vae" / "metrics.json")["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    cluster = tiny_run / "stages" / "cluster"
    assert (cluster / "silhouette.png").exists() and (cluster / "names.toml").exists()
    assert list((cluster / "previews").glob("cluster-*.png"))
    summary = read_json(tiny_run / "metrics.json")
    assert set(TRAINED) <= set(summary) and summary["total_seconds"] > 0


def test_load_run_gives_the_contract_modules_and_metadata(tiny_run):
    run = load_run(tiny_run)
    dims = run.config["model"]
    tokens = load_tokenizer()(["A person walks proudly", "someone dances"], padding=True, return_tensors="pt")
    with torch.no_grad():
        text_shared, text_latent = run.text_encoder(tokens["input_ids"], tokens["attention_mask"])
        motion_shared, mu = run.motion_encoder(torch.zeros(1, 50, len(run.norm.mean)))
        features = run.decoder(text_latent, text_shared, time_grid(2, 70))
    assert text_shared.shape == (2, dims["shared_dim"]) and text_latent.shape == (2, dims["latent_dim"])
    assert motion_shared.shape == (1, dims["shared_dim"]) and mu.shape == (1, dims["latent_dim"])
    assert features.shape == (2, 70, len(run.norm.mean))
    assert torch.allclose(text_shared.norm(dim=-1), torch.ones(2), atol=1e-5)
    texts = [b["text"] for b in run.bank]
    assert len(texts) == len(set(texts)) > 10
    assert all(set(b) == {"text", "content", "style", "dataset"} for b in run.bank)
    assert {b["dataset"] for b in run.bank} == {"bandai-1", "bandai-2", "cmu-dance"}
    assert "/" not in "".join(b["content"] for b in run.bank)  # plain words, as sentences use them
    assert set(run.labels) == {"content", "style"} and run.labels["content"]
    assert run.generation["window"] == run.config["data"]["window"] and run.generation["noise_scale"] > 0


def test_generated_samples_differ_by_seed_and_repeat_with_it(tiny_run):
    run = load_run(tiny_run)
    tokens = load_tokenizer()(["A person waves the right hand"], return_tensors="pt")
    with torch.no_grad():
        shared, latent = run.text_encoder(tokens["input_ids"], tokens["attention_mask"])

        def sample(seed):
            eps = torch.randn(latent.shape, generator=torch.Generator().manual_seed(seed))
            return run.decoder(latent + run.generation["noise_scale"] * eps, shared, time_grid(1, 50))

        a, b, again = sample(0), sample(1), sample(0)
    assert torch.equal(a, again)
    assert (a - b).abs().mean() > 1e-3


def test_finished_stages_are_skipped(tiny_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    before = (run_dir / "weights.pt").read_bytes()
    ctx = open_run(load_config(run_dir / "config.toml"), run_dir)
    started = time.perf_counter()
    results = run_pipeline(ctx, tuple(s for s in STAGES if s != "evaluate"))
    assert time.perf_counter() - started < 10
    assert "done already" in capsys.readouterr().out
    assert (run_dir / "weights.pt").read_bytes() == before
    assert results["vae"]["epochs_run"] == read_json(tiny_run / "stages/vae/metrics.json")["epochs_run"]


def test_resuming_with_another_config_is_refused(tiny_run, tmp_path, capsys):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    assert training_main(["train", "--config", "tiny", "--run-dir", str(run_dir), "--set", "vae.epochs=9"]) == 2
    assert "another config" in capsys.readouterr().err


def test_a_stage_needs_the_stages_before_it(tmp_path, capsys):
    code = training_main(["align", "--config", "tiny", "--run-dir", str(tmp_path / "fresh")])
    assert code == 2
    assert "needs data, vae, cluster first" in capsys.readouterr().err


@pytest.mark.slow
def test_interrupted_stage_resumes_at_the_next_epoch(tmp_path):
    run_dir = tmp_path / "run"
    base = [sys.executable, "-m", "training"]
    args = ["--config", "tiny", "--run-dir", str(run_dir), "--set", "vae.epochs=6"]
    subprocess.run(base + ["train", "--stages", "data"] + args, cwd=REPO, env=_env(), check=True,
                   capture_output=True)  # fmt: skip
    process = subprocess.Popen(base + ["vae"] + args, cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    checkpoint = run_dir / "stages" / "vae" / "checkpoint.pt"
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert checkpoint.exists()
    process.send_signal(signal.SIGKILL)
    process.wait()
    done_before = torch.load(checkpoint, weights_only=False)["epoch"] + 1
    assert done_before < 6, "the stage finished before it could be interrupted"
    result = subprocess.run(base + ["vae"] + args, cwd=REPO, env=_env(), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"resuming at epoch {done_before + 1}/6" in result.stdout
    history = read_json(run_dir / "stages" / "vae" / "metrics.json")["history"]
    assert [h["epoch"] for h in history] == [1, 2, 3, 4, 5, 6]


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path):
    """The same code under DistributedDataParallel (gloo): 2 processes train every stage of a tiny run."""
    run_dir = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "-m", "training",
               "train", "--config", "tiny", "--run-dir", str(run_dir), "--stages",
               "data,vae,cluster,align,text,t2m,bank", "--set", "vae.epochs=2", "--set", "t2m.epochs=2"]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, env=_env(), capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    run = load_run(run_dir)
    assert run.config["vae"]["epochs"] == 2
    # Only the main rank printed the stage lines.
    assert result.stdout.count("[vae] starting") == 1
    vae = read_json(run_dir / "stages" / "vae" / "metrics.json")
    assert len(vae["history"]) == 2 and np.isfinite(vae["history"][-1]["val_loss"])


@pytest.mark.slow
def test_evaluation_reports_every_dataset(tiny_run, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run, run_dir)
    assert training_main(["evaluate", "--run-dir", str(run_dir)]) == 0
    metrics = read_json(run_dir / "evaluation" / "metrics.json")
    assert set(metrics["datasets"]) == {"bandai-1", "bandai-2", "cmu-dance"}
    for name, result in metrics["datasets"].items():
        if not result["windows"]:
            continue
        assert 0 <= result["motion_to_text"]["content_top1"] <= result["motion_to_text"]["content_top3"] <= 1
        assert 0 <= result["text_to_motion"]["r1"] <= result["text_to_motion"]["r5"] <= result["text_to_motion"]["r10"]
        generation = result["generation"]
        assert generation["prompts"] > 0 and generation["diversity"] > 0
        assert generation["generated"]["jitter"] > 0 and "kmeans_baseline_content_top1" in result
    report = (run_dir / "evaluation" / "report.md").read_text()
    assert all(name in report for name in ("bandai-1", "bandai-2", "cmu-dance"))


def _pettee_cloud(joints: np.ndarray) -> np.ndarray:
    """Markers (seed layout: markers x frames x 3) whose marker-group averages give back ``joints``."""
    from engine.skeleton import PETTEE_MARKERS, marker_weights

    weights = marker_weights(list(PETTEE_MARKERS))
    markers = np.einsum("mj,fjc->fmc", np.linalg.pinv(weights), joints)
    return markers.transpose(1, 0, 2).astype(np.float32)


@pytest.mark.slow
def test_cluster_command_labels_a_pettee_npy_folder(tiny_run, bandai1, tmp_path):
    from training.corpus import load_bandai, load_source

    folder = tmp_path / "pettee"
    folder.mkdir()
    for clip in load_bandai(bandai1, limit=8):
        np.save(folder / f"{clip.take}.npy", _pettee_cloud(clip.motion.positions))
    out = tmp_path / "clusters"
    base = ["cluster", "--run-dir", str(tiny_run), "--data", str(folder), "--out", str(out), "--set", "k_max=4",
            "--set", "gif=false"]  # fmt: skip
    assert training_main(base) == 0
    report = read_json(out / "clusters.json")
    assert 2 <= report["k"] <= 4 and sum(report["sizes"]) > 8
    assert (out / "silhouette.png").exists() and len(list((out / "previews").glob("*.png"))) == report["k"]
    assert not (out / "captions.csv").exists()
    (out / "names.toml").write_text("".join(f'{c} = "move {c}"\n' for c in range(report["k"])))
    assert training_main(base + ["--names", str(out / "names.toml")]) == 0
    shutil.copy(out / "captions.csv", folder / "captions.csv")
    clips = load_source(folder, cache_dir=None)
    assert len(clips) == sum(report["sizes"])
    assert {c.description for c in clips} <= {f"move {c}" for c in range(report["k"])}
