"""Stage ``text``: the text encoder's latent head, from a MiniLM sentence embedding to the motion VAE latent.

The projection (with LayerNorm) is trained to land on the posterior mean ``mu`` of the captioned window:
loss = alpha * (1 - cosine) + (1 - alpha) * MSE. Its output is the generation condition ``text_latent``.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed
from ..models import TextHeads
from .context import Context
from .data import balanced_indices, batched
from .embedded import Embedded, embedded
from .loop import Fit, train_stage

NAME = "text"


def latent_loss(pred: torch.Tensor, target: torch.Tensor, alpha: float) -> dict[str, torch.Tensor]:
    cosine = F.cosine_similarity(pred, target, dim=-1).mean()
    mse = F.mse_loss(pred, target)
    return {"loss": alpha * (1 - cosine) + (1 - alpha) * mse, "cosine": cosine, "mse": mse}


class TextLatentObjective(nn.Module):
    def __init__(self, heads: TextHeads, alpha: float):
        super().__init__()
        self.latent = heads.latent
        self.alpha = alpha

    def forward(self, batch: tuple[torch.Tensor, torch.Tensor]) -> dict[str, torch.Tensor]:
        sentences, target = batch
        return latent_loss(self.latent(sentences), target, self.alpha)


def pairs(items: Embedded, idx: np.ndarray, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    rows = [items.captions[i][rng.integers(len(items.captions[i]))] for i in idx]
    return items.sentence_table[rows], items.mu[idx]


def validate(objective: TextLatentObjective, items: Embedded) -> dict[str, float]:
    idx = items.captioned()
    if len(idx) == 0:
        return {"loss": 0.0}
    return {k: float(v) for k, v in objective(pairs(items, idx, np.random.default_rng(0))).items()}


def run(ctx: Context) -> dict:
    cfg = ctx.config["text"]
    train, val = embedded(ctx, "train"), embedded(ctx, "val")
    objective = TextLatentObjective(ctx.models.text_heads, cfg["alpha"])
    pool = train.captioned()
    steps = max(1, len(pool) // ctx.world.size // cfg["batch_size"])
    optimizer = torch.optim.AdamW(objective.parameters(), lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def batches(epoch: int):
        rng = ctx.rng(f"text-{epoch}")
        order = pool[balanced_indices(train.dataset[pool], ctx.config["data"]["dataset_shares"],
                                      steps * cfg["batch_size"] * ctx.world.size, rng)]  # fmt: skip
        for idx in batched(distributed.shard(torch.from_numpy(order), ctx.world).numpy(), cfg["batch_size"]):
            yield pairs(train, idx, rng)

    fit = Fit(NAME, objective, batches, steps, lambda o: validate(o, val), optimizer, cfg["epochs"],
              cfg["grad_clip"], cfg["patience"])  # fmt: skip
    return train_stage(ctx, fit, "text -> motion latent")


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import stage_main

    return stage_main(NAME, argv)
