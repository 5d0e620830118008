"""Stage ``t2m``: the text-to-motion decoder, fine-tuned from the VAE decoder and conditioned on the prompt.

Per training pair (window, caption) the decoder gets ``cond`` = the caption's ``text_shared`` and a latent
``z`` that is, for a ``posterior_share`` of the pairs, a sample of the window's own posterior (keeping the
decoder faithful to z, so different noise gives different motion) and otherwise the generation latent
``text_latent + noise_scale * eps`` (what the engine feeds it; noise_scale "auto" = the spread of the
posterior means of windows that share a caption meaning). Each batch is cut to a random length in
[min_frames, window] with ``time`` = t/(T-1), so the decoder produces a whole movement for any T.
Loss: the VAE's velocity-aware reconstruction loss. Text heads and the encoder stay frozen.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .. import distributed
from ..models import MotionDecoder, time_grid
from .context import Context
from .data import balanced_indices, batched
from .embedded import Embedded, embedded
from .loop import Fit, train_stage
from .vae import reconstruction_terms

NAME = "t2m"


class T2MObjective(nn.Module):
    def __init__(self, decoder: MotionDecoder, cfg: dict):
        super().__init__()
        self.decoder = decoder
        self.cfg = cfg

    def forward(self, batch: dict) -> dict[str, torch.Tensor]:
        target = batch["features"]
        pred = self.decoder(batch["z"], batch["cond"], time_grid(len(target), target.shape[1]))
        terms = reconstruction_terms(pred, target, self.cfg)
        terms["loss"] = terms.pop("reconstruction")
        return terms


@torch.no_grad()
def caption_conditions(ctx: Context, items: Embedded) -> tuple[torch.Tensor, torch.Tensor]:
    """(text_shared, text_latent) of every sentence in the items' table, by the frozen text heads."""
    heads = ctx.models.text_heads.eval()
    return heads(items.sentence_table)


def resolve_noise_scale(cfg: dict, items: Embedded) -> float:
    """The configured noise scale, or with "auto" the spread of the posterior means within a caption meaning
    (root mean square over latent dimensions): then text_latent + noise_scale * eps spreads like the windows
    the prompt describes."""
    if cfg["noise_scale"] != "auto":
        return float(cfg["noise_scale"])
    idx = items.captioned()
    groups = {}
    for i in idx:
        groups.setdefault(items.meaning[i], []).append(i)
    variances = [items.mu[g].var(dim=0, unbiased=False).mean() * len(g) for g in groups.values() if len(g) > 1]
    counted = sum(len(g) for g in groups.values() if len(g) > 1)
    return float(torch.sqrt(sum(variances) / counted)) if counted else 1.0


def make_batch(items: Embedded, idx: np.ndarray, conditions, rng: np.random.Generator, cfg: dict,
               frames: int, noise_scale: float = 0.0) -> dict:  # fmt: skip
    """A batch of (target window, z, cond); without noise z is the caption's text_latent."""
    shared, latent = conditions
    rows = [items.captions[i][rng.integers(len(items.captions[i]))] for i in idx]
    z = latent[rows].clone()
    if noise_scale > 0:
        eps = torch.from_numpy(rng.standard_normal(z.shape).astype(np.float32))
        from_posterior = torch.from_numpy(rng.random(len(idx)) < cfg["posterior_share"])
        posterior = items.mu[idx] + eps * torch.exp(0.5 * items.logvar[idx])
        z = torch.where(from_posterior[:, None], posterior, z + noise_scale * eps)
    return {"features": items.features[idx, :frames], "z": z, "cond": shared[rows]}


def validate(objective: T2MObjective, items: Embedded, conditions, cfg: dict, noise_scale: float,
             chunk: int = 256) -> dict[str, float]:  # fmt: skip
    """Reconstruction of validation windows from the latents training feeds (posterior samples and noisy text
    latents in the same shares, fixed noise). Not from the caption alone: that rewards drawing every
    caption's average movement, and early stopping on it kept the blurriest decoder."""
    idx = items.captioned()
    rng = np.random.default_rng(0)
    sums, count = {}, 0
    for start in range(0, len(idx), chunk):
        part = idx[start : start + chunk]
        batch = make_batch(items, part, conditions, rng, cfg, items.features.shape[1], noise_scale)
        for k, v in objective(batch).items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(part)
        count += len(part)
    return {k: v / max(count, 1) for k, v in sums.items()} if count else {"loss": 0.0}


def run(ctx: Context) -> dict:
    cfg = ctx.config["t2m"]
    train, val = embedded(ctx, "train"), embedded(ctx, "val")
    train_conditions, val_conditions = caption_conditions(ctx, train), caption_conditions(ctx, val)
    objective = T2MObjective(ctx.models.decoder, cfg)
    noise_scale = resolve_noise_scale(cfg, train)
    pool = train.captioned()
    window = train.features.shape[1]
    steps = max(1, cfg["windows_per_epoch"] // ctx.world.size // cfg["batch_size"])
    optimizer = torch.optim.AdamW(objective.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def batches(epoch: int):
        rng = ctx.rng(f"t2m-{epoch}")
        order = pool[balanced_indices(train.dataset[pool], ctx.config["data"]["dataset_shares"],
                                      steps * cfg["batch_size"] * ctx.world.size, rng)]  # fmt: skip
        lengths = rng.integers(min(cfg["min_frames"], window), window + 1, size=steps)
        mine = distributed.shard(torch.from_numpy(order), ctx.world).numpy()
        for step, idx in enumerate(batched(mine, cfg["batch_size"])):
            yield make_batch(train, idx, train_conditions, rng, cfg, int(lengths[step]), noise_scale)

    fit = Fit(NAME, objective, batches, steps, lambda o: validate(o, val, val_conditions, cfg, noise_scale),
              optimizer,
              cfg["epochs"], cfg["grad_clip"], cfg["patience"])  # fmt: skip
    return {"noise_scale": noise_scale, **train_stage(ctx, fit, "text -> motion decoder")}


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import stage_main

    return stage_main(NAME, argv)
