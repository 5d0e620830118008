"""The engine's prompt-to-motion path with the run's PyTorch modules (eager), timed for comparison.

Same steps as ``Engine.generate``: tokenize, encode, sample, decode the chained windows, de-normalize and
integrate; only the two networks run in PyTorch instead of onnxruntime. ``python -m engine.benchmark`` runs
this in a separate process, so the engine's process never imports torch.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from engine import generation
from engine.features import features_to_motion
from engine.text import TextTokenizer


def time_text_to_motion(run_dir: str, prompt: str, seconds: float, repeats: int, threads: int) -> dict:
    from training.artifacts import load_run
    from training.text import MAX_TOKENS, model_dir

    torch.set_num_threads(threads)
    run = load_run(run_dir)
    tokenizer = TextTokenizer(model_dir() / "tokenizer.json", MAX_TOKENS)
    window = int(run.config["data"]["window"])
    noise_scale = float(run.generation["noise_scale"])

    def decode(z, cond, time_grid):
        return run.decoder(torch.from_numpy(z), torch.from_numpy(cond), torch.from_numpy(time_grid)).numpy()

    def text_to_motion():
        tokens = tokenizer([prompt])
        shared, latent = run.text_encoder(torch.from_numpy(tokens.input_ids), torch.from_numpy(tokens.attention_mask))
        frames = generation.frame_count(seconds, 30.0)
        k = generation.window_count(frames, window)
        z = generation.sample_latents(latent.numpy()[0], noise_scale, 0, 1, k)
        features = generation.decode_chained(decode, z, shared.numpy(), frames, window)
        return features_to_motion(run.norm.denormalize(features[0]))

    times = []
    with torch.no_grad():
        text_to_motion()
        for _ in range(repeats):
            started = time.perf_counter()
            text_to_motion()
            times.append(time.perf_counter() - started)
    return {"median_ms": 1000 * float(np.median(times)), "repeats": repeats, "threads": threads}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m export torch-timing", description=__doc__)
    parser.add_argument("run_dir")
    parser.add_argument("--prompt", default="a person walks proudly")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    print(json.dumps(time_text_to_motion(args.run_dir, args.prompt, args.seconds, args.repeats, args.threads)))
    return 0
