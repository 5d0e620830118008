"""Stage ``vae``: the motion VAE (LSTM + temporal attention encoder, residual GRU decoder).

Loss per batch: w_mse * MSE + w_l1 * L1 + w_velocity * MSE of frame-to-frame differences + beta * KL, with
beta annealed linearly from beta_start to beta_end over the first beta_anneal_fraction of the epochs, then
held. KL is summed over latent dimensions and divided by the values in a window (frames x features), so it
is on the scale of the per-value reconstruction terms. (Averaging it over the 256 latent dimensions instead
weighed it 14 times more: the posteriors were nearly the prior (sigma 0.75 against a spread of means of
0.45), the decoder could not tell the phase of a movement from z and drew the average, over-smooth pose.)
OneCycleLR peaking at lr_max, gradient clipping, early stopping on the validation loss.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .. import distributed
from ..models import MotionDecoder, MotionEncoder, time_grid
from .context import Context
from .data import balanced_indices, batched
from .loop import Fit, train_stage

NAME = "vae"


def reconstruction_terms(pred: torch.Tensor, target: torch.Tensor, cfg: dict) -> dict[str, torch.Tensor]:
    """Weighted MSE + L1 + velocity terms and their sum; velocity = per feature, the MSE of the differences
    between consecutive frames over the target's mean squared difference, averaged over features."""
    mse = F.mse_loss(pred, target)
    l1 = F.l1_loss(pred, target)
    change = target[:, 1:] - target[:, :-1]
    # Per feature, relative to the target's own mean squared frame-to-frame change (1 = a still pose). In
    # feature units the joints' small changes drowned in the contact flips and the root's per-frame noise:
    # the term sat at its floor and the decoder drew over-smooth motion.
    scale = change.pow(2).mean(dim=(0, 1)).clamp(min=1e-3)  # bounded for still features (root x, z)
    velocity = ((pred[:, 1:] - pred[:, :-1] - change).pow(2).mean(dim=(0, 1)) / scale).mean()
    total = cfg["weight_mse"] * mse + cfg["weight_l1"] * l1 + cfg["weight_velocity"] * velocity
    return {"reconstruction": total, "mse": mse, "l1": l1, "velocity": velocity}


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor, values: int) -> torch.Tensor:
    """KL to the unit Gaussian, summed over latent dimensions and spread over the window's ``values`` numbers
    (frames x features), the scale of the per-value reconstruction terms: beta is then the beta of the ELBO."""
    return -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), dim=-1).mean() / values


def beta_at(epoch: int, cfg: dict) -> float:
    ramp = max(1, round(cfg["epochs"] * cfg["beta_anneal_fraction"]))
    progress = min(1.0, epoch / ramp)
    return cfg["beta_start"] + (cfg["beta_end"] - cfg["beta_start"]) * progress


class VAEObjective(nn.Module):
    def __init__(self, encoder: MotionEncoder, decoder: MotionDecoder, cfg: dict, shared_dim: int):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.cfg = cfg
        self.shared_dim = shared_dim
        self.beta = cfg["beta_start"]

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.encoder.posterior(self.encoder.pool(x))
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar) if self.training else mu
        # The VAE has no prompt yet: the text condition is zero until the text-to-motion stage.
        cond = torch.zeros(len(x), self.shared_dim)
        pred = self.decoder(z, cond, time_grid(len(x), x.shape[1]))
        terms = reconstruction_terms(pred, x, self.cfg)
        kl = kl_divergence(mu, logvar, x.shape[1] * x.shape[2])
        terms.update(kl=kl, loss=terms["reconstruction"] + self.beta * kl)
        return terms


def validation_loss(objective: VAEObjective, features: torch.Tensor, batch_size: int) -> dict[str, float]:
    """Mean terms over the validation windows; "loss" weighs KL by beta_end, so the early-stopping criterion
    does not drift upwards while beta is annealed."""
    sums: dict[str, float] = {}
    for start in range(0, len(features), batch_size):
        chunk = features[start : start + batch_size]
        for k, v in objective(chunk).items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(chunk)
    out = {k: v / max(len(features), 1) for k, v in sums.items()}
    out["loss"] = out["reconstruction"] + objective.cfg["beta_end"] * out["kl"]
    return out


def run(ctx: Context) -> dict:
    cfg = ctx.config["vae"]
    data = ctx.data
    models = ctx.models
    objective = VAEObjective(models.motion_encoder, models.decoder, cfg, ctx.config["model"]["shared_dim"])
    train = torch.from_numpy(data.train.features)
    pick = ctx.rng("vae-val").permutation(len(data.val))[: cfg["max_val_windows"]]
    val = torch.from_numpy(data.val.features[np.sort(pick)])
    per_rank = cfg["windows_per_epoch"] // ctx.world.size
    steps = max(1, per_rank // cfg["batch_size"])
    params = list(objective.encoder.parameters()) + list(objective.decoder.parameters())
    optimizer = torch.optim.AdamW(params, lr=cfg["lr_max"], weight_decay=cfg["weight_decay"])
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg["lr_max"], total_steps=steps * cfg["epochs"])

    def batches(epoch: int):
        order = balanced_indices(data.train.dataset, ctx.config["data"]["dataset_shares"],
                                 steps * cfg["batch_size"] * ctx.world.size, ctx.rng(f"vae-{epoch}"))  # fmt: skip
        for idx in batched(distributed.shard(torch.from_numpy(order), ctx.world), cfg["batch_size"]):
            yield train[idx]

    def on_epoch(epoch: int) -> None:
        objective.beta = beta_at(epoch, cfg)

    fit = Fit(NAME, objective, batches, steps, lambda o: validation_loss(o, val, 256), optimizer, cfg["epochs"],
              cfg["grad_clip"], cfg["patience"], scheduler, on_epoch)  # fmt: skip
    return train_stage(ctx, fit, "motion VAE")


def main(argv: list[str] | None = None) -> int:
    from ..pipeline import stage_main

    return stage_main(NAME, argv)
